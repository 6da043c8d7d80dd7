"""After OCI creates a vault, wait until its management endpoint resolves.

A new vault is ACTIVE before the DNS name of its management endpoint resolves, and the key,
created right after through that endpoint, then fails with "no such host"; the OCI provider does
not retry it (terraform-provider-oci#1955, open). The component binds `after_vault_created` to the
vault as an after-create resource hook: the Pulumi engine runs it once the vault exists and before
it completes the vault's registration, so nothing that uses the endpoint starts earlier
(pulumi/pulumi pkg/resource/deploy/step.go, CreateStep.Apply). The first deployment then needs no
rerun. The hook runs only when a vault is created (never on a preview, an update or a refresh).
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import urlparse

import pulumi

TIMEOUT_SECONDS: Final = 900.0
POLL_SECONDS: Final = 10.0


async def wait_until_resolvable(
    url: str,
    timeout: float = TIMEOUT_SECONDS,
    poll: float = POLL_SECONDS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> float:
    """Wait until the host of `url` resolves; the seconds waited. TimeoutError after `timeout`.

    Asynchronous, since the SDK runs hooks on the program's event loop (and awaits what they
    return: pulumi runtime/_callbacks.py): a blocking wait would stall everything else there.
    """
    host = urlparse(url).hostname
    if not host:
        raise ValueError(f"the vault's management endpoint {url!r} has no host name")
    loop = asyncio.get_running_loop()
    started = clock()
    while True:
        try:
            await loop.getaddrinfo(host, 443)
            return clock() - started
        except OSError:
            if clock() - started >= timeout:
                raise TimeoutError(
                    f"the management endpoint of the new vault, {host}, did not resolve within {timeout:.0f} s "
                    "(a known OCI delay: terraform-provider-oci#1955). The vault exists and Pulumi recorded it: "
                    f"run `pulumi up` again once `nslookup {host}` answers"
                ) from None
            await sleep(poll)


async def after_vault_created(args: pulumi.ResourceHookArgs) -> None:
    await wait_until_resolvable((args.new_outputs or {})["managementEndpoint"])
