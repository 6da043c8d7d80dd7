"""Kubernetes objects of the secret sync, as pure functions returning manifests.

External Secrets Operator (ESO) reads OCI Vault through a namespaced `SecretStore`: only
ExternalSecrets of the same namespace can use it, which is what keeps one environment's
store out of another's reach on a shared cluster. The store authenticates as a named
service account (workload identity); without `serviceAccountRef`, ESO would use its own
controller's identity, one identity shared by every environment.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import pulumi

from components.naming import (
    ENV_VAR_OF,
    PREVIOUS_JWT_ENV_VAR,
    PROJECT,
    SECRET_KINDS,
    kubernetes_secret_name,
    oci_secret_name,
    secret_path,
)

ESO_API_VERSION: Final = "external-secrets.io/v1"


@dataclass(frozen=True)
class HelmChart:
    chart: str
    version: str
    repository: str
    # Set explicitly: without it pulumi-kubernetes names a release `<resource name>-<8 hex>`,
    # longer than the 53 characters Helm accepts; stable, so a replaced resource keeps the release.
    release: str


OPERATOR: Final = HelmChart("external-secrets", "2.9.0", "https://charts.external-secrets.io", "external-secrets")

# Stakater Reloader (chart `reloader` 2.2.16 of https://stakater.github.io/stakater-charts): a
# Deployment annotated "search" restarts when a Secret it uses, annotated "match", changes
# (stakater/Reloader README, "search and match"; `auto` would also react to unrelated ConfigMaps).
RELOADER: Final = HelmChart("reloader", "2.2.16", "https://stakater.github.io/stakater-charts", "reloader")
RELOADER_MATCH: Final = {"reloader.stakater.com/match": "true"}
RELOADER_SEARCH: Final = {"reloader.stakater.com/search": "true"}

# pulumi-kubernetes waits for this condition on create and update (`pulumi.com/waitFor`, since
# v4.18.0) and fails the update after the timeout, naming the object. ESO reports "Ready" on
# stores and ExternalSecrets (apis/externalsecrets/v1/externalsecret_types.go).
WAIT_FOR_READY: Final = {"pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "600"}

STORE_REVALIDATION: Final = "10m"

ENVIRONMENT_ANNOTATION: Final = f"{PROJECT}/environment"
SOURCE_ANNOTATION: Final = f"{PROJECT}/source"  # + "-<secret kind>": the OCI secret's logical path


def labels(environment: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/part-of": "ecommerce",
        "app.kubernetes.io/managed-by": "pulumi",
        f"{PROJECT}/environment": environment,
    }


def secret_store(
    environment: str,
    name: str,
    namespace: str,
    vault_id: pulumi.Input[str],
    region: str,
    service_account: str,
) -> dict[str, Any]:
    return {
        "apiVersion": ESO_API_VERSION,
        "kind": "SecretStore",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(environment), "annotations": WAIT_FOR_READY},
        "spec": {
            "provider": {
                "oracle": {
                    "vault": vault_id,
                    "region": region,
                    "principalType": "Workload",
                    # No namespace here: a namespaced store may only use its own namespace's accounts.
                    "serviceAccountRef": {"name": service_account},
                }
            }
        },
    }


def secret_data(service: str, jwt_generations: Sequence[int]) -> list[dict[str, Any]]:
    """Which OCI secret fills which key of the Kubernetes Secret.

    `jwt_generations` are the JWT generations the stack keeps (RotationSchedule.generations): the
    last is current; the one before it, from the first rotation on, is JWT_SECRET_PREVIOUS, which
    lets services accept tokens signed before a rotation. ESO fails the whole ExternalSecret when
    one source is missing, so only kept generations are named.
    """
    *previous, current = jwt_generations
    data = [
        {"secretKey": ENV_VAR_OF["database-url"], "remoteRef": {"key": oci_secret_name(service, "database-url")}},
        {"secretKey": ENV_VAR_OF["jwt-secret"], "remoteRef": {"key": oci_secret_name(service, "jwt-secret", current)}},
    ]
    return data + [
        {"secretKey": PREVIOUS_JWT_ENV_VAR, "remoteRef": {"key": oci_secret_name(service, "jwt-secret", generation)}}
        for generation in previous
    ]


def external_secret(
    environment: str, service: str, namespace: str, store: str, refresh_interval: str, jwt_generations: Sequence[int]
) -> dict[str, Any]:
    """One Kubernetes Secret `<service>-secrets` with DATABASE_URL, JWT_SECRET (and JWT_SECRET_PREVIOUS)."""
    annotations = {ENVIRONMENT_ANNOTATION: environment} | {
        f"{SOURCE_ANNOTATION}-{kind}": secret_path(environment, service, kind) for kind in SECRET_KINDS
    }
    return {
        "apiVersion": ESO_API_VERSION,
        "kind": "ExternalSecret",
        "metadata": {
            "name": service,
            "namespace": namespace,
            "labels": labels(environment),
            "annotations": annotations | WAIT_FOR_READY,
        },
        "spec": {
            "refreshInterval": refresh_interval,
            "secretStoreRef": {"name": store, "kind": "SecretStore"},
            "target": {
                "name": kubernetes_secret_name(service),
                "creationPolicy": "Owner",
                # If a source secret disappears from OCI, running pods keep the last value.
                "deletionPolicy": "Retain",
                "template": {"metadata": {"labels": labels(environment), "annotations": annotations | RELOADER_MATCH}},
            },
            "data": secret_data(service, jwt_generations),
        },
    }


def operator_values() -> dict[str, Any]:
    """Helm values of the ESO chart: only what an isolated, namespaced setup needs."""
    return {
        "installCRDs": True,
        # Helm deletes a chart's CRDs on uninstall or release replacement, and Kubernetes then
        # deletes every SecretStore and ExternalSecret of the cluster (and their Secrets):
        # "keep" makes Helm leave them in place.
        "crds": {"annotations": {"helm.sh/resource-policy": "keep"}},
        # Cluster-wide stores would let any namespace read any environment's vault.
        "processClusterStore": False,
        "processClusterExternalSecret": False,
        # Nothing here writes back to OCI.
        "processPushSecret": False,
        "processClusterPushSecret": False,
        # How often each SecretStore is re-validated (one GetVault call): explicit, so the
        # number of OCI calls the sync makes is this program's choice, not a chart default.
        "storeRequeueInterval": STORE_REVALIDATION,
    }


def reloader_values() -> dict[str, Any]:
    """Helm values of the Reloader chart (checked by hand against its values.schema.json, 2.2.16)."""
    return {
        "reloader": {
            # A rollout through a pod-template annotation, not an extra environment variable.
            "reloadStrategy": "annotations",
            # Only the environments' namespaces, which carry this label, and only Secrets.
            "namespaceSelector": "app.kubernetes.io/part-of=ecommerce",
            "ignoreConfigMaps": True,
        }
    }
