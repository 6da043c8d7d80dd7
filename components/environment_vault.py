"""EnvironmentVault: one environment's complete secrets setup, as one Pulumi component.

Inside the environment's compartment: a KMS vault and AES-256 master key with its rotation,
the secrets of every service encrypted with that key, the IAM policy that lets only this
environment's sync identity read them, and in its Kubernetes namespace the SecretStore and
ExternalSecrets that turn them into the Kubernetes Secrets the services read.

The vault and the key are protected in every stack, because replacing either replaces every
secret; what a setting may replace is decided by `components/replacement_guard.py`, and every
child waits for that guard's verdict.
"""

import base64
from dataclasses import dataclass
from datetime import date

import pulumi
import pulumi_kubernetes as kubernetes
import pulumi_oci as oci
from pulumi import Output, ResourceOptions

from components import iam, manifests
from components.naming import (
    COMPONENT_TYPE,
    SECRET_KINDS,
    SecretKind,
    child_name,
    deny_policy_name,
    key_name,
    kubernetes_secret_name,
    oci_secret_name,
    policy_name,
    secret_path,
    vault_name,
)
from components.presets import TIERS
from components.providers import Providers
from components.replacement_guard import Replaced, unprotected
from components.rotation import key_version_name
from components.settings import StackSettings
from components.vault_endpoint import after_vault_created

# OCI's own template for a generated passphrase, set explicitly so that what the provider reads
# back can never differ from what the program sends.
GENERATED_PASSPHRASE_TEMPLATE = "%GENERATED_PASSPHRASE%"


@dataclass(frozen=True)
class EnvironmentVaultArgs:
    settings: StackSettings
    # One secret Output per service in settings.services.
    database_urls: dict[str, Output[str]]
    providers: Providers
    # The day rotation is computed for: injected so that tests and generated docs can pin it.
    today: date
    # Resolves once the deployed state allows this update (replacement_guard.deployed_guard).
    guard: pulumi.Input[pulumi.Resource]


class EnvironmentVault(pulumi.ComponentResource):
    vault_id: Output[str]
    key_id: Output[str]
    management_endpoint: Output[str]
    secret_ids: Output[dict[str, str]]
    namespace: Output[str]
    kubernetes_secrets: dict[str, str]
    deployer_statements: list[str]

    def __init__(self, name: str, args: EnvironmentVaultArgs, opts: ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        s = args.settings
        env = s.environment
        tags = {"environment": env, "managed-by": "pulumi"}
        self._guard = args.guard
        lifted = unprotected(s)
        in_region = args.providers.region

        vault = oci.kms.Vault(
            child_name(name, "vault"),
            compartment_id=s.compartment_id,
            display_name=vault_name(env),
            vault_type=s.vault_type,
            freeform_tags=tags,
            opts=self._child(
                in_region,
                protect="vault" not in lifted,
                hooks=pulumi.ResourceHookBinding(
                    after_create=[pulumi.ResourceHook(f"{name}-wait-for-management-endpoint", after_vault_created)]
                ),
            ),
        )
        schedule = s.rotation_schedule(args.today)
        native = schedule.method == "native"
        key_resource = child_name(name, "key")
        key = oci.kms.Key(
            key_resource,
            compartment_id=s.compartment_id,
            display_name=key_name(env),
            management_endpoint=vault.management_endpoint,
            key_shape=oci.kms.KeyKeyShapeArgs(algorithm="AES", length=32),
            protection_mode=s.key_protection_mode,
            is_auto_rotation_enabled=native,
            auto_key_rotation_details=(
                oci.kms.KeyAutoKeyRotationDetailsArgs(rotation_interval_in_days=schedule.interval_days)
                if native
                else None
            ),
            freeform_tags=tags | schedule.tags(),
            opts=self._child(in_region, protect="key" not in lifted),
        )
        if schedule.period > 0:
            oci.kms.KeyVersion(
                key_version_name(key_resource, schedule.period),
                key_id=key.id,
                management_endpoint=vault.management_endpoint,
                # Deleting a KeyVersion destroys key material that older secret versions still
                # need: when the next period replaces this resource, Pulumi only forgets it.
                # protect must be False explicitly: it is inherited, and a protected resource
                # could not even be dropped from state.
                opts=self._child(in_region, retain_on_delete=True, protect=False),
            )

        protect_secrets = s.protect and "secrets" not in lifted
        secrets: dict[str, dict[SecretKind, oci.vault.Secret]] = {}
        for service in s.services:
            secrets[service] = {}
            for kind in SECRET_KINDS:
                # OCI generates each JWT signing secret itself, so its value never passes through
                # this machine or Pulumi's state; database URLs come from the secret config.
                generated = kind == "jwt-secret"
                secrets[service][kind] = oci.vault.Secret(
                    child_name(name, service, kind),
                    compartment_id=s.compartment_id,
                    vault_id=vault.id,
                    key_id=key.id,
                    secret_name=oci_secret_name(service, kind),
                    description=f"{kind} of {service} in {env}",
                    metadata={"path": secret_path(env, service, kind), "environment": env, "service": service},
                    freeform_tags=tags | {"path": secret_path(env, service, kind), "service": service},
                    secret_rules=self._secret_rules(s),
                    secret_content=None if generated else self._base64_content(args.database_urls[service]),
                    enable_auto_generation=True if generated else None,
                    secret_generation_context=self._passphrase(s.secrets.jwt_length) if generated else None,
                    opts=self._child(in_region, protect=protect_secrets, additional_secret_outputs=["secret_content"]),
                )

        identity = iam.SyncIdentity(
            cluster_id=s.kubernetes.cluster_id,
            namespace=s.kubernetes.namespace,
            service_account=s.kubernetes.service_account,
        )
        # Policy names are unique in the tenancy: a replacement (new name or compartment) must
        # delete the old policy before creating the new one, or OCI refuses the name.
        # Policy names are unique in the tenancy: a replacement must delete the old one first.
        in_home_region = self._child(args.providers.home_region, delete_before_replace=True)
        policy = oci.identity.Policy(
            child_name(name, "secrets-access"),
            compartment_id=s.compartment_id,
            name=policy_name(env),
            description=f"Who may read and manage the {env} secrets ({s.iam.tier} tier; managed by Pulumi)",
            statements=Output.all(vault.id, key.id).apply(lambda ids: self._allow_statements(s, identity, *ids)),
            freeform_tags=tags,
            opts=in_home_region,
        )
        if s.iam.deny_other_workloads:
            # A policy of its own: once Deny policies are enabled, only administrators may change a
            # policy holding a Deny statement, and the Allows must stay editable by the deployer.
            oci.identity.Policy(
                child_name(name, "secrets-deny"),
                compartment_id=s.compartment_id,
                name=deny_policy_name(env),
                description=f"Keeps every other workload away from the {env} secrets (managed by Pulumi)",
                statements=iam.deny_statements(identity, s.compartment_id),
                freeform_tags=tags,
                opts=in_home_region,
            )

        namespace, store = self._kubernetes_store(name, s, vault.id, args.providers.cluster, lifted)
        for service in s.services:
            manifest = manifests.external_secret(
                env, service, s.kubernetes.namespace, s.kubernetes.secret_store, s.kubernetes.refresh_interval
            )
            kubernetes.apiextensions.CustomResource(
                child_name(name, service, "external-secret"),
                api_version=manifest["apiVersion"],
                kind=manifest["kind"],
                metadata=manifest["metadata"],
                spec=manifest["spec"],
                # Waiting for the secrets and the policy lets the first sync succeed instead of
                # failing and backing off.
                opts=self._child(args.providers.cluster, depends_on=[store, policy, *secrets[service].values()]),
            )

        self.vault_id = vault.id
        self.key_id = key.id
        self.management_endpoint = vault.management_endpoint
        self.secret_ids = Output.all(
            **{
                secret_path(env, service, kind): secret.id
                for service, by_kind in secrets.items()
                for kind, secret in by_kind.items()
            }
        )
        self.namespace = namespace
        self.kubernetes_secrets = {service: kubernetes_secret_name(service) for service in s.services}
        self.deployer_statements = self._deployer_statements(s)
        self.register_outputs(
            {
                "vault_id": self.vault_id,
                "key_id": self.key_id,
                "management_endpoint": self.management_endpoint,
                "secret_ids": self.secret_ids,
                "namespace": self.namespace,
                "kubernetes_secrets": self.kubernetes_secrets,
                "deployer_statements": self.deployer_statements,
            }
        )

    def _child(
        self,
        provider: pulumi.ProviderResource,
        *,
        depends_on: list[pulumi.Resource] | None = None,
        protect: bool | None = None,
        retain_on_delete: bool | None = None,
        delete_before_replace: bool | None = None,
        hooks: pulumi.ResourceHookBinding | None = None,
        additional_secret_outputs: list[str] | None = None,
    ) -> ResourceOptions:
        """Options of every child: parented here, on an explicit provider, after the guard's verdict."""
        return ResourceOptions(
            parent=self,
            provider=provider,
            depends_on=[self._guard, *(depends_on or [])],
            protect=protect,
            retain_on_delete=retain_on_delete,
            delete_before_replace=delete_before_replace,
            hooks=hooks,
            additional_secret_outputs=additional_secret_outputs,
        )

    @staticmethod
    def _base64_content(value: Output[str]) -> oci.vault.SecretSecretContentArgs:
        encoded = Output.secret(value.apply(lambda text: base64.b64encode(text.encode()).decode()))
        return oci.vault.SecretSecretContentArgs(content_type="BASE64", content=encoded)

    @staticmethod
    def _passphrase(length: int) -> oci.vault.SecretSecretGenerationContextArgs:
        # A passphrase, not raw bytes: ESO hands the value to the service as text.
        return oci.vault.SecretSecretGenerationContextArgs(
            generation_type="PASSPHRASE",
            generation_template="SECRETS_DEFAULT_PASSWORD",
            passphrase_length=length,
            secret_template=GENERATED_PASSPHRASE_TEMPLATE,
        )

    @staticmethod
    def _secret_rules(s: StackSettings) -> list[oci.vault.SecretSecretRuleArgs]:
        if not s.secrets.prevent_reuse:
            return []
        return [
            oci.vault.SecretSecretRuleArgs(
                rule_type="SECRET_REUSE_RULE",
                is_enforced_on_deleted_secret_versions=s.secrets.prevent_reuse_of_deleted_versions,
            )
        ]

    @staticmethod
    def _allow_statements(s: StackSettings, identity: iam.SyncIdentity, vault_id: str, key_id: str) -> list[str]:
        """The sync identity's statements, then each named group's, by the role the tier gives it."""
        scope = iam.Scope(s.compartment_id, {"vaults": vault_id, "keys": key_id})
        roles = TIERS[s.iam.tier]
        return iam.sync_statements(identity, scope) + [
            statement
            for role, group in s.iam.role_groups().items()
            if role != "deployer"
            for statement in iam.role_statements(roles[role], iam.group_subject(s.iam.identity_domain, group), scope)
        ]

    @staticmethod
    def _deployer_statements(s: StackSettings) -> list[str]:
        """What the identity running `pulumi up` needs: granted once by a tenancy administrator,
        before the first deployment (a policy cannot be written by the identity it empowers)."""
        scope = iam.Scope(s.compartment_id, {"policies": policy_name(s.environment)})
        subject = iam.group_subject(s.iam.identity_domain, s.iam.deployer_group)
        return iam.role_statements(TIERS[s.iam.tier]["deployer"], subject, scope)

    def _kubernetes_store(
        self,
        name: str,
        s: StackSettings,
        vault_id: Output[str],
        provider: kubernetes.Provider,
        lifted: set[Replaced],
    ) -> tuple[Output[str], kubernetes.apiextensions.CustomResource]:
        """Namespace, service account and SecretStore; returns the namespace name and the store."""
        k = s.kubernetes
        labels = manifests.labels(s.environment)
        namespace: pulumi.Resource
        if k.manage_namespace == "create":
            namespace = kubernetes.core.v1.Namespace(
                child_name(name, "namespace"),
                metadata=kubernetes.meta.v1.ObjectMetaArgs(name=k.namespace, labels=labels),
                opts=self._child(provider, protect=s.protect and "namespace" not in lifted),
            )
        else:
            # An adopted namespace holds more than this program's objects: label it, never delete it.
            namespace = kubernetes.core.v1.NamespacePatch(
                child_name(name, "namespace"),
                metadata=kubernetes.meta.v1.ObjectMetaPatchArgs(name=k.namespace, labels=labels),
                opts=self._child(provider, retain_on_delete=True),
            )
        account = kubernetes.core.v1.ServiceAccount(
            child_name(name, "sync-account"),
            metadata=kubernetes.meta.v1.ObjectMetaArgs(name=k.service_account, namespace=k.namespace, labels=labels),
            opts=self._child(provider, depends_on=[namespace]),
        )
        crds_ready: list[pulumi.Resource] = [namespace, account]
        if k.install_operator:
            crds_ready.append(
                kubernetes.helm.v3.Release(
                    child_name(name, "external-secrets-operator"),
                    name=manifests.OPERATOR_RELEASE,
                    chart=manifests.OPERATOR_CHART,
                    version=manifests.OPERATOR_VERSION,
                    repository_opts=kubernetes.helm.v3.RepositoryOptsArgs(repo=manifests.OPERATOR_REPOSITORY),
                    namespace=k.operator_namespace,
                    create_namespace=True,
                    values=manifests.operator_values(),
                    opts=self._child(provider, protect=s.protect and "operator" not in lifted),
                )
            )
        manifest = manifests.secret_store(s.environment, k.secret_store, k.namespace, vault_id, s.region, k.service_account)
        store = kubernetes.apiextensions.CustomResource(
            child_name(name, "secret-store"),
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=self._child(provider, depends_on=crds_ready),
        )
        return Output.from_input(k.namespace), store
