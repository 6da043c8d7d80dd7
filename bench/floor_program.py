"""The benchmark's floor: the very same resources registered straight through the SDK.

Same types, names, inputs, providers and dependencies as a recorded run of `__main__.py`,
through the same typed SDK classes (`pulumi_oci.kms.Vault`, `pulumi_kubernetes.core.v1.Namespace`,
...), but with no settings, no component and no helpers: what the program would cost if it did
nothing but register its resource graph. Reads the recording from $BENCH_FLOOR_FILE.
"""

import importlib
import json
import os
import re
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes

from offline.harness import map_secrets


def rewrap(value: Any) -> Any:
    return map_secrets(value, pulumi.Output.secret)


def sdk_class(type_token: str) -> Any:
    """`oci:Kms/vault:Vault` → pulumi_oci.kms.Vault; `kubernetes:core/v1:Namespace` → ...core.v1.Namespace."""
    package, module, name = type_token.split(":")
    if package == "pulumi":  # pulumi:providers:<package>
        return importlib.import_module(f"pulumi_{name}").Provider
    path = module.split("/")[0].lower() if package == "oci" else module.replace(".sh", "").replace("/", ".")
    return getattr(importlib.import_module(f"pulumi_{package}.{path}"), name)


def kwargs(inputs: dict[str, Any]) -> dict[str, Any]:
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): rewrap(value) for key, value in inputs.items()}


def provider_kwargs(inputs: dict[str, Any]) -> dict[str, Any]:
    """Provider inputs travel JSON-encoded ("false"); give the SDK back the values themselves."""

    def decoded(value: Any) -> Any:
        try:
            return json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError:
            return value

    return {key: decoded(value) for key, value in kwargs(inputs).items()}


def hooks(names: list[str]) -> pulumi.ResourceHookBinding | None:
    return pulumi.ResourceHookBinding(after_create=[pulumi.ResourceHook(n, lambda _: None) for n in names]) if names else None


created: dict[str, pulumi.Resource] = {}
for recorded in json.loads(Path(os.environ["BENCH_FLOOR_FILE"]).read_text()):
    if recorded.get("read"):  # the StackReference the program reads its deployed state through
        created[recorded["name"]] = pulumi.StackReference(recorded["name"], recorded["id"])
        continue
    inputs = dict(recorded["inputs"])
    if recorded["type"].startswith("pulumi:providers:"):
        created[recorded["name"]] = sdk_class(recorded["type"])(recorded["name"], **provider_kwargs(inputs))
        continue
    provider = created[recorded["provider"]]
    assert isinstance(provider, pulumi.ProviderResource)
    opts = pulumi.ResourceOptions(
        provider=provider,
        depends_on=[created[name] for name in recorded["dependsOn"]],
        hooks=hooks(recorded["afterCreateHooks"]),
    )
    if recorded["type"].startswith("kubernetes:external-secrets.io/"):
        created[recorded["name"]] = pulumi_kubernetes.apiextensions.CustomResource(recorded["name"], **kwargs(inputs), opts=opts)
        continue
    if recorded["type"].startswith("kubernetes:"):
        inputs.pop("apiVersion", None)
        inputs.pop("kind", None)
    created[recorded["name"]] = sdk_class(recorded["type"])(recorded["name"], **kwargs(inputs), opts=opts)
