"""Settings of the IAM program (`iam/`): who gets which access tier on one environment's secrets.

The IAM program is run by a tenancy (or IAM) administrator, never by the environment's deploying
identity, which may write no policy (docs/isolation.md). Its stack file `iam/Pulumi.<env>.yaml`
names the environment's compartment, the workload that syncs its secrets (cluster, namespace,
service account), its services (the sync identity reads only their secrets, by name) and its
groups. The compartment, cluster and namespace are checked against the guardrail authority
(`components/guardrails.py`), as the environment's own stack file is, so the two programs cannot
disagree on what the environment owns.
"""

from collections.abc import Mapping
from typing import Annotated, Any, Final

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from components import guardrails
from components.naming import DEFAULT_SERVICES
from components.presets import TIERS, RoleName, TierName
from components.regions import OCI_REGIONS
from components.settings import (
    _IAM_NAME,
    ClusterOcid,
    CompartmentOcid,
    DnsLabel,
    Environment,
    Region,
    ServiceName,
    Settings,
    _matches,
    _setting_error,
    check_owned,
    environment_is_stack,
    namespace_defaults,
)
from components.settings_errors import SettingsError, describe_errors
from components.stack_config import parse_config_value

IAM_PROJECT: Final = "ecommerce-kms-vault-iam"
IAM_DIRECTORY: Final = "iam"
IAM_STACK_FILES: Final = IAM_DIRECTORY + "/Pulumi.{stack}.yaml"

GroupName = Annotated[
    str, _matches(_IAM_NAME, "an OCI group name: a letter or digit, then letters, digits, '_', '.', '-' (at most 100)")
]


class IamSettings(Settings):
    tier: TierName = Field(description="strict, moderate or relaxed: who may read, write and delete (TIERS in components/presets.py)")
    admin_group: GroupName = Field(
        description="OCI group of the people who administer this environment's secrets (developers in relaxed)"
    )
    readers_group: GroupName | None = Field(
        default=None, description="optional OCI group that may read secret values (moderate and relaxed only)"
    )
    break_glass_group: GroupName | None = Field(
        default=None,
        description="optional OCI group with full access for emergencies (strict only); empty by default",
    )
    deployer_group: GroupName = Field(
        description="OCI group of the identity that runs the environment's `pulumi up` (CI); it may write no IAM"
    )
    identity_domain: Annotated[str, _matches(_IAM_NAME, "an identity domain name such as Default")] = Field(
        default="Default", description="identity domain of the groups"
    )
    deny_other_workloads: bool = Field(
        default=False,
        description="also write a policy of Deny statements keeping every other workload away from these secrets; "
        "needs Deny policies enabled tenancy-wide by an administrator first",
    )

    def role_groups(self) -> dict[RoleName, str]:
        """The group named for each role, where one is."""
        named: dict[RoleName, str | None] = {
            "admin": self.admin_group,
            "readers": self.readers_group,
            "breakGlass": self.break_glass_group,
            "deployer": self.deployer_group,
        }
        return {role: group for role, group in named.items() if group is not None}


class WorkloadSettings(Settings):
    cluster_id: ClusterOcid = Field(description="OCID of the OKE cluster whose workload reads the secrets (kubernetes.clusterId of its stack; for the standby, disasterRecovery.standby.clusterId)")
    namespace: DnsLabel = Field(description="namespace of the environment's services; default ecommerce-<environment>")
    service_account: DnsLabel = Field(
        default="ecommerce-secrets-sync", description="service account whose workload identity reads the secrets"
    )


class RecoveryIamSettings(Settings):
    region: Region = Field(
        description="the environment's replica region (disasterRecovery.region of its stack): the standby reads only there"
    )
    standby: WorkloadSettings | None = Field(
        default=None,
        description="the standby cluster's sync workload (disasterRecovery.standby of its stack); namespace defaults "
        "to kubernetes.namespace",
    )

    def region_key(self) -> str:
        """The region's key, as IAM's request.region compares it."""
        return OCI_REGIONS[self.region].key


class IamStackSettings(Settings):
    """Everything one environment's IAM stack file says."""

    environment: Environment = Field(description="production, staging or development; must equal the stack name")
    compartment_id: CompartmentOcid = Field(description="OCID of the environment's own compartment")
    home_region: Region = Field(description="the tenancy's home region, where OCI accepts IAM writes")
    oci_profile: str | None = Field(default=None, min_length=1, description="profile in ~/.oci/config")
    services: tuple[ServiceName, ...] = Field(
        default=DEFAULT_SERVICES, min_length=1,
        description="the environment's services (its stack's `services`): the sync identity reads only their secrets",
    )
    iam: IamSettings
    kubernetes: WorkloadSettings
    disaster_recovery: RecoveryIamSettings | None = Field(
        default=None,
        description="the environment's replica region and standby cluster (its stack's disasterRecovery); empty: off",
    )

    @model_validator(mode="before")
    @classmethod
    def _default_namespace(cls, data: Any) -> Any:
        return namespace_defaults(data) if isinstance(data, Mapping) else data

    @field_validator("environment")
    @classmethod
    def _environment_is_stack(cls, value: str, info: ValidationInfo) -> str:
        return environment_is_stack(value, info)

    @model_validator(mode="after")
    def _cross_field_rules(self, info: ValidationInfo) -> "IamStackSettings":
        self._check_roles()
        if self.disaster_recovery and self.disaster_recovery.region not in OCI_REGIONS:
            raise _setting_error(
                "disasterRecovery.region", self.disaster_recovery.region,
                "is not an OCI region (components/regions.py lists them); set the region of the environment stack's "
                f"disasterRecovery.region: pulumi -C iam config set --path 'disasterRecovery.region' <region> --stack {self.environment}",
            )
        k = self.kubernetes
        authority: guardrails.Guardrails | None = (info.context or {}).get("guardrails")
        check_owned(
            self.environment,
            {"compartmentId": self.compartment_id, "kubernetes.clusterId": k.cluster_id, "kubernetes.namespace": k.namespace},
            authority,
        )
        # The strict tier's promise (only its own workload reads) needs a cluster nobody else deploys to.
        sharing = sorted(other for other, theirs in (authority.others(self.environment) if authority else {}).items()
                         if theirs.cluster_id == k.cluster_id)
        if self.iam.tier == "strict" and sharing:
            raise _setting_error(
                "iam.tier", "strict",
                f"needs a cluster of its own, and {guardrails.AUTHORITY_NAME} lists {k.cluster_id} for "
                f"{', '.join(sharing)} too; give {self.environment} its own cluster there (a reviewed change) "
                "or choose another iam.tier",
            )
        return self

    def _check_roles(self) -> None:
        """Every role the tier has, and only those, each with a group of its own."""
        tier = TIERS[self.iam.tier]
        seen: dict[str, RoleName] = {}
        for role, group in self.iam.role_groups().items():
            if role not in tier:
                raise _setting_error(
                    f"iam.{role}Group",
                    group,
                    f"the {self.iam.tier} tier has no {role} role (it has: "
                    f"{', '.join(f'iam.{r}Group' for r in tier)}); remove the key or choose another iam.tier",
                )
            if group in seen:
                raise _setting_error(
                    f"iam.{role}Group",
                    group,
                    f"is also iam.{seen[group]}Group: each role needs a group of its own, so that membership "
                    "grants exactly one role's access",
                )
            seen[group] = role


def load_iam_settings(config: dict[str, Any], stack: str, authority: guardrails.Guardrails | None = None) -> IamStackSettings:
    """Validate an IAM stack's config (keys without the `ecommerce-kms-vault-iam:` prefix)."""
    data = {key: parse_config_value(value) for key, value in config.items()}
    try:
        return IamStackSettings.model_validate(data, context={"stack": stack, "guardrails": authority})
    except ValidationError as error:
        file = IAM_STACK_FILES.format(stack=stack)
        raise SettingsError(stack, describe_errors(error, stack, model=IamStackSettings, project=IAM_PROJECT, directory=IAM_DIRECTORY), file) from None


def read_iam_settings() -> IamStackSettings:
    """The running IAM stack's settings, checked against the guardrail authority before anything is registered."""
    stack = pulumi.get_stack()
    prefix = f"{IAM_PROJECT}:"
    given = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    try:
        authority = guardrails.load()
    except guardrails.AuthorityError as error:
        raise SettingsError(stack, [str(error)], IAM_STACK_FILES.format(stack=stack)) from None
    return load_iam_settings({k[len(prefix):]: v for k, v in given.items() if k.startswith(prefix)}, stack, authority)
