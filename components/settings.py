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
from components.guardrails import AUTHORITY_NAME, Guardrails
from components.presets import PRESETS, PresetName
from components.regions import OCI_REGIONS
from components.rotation import Schedule

Environment = Literal["production", "staging", "development"]
ENVIRONMENTS: Final[tuple[Environment, ...]] = ("production", "staging", "development")
# Settings fixed once the stack is deployed (components/replacement_guard.py says why each one is).
FixedSettingKey = Literal[
    "compartmentId", "region", "vaultType", "keyProtectionMode", "kubernetes.clusterId", "kubernetes.manageNamespace",
    "kubernetes.namespace", "kubernetes.operatorNamespace", "disasterRecovery.region", "disasterRecovery.vaultType",
    "disasterRecovery.standby.clusterId", "disasterRecovery.standby.namespace",
]

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SERVICE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?-service$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
_DURATION = re.compile(r"^([0-9]+(h|m|s))+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_IAM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


# Where a reader finds each kind of OCID with the OCI CLI (its `list` command for that resource).
_OCID_LISTS: Final = {
    "compartment": "oci iam compartment list",
    "cluster": "oci ce cluster list --compartment-id <compartment OCID>",
    "vault": "oci kms management vault list --compartment-id <compartment OCID>",
    "key": "oci kms management key list --compartment-id <compartment OCID> --endpoint <management endpoint>",
    "vaultsecret": "oci vault secret list --compartment-id <compartment OCID>",
}


def _ocid(kind: str):
    # ocid1.<type>.<realm>.[region][.future use].<unique id> (OCI documentation, "Resource Identifiers");
    # fullmatch, because `$` also matches before a final newline, which OCI would not accept.
    pattern = re.compile(rf"^ocid1\.{kind}\.oc[0-9]+\.[a-z0-9-]*(\.[a-z0-9-]+)?\.[a-z0-9]+$")

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise PydanticCustomError(
                "ocid",
                "must be an OCID of a {kind}, shaped like ocid1.{kind}.oc1..<unique id> "
                "(copy it from the OCI console or `{command}`)",
                {"kind": kind, "command": _OCID_LISTS[kind]},
            )
        return value

    return AfterValidator(check)


def _matches(pattern: re.Pattern[str], allowed: str):
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise PydanticCustomError("format", "must be {allowed}", {"allowed": allowed})
        return value

    return AfterValidator(check)


CompartmentOcid = Annotated[str, _ocid("compartment")]
ClusterOcid = Annotated[str, _ocid("cluster")]
VaultOcid = Annotated[str, _ocid("vault")]
KeyOcid = Annotated[str, _ocid("key")]
SecretOcid = Annotated[str, _ocid("vaultsecret")]
_MANAGEMENT_ENDPOINT = re.compile(r"^https://[a-z0-9]+-management\.kms\.[a-z0-9.-]+$")
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
        "(a new key version on the first `pulumi up` once intervalDays have passed since the last one); "
        "default: native on VIRTUAL_PRIVATE vaults, keyVersion on DEFAULT vaults",
    )


class JwtRotationSettings(Settings):
    automatic: bool = Field(
        description="true to promote every service's next OCI-generated JWT signing secret once intervalDays have "
        "passed since the current one took over (docs/rotation.md)"
    )
    interval_days: int | None = Field(
        default=None, ge=1, le=365, description="days between JWT secret rotations, 1 to 365"
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


class KubernetesSettings(Settings):
    cluster_id: ClusterOcid = Field(description="OCID of the OKE cluster that syncs the secrets for the services on it (enhanced cluster, workload identity)")
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
        description="install Stakater Reloader with Helm, which restarts pods whose Secret changed (a rotation "
        "reaches running pods only through a restart); default: installOperator. On a shared cluster at most one "
        "stack sets this; false only where Reloader already runs (docs/rotation.md says what must then hold)",
    )
    reloader_namespace: DnsLabel = Field(default="reloader", description="namespace of Reloader when installed")
    reloader_watch_namespaces: tuple[DnsLabel, ...] = Field(
        default=(),
        description="namespaces Reloader watches besides this environment's own: the other environments' "
        "namespaces on a shared cluster (Reloader gets a Role in each, and no cluster-wide access); each "
        "must exist before this stack's update, which installs those Roles (deploy those stacks first)",
    )


class AdoptSettings(Settings):
    """Existing resources this stack takes over instead of creating them (Pulumi's `import` option).

    What must match for an import to succeed, and what the engine does when it does not: docs/adoption.md.
    """

    vault_id: VaultOcid | None = Field(
        default=None, description="OCID of an existing vault to adopt instead of creating one (in compartmentId)"
    )
    management_endpoint: Annotated[
        str, _matches(_MANAGEMENT_ENDPOINT, "a vault's management endpoint such as https://<id>-management.kms.<region>.oraclecloud.com")
    ] | None = Field(
        default=None, description="that vault's management endpoint (vault details in the console); needed to adopt its key"
    )
    key_id: KeyOcid | None = Field(default=None, description="OCID of an existing AES-256 key of that vault to adopt")
    database_url_secrets: dict[ServiceName, SecretOcid] = Field(
        default_factory=dict,
        description="service name to the OCID of its existing database-url secret (named <service>.database-url, "
        "in that vault, encrypted with that key), adopted with its current value",
    )

    def key_import_id(self) -> str | None:
        """The key's import ID as the OCI provider reads it (terraform-provider-oci kms_key_resource.go, readKmsKey)."""
        return f"managementEndpoint/{self.management_endpoint}/keys/{self.key_id}" if self.key_id else None


class NotificationSettings(Settings):
    emails: tuple[Annotated[str, _matches(_EMAIL, "an e-mail address such as secops@example.com")], ...] = Field(
        default=(),
        description="addresses the environment's key, vault and secret events are mailed to (each confirms by mail first)",
    )


class DisasterRecoverySettings(Settings):
    """A second region that holds a read-only replica of every secret (docs/disaster-recovery.md)."""

    region: Region = Field(
        description="OCI region of the replicas: another region of the primary's realm, such as eu-amsterdam-1 "
        "for eu-frankfurt-1; fixed once deployed"
    )
    vault_type: Literal["DEFAULT", "VIRTUAL_PRIVATE"] = Field(
        description="type of the vault holding the replicas there; default: vaultType; fixed once the vault exists"
    )
    standby: KubernetesSettings | None = Field(
        default=None,
        description="an OKE cluster in that region that syncs the replicas, with the same keys as kubernetes "
        "(namespace defaults to kubernetes.namespace); empty: no standby cluster",
    )


class StackSettings(Settings):
    """Everything non-secret one environment's stack file says."""

    environment: Environment = Field(description="production, staging or development; must equal the stack name")
    preset: PresetName = Field(description="strict, moderate or relaxed: rotation, protection and secret-rule defaults")
    compartment_id: CompartmentOcid = Field(description="OCID of this environment's own compartment")
    region: Region = Field(description="OCI region of the vault and the cluster, such as eu-frankfurt-1")
    oci_profile: str | None = Field(default=None, min_length=1, description="profile in ~/.oci/config for both OCI providers")
    vault_type: Literal["DEFAULT", "VIRTUAL_PRIVATE"] = Field(
        default="DEFAULT", description="DEFAULT or VIRTUAL_PRIVATE; fixed once the vault exists"
    )
    key_protection_mode: Literal["HSM", "SOFTWARE"] = Field(
        default="HSM", description="HSM or SOFTWARE; fixed once the key exists"
    )
    protect: bool = Field(
        description="Pulumi `protect` on the database-url secrets, the namespace and the operator and Reloader "
        "releases (the vault and the key are protected in every stack; JWT generations never are)"
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
    kubernetes: KubernetesSettings
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    adopt: AdoptSettings = Field(
        default_factory=AdoptSettings, description="an existing vault, key and database-url secrets to adopt (docs/adoption.md)"
    )
    disaster_recovery: DisasterRecoverySettings | None = Field(
        default=None,
        description="replicate every secret to a second region, optionally synced by a standby cluster there "
        "(docs/disaster-recovery.md); empty: off",
    )

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
        merged = namespace_defaults(merged)
        if "kubernetes" in merged:
            merged["kubernetes"] = _with_reloader_default(merged["kubernetes"])
        recovery = merged.get("disasterRecovery")
        if isinstance(recovery, dict):
            # The replicas' vault is of the primary's type unless the stack says otherwise.
            recovery = {"vaultType": merged.get("vaultType", "DEFAULT"), **recovery}
            if isinstance(recovery.get("standby"), dict):
                recovery["standby"] = _with_reloader_default(recovery["standby"])
            merged["disasterRecovery"] = recovery
        return merged

    @field_validator("environment")
    @classmethod
    def _environment_is_stack(cls, value: str, info: ValidationInfo) -> str:
        return environment_is_stack(value, info)

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
        jwt = self.secrets.jwt_rotation
        if jwt.automatic and jwt.interval_days is None:
            raise _setting_error("secrets.jwtRotation.intervalDays", None, "is required when secrets.jwtRotation.automatic is true")
        if self.secrets.prevent_reuse_of_deleted_versions and not self.secrets.prevent_reuse:
            raise _setting_error("secrets.preventReuseOfDeletedVersions", True, "needs secrets.preventReuse: true")
        self._check_adoption()
        self._check_disaster_recovery()
        self._check_guardrails((info.context or {}).get("guardrails"))
        return self

    def _check_disaster_recovery(self) -> None:
        """A replica region OCI has, in the primary's realm, other than the primary; a vault able to
        rotate its key the way the primary's rotates. One region: OCI allows three targets, and the
        policy pack refuses a secret with more (policy/ecommerce_rules.py)."""
        recovery = self.disaster_recovery
        if recovery is None:
            return
        primary = OCI_REGIONS.get(self.region)
        fix = "pulumi config set --path 'disasterRecovery.region' <region> --stack " + self.environment
        if recovery.region == self.region:
            raise _setting_error(
                "disasterRecovery.region", recovery.region,
                f"is the primary region (region): replicas there would fail with it; choose another region of the "
                f"same realm, such as eu-amsterdam-1 for eu-frankfurt-1: {fix}",
            )
        if recovery.region not in OCI_REGIONS:
            raise _setting_error(
                "disasterRecovery.region", recovery.region,
                f"is not an OCI region (components/regions.py lists them, from the OCI SDK): {fix}",
            )
        if primary is not None and OCI_REGIONS[recovery.region].realm != primary.realm:
            same = sorted(r for r, of in OCI_REGIONS.items() if of.realm == primary.realm and r != self.region)
            raise _setting_error(
                "disasterRecovery.region", recovery.region,
                f"is in realm {OCI_REGIONS[recovery.region].realm}, the primary {self.region} in {primary.realm}: OCI "
                f"replicates within a realm; choose one of {', '.join(same)}: {fix}",
            )
        if self.key_rotation.automatic and self.key_rotation.method == "native" and recovery.vault_type != "VIRTUAL_PRIVATE":
            raise _setting_error(
                "disasterRecovery.vaultType", recovery.vault_type,
                "the primary key rotates natively, which exists only in VIRTUAL_PRIVATE vaults, and the replicas' key "
                "rotates on the same schedule: set VIRTUAL_PRIVATE (pulumi config set --path "
                f"'disasterRecovery.vaultType' VIRTUAL_PRIVATE --stack {self.environment})",
            )
        standby = recovery.standby
        if standby is not None and standby.cluster_id == self.kubernetes.cluster_id:
            raise _setting_error(
                "disasterRecovery.standby.clusterId", standby.cluster_id,
                "is the primary cluster (kubernetes.clusterId): the standby is a cluster in the replica region",
            )

    def _check_adoption(self) -> None:
        """Only what an import can succeed with: a key inside the adopted vault, secrets inside both."""
        adopt = self.adopt
        if adopt.key_id and not (adopt.vault_id and adopt.management_endpoint):
            raise _setting_error(
                "adopt.keyId", adopt.key_id,
                "needs adopt.vaultId and adopt.managementEndpoint: a key lives in its vault (its managementEndpoint "
                "cannot change without replacing it), so only a key of an adopted vault can be adopted",
            )
        if adopt.management_endpoint and not adopt.key_id:
            raise _setting_error(
                "adopt.managementEndpoint", adopt.management_endpoint, "is only needed to adopt a key: set adopt.keyId or remove it"
            )
        if adopt.database_url_secrets and not adopt.key_id:
            raise _setting_error(
                "adopt.databaseUrlSecrets", sorted(adopt.database_url_secrets),
                "needs adopt.vaultId and adopt.keyId: a secret's vault and key cannot change without replacing it, "
                "so only secrets of the adopted vault, encrypted with the adopted key, can be adopted",
            )
        unknown = sorted(set(adopt.database_url_secrets) - set(self.services))
        if unknown:
            raise _setting_error(
                "adopt.databaseUrlSecrets", unknown, "names services that are not in services: add them there or remove them here"
            )

    def _check_guardrails(self, guardrails: Guardrails | None) -> None:
        """Only what the guardrail authority gives this environment is accepted, and neither a second operator
        install on a cluster another environment installs them on, and a key rotating less often
        than this environment's ceiling. None: offline readers of stack files; the program always
        passes the authority."""
        k = self.kubernetes
        check_owned(
            self.environment,
            {"compartmentId": self.compartment_id, "kubernetes.clusterId": k.cluster_id, "kubernetes.namespace": k.namespace},
            guardrails,
        )
        if guardrails is None:
            return
        standby = self.disaster_recovery.standby if self.disaster_recovery else None
        own = guardrails.environments[self.environment]
        if standby is not None and standby.cluster_id != own.standby_cluster_id:
            raise _setting_error(
                "disasterRecovery.standby.clusterId", standby.cluster_id,
                f"the guardrail authority {AUTHORITY_NAME} allows {self.environment} only its own standby cluster, "
                f"{own.standby_cluster_id or 'none yet'}: set that (a new standby cluster is a reviewed change of "
                f"{AUTHORITY_NAME}'s standbyClusterId first)",
            )
        for other, theirs in guardrails.others(self.environment).items():
            if k.cluster_id != theirs.cluster_id or not theirs.installs_operators:
                continue
            for key, installs, what in (
                ("installOperator", k.install_operator, "External Secrets Operator"),
                ("installReloader", k.install_reloader, "Reloader"),
            ):
                if installs:
                    raise _setting_error(
                        f"kubernetes.{key}", True,
                        f"{other} installs {what} on this cluster ({k.cluster_id}, {AUTHORITY_NAME}), and a "
                        f"second release would collide with the first's cluster-wide objects; set it to false: "
                        f"pulumi config set --path 'kubernetes.{key}' false --stack {self.environment} (on a "
                        f"stack that has already installed it, false UNINSTALLS it: docs/deployment.md, 'Removing things')",
                    )
        ceiling = guardrails.max_rotation_days.get(self.environment)
        days = self.key_rotation.interval_days
        if ceiling is not None and self.key_rotation.automatic and days is not None and days > ceiling:
            raise _setting_error(
                "keyRotation.intervalDays", days,
                f"the guardrail authority {AUTHORITY_NAME} allows {self.environment} at most {ceiling} days between "
                f"key rotations; set {ceiling} or less: pulumi config set --path 'keyRotation.intervalDays' {ceiling} "
                f"--stack {self.environment}",
            )

    def key_schedule(self) -> Schedule:
        """The master key's schedule."""
        rotation = self.key_rotation
        return Schedule(
            method=rotation.method if rotation.automatic else "manual",
            interval_days=rotation.interval_days if rotation.automatic else None,
        )

    def jwt_schedule(self) -> Schedule:
        """The JWT signing secrets' schedule."""
        rotation = self.secrets.jwt_rotation
        return Schedule(
            method="newSecret" if rotation.automatic else "manual",
            interval_days=rotation.interval_days if rotation.automatic else None,
        )


def _with_reloader_default(kubernetes: Any) -> Any:
    """Without Reloader a rotation never reaches running pods: it comes with the operator."""
    if isinstance(kubernetes, dict) and "installReloader" not in kubernetes:
        return {**kubernetes, "installReloader": kubernetes.get("installOperator") is True}
    return kubernetes


def environment_is_stack(value: str, info: ValidationInfo) -> str:
    stack = (info.context or {}).get("stack")
    if stack is not None and value != stack:
        raise PydanticCustomError(
            "stack",
            "must equal the stack name '{stack}': each stack deploys its own environment "
            "(select the right stack with `pulumi stack select`)",
            {"stack": stack},
        )
    return value


_OWNED: Final = {"compartmentId": "compartment_id", "kubernetes.clusterId": "cluster_id", "kubernetes.namespace": "namespace"}


def check_owned(environment: str, used: Mapping[str, str], guardrails: Guardrails | None) -> None:
    """Refuse a compartment, cluster or namespace (keyed by setting) other than the one the guardrail
    authority gives this environment, and another environment's default namespace. An allow-list, not a
    list of the neighbours' values: a compartment nobody lists may be one nested in production's, where
    every `in compartment id <production>` statement applies too (OCI policies reach subcompartments)."""
    namespace = used["kubernetes.namespace"]
    for other in ENVIRONMENTS:
        if other != environment and namespace == default_namespace(other):
            raise _setting_error(
                "kubernetes.namespace", namespace, f"belongs to {other}: every environment needs its own namespace"
            )
    if guardrails is None:
        return
    own = guardrails.environments.get(environment)
    if own is None:
        raise _setting_error(
            "environment", environment,
            f"has no entry in the guardrail authority {AUTHORITY_NAME}; its owners add one in a reviewed commit",
        )
    for key, attribute in _OWNED.items():
        value, allowed = used[key], getattr(own, attribute)
        if value == allowed:
            continue
        owners = sorted(other for other, theirs in guardrails.others(environment).items() if getattr(theirs, attribute) == value)
        whose = f"is {' and '.join(owners)}'s, and " if owners else ""
        raise _setting_error(
            key, value,
            f"{whose}the guardrail authority {AUTHORITY_NAME} allows {environment} only its own "
            f"{attribute.removesuffix('_id')}, {allowed}: set that (moving {environment} is a reviewed change of "
            f"{AUTHORITY_NAME} first)",
        )


def _setting_error(key: str, value: Any, message: str) -> PydanticCustomError:
    return PydanticCustomError("setting", "{message}", {"key": key, "value": value, "message": message})


def namespace_defaults(data: Mapping[str, Any]) -> dict[str, Any]:
    """`kubernetes.namespace` defaults to the environment's own; a standby cluster's to the primary's, so
    that a failover changes where traffic goes, nothing else. Both programs' settings fill it alike."""
    filled = dict(data)
    kubernetes, environment = filled.get("kubernetes"), filled.get("environment")
    # An invalid environment is reported on its own key, not again as a missing namespace.
    if isinstance(kubernetes, dict) and "namespace" not in kubernetes and isinstance(environment, str):
        kubernetes = filled["kubernetes"] = {**kubernetes, "namespace": default_namespace(environment)}
    recovery = filled.get("disasterRecovery")
    namespace = kubernetes.get("namespace") if isinstance(kubernetes, dict) else None
    if isinstance(recovery, dict) and isinstance(recovery.get("standby"), dict) and namespace is not None:
        filled["disasterRecovery"] = {**recovery, "standby": {"namespace": namespace, **recovery["standby"]}}
    return filled


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
