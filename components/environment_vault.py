"""EnvironmentVault: one environment's complete secrets setup, as one Pulumi component.

Inside the environment's compartment: a KMS vault and AES-256 master key with its rotation,
the secrets of every service encrypted with that key, and in its Kubernetes namespace the
SecretStore and ExternalSecrets that turn them into the Kubernetes Secrets the services read.
It writes no IAM: the policies that let this environment's sync identity read the secrets (and
let this program's deployer create them) are the IAM program's (`iam/`, docs/isolation.md), which
an IAM administrator applies first.

The vault and the key are protected in every stack, because replacing either replaces every
secret; what a setting may replace is decided by `components/replacement_guard.py`, and every
child waits for that guard's verdict. What rotates (the key's versions, the JWT generations and the
ExternalSecrets naming them) is declared from the same read of the deployed state, which holds the
rotation clock (components/rotation.py).

With `disasterRecovery`, a second vault and key in the replica region (rotated on the same clock), every
secret replicated there, and on a standby cluster the same namespace, store and ExternalSecrets reading
the replicas (docs/disaster-recovery.md).
"""

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes
import pulumi_oci as oci
from pulumi import Output, ResourceOptions

from components import manifests, notifications
from components.naming import (
    COMPONENT_TYPE,
    SecretKind,
    child_name,
    events_topic_name,
    key_name,
    kubernetes_secret_name,
    oci_secret_name,
    secret_path,
    secret_resource_name,
    vault_name,
)
from components.providers import Providers
from components.replacement_guard import DeployedState, unprotected
from components.rotation import key_version_name
from components.settings import KubernetesSettings, StackSettings
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
    # Resolves once the deployed state allows this update, with this update's rotations
    # (replacement_guard.deployed_state).
    deployed: Output[DeployedState]


class EnvironmentVault(pulumi.ComponentResource):
    vault_id: Output[str]
    key_id: Output[str]
    recovery_vault_id: Output[str] | None
    recovery_key_id: Output[str] | None
    management_endpoint: Output[str]
    secret_ids: Output[dict[str, str]]
    namespace: Output[str]
    kubernetes_secrets: dict[str, str]
    reload_annotations: dict[str, dict[str, str]]
    notification_topic_id: Output[str]
    key_rotation: Output[dict[str, Any]]
    jwt_rotation: Output[dict[str, Any]]

    def __init__(self, name: str, args: EnvironmentVaultArgs, opts: ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        s = args.settings
        env = s.environment
        tags = {"environment": env, "managed-by": "pulumi"}
        self._guard = args.deployed.apply(lambda state: state.reference)
        lifted = unprotected(s)
        in_region = args.providers.region

        wait_for_endpoint = pulumi.ResourceHook(f"{name}-wait-for-management-endpoint", after_vault_created)
        key_resource = child_name(name, "key")
        vault, key = self._vault_and_key(
            name, (), s, s.vault_type, in_region, tags, wait_for_endpoint,
            protect_vault="vault" not in lifted, protect_key="key" not in lifted,
            import_vault=s.adopt.vault_id, import_key=s.adopt.key_import_id(),
        )
        recovery = s.disaster_recovery
        replicas: tuple[oci.kms.Vault, oci.kms.Key] | None = None
        if recovery is not None:
            assert args.providers.recovery_region is not None  # environment_providers makes one with disasterRecovery
            # The replicas' own vault and key in the second region: a replica is encrypted there with a key of
            # that region (pulumi-oci SecretReplicationConfigReplicationTargetArgs: region, vault, key), so the
            # replicas stay readable when the primary region's vault is not. Protected like the primary ones.
            protect_replicas = "replicas" not in lifted
            replicas = self._vault_and_key(
                name, ("recovery",), s, recovery.vault_type, args.providers.recovery_region, tags, wait_for_endpoint,
                protect_vault=protect_replicas, protect_key=protect_replicas,
            )
        secret_of = _SecretFactory(self, name, s, vault, key, in_region, tags, _replication(s, replicas))
        protect_urls = s.protect and "secrets" not in lifted
        urls = {service: secret_of.database_url(service, args.database_urls.get(service), protect_urls) for service in s.services}

        self.notification_topic_id = self._notifications(name, s, tags, in_region)

        # The clusters that sync this environment's secrets: its own, and a standby one in the replica region,
        # which reads the replicas there (same names: OCI gives a replica its source's name and OCID,
        # "Replicating Secrets"), so that a failover moves traffic, not secrets.
        clusters = [_Cluster((), s.kubernetes, args.providers.cluster, s.region, vault.id,
                             protect=s.protect and "namespace" not in lifted,
                             protect_releases=s.protect and "operator" not in lifted)]
        if recovery and recovery.standby and replicas and args.providers.standby_cluster:
            clusters.append(_Cluster(("standby",), recovery.standby, args.providers.standby_cluster, recovery.region,
                                     replicas[0].id,
                                     protect=s.protect and "standby" not in lifted,
                                     protect_releases=s.protect and "standby" not in lifted))
        namespaces, stores = zip(*(self._kubernetes_store(name, s.environment, cluster) for cluster in clusters))

        def rotating(state: DeployedState) -> dict[str, Output[Any]]:
            """What the rotation clock decides, declared once the deployed state is read: the key's
            current version, the JWT generations, and the ExternalSecrets naming them. Resolves to
            the signing generation's secret id per logical path and the two rotation summaries,
            these only once everything that delivers the rotation exists (`delivered`)."""
            delivered: list[pulumi.Resource] = []
            # The replicas' key rotates on the primary's clock: the same version number, in the same update.
            rotated_keys = [(key_resource, vault, key, in_region)]
            if replicas is not None and args.providers.recovery_region is not None:
                rotated_keys.append((child_name(name, "recovery", "key"), *replicas, args.providers.recovery_region))
            for resource_name, owner, rotated, provider in rotated_keys if state.key.clock.current > 0 else ():
                delivered.append(oci.kms.KeyVersion(
                    key_version_name(resource_name, state.key.clock.current),
                    key_id=rotated.id,
                    management_endpoint=owner.management_endpoint,
                    # Deleting a KeyVersion destroys key material that older secret versions still
                    # need: when the next rotation replaces this resource, Pulumi only forgets it.
                    # protect must be False explicitly: it is inherited, and a protected resource
                    # could not even be dropped from state.
                    opts=self.child_options(provider, retain_on_delete=True, protect=False),
                ))
            generations = state.jwt.generations
            first = generations.replicated_from
            if len(clusters) > 1 and first is not None and generations.standby_signing != generations.signing:
                due = state.jwt.summary()["nextDue"]
                pulumi.log.warn(
                    f"{env}: the standby cluster signs with JWT generation {generations.standby_signing}, not the "
                    f"primary's {generations.signing}, which has no replica in the vault the standby reads: a failover "
                    f"refuses the tokens signed before it, until the primary signs with generation {first}, "
                    f"{first - generations.signing} rotation(s) from now "
                    + (f"(the next is due {due}; docs/disaster-recovery.md)" if due else
                       "(JWT rotation is switched off: secrets.jwtRotation.automatic; docs/disaster-recovery.md)")
                )
            signing: dict[str, Output[str]] = {}
            for service in s.services:
                jwts = {g: secret_of.jwt(service, g, s.secrets.jwt_length, generations.sends_replication(g)) for g in generations.kept}
                signing[secret_path(env, service, "jwt-secret")] = jwts[generations.signing].id
                delivered.extend(jwts.values())
                for cluster, store in zip(clusters, stores):
                    manifest = manifests.external_secret(
                        env, service, cluster.settings.namespace, cluster.settings.secret_store,
                        cluster.settings.refresh_interval, generations, replicas=cluster.parts == ("standby",),
                    )
                    delivered.append(kubernetes.apiextensions.CustomResource(
                        child_name(name, *cluster.parts, service, "external-secret"),
                        api_version=manifest["apiVersion"],
                        kind=manifest["kind"],
                        metadata=manifest["metadata"],
                        spec=manifest["spec"],
                        # Waiting for the secrets lets the first sync succeed instead of failing and
                        # backing off (the IAM program granted the sync identity's reads before the first
                        # deployment); and a rotation's new generation exists before any Secret names it.
                        # On the standby cluster, OCI may not have copied it yet: ESO retries until it has.
                        opts=self.child_options(
                            cluster.provider, depends_on=[store, urls[service], *jwts.values()]
                        ),
                    ))
            # The clock must not move unless the rotation reached the cluster. The engine keeps the
            # outputs a failed update registered (pulumi/pulumi pkg/resource/deploy/step_executor.go,
            # executeRegisterResourceOutputs: "If there was an error, we only replace outputs that have
            # new outputs"; deployment_executor.go, "Finalize the stack outputs"), and the SDK registers
            # all stack outputs in one request as soon as every one has resolved (pulumi/runtime/stack.py
            # Stack._finish, resource.py register_resource_outputs). A URN resolves when the engine has
            # carried out the resource's step and fails with it (pkg/resource/deploy/source_eval.go,
            # RegisterResource waits for the step to finish); unlike an id, it is known in a preview.
            done = Output.all(*(resource.urn for resource in delivered))
            # Apart, so that the new generation's id, unknown in a preview, leaves the summaries known.
            return {
                "ids": Output.all(**signing),
                "key": done.apply(lambda _: state.key.summary()),
                "jwt": done.apply(lambda _: state.jwt.summary()),
            }

        rotated = args.deployed.apply(rotating)
        jwt_ids = rotated.apply(lambda r: r["ids"])
        self.vault_id = vault.id
        self.key_id = key.id
        self.recovery_vault_id = replicas[0].id if replicas else None
        self.recovery_key_id = replicas[1].id if replicas else None
        self.management_endpoint = vault.management_endpoint
        self.secret_ids = Output.all(
            jwt_ids, Output.all(**{secret_path(env, service, "database-url"): url.id for service, url in urls.items()})
        ).apply(lambda ids: {**ids[1], **ids[0]})
        self.key_rotation = rotated.apply(lambda r: r["key"])
        self.jwt_rotation = rotated.apply(lambda r: r["jwt"])
        self.namespace = namespaces[0]
        self.kubernetes_secrets = {service: kubernetes_secret_name(service) for service in s.services}
        # What each service's Deployment must carry so that Reloader restarts it when its Secret changes.
        self.reload_annotations = {service: dict(manifests.RELOADER_SEARCH) for service in s.services}
        self.register_outputs(
            {
                "notification_topic_id": self.notification_topic_id,
                "reload_annotations": self.reload_annotations,
                "vault_id": self.vault_id,
                "key_id": self.key_id,
                "recovery_vault_id": self.recovery_vault_id,
                "recovery_key_id": self.recovery_key_id,
                "management_endpoint": self.management_endpoint,
                "secret_ids": self.secret_ids,
                "namespace": self.namespace,
                "kubernetes_secrets": self.kubernetes_secrets,
                "key_rotation": self.key_rotation,
                "jwt_rotation": self.jwt_rotation,
            }
        )

    def child_options(
        self,
        provider: pulumi.ProviderResource,
        *,
        depends_on: list[pulumi.Resource] | None = None,
        protect: bool | None = None,
        retain_on_delete: bool | None = None,
        delete_before_replace: bool | None = None,
        hooks: pulumi.ResourceHookBinding | None = None,
        additional_secret_outputs: list[str] | None = None,
        ignore_changes: list[str] | None = None,
        import_: str | None = None,
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
            ignore_changes=ignore_changes,
            import_=import_,
        )

    def _vault_and_key(
        self,
        name: str,
        parts: tuple[str, ...],
        s: StackSettings,
        vault_type: str,
        provider: oci.Provider,
        tags: dict[str, str],
        wait_for_endpoint: pulumi.ResourceHook,
        *,
        protect_vault: bool,
        protect_key: bool,
        import_vault: str | None = None,
        import_key: str | None = None,
    ) -> tuple[oci.kms.Vault, oci.kms.Key]:
        """A vault and its AES-256 master key, rotating on the stack's key schedule."""
        env = s.environment
        vault = oci.kms.Vault(
            child_name(name, *parts, "vault"),
            compartment_id=s.compartment_id,
            display_name=vault_name(env),
            vault_type=vault_type,
            freeform_tags=tags,
            opts=self.child_options(
                provider, protect=protect_vault, import_=import_vault,
                hooks=pulumi.ResourceHookBinding(after_create=[wait_for_endpoint]),
            ),
        )
        schedule = s.key_schedule()
        native = schedule.method == "native"
        key = oci.kms.Key(
            child_name(name, *parts, "key"),
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
            opts=self.child_options(provider, protect=protect_key, import_=import_key),
        )
        return vault, key

    def _kubernetes_store(
        self, name: str, environment: str, cluster: "_Cluster"
    ) -> tuple[Output[str], kubernetes.apiextensions.CustomResource]:
        """Namespace, service account and SecretStore on one cluster; returns the namespace name and the store."""
        k, provider, parts = cluster.settings, cluster.provider, cluster.parts
        labels = manifests.labels(environment)
        namespace: pulumi.Resource
        if k.manage_namespace == "create":
            namespace = kubernetes.core.v1.Namespace(
                child_name(name, *parts, "namespace"),
                metadata=kubernetes.meta.v1.ObjectMetaArgs(name=k.namespace, labels=labels),
                opts=self.child_options(provider, protect=cluster.protect),
            )
        else:
            # An adopted namespace holds more than this program's objects: label it, never delete it.
            namespace = kubernetes.core.v1.NamespacePatch(
                child_name(name, *parts, "namespace"),
                metadata=kubernetes.meta.v1.ObjectMetaPatchArgs(name=k.namespace, labels=labels),
                opts=self.child_options(provider, retain_on_delete=True),
            )
        account = kubernetes.core.v1.ServiceAccount(
            child_name(name, *parts, "sync-account"),
            metadata=kubernetes.meta.v1.ObjectMetaArgs(name=k.service_account, namespace=k.namespace, labels=labels),
            opts=self.child_options(provider, depends_on=[namespace]),
        )
        crds_ready: list[pulumi.Resource] = [namespace, account]
        if k.install_operator:
            crds_ready.append(
                self._release(child_name(name, *parts, "external-secrets-operator"), manifests.OPERATOR,
                              k.operator_namespace, manifests.operator_values(), provider, cluster.protect_releases)
            )
        if k.install_reloader:
            # Scoped Reloader writes a Role and RoleBinding into each watched namespace, which the API
            # server refuses while the namespace does not exist: on a first update this one is created
            # by the same update. The other watched namespaces must exist before (docs/rotation.md).
            self._release(child_name(name, *parts, "reloader"), manifests.RELOADER, k.reloader_namespace,
                          manifests.reloader_values((k.namespace, *k.reloader_watch_namespaces)), provider,
                          cluster.protect_releases, depends_on=[namespace])
        manifest = manifests.secret_store(environment, k.secret_store, k.namespace, cluster.vault_id, cluster.region,
                                          k.service_account)
        store = kubernetes.apiextensions.CustomResource(
            child_name(name, *parts, "secret-store"),
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=self.child_options(provider, depends_on=crds_ready),
        )
        # The name once the namespace exists, so that whatever uses the output waits for it.
        return namespace.urn.apply(lambda _: k.namespace), store

    def _notifications(
        self,
        name: str,
        s: StackSettings,
        tags: dict[str, str],
        provider: oci.Provider,
    ) -> Output[str]:
        """The environment's topic, the Events rule feeding it and its mail subscriptions (the Events
        service's permission to publish is the IAM program's); returns the topic's OCID."""
        topic = oci.ons.NotificationTopic(
            child_name(name, "events-topic"),
            compartment_id=s.compartment_id,
            name=events_topic_name(s.environment),
            description=f"Key, vault and secret events of {s.environment}",
            freeform_tags=tags,
            # Topic names are unique in the tenancy, like policy names.
            opts=self.child_options(provider, delete_before_replace=True),
        )
        oci.events.Rule(
            child_name(name, "events-rule"),
            compartment_id=s.compartment_id,
            display_name=events_topic_name(s.environment),
            description=f"Rotations and deletions of {s.environment}'s vault, key and secrets, to its topic",
            condition=notifications.rule_condition(s.compartment_id),
            is_enabled=True,
            actions=oci.events.RuleActionsArgs(
                action=[oci.events.RuleActionsActionArgs(action_type="ONS", is_enabled=True, topic_id=topic.id)]
            ),
            freeform_tags=tags,
            opts=self.child_options(provider),
        )
        for email in s.notifications.emails:
            oci.ons.Subscription(
                # Named after the address's digest: stable, and no address in a URN.
                child_name(name, "events-mail", hashlib.sha256(email.encode()).hexdigest()[:12]),
                compartment_id=s.compartment_id,
                topic_id=topic.id,
                protocol="EMAIL",
                endpoint=email,
                freeform_tags=tags,
                opts=self.child_options(provider),
            )
        return topic.id

    def _release(
        self,
        resource_name: str,
        chart: manifests.HelmChart,
        namespace: str,
        values: dict[str, Any],
        provider: kubernetes.Provider,
        protect: bool,
        depends_on: list[pulumi.Resource] | None = None,
    ) -> kubernetes.helm.v3.Release:
        return kubernetes.helm.v3.Release(
            resource_name,
            name=chart.release,
            chart=chart.chart,
            version=chart.version,
            repository_opts=kubernetes.helm.v3.RepositoryOptsArgs(repo=chart.repository),
            namespace=namespace,
            create_namespace=True,
            values=values,
            # The chart's cluster-wide objects carry the owning release's namespace, and Helm
            # refuses to install over objects another release owns (helm pkg/action/validate.go,
            # checkOwnership): the old release must go first.
            opts=self.child_options(provider, depends_on=depends_on, protect=protect, delete_before_replace=True),
        )


@dataclass(frozen=True)
class _Cluster:
    """One cluster that syncs the environment's secrets from one region's vault."""

    parts: tuple[str, ...]  # in its resources' names: () for the environment's own cluster
    settings: KubernetesSettings
    provider: kubernetes.Provider
    region: str
    vault_id: Output[str]
    protect: bool
    protect_releases: bool


def _replication(
    s: StackSettings, replicas: tuple[oci.kms.Vault, oci.kms.Key] | None
) -> oci.vault.SecretReplicationConfigArgs | None:
    """Where every secret of the environment is replicated: the replicas' vault and key, in their region.

    Set on every secret from its creation, so each new JWT generation (a rotation) replicates from its
    first version. Write forwarding stays off: replicas are read-only, and nothing but this program writes a
    source secret (OCI "Replicating Secrets"; terraform-provider-oci vault_secret_resource.go, Update,
    refuses to touch a replica at all).
    """
    if s.disaster_recovery is None or replicas is None:
        return None
    vault, key = replicas
    return oci.vault.SecretReplicationConfigArgs(
        replication_targets=[
            oci.vault.SecretReplicationConfigReplicationTargetArgs(
                target_region=s.disaster_recovery.region, target_vault_id=vault.id, target_key_id=key.id
            )
        ],
        is_write_forward_enabled=False,
    )


class _SecretFactory:
    """The OCI secrets of one environment: one place for what every secret has in common."""

    def __init__(
        self,
        component: EnvironmentVault,
        name: str,
        settings: StackSettings,
        vault: oci.kms.Vault,
        key: oci.kms.Key,
        provider: oci.Provider,
        tags: dict[str, str],
        replication: oci.vault.SecretReplicationConfigArgs | None,
    ):
        self._component, self._name, self._settings = component, name, settings
        self._vault, self._key, self._provider, self._tags = vault, key, provider, tags
        self._replication = replication

    def database_url(self, service: str, url: Output[str] | None, protect: bool) -> oci.vault.Secret:
        adopted = self._settings.adopt.database_url_secrets.get(service)
        if adopted:
            # Adopted with the value it holds: OCI never returns a secret's content, so content sent here
            # would differ from the imported state and write a new version (refused by a reuse rule when
            # it repeats the value) on the very update that adopts it.
            return self._secret(service, "database-url", 0, {}, protect, import_=adopted)
        assert url is not None, service  # load_database_urls requires a URL for every service not adopted
        encoded = Output.secret(url.apply(lambda text: base64.b64encode(text.encode()).decode()))
        return self._secret(
            service, "database-url", 0, {}, protect,
            secret_content=oci.vault.SecretSecretContentArgs(content_type="BASE64", content=encoded),
        )

    def jwt(self, service: str, generation: int, length: int, sends_replication: bool) -> oci.vault.Secret:
        # OCI generates each JWT signing secret itself, so its value never passes through this
        # machine or Pulumi's state. A rotation is a new secret (a new generation): OCI has no
        # documented call that makes it generate a new version of an existing one. Never
        # protected: retiring the generation before the previous one is what a rotation does.
        return self._secret(
            service, "jwt-secret", generation, {"generation": str(generation)}, False,
            # A generation is updated at most to give it disasterRecovery's replication config, and only one
            # no pod may sign with (JwtGenerations.sends_replication). The provider's Update re-sends the
            # generation context with any change (terraform-provider-oci vault_secret_resource.go, Update)
            # and sends no content; OCI documents new content as what creates a version (oci-go-sdk
            # vault/update_secret_details.go) and says nothing of a re-sent context. So a generation pods
            # may sign with is never updated, and other settings changed later (jwtLength, secret rules)
            # reach the next generation only.
            ignore_changes=["freeform_tags", "secret_generation_context", "secret_rules"]
            + ([] if sends_replication else ["replication_config"]),
            enable_auto_generation=True,
            # A passphrase, not raw bytes: ESO hands the value to the service as text.
            secret_generation_context=oci.vault.SecretSecretGenerationContextArgs(
                generation_type="PASSPHRASE",
                generation_template="SECRETS_DEFAULT_PASSWORD",
                passphrase_length=length,
                secret_template=GENERATED_PASSPHRASE_TEMPLATE,
            ),
        )

    def _secret(
        self,
        service: str,
        kind: SecretKind,
        generation: int,
        extra_tags: dict[str, str],
        protect: bool,
        ignore_changes: list[str] | None = None,
        import_: str | None = None,
        **content: Any,
    ) -> oci.vault.Secret:
        s, env = self._settings, self._settings.environment
        path = secret_path(env, service, kind)
        return oci.vault.Secret(
            secret_resource_name(self._name, service, kind, generation),
            compartment_id=s.compartment_id,
            vault_id=self._vault.id,
            key_id=self._key.id,
            secret_name=oci_secret_name(service, kind, generation),
            description=f"{kind} of {service} in {env}" + (f", generation {generation}" if generation else ""),
            metadata={"path": path, "environment": env, "service": service}
            | ({"generation": str(generation)} if kind == "jwt-secret" else {}),
            freeform_tags=self._tags | {"path": path, "service": service} | extra_tags,
            secret_rules=self._rules(),
            replication_config=self._replication,
            opts=self._component.child_options(
                self._provider, protect=protect, additional_secret_outputs=["secret_content"],
                ignore_changes=ignore_changes, import_=import_,
            ),
            **content,
        )

    def _rules(self) -> list[oci.vault.SecretSecretRuleArgs]:
        secrets = self._settings.secrets
        if not secrets.prevent_reuse:
            return []
        return [
            oci.vault.SecretSecretRuleArgs(
                rule_type="SECRET_REUSE_RULE",
                is_enforced_on_deleted_secret_versions=secrets.prevent_reuse_of_deleted_versions,
            )
        ]
