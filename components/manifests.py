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
    NEXT_JWT_ENV_VAR,
    PREVIOUS_JWT_ENV_VAR,
    PROJECT,
    SECRET_KINDS,
    kubernetes_secret_name,
    oci_secret_name,
    secret_path,
)
from components.rotation import JwtGenerations

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

# Stakater Reloader (chart `reloader` 2.2.16, app v1.4.21, of https://stakater.github.io/stakater-charts):
# a Deployment annotated "search" restarts when a Secret it uses, annotated "match", changes
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


def secret_data(service: str, jwt: JwtGenerations, replicas: bool = False) -> list[dict[str, Any]]:
    """Which OCI secret fills which key of the Kubernetes Secret.

    Services sign with JWT_SECRET and accept JWT_SECRET, JWT_SECRET_PREVIOUS (what pods signed with
    before the last rotation) and JWT_SECRET_NEXT (what pods restarted by the next rotation will sign
    with): so during any rollout every pod accepts what every other signs with. ESO fails the whole
    ExternalSecret when one source is missing, so only generations that exist are named: no
    JWT_SECRET_PREVIOUS before the first rotation. On a standby cluster (`replicas`), which reads the
    replicas, only generations that replicate (JwtGenerations.replicated): after disaster recovery is
    turned on for a deployed stack, those pods may sign with never get a replica, so for up to two
    rotations the standby signs with a later one (JwtGenerations.standby_signing; docs/disaster-recovery.md).
    """
    by_key = {
        ENV_VAR_OF["jwt-secret"]: jwt.standby_signing if replicas else jwt.signing,
        PREVIOUS_JWT_ENV_VAR: jwt.previous,
        NEXT_JWT_ENV_VAR: jwt.next,
    }
    data = [{"secretKey": ENV_VAR_OF["database-url"], "remoteRef": {"key": oci_secret_name(service, "database-url")}}]
    return data + [
        {"secretKey": key, "remoteRef": {"key": oci_secret_name(service, "jwt-secret", generation)}}
        for key, generation in by_key.items()
        if generation is not None and (not replicas or jwt.replicated(generation))
    ]


def external_secret(
    environment: str, service: str, namespace: str, store: str, refresh_interval: str, jwt: JwtGenerations,
    replicas: bool = False,
) -> dict[str, Any]:
    """One Kubernetes Secret `<service>-secrets` with DATABASE_URL and the JWT generations (secret_data)."""
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
            "data": secret_data(service, jwt, replicas),
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


def reloader_values(namespaces: Sequence[str]) -> dict[str, Any]:
    """Helm values of the Reloader chart 2.2.16 (stakater/Reloader deployments/kubernetes/chart/reloader).

    Scoped mode: with `watchGlobally: false` and a `namespaces` list (values.yaml, lines 47-55), the
    chart writes a Role and RoleBinding in each listed namespace and no ClusterRole (templates/role.yaml,
    templates/clusterrole.yaml), and passes `--namespaces` (templates/deployment.yaml, line 244), on
    which Reloader starts one watch per namespace (internal/pkg/cmd/reloader.go, lines 142-195). A
    `namespaceSelector` would keep the cluster-wide watch (it applies only with watchGlobally: true,
    templates/_helpers.tpl line 87; internal/pkg/cmd/reloader.go line 158).
    """
    return {
        "reloader": {
            # A rollout through a pod-template annotation, not an extra environment variable.
            "reloadStrategy": "annotations",
            "watchGlobally": False,
            "namespaces": sorted(set(namespaces)),
            # Only Secrets: the program writes no ConfigMap.
            "ignoreConfigMaps": True,
        }
    }
