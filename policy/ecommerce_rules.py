"""The guardrails, as plain functions: one implementation for two entry points.

The CrossGuard pack (`policy/__main__.py`, through `ecommerce_pack.py`) and the offline plan
(`python -m offline.plan`) both run these rules. They take a neutral `Resource` (type, name,
URN, properties, `protect`, property dependencies) and return violation messages, so they need
neither Pulumi nor the project's own code: the pack runs in its own environment.

Properties are read as `Mapping` and `Sequence`, never as `dict` and `list`: under the pack they
are pulumi_policy's proxies (`_DictProxy`, `_ListProxy`), under the plan plain values. Messages
show values through `shown`, which prints plain JSON (no proxy objects, whole numbers as
integers: the wire format has only floats).

A value still unknown at preview (an IAM policy naming a vault not created yet) makes the proxy
raise pulumi_policy's `UnknownValueError` when a rule reads it; the pack then reports "can't run
policy ... during preview" (advisory) instead of a verdict, and `pulumi up` runs the rule again
with the value known. Checks that relate resources to each other (every secret on this stack's
vault and key) are stack rules and use property dependencies, which are known at preview.
"""

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

VAULT = "oci:Kms/vault:Vault"
KEY = "oci:Kms/key:Key"
SECRET = "oci:Vault/secret:Secret"
POLICY = "oci:Identity/policy:Policy"
SECRET_STORE = "kubernetes:external-secrets.io/v1:SecretStore"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
CLUSTER_SECRET_STORE = "kubernetes:external-secrets.io/v1:ClusterSecretStore"
RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE_TYPES = ("kubernetes:core/v1:Namespace", "kubernetes:core/v1:NamespacePatch")
AUTHORITY = "policy/config.json"

# CIS OCI Foundations 4.16: customer-managed keys rotate at least once a year.
CIS_MAX_ROTATION_DAYS = 365
ENVIRONMENTS = ("production", "staging", "development")
ROTATING_ENVIRONMENTS = ("production", "staging")


def plain(value: Any) -> Any:
    """`value` as plain JSON data: proxies become dicts and lists, whole floats integers."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def shown(value: Any) -> str:
    return json.dumps(plain(value), sort_keys=True)


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # The inputs of the resource's provider: a Kubernetes provider names its cluster (clusterIdentifier).
    provider: Mapping[str, Any] = field(default_factory=dict)

    @property
    def stack(self) -> str:
        """Rules read the stack from the URN (`urn:pulumi:<stack>::…`), the same under the pack and the plan."""
        return self.urn.split("::")[0].removeprefix("urn:pulumi:")

    @property
    def stack_file(self) -> str:
        """The stack file that set what a rule refuses: the IAM program's own (its project `<name>-iam`) is in iam/."""
        project = self.urn.split("::")[1] if self.urn.count("::") >= 2 else ""
        return f"{'iam/' if project.endswith('-iam') else ''}Pulumi.{self.stack}.yaml"


@dataclass(frozen=True)
class Context:
    """The pack's config (the guardrail authority): per environment, what only it may use, and each
    rotating one's ceiling."""

    environments: Mapping[str, Mapping[str, Any]]
    max_rotation_days: Mapping[str, int]


ResourceCheck = Callable[[Resource, Context], list[str]]
StackCheck = Callable[[Sequence[Resource], Context], list[str]]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    level: Literal["mandatory", "advisory"]
    resource_check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    # Whether the rule reads the pack's config; only these policies declare (and require) it.
    configured: bool = False


def _statements(policy: Resource) -> list[str]:
    return [str(s) for s in policy.props.get("statements") or ()]


def key_is_aes_256(r: Resource, _: Context) -> list[str]:
    if r.type != KEY:
        return []
    shape = r.props.get("keyShape") or {}
    if shape.get("algorithm") != "AES" or shape.get("length") != 32:
        return [f"{r.name}: key shape {shown(shape)} must be AES with a 32-byte length"]
    return []


def _rotation_days(r: Resource) -> tuple[str, int | None]:
    tags = r.props.get("freeformTags") or {}
    method = tags.get("rotation-method", "manual")
    if method == "native" or r.props.get("isAutoRotationEnabled"):
        details = r.props.get("autoKeyRotationDetails") or {}
        days = details.get("rotationIntervalInDays")
        return "native", int(days) if days is not None else None
    days = tags.get("rotation-interval-days")
    return method, int(days) if days is not None else None


def key_rotates(r: Resource, ctx: Context) -> list[str]:
    if r.type != KEY or r.stack not in ROTATING_ENVIRONMENTS:
        return []
    method, days = _rotation_days(r)
    if method == "manual" or days is None:
        return [f"{r.name}: keys in {r.stack} must rotate automatically (native, or scheduled key versions)"]
    ceiling = min(CIS_MAX_ROTATION_DAYS, ctx.max_rotation_days[r.stack])
    if days > ceiling:
        return [f"{r.name}: rotates every {days} days; at most {ceiling} in {r.stack}"]
    return []


def manual_rotation_reported(r: Resource, _: Context) -> list[str]:
    if r.type != KEY or r.stack in ROTATING_ENVIRONMENTS or _rotation_days(r)[0] != "manual":
        return []
    return [f"{r.name}: {r.stack} rotates this key manually; rotate it at least yearly (CIS OCI 4.16)"]


def native_rotation_needs_virtual_private_vault(resources: Sequence[Resource], _: Context) -> list[str]:
    vaults = {r.urn: r for r in resources if r.type == VAULT}
    problems = []
    for key in (r for r in resources if r.type == KEY and r.props.get("isAutoRotationEnabled")):
        for urn in key.property_dependencies.get("managementEndpoint", ()):
            if urn in vaults and vaults[urn].props.get("vaultType") != "VIRTUAL_PRIVATE":
                problems.append(f"{key.name}: native auto-rotation needs a VIRTUAL_PRIVATE vault, not {vaults[urn].name}")
    return problems


def _replication_targets(secret: Resource) -> list[Mapping[str, Any]]:
    return list((secret.props.get("replicationConfig") or {}).get("replicationTargets") or ())


def secrets_use_own_vault_and_key(resources: Sequence[Resource], _: Context) -> list[str]:
    """Every secret is stored with this stack's one vault and key; a second vault and key, in another region,
    only hold the replicas (`replicationConfig`, from the stack's own resources too)."""
    vaults = {r.urn for r in resources if r.type == VAULT}
    keys = {r.urn for r in resources if r.type == KEY}
    if not any(r.type in (VAULT, KEY, SECRET) for r in resources):
        return []  # the IAM program's stacks hold no secrets at all
    secrets = [r for r in resources if r.type == SECRET]
    replicating = set().union(*(set(s.property_dependencies.get("replicationConfig", ())) for s in secrets))
    problems = []
    if len(vaults - replicating) != 1 or len(keys - replicating) != 1:
        problems.append(
            f"a stack must create exactly one vault and one key for its secrets, and at most one more of each for "
            f"their replicas (found {len(vaults)} and {len(keys)})"
        )
    for secret in secrets:
        for prop, own in (("vaultId", vaults - replicating), ("keyId", keys - replicating)):
            depends_on = set(secret.property_dependencies.get(prop, ()))
            if not depends_on or not depends_on <= own:
                problems.append(f"{secret.name}: {prop} must come from this stack's own {prop[:-2]}")
        named = set(secret.property_dependencies.get("replicationConfig", ()))
        if _replication_targets(secret) and not (named and named <= vaults | keys):
            problems.append(f"{secret.name}: replicationConfig must name this stack's own replica vault and key")
    return problems


# OCI replicates a secret to at most three regions (OCI "Replicating Secrets"; pulumi-oci
# SecretReplicationConfigArgs.replication_targets: "By default, a maximum of 3 targets is allowed").
MAX_REPLICATION_TARGETS = 3


def _claims(resources: Sequence[Resource]) -> dict[str, dict[str, list[str]]]:
    """Each cluster a Kubernetes provider of the stack claims (its clusterIdentifier) → each provider configuration
    claiming it (its inputs, as JSON: compared, never printed) → the Kubernetes resources on it."""
    claims: dict[str, dict[str, list[str]]] = {}
    for r in resources:
        cluster = r.provider.get("clusterIdentifier") if r.type.startswith("kubernetes:") else None
        if isinstance(cluster, str):
            claims.setdefault(cluster, {}).setdefault(shown(r.provider), []).append(r.name)
    return claims


def one_provider_per_cluster(resources: Sequence[Resource], _: Context) -> list[str]:
    """A Kubernetes provider's kubeconfig (context), not its clusterIdentifier, decides which cluster it reaches;
    the claim is what `neighbours-refused` and `replicas-everywhere` read. A second configuration claiming the
    same cluster (a standby provider claiming the primary's) would make its resources pass for the other's: one
    configuration per cluster, so that a claim is at least never shared. (A stack rule: a resource rule sees its
    own provider only.)"""
    return [f"cluster {cluster}: {len(configurations)} different Kubernetes provider configurations claim it "
            f"(clusterIdentifier); {' and '.join(sorted(min(names) for names in configurations.values()))} sit on different ones: "
            "each provider must claim its own cluster; give each cluster one provider (components/providers.py)"
            for cluster, configurations in sorted(_claims(resources).items()) if len(configurations) > 1]


def replicas_everywhere(resources: Sequence[Resource], ctx: Context) -> list[str]:
    """Once a stack replicates, every secret a failover needs replicates to the same targets, and the standby
    cluster reads exactly there. A failover needs every secret OCI does not generate (enableAutoGeneration not
    true: the database URLs, whatever their names; a generated one the primary region took down with it can be
    generated again, an entered one cannot), and every secret an ExternalSecret on the standby cluster names (one
    without a replica there fails that whole ExternalSecret: ESO); each such name must be a secret of this stack.
    Each SecretStore on the standby cluster reads the targets' vault (`spec.provider.oracle.vault` = targetVaultId)
    in their region (`region` = targetRegion), compared as values: a value unknown at a first preview makes the
    pack say it can't run the rule then, and `pulumi up` runs it with the values known.

    "On the standby cluster" is anything not on the one provider configuration claiming the environment's primary
    cluster (policy/config.json clusterId): a provider's claim is its own word, so when two configurations claim
    the primary cluster (refused by `one-provider-per-cluster` too) every ExternalSecret and store is checked.

    Other JWT generations may lack a replica: those pods may already sign with are never updated to add it
    (components/rotation.py, `replicated_from`; pulumi pkg/resource/deploy/step_generator.go, processIgnoreChanges),
    and the standby names none of them. The targets are the most common ones among the secrets a failover needs,
    which always carry the current ones: after replication is turned off (or moved) on purpose, older generations
    keep their old target. (Stack rules get the resources' outputs; a property in ignore_changes keeps its old
    value there too.)

    And a stack replicates when the guardrail authority records a standby cluster for its environment: a stack
    file edited (or a CI job compromised) to drop disasterRecovery must not pass because nothing is left to
    compare. The pack is one line of defence: OCI IAM is the boundary behind it (docs/disaster-recovery.md)."""
    secrets = [r for r in resources if r.type == SECRET]
    if not secrets:
        return []  # the IAM program's stacks hold no secrets at all
    stack = secrets[0].stack
    own = ctx.environments.get(stack) or {}
    oci_name = {s.name: str(s.props.get("secretName")) for s in secrets}
    named_by = {oci: name for name, oci in oci_name.items()}
    targets = {s.name: sorted((plain(t) for t in _replication_targets(s)), key=shown) for s in secrets}
    primary = _claims(resources).get(str(own.get("clusterId")), {})
    off_primary = [r for r in resources if r.type in (SECRET_STORE, EXTERNAL_SECRET)
                   and (len(primary) != 1 or shown(r.provider) not in primary)]
    on_standby = sorted({(e.name, str((item.get("remoteRef") or {}).get("key")))
                         for e in off_primary if e.type == EXTERNAL_SECRET
                         for item in (e.props.get("spec") or {}).get("data") or ()})
    entered = {s.name for s in secrets if s.props.get("enableAutoGeneration") is not True}
    needed = entered | {named_by[key] for _, key in on_standby if key in named_by}
    # The most common target among them (ties broken by value, so that the order the engine hands the resources
    # in, which is unspecified, decides nothing).
    shared = Counter(shown(targets[n]) for n in needed if targets[n])
    wanted = json.loads(max(sorted(shared), key=shared.__getitem__)) if shared else []
    if not wanted:
        if not needed or not own.get("standbyClusterId"):
            return []
        return [f"stack {stack}: {AUTHORITY} records a standby cluster (standbyClusterId) for it, yet no secret "
                f"replicates ({', '.join(sorted(needed))} name no replica vault and key): turn disasterRecovery on in "
                "the stack file, or its owners remove standbyClusterId in a reviewed commit"]
    problems = [f"{name}: remoteRef.key {key} names no secret of stack {stack}; ESO finds no such secret in the "
                "replicas' vault and fails the whole ExternalSecret: name a secret of this stack that replicates"
                for name, key in on_standby if key not in named_by]
    reads = {(t.get("targetRegion"), t.get("targetVaultId")) for t in wanted}
    for store in (r for r in off_primary if r.type == SECRET_STORE):
        oracle = ((store.props.get("spec") or {}).get("provider") or {}).get("oracle") or {}
        if (oracle.get("region"), oracle.get("vault")) not in reads:
            problems.append(
                f"{store.name}: the standby cluster's store reads vault {shown(oracle.get('vault'))} in "
                f"{shown(oracle.get('region'))}, the secrets a failover needs replicate to {shown(wanted)}: its "
                "spec.provider.oracle vault and region must be their targetVaultId and targetRegion")
    return problems + [
        f"{name} ({oci_name[name]}): replicated to {shown(targets[name])}, the secrets a failover needs to "
        f"{shown(wanted)}: every " + ("secret OCI does not generate" if name in entered else "secret the standby cluster syncs")
        + " replicates to the same vault and key" for name in sorted(needed) if targets[name] != wanted]


def replicas_elsewhere(r: Resource, _: Context) -> list[str]:
    """A replica in the secret's own region fails with it; OCI takes at most three targets."""
    if r.type != SECRET:
        return []
    targets = _replication_targets(r)
    problems = []
    if len(targets) > MAX_REPLICATION_TARGETS:
        problems.append(f"{r.name}: {len(targets)} replication targets; OCI allows at most {MAX_REPLICATION_TARGETS}")
    region = r.provider.get("region")
    for target in targets:
        if target.get("targetRegion") == region:
            problems.append(f"{r.name}: replicated into its own region {region}; a replica must be in another region")
    if (r.props.get("replicationConfig") or {}).get("isWriteForwardEnabled"):
        problems.append(f"{r.name}: write forwarding makes a replica writable; replicas stay read-only")
    return problems


def _own_environment(r: Resource, ctx: Context) -> Mapping[str, Any] | None:
    return ctx.environments.get(r.stack)


def _unconfigured(r: Resource) -> list[str]:
    return [f"{r.name}: stack {r.stack} has no entry in the guardrail authority's environments ({AUTHORITY}); "
            "its owners add one in a reviewed commit"]


_OWNED = {"compartmentId": "compartment", "clusterId": "cluster", "namespace": "namespace"}


def _identifiers_used(r: Resource) -> dict[str, str]:
    """The compartment, cluster and namespace a resource sits in, where it has one."""
    used = {}
    if isinstance(r.props.get("compartmentId"), str):
        used["compartmentId"] = r.props["compartmentId"]
    if isinstance(r.provider.get("clusterIdentifier"), str):
        used["clusterId"] = r.provider["clusterIdentifier"]
    metadata = r.props.get("metadata") or {}
    namespace = metadata.get("name") if r.type in NAMESPACE_TYPES else metadata.get("namespace")
    if isinstance(namespace, str):
        used["namespace"] = namespace
    return used


def neighbours_refused(r: Resource, ctx: Context) -> list[str]:
    """A resource sits only in the compartment, cluster and namespace the authority gives its own stack: an
    allow-list (a compartment nobody lists may be nested in production's, where production's statements apply
    too); a Kubernetes resource whose provider names no cluster is refused, since nothing tells whose cluster
    it is on; and no operator is installed on a cluster another environment installs them on."""
    used = _identifiers_used(r)
    unknown_cluster = r.type.startswith("kubernetes:") and "clusterId" not in used
    if not used and not unknown_cluster:
        return []
    own = _own_environment(r, ctx)
    if own is None:
        return _unconfigured(r)
    problems = []
    if unknown_cluster:
        problems.append(
            f"{r.name}: its Kubernetes provider names no cluster (clusterIdentifier), so nothing shows it is "
            f"{r.stack}'s cluster {own.get('clusterId')} ({AUTHORITY}): give the provider cluster_identifier "
            "(components/providers.py)"
        )
    for key, value in used.items():
        # Its standby cluster, where the authority lists one, is its own too (disasterRecovery.standby).
        allowed = {own.get(key), own.get("standbyClusterId") if key == "clusterId" else None} - {None}
        if value not in allowed:
            owners = sorted(env for env, theirs in ctx.environments.items() if env != r.stack and theirs.get(key) == value)
            whose = f" is {' and '.join(owners)}'s, and" if owners else ""
            problems.append(
                f"{r.name}: its {_OWNED[key]} {shown(value)}{whose} the guardrail authority ({AUTHORITY}) allows "
                f"{r.stack} only {own.get(key)}: fix {r.stack_file}"
            )
    for env, theirs in sorted(ctx.environments.items()):
        if env != r.stack and r.type == RELEASE and used.get("clusterId") == theirs.get("clusterId") and theirs.get("installsOperators"):
            problems.append(
                f"{r.name}: {env} installs the operators on cluster {used['clusterId']} ({AUTHORITY}); a second "
                f"release collides with the first's cluster-wide objects: fix {r.stack_file}"
            )
    return problems


def iam_statements_isolated(r: Resource, ctx: Context) -> list[str]:
    """Each IAM policy on its own: a stack may hold several (one per access tier, Deny statements apart)."""
    if r.type != POLICY:
        return []
    own = _own_environment(r, ctx)
    if own is None:
        return _unconfigured(r)
    # Environments may share a cluster: only what differs from this environment's own is foreign.
    mine = {v for v in own.values() if isinstance(v, str)}
    others = {
        env: sorted(v for v in identifiers.values() if isinstance(v, str) and v and v not in mine)
        for env, identifiers in sorted(ctx.environments.items())
        if env != r.stack
    }
    problems = []
    for statement in _statements(r):
        if "any-user" in statement and "request.principal.type = 'workload'" not in statement:
            problems.append(f"{r.name}: `any-user` without workload conditions grants everyone: {statement}")
        for env, identifiers in others.items():
            for identifier in identifiers:
                if identifier in statement:
                    problems.append(f"{r.name}: names {env}'s {identifier}: {statement}")
    return problems


def sync_stays_in_namespace(r: Resource, ctx: Context) -> list[str]:
    if r.type == CLUSTER_SECRET_STORE:
        return [f"{r.name}: a ClusterSecretStore lets every namespace read this vault; use a namespaced SecretStore"]
    if r.type not in (SECRET_STORE, EXTERNAL_SECRET):
        return []
    own = _own_environment(r, ctx)
    if own is None:
        return _unconfigured(r)
    namespace = (r.props.get("metadata") or {}).get("namespace")
    problems = []
    if namespace != own["namespace"]:
        problems.append(f"{r.name}: in namespace {shown(namespace)}; {r.stack}'s namespace is {shown(own['namespace'])}")
    if r.type == EXTERNAL_SECRET:
        ref = (r.props.get("spec") or {}).get("secretStoreRef") or {}
        if ref.get("kind", "SecretStore") != "SecretStore":
            problems.append(f"{r.name}: references a {ref.get('kind')}; only a namespaced SecretStore may be used")
    return problems


# The name OCI holds (components/naming.py, oci_secret_name): `auth-service.jwt-secret.v3`.
JWT_GENERATION_NAME = re.compile(r".+\.jwt-secret(\.v[0-9]+)?")


def _is_jwt_generation(r: Resource) -> bool:
    """A JWT secret generation is retired on purpose three rotations after it is published; its value
    was generated by OCI, so no data of anyone's goes with it. Known by what it is (generated, named
    as one), not by a tag: the generations carry no schedule."""
    return r.props.get("enableAutoGeneration") is True and bool(JWT_GENERATION_NAME.fullmatch(str(r.props.get("secretName"))))


def production_is_protected(r: Resource, _: Context) -> list[str]:
    if r.stack != "production" or r.type not in (VAULT, KEY, SECRET) or r.protect:
        return []
    if r.type == SECRET and _is_jwt_generation(r):
        return []
    return [f"{r.name}: production vaults, keys and secrets must be protected (protect: true)"]


def production_key_in_hsm(r: Resource, _: Context) -> list[str]:
    if r.stack != "production" or r.type != KEY or r.props.get("protectionMode", "HSM") == "HSM":
        return []
    return [f"{r.name}: production keys belong in an HSM (protectionMode {r.props.get('protectionMode')})"]


def production_has_deny_statements(resources: Sequence[Resource], _: Context) -> list[str]:
    """A stack rule: Deny statements may sit in any of the stack's IAM policies."""
    policies = [r for r in resources if r.type == POLICY]
    if not policies or policies[0].stack != "production":
        return []
    if any(s.startswith("Deny ") for p in policies for s in _statements(p)):
        return []
    return ["production: no IAM policy holds a Deny statement; enable Deny policies in the tenancy and set iam.denyOtherWorkloads"]


RULES: tuple[Rule, ...] = (
    Rule("key-aes-256", "Every KMS key is AES with a 32-byte length.", "mandatory", key_is_aes_256),
    Rule("key-rotation", "Production and staging keys rotate automatically, within CIS and preset limits.",
         "mandatory", key_rotates, configured=True),
    Rule("native-rotation-vault-type", "Native auto-rotation only on VIRTUAL_PRIVATE vaults.", "mandatory",
         stack_check=native_rotation_needs_virtual_private_vault),
    Rule("secrets-own-vault-and-key", "Every secret uses this stack's own vault and key.", "mandatory",
         stack_check=secrets_use_own_vault_and_key),
    Rule("replicas-everywhere", "Once a stack replicates, or the guardrail authority records its standby cluster, "
         "every secret a failover needs replicates to the same vault and key, the one the standby cluster reads.",
         "mandatory", stack_check=replicas_everywhere, configured=True),
    Rule("replicas-elsewhere", "Replicas live in another region (at most three), read-only.", "mandatory",
         replicas_elsewhere),
    Rule("iam-isolation", "No bare any-user; no statement names another environment.", "mandatory",
         iam_statements_isolated, configured=True),
    Rule("sync-namespaced", "ExternalSecrets and stores live in the environment's namespace; no cluster store.",
         "mandatory", sync_stays_in_namespace, configured=True),
    Rule("neighbours-refused", "Everything sits in its own environment's compartment, cluster and namespace, as "
         "the guardrail authority assigns them, on a cluster its provider names; one operator install per cluster.", "mandatory", neighbours_refused,
         configured=True),
    Rule("one-provider-per-cluster", "No two Kubernetes provider configurations of a stack claim the same cluster.",
         "mandatory", stack_check=one_provider_per_cluster),
    Rule("production-protected", "Production vault, key and secrets are protected.", "mandatory",
         production_is_protected),
    Rule("manual-rotation", "Manual key rotation is reported.", "advisory", manual_rotation_reported),
    Rule("production-hsm", "Production keys use HSM protection.", "advisory", production_key_in_hsm),
    Rule("production-deny", "Production writes explicit Deny statements.", "advisory",
         stack_check=production_has_deny_statements),
)


def violations(resources: Sequence[Resource], config: Mapping[str, Mapping[str, Any]]) -> list[tuple[Rule, str]]:
    """Every rule over a whole stack, each with its own policy's config, as the offline plan reports them."""
    found = []
    for rule in RULES:
        ctx = context_from(config.get(rule.name) or {})
        if rule.resource_check:
            found += [(rule, message) for r in resources for message in rule.resource_check(r, ctx)]
        if rule.stack_check:
            found += [(rule, message) for message in rule.stack_check(resources, ctx)]
    return found


def context_from(config: Mapping[str, Any]) -> Context:
    """A policy's config, validated at Configure (`ecommerce_config`); empty for rules that read none."""
    return Context(
        environments={env: plain(ids) for env, ids in (config.get("environments") or {}).items()},
        # Numbers from the engine arrive as floats (90 → 90.0): the schema allows whole numbers only.
        max_rotation_days={env: int(days) for env, days in (config.get("maxRotationDays") or {}).items()},
    )
