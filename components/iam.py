"""OCI IAM policy statements for one environment, as pure functions.

OCI IAM denies by default, so isolation comes from scoping every Allow to this environment's
own compartment, vault and sync identity. The sync identity is a workload identity: pods
running as one service account, in one namespace, on one OKE cluster. No statement ever
names another environment, and `any-user` never appears without those workload conditions.

Optional Deny statements (a second line of defence, only where an administrator has enabled
Deny policies tenancy-wide) refuse every other workload, written with negated conditions on
this environment's own identifiers so that they too name nothing of another environment.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class SyncIdentity:
    """The Kubernetes workload whose identity reads this environment's secrets."""

    cluster_id: str
    namespace: str
    service_account: str

    def conditions(self) -> list[str]:
        return [
            "request.principal.type = 'workload'",
            f"request.principal.namespace = '{self.namespace}'",
            f"request.principal.service_account = '{self.service_account}'",
            f"request.principal.cluster_id = '{self.cluster_id}'",
        ]


def _where_all(conditions: list[str]) -> str:
    return "where all {" + ", ".join(conditions) + "}"


def sync_statements(identity: SyncIdentity, compartment_id: str, vault_id: str) -> list[str]:
    """What the External Secrets Operator needs, acting as the sync identity, and no more."""
    scope = f"in compartment id {compartment_id}"
    only_this_vault = [*identity.conditions(), f"target.vault.id = '{vault_id}'"]
    return [
        # GetSecretBundleByName: reading a secret's value.
        f"Allow any-user to read secret-bundles {scope} {_where_all(only_this_vault)}",
        # GetVault: ESO's store check; without it the store reports an "unknown" validation.
        f"Allow any-user to read vaults {scope} {_where_all(only_this_vault)}",
    ]


def admin_statements(identity_domain: str, admin_group: str, compartment_id: str, vault_id: str) -> list[str]:
    """The environment's own administrators manage its secrets and key, in its vault only."""
    subject = f"group '{identity_domain}'/'{admin_group}'"
    scope = f"in compartment id {compartment_id} where target.vault.id = '{vault_id}'"
    return [
        f"Allow {subject} to manage secret-family {scope}",
        f"Allow {subject} to manage keys {scope}",
        f"Allow {subject} to use key-delegate {scope}",
        f"Allow {subject} to read vaults {scope}",
    ]


def deny_statements(identity: SyncIdentity, compartment_id: str) -> list[str]:
    """Deny every workload whose namespace, service account or cluster differs from the sync identity's."""
    scope = f"in compartment id {compartment_id}"
    workload = "request.principal.type = 'workload'"
    mismatches = [
        f"request.principal.namespace != '{identity.namespace}'",
        f"request.principal.service_account != '{identity.service_account}'",
        f"request.principal.cluster_id != '{identity.cluster_id}'",
    ]
    return [f"Deny any-user to read secret-family {scope} {_where_all([workload, m])}" for m in mismatches]
