"""Stack settings: the one validated model every stack file is read into.

A stack file holds camelCase keys under the `ecommerce-kms-vault:` namespace. They are
validated here, before any resource is registered, so that a typo or an unsafe value stops
`pulumi up` with a message that names the key, the bad value, what is allowed and the
command that fixes it. Presets (`strict`, `moderate`, `relaxed`) are data: a stack picks one
and may override single values. Secret values never enter these models: database URLs stay
Pulumi secret Outputs (`components/stack_config.py`). Presets live in `components/presets.py`,
error messages in `components/settings_errors.py`.
"""

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from components.naming import (
    DEFAULT_SERVICES,
    MAX_GENERATION,
    OCI_SECRET_NAME_MAX,
    SECRET_KINDS,
    default_namespace,
    oci_secret_name,
)
from components.presets import PRESETS, TIERS, PresetName, RoleName, TierName
from components.rotation import RotationSchedule

Environment = Literal["production", "staging", "development"]
ENVIRONMENTS: Final[tuple[Environment, ...]] = ("production", "staging", "development")
# Settings fixed once the stack is deployed (components/replacement_guard.py says why each one is).
FixedSettingKey = Literal[
    "region", "vaultType", "keyProtectionMode", "kubernetes.clusterId", "kubernetes.manageNamespace",
    "kubernetes.namespace", "kubernetes.operatorNamespace",
]

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SERVICE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?-service$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
_DURATION = re.compile(r"^([0-9]+(h|m|s))+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_IAM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def _ocid(kind: str):
    pattern = re.compile(rf"^ocid1\.{kind}\.oc[0-9]+\.[a-z0-9-]*\.[a-z0-9]+$")

    def check(value: str) -> str:
        if not pattern.match(value):
            raise PydanticCustomError(
                "ocid",
                "must be an OCID of a {kind}, shaped like ocid1.{kind}.oc1..<unique id> "
                "(copy it from the OCI console or `oci iam compartment list`)",
                {"kind": kind},
            )
        return value

    return AfterValidator(check)


def _matches(pattern: re.Pattern[str], allowed: str):
    def check(value: str) -> str:
        if not pattern.match(value):
            raise PydanticCustomError("format", "must be {allowed}", {"allowed": allowed})
        return value

    return AfterValidator(check)


CompartmentOcid = Annotated[str, _ocid("compartment")]
ClusterOcid = Annotated[str, _ocid("cluster")]
Region = Annotated[str, _matches(_REGION, "an OCI region identifier such as eu-frankfurt-1")]
DnsLabel = Annotated[
    str,
    Field(max_length=63),
    _matches(_DNS_LABEL, "a DNS label: lower-case letters, digits and '-', at most 63 characters"),
]
ServiceName = Annotated[
    str,
    _matches(_SERVICE, "a DNS label ending in '-service', such as auth-service"),
]


class Settings(BaseModel):
    """Base of every settings model: camelCase keys, unknown keys refused, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel)


class KeyRotationSettings(Settings):
    automatic: bool = Field(description="true to rotate the master key on a schedule, false for manual rotation")
    interval_days: int | None = Field(
        default=None,
        ge=1,
        le=365,
        description="days between rotations, 1 to 365 (CIS OCI 4.16); 60 to 365 for native rotation",
    )
    method: Literal["native", "keyVersion"] = Field(
        description="native (OCI auto-rotation, VIRTUAL_PRIVATE vaults only) or keyVersion "
        "(a new key version on the first `pulumi up` of each period); default: native on "
        "VIRTUAL_PRIVATE vaults, keyVersion on DEFAULT vaults",
    )
    anchor_date: date | None = Field(
        default=None,
        description="YYYY-MM-DD start of the keyVersion schedule; periods count from this day",
    )


class JwtRotationSettings(Settings):
    automatic: bool = Field(description="true to give every service a new OCI-generated JWT signing secret each period")
    interval_days: int | None = Field(
        default=None, ge=1, le=365, description="days between JWT secret rotations, 1 to 365"
    )
    anchor_date: date | None = Field(
        default=None,
        description="YYYY-MM-DD start of the JWT schedule; default: keyRotation.anchorDate",
    )


class SecretSettings(Settings):
    prevent_reuse: bool = Field(description="OCI SECRET_REUSE_RULE: a new secret version may not repeat an old value")
    prevent_reuse_of_deleted_versions: bool = Field(
        description="extend the reuse rule to deleted secret versions (needs preventReuse)"
    )
    jwt_length: int = Field(
        default=32,
        ge=16,
        le=32,
        description="length of the passphrase OCI generates for each jwt-secret, 16 to 32",
    )
    jwt_rotation: JwtRotationSettings


GroupName = Annotated[
    str, _matches(_IAM_NAME, "an OCI group name: a letter or digit, then letters, digits, '_', '.', '-' (at most 100)")
]


class IamSettings(Settings):
    tier: TierName = Field(
        description="strict, moderate or relaxed: who may read, write and delete (TIERS in components/presets.py); "
        "default: the preset's"
    )
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
        description="OCI group of the identity that runs `pulumi up` (CI); its statements are printed, not applied"
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


class KubernetesSettings(Settings):
    cluster_id: ClusterOcid = Field(description="OCID of the OKE cluster the services run on (enhanced cluster, workload identity)")
    context: str | None = Field(
        default=None,
        min_length=1,
        description="kubeconfig context of that cluster; required unless the secret config key kubeconfig is set",
    )
    namespace: DnsLabel = Field(description="namespace of this environment's services; default ecommerce-<environment>")
    manage_namespace: Literal["create", "adopt"] = Field(
        default="create",
        description="create: Pulumi owns the namespace; adopt: it exists already, Pulumi only labels it and never deletes it",
    )
    service_account: DnsLabel = Field(
        default="ecommerce-secrets-sync",
        description="service account whose workload identity reads this environment's secrets",
    )
    secret_store: DnsLabel = Field(default="oci-vault", description="name of the namespaced SecretStore")
    refresh_interval: Annotated[str, _matches(_DURATION, "a duration such as 1h or 30m")] = Field(
        default="1h", description="how often External Secrets Operator re-reads each secret"
    )
    install_operator: bool = Field(
        default=False,
        description="install External Secrets Operator 2.9.0 with Helm; on a shared cluster exactly one stack sets this",
    )
    operator_namespace: DnsLabel = Field(default="external-secrets", description="namespace of the operator when installed")
    install_reloader: bool = Field(
        default=False,
        description="install Stakater Reloader with Helm, which restarts pods whose Secret changed; "
        "on a shared cluster at most one stack sets this",
    )
    reloader_namespace: DnsLabel = Field(default="reloader", description="namespace of Reloader when installed")


class NotificationSettings(Settings):
    emails: tuple[Annotated[str, _matches(_EMAIL, "an e-mail address such as secops@example.com")], ...] = Field(
        default=(),
        description="addresses the environment's key, vault and secret events are mailed to (each confirms by mail first)",
    )


class StackSettings(Settings):
    """Everything non-secret one environment's stack file says."""

    environment: Environment = Field(description="production, staging or development; must equal the stack name")
    preset: PresetName = Field(description="strict, moderate or relaxed: rotation, protection and secret-rule defaults")
    compartment_id: CompartmentOcid = Field(description="OCID of this environment's own compartment")
    region: Region = Field(description="OCI region of the vault and the cluster, such as eu-frankfurt-1")
    home_region: Region = Field(description="the tenancy's home region, where OCI accepts IAM writes")
    oci_profile: str | None = Field(default=None, min_length=1, description="profile in ~/.oci/config for both OCI providers")
    vault_type: Literal["DEFAULT", "VIRTUAL_PRIVATE"] = Field(
        default="DEFAULT", description="DEFAULT or VIRTUAL_PRIVATE; fixed once the vault exists"
    )
    key_protection_mode: Literal["HSM", "SOFTWARE"] = Field(
        default="HSM", description="HSM or SOFTWARE; fixed once the key exists"
    )
    protect: bool = Field(
        description="Pulumi `protect` on the secrets, the namespace and the operator release "
        "(the vault and the key are protected in every stack)"
    )
    allow_replacement: tuple[FixedSettingKey, ...] = Field(
        default=(),
        description="fixed settings whose change this one update may carry out, replacing what they need "
        "(see README, 'Change a fixed setting'); remove the entry after the update",
    )
    key_rotation: KeyRotationSettings
    secrets: SecretSettings
    services: tuple[ServiceName, ...] = Field(
        default=DEFAULT_SERVICES, min_length=1, description="service names, each a DNS label ending in -service"
    )
    iam: IamSettings
    kubernetes: KubernetesSettings
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        """Fill what the stack leaves out from its preset and its environment."""
        if not isinstance(data, Mapping) or data.get("preset") not in PRESETS:
            return data
        merged = _deep_merge(PRESETS[data["preset"]], data)
        rotation = merged.get("keyRotation")
        if isinstance(rotation, dict) and "method" not in rotation:
            native = merged.get("vaultType") == "VIRTUAL_PRIVATE"
            merged["keyRotation"] = {**rotation, "method": "native" if native else "keyVersion"}
        # The JWT schedule counts from the key's anchor unless the stack file gives it its own.
        secrets = merged.get("secrets")
        jwt = secrets.get("jwtRotation") if isinstance(secrets, dict) else None
        anchor = merged["keyRotation"].get("anchorDate") if isinstance(rotation, dict) else None
        if isinstance(secrets, dict) and isinstance(jwt, dict) and "anchorDate" not in jwt and anchor is not None:
            merged["secrets"] = {**secrets, "jwtRotation": {**jwt, "anchorDate": anchor}}
        kubernetes = merged.get("kubernetes")
        environment = merged.get("environment")
        # An invalid environment is reported on its own key, not again as a missing namespace.
        if isinstance(kubernetes, dict) and "namespace" not in kubernetes and isinstance(environment, str):
            merged["kubernetes"] = {**kubernetes, "namespace": default_namespace(environment)}
        return merged

    @field_validator("environment")
    @classmethod
    def _environment_is_stack(cls, value: str, info: ValidationInfo) -> str:
        stack = (info.context or {}).get("stack")
        if stack is not None and value != stack:
            raise PydanticCustomError(
                "stack",
                "must equal the stack name '{stack}': each stack deploys its own environment "
                "(select the right stack with `pulumi stack select`)",
                {"stack": stack},
            )
        return value

    @field_validator("services")
    @classmethod
    def _services_fit(cls, services: tuple[str, ...]) -> tuple[str, ...]:
        duplicates = sorted({s for s in services if services.count(s) > 1})
        if duplicates:
            raise PydanticCustomError("duplicate", "lists {names} more than once", {"names": ", ".join(duplicates)})
        longest = [oci_secret_name(s, k, MAX_GENERATION) for s in services for k in SECRET_KINDS]
        too_long = sorted({name.split(".")[0] for name in longest if len(name) > OCI_SECRET_NAME_MAX})
        if too_long:
            raise PydanticCustomError(
                "length",
                "{names}: OCI secret names such as <service>.jwt-secret.v{generation} must stay within {max} characters",
                {"names": ", ".join(too_long), "max": OCI_SECRET_NAME_MAX, "generation": MAX_GENERATION},
            )
        return services

    @model_validator(mode="after")
    def _cross_field_rules(self, info: ValidationInfo) -> "StackSettings":
        rotation = self.key_rotation
        if rotation.automatic and rotation.interval_days is None:
            raise _setting_error("keyRotation.intervalDays", None, "is required when keyRotation.automatic is true")
        if rotation.automatic and rotation.method == "native":
            if self.vault_type != "VIRTUAL_PRIVATE":
                raise _setting_error(
                    "keyRotation.method",
                    rotation.method,
                    "native auto-rotation exists only in VIRTUAL_PRIVATE vaults; use keyVersion (vaultType "
                    "VIRTUAL_PRIVATE would allow it, but on a deployed stack that change replaces the vault, "
                    "the key and every secret: README, 'Change a fixed setting')",
                )
            if not 60 <= (rotation.interval_days or 0) <= 365:
                raise _setting_error(
                    "keyRotation.intervalDays", rotation.interval_days, "must be 60 to 365 days for native rotation"
                )
        if rotation.automatic and rotation.method == "keyVersion" and rotation.anchor_date is None:
            raise _setting_error(
                "keyRotation.anchorDate", None, "is required for keyVersion rotation: the YYYY-MM-DD the schedule starts"
            )
        jwt = self.secrets.jwt_rotation
        if jwt.automatic and jwt.interval_days is None:
            raise _setting_error("secrets.jwtRotation.intervalDays", None, "is required when secrets.jwtRotation.automatic is true")
        if jwt.automatic and jwt.anchor_date is None:
            raise _setting_error(
                "secrets.jwtRotation.anchorDate", None,
                "is required for JWT rotation: the YYYY-MM-DD the schedule starts (or set keyRotation.anchorDate)",
            )
        if self.secrets.prevent_reuse_of_deleted_versions and not self.secrets.prevent_reuse:
            raise _setting_error("secrets.preventReuseOfDeletedVersions", True, "needs secrets.preventReuse: true")
        self._check_roles()
        self._check_isolation((info.context or {}).get("siblings", {}))
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

    def _check_isolation(self, siblings: Mapping[str, Mapping[str, Any]]) -> None:
        """Refuse identifiers that belong to another environment (another stack file, or its default)."""
        namespace = self.kubernetes.namespace
        for other in ENVIRONMENTS:
            if other == self.environment:
                continue
            theirs = siblings.get(other, {})
            if namespace in (default_namespace(other), theirs.get("namespace")):
                raise _setting_error(
                    "kubernetes.namespace", namespace, f"belongs to {other}: every environment needs its own namespace"
                )
            if self.iam.tier == "strict" and self.kubernetes.cluster_id == theirs.get("clusterId"):
                raise _setting_error(
                    "kubernetes.clusterId",
                    self.kubernetes.cluster_id,
                    f"is {other}'s cluster (Pulumi.{other}.yaml): the strict tier runs on a cluster of its own",
                )
            if self.compartment_id == theirs.get("compartmentId"):
                raise _setting_error(
                    "compartmentId",
                    self.compartment_id,
                    f"is {other}'s compartment (Pulumi.{other}.yaml): every environment needs its own",
                )
            if self.kubernetes.cluster_id != theirs.get("clusterId"):
                continue
            k = self.kubernetes
            for key, installs, what in (
                ("installOperator", k.install_operator, "External Secrets Operator"),
                ("installReloader", k.install_reloader, "Reloader"),
            ):
                if installs and theirs.get(key):
                    raise _setting_error(
                        f"kubernetes.{key}",
                        True,
                        f"Pulumi.{other}.yaml installs {what} on the same cluster ({self.kubernetes.cluster_id}), and "
                        f"a second release would collide with the first's cluster-wide objects; one stack per cluster "
                        f"installs it: keep it in the stack that installed it first and set it to false in the other, "
                        f"e.g. pulumi config set --path 'kubernetes.{key}' false --stack {self.environment} (on a stack "
                        f"that has already installed it, false UNINSTALLS it: docs/deployment.md, 'Removing things')",
                    )

    def rotation_schedule(self, today: date) -> RotationSchedule:
        """The master key's schedule."""
        rotation = self.key_rotation
        return RotationSchedule(
            method=rotation.method if rotation.automatic else "manual",
            interval_days=rotation.interval_days if rotation.automatic else None,
            anchor=rotation.anchor_date,
            today=today,
        )

    def jwt_schedule(self, today: date) -> RotationSchedule:
        """The JWT signing secrets' schedule."""
        rotation = self.secrets.jwt_rotation
        return RotationSchedule(
            method="newSecret" if rotation.automatic else "manual",
            interval_days=rotation.interval_days if rotation.automatic else None,
            anchor=rotation.anchor_date,
            today=today,
        )


def _setting_error(key: str, value: Any, message: str) -> PydanticCustomError:
    return PydanticCustomError("setting", "{message}", {"key": key, "value": value, "message": message})


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
