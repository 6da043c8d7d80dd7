"""Which input changes make the engine replace a resource, read from the providers themselves.

The pulumi-oci SDK marks every input OCI can change in place "(Updatable)" in its docstrings (the
rest force a new resource, as terraform-provider-oci's ForceNew does); pulumi-kubernetes replaces
an object whose `.metadata.name` or `.metadata.namespace` changes (provider/pkg/provider/provider.go,
Diff) and a Helm release whose `.name` or `.namespace` does (helm_release.go, Diff); with
`clusterIdentifier` set, its provider replaces everything only when that identifier changes
(provider.go, DiffConfig). The replacement tests and the pull-request diff (`offline/diff.py`)
both read it from here.
"""

import inspect
import typing
from functools import cache
from typing import Any

import pulumi_oci as oci
from pydantic.alias_generators import to_camel

VAULT, KEY, SECRET = "oci:Kms/vault:Vault", "oci:Kms/key:Key", "oci:Vault/secret:Secret"
RELEASE = "kubernetes:helm.sh/v3:Release"

OCI_CLASSES = {
    VAULT: oci.kms.Vault,
    KEY: oci.kms.Key,
    "oci:Kms/keyVersion:KeyVersion": oci.kms.KeyVersion,
    SECRET: oci.vault.Secret,
    "oci:Identity/policy:Policy": oci.identity.Policy,
}
KUBERNETES_REPLACING = {RELEASE: {("name",), ("namespace",)}}
KUBERNETES_OBJECT_REPLACING = {("metadata", "name"), ("metadata", "namespace")}
PROVIDER_REPLACING = {
    # A vault cannot move between regions: a region change can only mean new resources.
    "pulumi:providers:oci": {("region",)},
    "pulumi:providers:kubernetes": {("clusterIdentifier",)},
}


def replace_forcing(type_: str) -> set[tuple[str, ...]]:
    """Inputs whose change makes the provider replace a resource of `type_`."""
    if type_ in OCI_CLASSES:
        [documented, *_] = typing.get_overloads(OCI_CLASSES[type_].__init__)
        return {(to_camel(name),) for name in _oci_inputs(type_) if f" {name}: (Updatable)" not in (documented.__doc__ or "")}
    if type_ in PROVIDER_REPLACING:
        return PROVIDER_REPLACING[type_]
    if type_.startswith("kubernetes:"):
        return KUBERNETES_REPLACING.get(type_, KUBERNETES_OBJECT_REPLACING)
    return set()


@cache
def _oci_inputs(type_: str) -> tuple[str, ...]:
    parameters = inspect.signature(OCI_CLASSES[type_]._internal_init).parameters
    return tuple(p for p in parameters if p not in ("__self__", "resource_name", "opts", "__props__"))


def at(value: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value
