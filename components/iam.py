"""OCI IAM policy statements for one environment, as pure functions of the tier data.

OCI IAM denies by default, so isolation comes from scoping every Allow to this environment's
own compartment. Who gets what is data (`TIERS` in `components/presets.py`); this module only
writes it in OCI's grammar: `Allow <subject> to <verb> <resource type> in compartment id <ocid>
[where <conditions>]`. No statement ever names another environment, and `any-user` never
appears without the workload conditions of this environment's sync identity.

The IAM program (`iam/`) applies these statements before the environment's vault exists, so no
statement names an OCID only known afterwards: vaults and keys are scoped by the compartment (the
environment's own, per the guardrail authority, holding the one vault and key its stack creates),
and secret bundles by name. Per OCI's Vault policy reference, `target.secret.name` applies to
secrets, secret versions and secret bundles, with the patterns `/x*/`, `/*x/`, `/*x*/` of the
Conditions page (https://docs.oracle.com/iaas/Content/Identity/policysyntax/conditions.htm),
matched without regard to case. A condition whose variable does not apply to a request
evaluates to false: an Allow narrowed that way declines the request, a Deny does not apply.

Optional Deny statements (a second line of defence, only where an administrator has enabled
Deny policies tenancy-wide) refuse every other workload, written with negated conditions on
this environment's own identifiers so that they too name nothing of another environment.
"""

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from components.naming import oci_secret_name_pattern
from components.presets import SYNC, Grant, Role

# The documented name variable of each resource type a grant narrows by name (Vault policy reference).
NAME_VARIABLE: Final = {r: "target.secret.name" for r in ("secrets", "secret-versions", "secret-bundles")}


@dataclass(frozen=True)
class SyncIdentity:
    """The Kubernetes workload whose identity reads this environment's secrets."""

    cluster_id: str
    namespace: str
    service_account: str
    # A standby cluster's identity reads only in its region (a region key such as AMS), where the
    # replicas are: `request.region` (OCI, "General Variables for All Requests").
    region: str | None = None

    def conditions(self) -> list[str]:
        return [
            "request.principal.type = 'workload'",
            f"request.principal.namespace = '{self.namespace}'",
            f"request.principal.service_account = '{self.service_account}'",
            f"request.principal.cluster_id = '{self.cluster_id}'",
            *([f"request.region = '{self.region}'"] if self.region else []),
        ]

    def mismatches(self) -> list[str]:
        """Conditions of which any one holds for a workload that is not this identity."""
        return [
            f"request.principal.namespace != '{self.namespace}'",
            f"request.principal.service_account != '{self.service_account}'",
            f"request.principal.cluster_id != '{self.cluster_id}'",
        ]


def group_subject(identity_domain: str, group: str) -> str:
    return f"group '{identity_domain}'/'{group}'"


def _where(conditions: list[str]) -> str:
    if not conditions:
        return ""
    if len(conditions) == 1:
        return f" where {conditions[0]}"
    return " where all {" + ", ".join(conditions) + "}"


def _narrowing(grant: Grant) -> list[str]:
    conditions = []
    if grant.named is not None:
        conditions.append(f"{NAME_VARIABLE[grant.resource]} = /{grant.named}/")
    if grant.only is not None:
        conditions.append(f"request.permission = '{grant.only}'")
    conditions += [f"request.permission != '{permission}'" for permission in grant.without]
    return conditions


def role_statements(role: Role, subject: str, compartment_id: str, subject_conditions: tuple[str, ...] = ()) -> list[str]:
    """One Allow statement per grant of `role`, for `subject` (narrowed by `subject_conditions`)."""
    return grant_statements(role.grants, subject, compartment_id, subject_conditions)


def grant_statements(
    grants: Sequence[Grant], subject: str, compartment_id: str, subject_conditions: tuple[str, ...] = ()
) -> list[str]:
    return [
        f"Allow {subject} to {grant.verb} {grant.resource} in compartment id {compartment_id}"
        + _where([*subject_conditions, *_narrowing(grant)])
        for grant in grants
    ]


def sync_statements(identity: SyncIdentity, compartment_id: str, services: Sequence[str]) -> list[str]:
    """What the External Secrets Operator needs, acting as the sync identity, and no more: the values of
    its environment's service secrets (one name pattern per service), and GetVault for its store check.
    Any other secret stored in the compartment (a database admin password, another team's token)
    stays out of its reach."""
    grants = tuple(
        expanded
        for grant in SYNC.grants
        for expanded in (
            [dataclasses.replace(grant, named=oci_secret_name_pattern(service)) for service in services]
            if grant.per_service
            else [grant]
        )
    )
    return role_statements(dataclasses.replace(SYNC, grants=grants), "any-user", compartment_id, tuple(identity.conditions()))


def deny_statements(identities: Sequence[SyncIdentity], compartment_id: str) -> list[str]:
    """Deny every workload that is none of the sync identities: one statement per way of differing from
    each of them (its namespace, service account or cluster), so a standby cluster's identity is no
    workload of the other's to deny."""
    scope = f"in compartment id {compartment_id}"
    workload = "request.principal.type = 'workload'"
    return [
        f"Deny any-user to read secret-family {scope}{_where([workload, *dict.fromkeys(differing)])}"
        for differing in itertools.product(*(identity.mismatches() for identity in identities))
    ]
