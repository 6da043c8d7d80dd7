"""Runs the real `__main__.py`, with the real SDKs and a stack's real config, under Pulumi's mocks.

This is how the tests exercise each stack and how the offline plan shows what a stack would
create, with no credentials, cluster or Pulumi CLI. The mocks answer only what the cloud would
compute (OCIDs, endpoints), with values marked as placeholders, or, for a first preview (nothing
created yet), as unknowns, which the real SDK then propagates the way `pulumi preview` sees them.
A `MockMonitor` subclass keeps the whole registration request, since `protect`,
`retain_on_delete` and dependencies are not in `MockResourceArgs`. Registrations arrive in an
order that depends on thread scheduling; a finished run lists them in a fixed creation order.
"""

import asyncio
import contextlib
import json
import os
import runpy
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import pulumi
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks, rpc, settings, stack

from components import guardrails
from components.iam_settings import IAM_PROJECT
from components.naming import DEFAULT_SERVICES, PROJECT
from components.stack_config import CLOCK_VARIABLE, DATABASE_URLS_KEY, stack_file_path
from components.stack_config import stack_file_config as read_stack_file

PROJECT_DIR: Final = Path(__file__).resolve().parent.parent
# The IAM program (docs/isolation.md): a Pulumi project of its own, one stack per environment.
IAM_DIR: Final = PROJECT_DIR / "iam"
AUTHORITY_IN_PROJECT: Final = Path(guardrails.AUTHORITY_NAME)
STACKS: Final = ("production", "staging", "development")
SECRET_SIG: Final = rpc._special_sig_key  # noqa: SLF001 - the SDK's own marker of a secret value
SECRET_MARK: Final = rpc._special_secret_sig  # noqa: SLF001
# The type token of an OCI IAM policy, which only the IAM program registers.
POLICY_TYPE: Final = "oci:Identity/policy:Policy"


def placeholder(what: str) -> str:
    """A value only the cloud knows, shown as such."""
    return f"<{what}>"


class PlaceholderMocks(pulumi.runtime.Mocks):
    """Echo the inputs; add the outputs OCI would compute, as marked placeholders.

    A StackReference answers with `deployed`: the outputs the referenced stack's last update
    left (none for a stack never deployed), as the engine's builtin provider reads them. With
    `first_preview`, what OCI computes is unknown instead: an empty ID and the SDK's unknown
    sentinel, as a preview reports resources still to be created.
    """

    def __init__(self, deployed: Mapping[str, Any] | None = None, first_preview: bool = False):
        super().__init__()
        self.deployed = dict(deployed or {})
        self.first_preview = first_preview

    def _computed(self, what: str) -> str:
        return rpc.UNKNOWN if self.first_preview else placeholder(what)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            return args.inputs["name"], {**outputs, "outputs": self.deployed, "secretOutputNames": []}
        if args.typ == "oci:Kms/vault:Vault":
            outputs["managementEndpoint"] = self._computed(f"{args.name}-management-endpoint")
            outputs["cryptoEndpoint"] = self._computed(f"{args.name}-crypto-endpoint")
        if args.resource_id:
            # Adopted (the `import` option): the engine reads the existing resource, so even a first
            # preview knows its ID. The key's import ID embeds its vault's endpoint; its ID is the key's
            # OCID (terraform-provider-oci internal/service/kms/kms_key_resource.go, readKmsKey).
            return args.resource_id.rsplit("/keys/", 1)[-1], outputs
        return "" if self.first_preview else placeholder(f"{args.name}-id"), outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        # The program makes no data-source look-ups: an invoke here is a change to review.
        raise NotImplementedError(f"unexpected invoke {args.token}: the program should make none")


@dataclass(frozen=True)
class Registration:
    """One resource registration as the engine would receive it."""

    type: str
    name: str
    urn: str
    parent: str
    provider: str
    custom: bool
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    after_create_hooks: tuple[str, ...]
    depends_on: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    additional_secret_outputs: tuple[str, ...]
    # Inputs the engine leaves as they are in state once the resource exists (pulumi/pulumi
    # pkg/resource/deploy/step_generator.go, processIgnoreChanges).
    ignore_changes: tuple[str, ...]
    inputs: dict[str, Any]
    import_id: str = ""  # the `import` resource option: the existing resource this one adopts

    @property
    def plain_inputs(self) -> dict[str, Any]:
        """Inputs with secret markers removed (for schema checks; never print these)."""
        return unwrap_secrets(self.inputs)

    def is_secret(self, prop: str) -> bool:
        value = self.inputs.get(prop)
        return isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_MARK


@dataclass(frozen=True)
class Read:
    """One read of an existing resource (a StackReference): it creates nothing."""

    type: str
    name: str
    urn: str
    id: str


class RecordingMonitor(mocks.MockMonitor):
    def __init__(self, mocks_: pulumi.runtime.Mocks):
        super().__init__(mocks_)
        self.registrations: list[Registration] = []
        self.reads: list[Read] = []

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().ReadResource(request)
        self.reads.append(Read(type=request.type, name=request.name, urn=response.urn, id=request.id))
        return response

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        self.registrations.append(
            Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent,
                provider=request.provider,
                custom=request.custom,
                protect=request.protect,
                retain_on_delete=request.retainOnDelete,
                delete_before_replace=request.deleteBeforeReplace,
                after_create_hooks=tuple(request.hooks.after_create),
                depends_on=tuple(request.dependencies),
                property_dependencies={k: tuple(v.urns) for k, v in request.propertyDependencies.items()},
                additional_secret_outputs=tuple(request.additionalSecretOutputs),
                ignore_changes=tuple(request.ignoreChanges),
                inputs=rpc.deserialize_properties(request.object, keep_unknowns=True),
                import_id=request.importId,
            )
        )
        return response


@dataclass(frozen=True)
class Export:
    value: Any
    secret: bool


@dataclass
class ProgramRun:
    stack: str
    config: Mapping[str, Any]
    registrations: list[Registration] = field(default_factory=list)
    reads: list[Read] = field(default_factory=list)
    exports: dict[str, Export] = field(default_factory=dict)
    # From the program's first line to the last registration resolved: wall time, and the
    # process's CPU time (all threads), which other load on a shared machine disturbs less.
    evaluation_seconds: float = 0.0
    evaluation_cpu_seconds: float = 0.0

    @property
    def resources(self) -> list[Registration]:
        """Registrations of real cloud or cluster objects: no stack, component or provider."""
        return [r for r in self.registrations if r.custom and not r.type.startswith("pulumi:providers:")]

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def own(self, type_: str) -> list[Registration]:
        """Those of `type_` in the environment's own region and cluster: not its replicas' vault and key, nor
        what it installs on a standby cluster (disasterRecovery; named `<component>-recovery-…`, `-standby-…`)."""
        return [r for r in self.of_type(type_) if not {"recovery", "standby"} & set(r.name.split("-"))]


def in_creation_order(registrations: list[Registration]) -> list[Registration]:
    """Parents and dependencies before what needs them; otherwise by type and name, never by scheduling."""
    by_urn = {r.urn: r for r in registrations}
    depth: dict[str, int] = {}

    def depth_of(r: Registration) -> int:
        if r.urn not in depth:
            needs = {r.parent, *r.depends_on, *(u for urns in r.property_dependencies.values() for u in urns)}
            depth[r.urn] = 1 + max((depth_of(by_urn[u]) for u in needs if u in by_urn), default=-1)
        return depth[r.urn]

    return sorted(registrations, key=lambda r: (depth_of(r), r.type, r.name))


def map_secrets(value: Any, on_secret: Callable[[Any], Any]) -> Any:
    """`value` with every secret-marked part replaced by `on_secret(its plain value)`."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == SECRET_MARK:
            return on_secret(map_secrets(value["value"], on_secret))
        return {k: map_secrets(v, on_secret) for k, v in value.items()}
    if isinstance(value, list):
        return [map_secrets(v, on_secret) for v in value]
    return value


def unwrap_secrets(value: Any) -> Any:
    return map_secrets(value, lambda plain: plain)


def stack_file_config(stack_name: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """A stack file's config as written; an unknown stack names the stacks that exist."""
    path = stack_file_path(project_dir, stack_name)
    if not path.exists():
        existing = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise KeyError(f"no stack '{stack_name}' (no {path.name}); stacks here: {', '.join(existing)}")
    return read_stack_file(project_dir, stack_name)


def placeholder_database_urls(services: list[str] | tuple[str, ...]) -> dict[str, str]:
    return {s: placeholder(f"database-url-of-{s}") for s in services}


def engine_config(
    config: Mapping[str, Any], database_urls: Mapping[str, str] | None, secrets: Mapping[str, Any] | None = None
) -> tuple[dict[str, str], list[str]]:
    """What the Pulumi engine hands a program: every value as text, objects as JSON; secret keys apart.

    `secrets` are further keys (full `namespace:key` names) given as the CLI decrypts `secure:` ones.
    """

    def as_text(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    texts = {k: as_text(v) for k, v in config.items()}
    secret = {k: as_text(v) for k, v in (secrets or {}).items()}
    if database_urls is not None:
        secret[f"{PROJECT}:{DATABASE_URLS_KEY}"] = json.dumps(dict(database_urls))
    return texts | secret, sorted(secret)


@contextlib.contextmanager
def _pinned_clock(today: date | None) -> Iterator[None]:
    before = os.environ.get(CLOCK_VARIABLE)
    if today is not None:
        os.environ[CLOCK_VARIABLE] = today.isoformat()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(CLOCK_VARIABLE, None)
        else:
            os.environ[CLOCK_VARIABLE] = before


@contextlib.contextmanager
def _authority(path: Path) -> Iterator[None]:
    """The program reads the guardrail authority of its own checkout; a copy of the project is another checkout."""
    before = guardrails.AUTHORITY_FILE
    guardrails.AUTHORITY_FILE = path
    try:
        yield
    finally:
        guardrails.AUTHORITY_FILE = before


def _quiet_about_reported_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # A refused run leaves every waiting output holding the same RunError, which the run has
    # already raised once; asyncio would log each of them again when it is collected.
    if not isinstance(context.get("exception"), pulumi.RunError):
        loop.default_exception_handler(context)


def run_program(
    stack_name: str,
    config: Mapping[str, Any],
    database_urls: Mapping[str, str] | None,
    today: date | None = None,
    preview: bool = True,
    program: Path = PROJECT_DIR / "__main__.py",
    deployed: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
    first_preview: bool = False,
    project: str = PROJECT,
    authority: Path = guardrails.AUTHORITY_FILE,
) -> ProgramRun:
    """Run `program` (of Pulumi project `project`) as stack `stack_name` with `config` (full `namespace:key` keys, stack-file values).

    `deployed` stands for the outputs of the stack's last update (None: never deployed). `authority`: the
    guardrail authority of the checkout `program` stands for (a copy of the project brings its own).

    Raises what the program raises (a `pulumi.RunError` for a settings mistake); the monitor's
    registrations are then in the exception's `program_run` attribute.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.set_exception_handler(_quiet_about_reported_errors)
    # The mock monitor runs in executor threads and gives each its own event loop, which
    # nothing would close: own the threads, so their loops can be closed after the run.
    worker_loops: list[asyncio.AbstractEventLoop] = []

    def start_worker() -> None:
        worker_loops.append(asyncio.new_event_loop())
        asyncio.set_event_loop(worker_loops[-1])

    executor = ThreadPoolExecutor(initializer=start_worker)
    loop.set_default_executor(executor)
    monitor = RecordingMonitor(PlaceholderMocks(deployed, first_preview))
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack_name, preview=preview, monitor=monitor)
    runtime_config.set_all_config(*engine_config(config, database_urls, secrets))
    run = ProgramRun(stack_name, dict(config), monitor.registrations, monitor.reads)

    def main() -> None:
        runpy.run_path(str(program), run_name="__main__")

    try:
        with _pinned_clock(today), _authority(authority):
            started, cpu_started = time.perf_counter(), time.process_time()
            loop.run_until_complete(stack.run_pulumi_func(main))
            run.evaluation_seconds = time.perf_counter() - started
            run.evaluation_cpu_seconds = time.process_time() - cpu_started
        run.exports.update(loop.run_until_complete(_resolve_exports()))
        run.registrations[:] = in_creation_order(run.registrations)
    except BaseException as error:
        error.program_run = run  # type: ignore[attr-defined]
        raise
    finally:
        # A failed run leaves the SDK's global bookkeeping full of this loop's outputs and RPCs
        # (every child waits on a refused guard), which set_mocks does not reset: the next run
        # would await them after this loop is closed.
        outputs: set[asyncio.Task[Any]] = getattr(settings.SETTINGS, "outputs")
        for task in outputs:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: the run has already raised the first one
        outputs.clear()
        settings._get_rpc_manager().clear()  # noqa: SLF001 - the SDK has no public reset
        loop.close()
        asyncio.set_event_loop(None)
        executor.shutdown(wait=True)
        for worker_loop in worker_loops:
            worker_loop.close()
    return run


async def _resolve_exports() -> dict[str, Export]:
    root = settings.get_root_resource()
    outputs: dict[str, Any] = getattr(root, "outputs", {})
    resolved = {}
    for name, value in outputs.items():
        output = pulumi.Output.from_input(value)
        resolved[name] = Export(await output.future(with_unknowns=True), bool(await output.is_secret()))
    return resolved


def run_stack(
    stack_name: str,
    database_urls: Mapping[str, str] | None = None,
    today: date | None = None,
    project_dir: Path = PROJECT_DIR,
    config: Mapping[str, Any] | None = None,
    deployed: Mapping[str, Any] | None = None,
    first_preview: bool = False,
) -> ProgramRun:
    """Run a stack (its stack file's config unless `config` is given); missing URLs become placeholders."""
    config = dict(config) if config is not None else stack_file_config(stack_name, project_dir)
    if database_urls is None:
        services = config.get(f"{PROJECT}:services")
        database_urls = placeholder_database_urls(services if isinstance(services, list) else DEFAULT_SERVICES)
    return run_program(
        stack_name, config, database_urls, today=today, program=project_dir / "__main__.py", deployed=deployed,
        first_preview=first_preview, authority=project_dir / AUTHORITY_IN_PROJECT,
    )


def run_iam_stack(stack_name: str, config: Mapping[str, Any] | None = None, project_dir: Path = PROJECT_DIR) -> ProgramRun:
    """Run the IAM program's stack (its stack file's config in `project_dir`'s `iam/` unless `config` is given)."""
    iam_dir = project_dir / IAM_DIR.relative_to(PROJECT_DIR)
    config = dict(config) if config is not None else stack_file_config(stack_name, iam_dir)
    return run_program(stack_name, config, None, program=IAM_DIR / "__main__.py", project=IAM_PROJECT,
                       authority=project_dir / AUTHORITY_IN_PROJECT)
