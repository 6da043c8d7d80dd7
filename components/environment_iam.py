"""EnvironmentIam: every IAM policy one environment needs, applied by an IAM administrator.

The environment's own program writes no IAM (docs/isolation.md): its deploying identity could
otherwise grant itself the values it must never read. This component, run by the IAM program
(`iam/__main__.py`) in the tenancy's home region, writes into the environment's compartment:

- `ecommerce-<env>-secrets-access`: the sync identity's reads (its services' secrets only, by
  name), a standby cluster's (the same, only in the replica region) and each named group's tier;
- `ecommerce-<env>-deployer`: what the environment's `pulumi up` needs (with disasterRecovery, the
  secrets' replication too), and no IAM;
- `ecommerce-<env>-events-delivery`: the Events service may publish to the environment's topic;
- optionally `ecommerce-<env>-secrets-deny`: Deny statements for every other workload, apart,
  because once Deny policies are enabled only administrators may change a policy holding one.

Every statement comes from the pure functions of `components/iam.py` and the tier data of
`components/presets.py`, and names only what is known before the vault exists.
"""

from dataclasses import dataclass

import pulumi
import pulumi_oci as oci
from pulumi import ResourceOptions

from components import iam, notifications
from components.iam_settings import IamStackSettings
from components.naming import child_name, deny_policy_name, deployer_policy_name, events_policy_name, policy_name
from components.presets import REPLICATION, TIERS, RoleName

IAM_COMPONENT_TYPE = "ecommerce:security:EnvironmentIam"


@dataclass(frozen=True)
class PolicySpec:
    part: str  # the stable part of the Pulumi resource name
    name: str
    description: str
    statements: list[str]


def sync_identities(s: IamStackSettings) -> list[iam.SyncIdentity]:
    """The environment's sync identity, and its standby cluster's, which reads only in the replica region."""
    k = s.kubernetes
    found = [iam.SyncIdentity(cluster_id=k.cluster_id, namespace=k.namespace, service_account=k.service_account)]
    recovery = s.disaster_recovery
    if recovery and recovery.standby:
        w = recovery.standby
        found.append(iam.SyncIdentity(w.cluster_id, w.namespace, w.service_account, region=recovery.region_key()))
    return found


def role_statements(s: IamStackSettings, role: RoleName) -> list[str]:
    """The statements of the group the stack names for `role`."""
    group = s.iam.role_groups()[role]
    return iam.role_statements(TIERS[s.iam.tier][role], iam.group_subject(s.iam.identity_domain, group), s.compartment_id)


def policy_specs(s: IamStackSettings) -> list[PolicySpec]:
    env = s.environment
    access = [
        statement for identity in sync_identities(s) for statement in iam.sync_statements(identity, s.compartment_id, s.services)
    ] + [
        statement for role in s.iam.role_groups() if role != "deployer" for statement in role_statements(s, role)
    ]
    deployer = role_statements(s, "deployer")
    if s.disaster_recovery:
        group = iam.group_subject(s.iam.identity_domain, s.iam.deployer_group)
        deployer += iam.grant_statements(REPLICATION, group, s.compartment_id)
    specs = [
        PolicySpec("secrets-access", policy_name(env),
                   f"Who may read and manage the {env} secrets ({s.iam.tier} tier; IAM program)", access),
        PolicySpec("deployer", deployer_policy_name(env),
                   f"What the {env} deployment needs; no IAM (IAM program)", deployer),
        PolicySpec("events-delivery", events_policy_name(env),
                   f"The Events service may publish {env}'s events to its topic (IAM program)",
                   notifications.delivery_statements(s.compartment_id)),
    ]
    if s.iam.deny_other_workloads:
        specs.append(PolicySpec("secrets-deny", deny_policy_name(env),
                                f"Keeps every other workload away from the {env} secrets (IAM program)",
                                iam.deny_statements(sync_identities(s), s.compartment_id)))
    return specs


class EnvironmentIam(pulumi.ComponentResource):
    policy_ids: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, settings: IamStackSettings, provider: oci.Provider, opts: ResourceOptions | None = None):
        super().__init__(IAM_COMPONENT_TYPE, name, None, opts)
        tags = {"environment": settings.environment, "managed-by": "pulumi-iam"}
        policies = {
            spec.name: oci.identity.Policy(
                child_name(name, spec.part),
                compartment_id=settings.compartment_id,
                name=spec.name,
                description=spec.description,
                statements=spec.statements,
                freeform_tags=tags,
                # Policy names are unique in the tenancy: a replacement (new name or compartment) must
                # delete the old policy before creating the new one, or OCI refuses the name.
                opts=ResourceOptions(parent=self, provider=provider, delete_before_replace=True),
            )
            for spec in policy_specs(settings)
        }
        self.policy_ids = pulumi.Output.all(**{policy: p.id for policy, p in policies.items()})
        self.register_outputs({"policy_ids": self.policy_ids})
