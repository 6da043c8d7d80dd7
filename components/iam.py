"""OCI IAM policy statements for one environment, as pure functions of the tier data.

OCI IAM denies by default, so isolation comes from scoping every Allow to this environment's
own compartment and, where OCI documents a variable for the resource type, to its own vault
or key. Who gets what is data (`TIERS` in `components/presets.py`); this module only writes
it in OCI's grammar: `Allow <subject> to <verb> <resource type> in compartment id <ocid>
[where <conditions>]`. No statement ever names another environment, and `any-user` never
appears without the workload conditions of this environment's sync identity.

Variables, per OCI's Vault and IAM policy references: `target.vault.id` applies to vaults,
`target.key.id` to keys, `target.policy.name` to policies; secrets, secret versions and
secret bundles have only `target.secret.name|id`, so they are scoped by the compartment (and,
where a grant says so, by a name pattern: OCI's `/x*/`, `/*x/`, `/*x*/`,
https://docs.oracle.com/iaas/Content/Identity/policysyntax/conditions.htm). A
condition whose variable does not apply to a request evaluates to false: an Allow narrowed
that way declines the request (listing vaults has no vault id), a Deny does not apply.

Optional Deny statements (a second line of defence, only where an administrator has enabled
Deny policies tenancy-wide) refuse every other workload, written with negated conditions on
this environment's own identifiers so that they too name nothing of another environment.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from components.presets import SYNC, Grant, Role

# The documented target variable of each resource type this program narrows by one.
TARGET_VARIABLE: Final = {"vaults": "target.vault.id", "keys": "target.key.id", "policies": "target.policy.name"}
NAME_VARIABLE: Final = {"secrets": "target.secret.name"}


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


@dataclass(frozen=True)
class Match:
    """What a target variable must equal, written as OCI's policy syntax writes it."""

    text: str

    @classmethod
    def exactly(cls, value: str) -> "Match":
        return cls(f"'{value}'")

    @classmethod
    def pattern(cls, glob: str) -> "Match":
        """OCI's name patterns: `x*` starts with, `*x` ends with, `*x*` contains."""
        return cls(f"/{glob}/")


@dataclass(frozen=True)
class Scope:
    """This environment's compartment, and what each target variable its grants narrow by must match."""

    compartment_id: str
    targets: Mapping[str, Match]


def group_subject(identity_domain: str, group: str) -> str:
    return f"group '{identity_domain}'/'{group}'"


def _where(conditions: list[str]) -> str:
    if not conditions:
        return ""
    if len(conditions) == 1:
        return f" where {conditions[0]}"
    return " where all {" + ", ".join(conditions) + "}"


def _narrowing(grant: Grant, scope: Scope) -> list[str]:
    conditions = []
    if grant.resource in TARGET_VARIABLE and not grant.whole_compartment:
        conditions.append(f"{TARGET_VARIABLE[grant.resource]} = {scope.targets[grant.resource].text}")
    if grant.named is not None:
        conditions.append(f"{NAME_VARIABLE[grant.resource]} = {Match.pattern(grant.named).text}")
    if grant.only is not None:
        conditions.append(f"request.permission = '{grant.only}'")
    conditions += [f"request.permission != '{permission}'" for permission in grant.without]
    return conditions


def role_statements(role: Role, subject: str, scope: Scope, subject_conditions: tuple[str, ...] = ()) -> list[str]:
    """One Allow statement per grant of `role`, for `subject` (narrowed by `subject_conditions`)."""
    return [
        f"Allow {subject} to {grant.verb} {grant.resource} in compartment id {scope.compartment_id}"
        + _where([*subject_conditions, *_narrowing(grant, scope)])
        for grant in role.grants
    ]


def sync_statements(identity: SyncIdentity, scope: Scope) -> list[str]:
    """What the External Secrets Operator needs, acting as the sync identity, and no more."""
    return role_statements(SYNC, "any-user", scope, tuple(identity.conditions()))


def deny_statements(identity: SyncIdentity, compartment_id: str) -> list[str]:
    """Deny every workload whose namespace, service account or cluster differs from the sync identity's."""
    scope = f"in compartment id {compartment_id}"
    workload = "request.principal.type = 'workload'"
    mismatches = [
        f"request.principal.namespace != '{identity.namespace}'",
        f"request.principal.service_account != '{identity.service_account}'",
        f"request.principal.cluster_id != '{identity.cluster_id}'",
    ]
    return [f"Deny any-user to read secret-family {scope}{_where([workload, m])}" for m in mismatches]
