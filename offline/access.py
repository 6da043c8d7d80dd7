"""Who can read, write and delete which environment's secrets, computed from the generated statements.

An evaluator of the OCI policy statements the program emits, with OCI's own rules:

    (Allow|Deny) <subject> to <verb> <resource-type> in (tenancy | compartment id <ocid>) [where <conditions>]

- subject: `any-user`, or `group '<domain>'/'<name>'` (principals in that group);
- verb and resource type: the permissions OCI's Vault policy reference lists for that
  combination (`PERMISSIONS`; cumulative: inspect < read < use < manage), `secret-family`
  being its three secret types; `policies` is known and grants no Vault permission;
- conditions: one `<variable> (=|!=) '<value>'`, or `all {…}` / `any {…}` of them, compared
  without regard to case. A variable that does not apply to the request (`target.key.id`
  on a vault, any target variable on a list or create request) makes its condition false:
  an Allow then declines, a Deny does not apply. `request.permission` is the permission
  being checked, which is how a condition carves permissions out of a verb;
- a request is allowed when some Allow matches it and no Deny does (Deny beats Allow);
- an API operation needs every permission the reference lists for it (`OPERATIONS`).

Anything outside this grammar (another subject kind, a pattern, a nested block, a variable
the evaluator does not know) raises `UnsupportedStatement`: it is never counted as "blocked".
Sources: https://docs.oracle.com/en-us/iaas/Content/Identity/Reference/keypolicyreference.htm
(verbs, permissions, variables, API operations),
https://docs.oracle.com/en-us/iaas/Content/Identity/Concepts/policyadvancedfeatures.htm
(conditions; variables not applicable to a request).

The matrix's rows are every identity that holds an IAM right here: each environment's sync
identity (with the services of its namespace, which read through the SecretStores there), each
group its IAM stack names, by role (the deploying CI identity included), each environment's
previewing CI identity (no IAM grant here, but the stack's passphrase), and the IAM administrators
who run the IAM program. Its columns are each environment's secrets. Each cell says whether that
identity can read values, write new versions, and delete the vault, the key and each kind of
secret through the generated statements (checked against what its tier promises,
`components/presets.py`), and which further chains reach them (`Chain`): writing a policy, the
stack's secret config that a CI job holding the passphrase decrypts, or a kubeconfig that may
create ExternalSecrets in a namespace whose store can read. A cell is "blocked" only when neither
reaches it.
"""

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from components.iam_settings import IAM_PROJECT, IamStackSettings, load_iam_settings
from components.naming import PROJECT, SecretKind, oci_secret_name
from components.presets import SYNC, TIERS, Promise
from components.regions import OCI_REGIONS
from components.stack_config import load_stack_settings, project_keys
from offline.harness import POLICY_TYPE, ProgramRun, placeholder

VERBS: Final = ("inspect", "read", "use", "manage")

# What each verb adds, per Vault resource type ("Details for Verb + Resource-Type Combinations").
PERMISSIONS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "vaults": {
        "inspect": ("VAULT_INSPECT",),
        "read": ("VAULT_READ",),
        "use": ("VAULT_CREATE_KEY", "VAULT_IMPORT_KEY", "VAULT_CREATE_SECRET"),
        "manage": (
            "VAULT_CREATE", "VAULT_UPDATE", "VAULT_DELETE", "VAULT_MOVE", "VAULT_BACKUP", "VAULT_RESTORE",
            "VAULT_REPLICATE",
        ),
    },
    "keys": {
        "inspect": ("KEY_INSPECT",),
        "read": ("KEY_READ",),
        "use": ("KEY_ENCRYPT", "KEY_DECRYPT", "KEY_EXPORT", "KEY_SIGN", "KEY_VERIFY"),
        "manage": (
            "KEY_CREATE", "KEY_UPDATE", "KEY_ROTATE", "KEY_DELETE", "KEY_MOVE", "KEY_IMPORT", "KEY_BACKUP",
            "KEY_RESTORE",
        ),
    },
    "key-delegate": {"use": ("KEY_ASSOCIATE", "KEY_DISASSOCIATE")},
    "secrets": {
        "inspect": ("SECRET_INSPECT",),
        "read": ("SECRET_READ",),
        "use": ("SECRET_UPDATE",),
        "manage": ("SECRET_CREATE", "SECRET_DELETE", "SECRET_MOVE"),
    },
    "secret-versions": {
        "inspect": ("SECRET_VERSION_INSPECT",),
        "read": ("SECRET_VERSION_READ",),
        "manage": ("SECRET_VERSION_DELETE",),
    },
    "secret-bundles": {"inspect": ("SECRET_BUNDLE_INSPECT",), "read": ("SECRET_BUNDLE_READ",)},
}
FAMILIES: Final = {"secret-family": ("secrets", "secret-versions", "secret-bundles")}
# Named by the deployer's statements (its topic, subscriptions and Events rule) and the Events
# service's (the topic), and `policies` (granted by no generated statement, but read if one does):
# they grant IAM, Notifications or Events permissions, never a Vault one.
NON_VAULT_RESOURCES: Final = ("policies", "ons-topics", "ons-subscriptions", "cloudevents-rules")
# A Vault type outside secret-family (Vault policy reference): it configures where a secret replicates,
# and grants none of the permissions a cell is made of (reading a value, writing a version, deleting).
REPLICATION_RESOURCES: Final = ("secret-replication",)
RESOURCE_OF: Final = {p: resource for resource, verbs in PERMISSIONS.items() for ps in verbs.values() for p in ps}

# The target variables OCI documents per resource type; the request variables apply to every request.
TARGET_VARIABLES: Final = {
    "vaults": ("target.vault.id",),
    "keys": ("target.key.id",),
    "policies": ("target.policy.name",),
    "secrets": ("target.secret.name",),
    "secret-versions": ("target.secret.name",),
    "secret-bundles": ("target.secret.name",),
}
REQUEST_VARIABLES: Final = (
    "request.permission",
    "request.principal.type",
    "request.principal.namespace",
    "request.principal.service_account",
    "request.principal.cluster_id",
    "request.region",
)
VARIABLES: Final = {*REQUEST_VARIABLES, *(v for vs in TARGET_VARIABLES.values() for v in vs)}


@dataclass(frozen=True)
class Operation:
    """An API operation and the permissions it needs, each marked if the request names its target
    (GetKey names a key; ListKeys and CreateSecret's SECRET_CREATE name none yet)."""

    name: str
    needs: tuple[tuple[str, bool], ...]


def _operation(name: str, *needs: tuple[str, bool]) -> Operation:
    return Operation(name, needs)


# "Permissions Required for Each API Operation", for the operations the matrix and tests ask about.
OPERATIONS: Final = {
    op.name: op
    for op in (
        _operation("GetSecretBundleByName", ("SECRET_BUNDLE_READ", True)),
        _operation("UpdateSecret", ("SECRET_UPDATE", True)),
        _operation("ScheduleSecretDeletion", ("SECRET_DELETE", True)),
        _operation("ScheduleKeyDeletion", ("KEY_DELETE", True)),
        _operation("ScheduleVaultDeletion", ("VAULT_DELETE", True)),
        _operation("CreateKeyVersion", ("KEY_ROTATE", True)),
        _operation(
            "CreateSecret",
            ("KEY_ENCRYPT", True), ("KEY_DECRYPT", True), ("SECRET_CREATE", False), ("VAULT_CREATE_SECRET", True),
        ),
        _operation("ListVaults", ("VAULT_INSPECT", False)),
        _operation("ListKeys", ("KEY_INSPECT", False)),
        _operation("ListSecrets", ("SECRET_INSPECT", False)),
        _operation("GetVault", ("VAULT_READ", True)),
        _operation("GetKey", ("KEY_READ", True)),
        _operation("GetSecret", ("SECRET_READ", True)),
    )
}
READ_VALUES: Final = "GetSecretBundleByName"
WRITE_VERSION: Final = "UpdateSecret"
DELETIONS: Final = {
    "vault": "ScheduleVaultDeletion",
    "key": "ScheduleKeyDeletion",
    "database URLs": "ScheduleSecretDeletion",
    "JWT generations": "ScheduleSecretDeletion",
}
# Each kind of secret is judged by one secret of it (target.secret.name): deletion grants differ by name.
SECRET_OF_DELETION: Final[dict[str, SecretKind]] = {"database URLs": "database-url", "JWT generations": "jwt-secret"}

ASSUMPTIONS: Final = [
    "Only each environment's deployer (and cluster administrators) may create SecretStores, "
    "ExternalSecrets or service-account tokens in that environment's namespace: whoever can, "
    "reads that environment's secrets (the chains through the cluster).",
    "Services read secrets only through the Kubernetes Secrets that ESO writes in their own namespace.",
    "No other policy in the tenancy grants these groups or workloads access to the vaults "
    "(only the statements the IAM program generates are evaluated), and only the IAM administrators "
    "hold `manage policies`.",
    "Placeholder OCIDs stand for distinct real ones: each environment has its own compartment "
    "(the guardrail authority), holding the one vault and key its stack creates.",
    "Reading and writing are judged by one service's database URL; deleting by it and by that service's "
    "current JWT secret. The strict tier's deployer may schedule the deletion of any JWT secret generation "
    "(names like *.jwt-secret*), the current one included, since every JWT rotation retires one and a "
    "name pattern cannot tell them apart; a scheduled deletion can be cancelled for 30 days.",
    "The CI jobs that run `pulumi preview` or `pulumi up` hold the stack's passphrase, so they decrypt its "
    "secret config (the database URLs) whatever their OCI rights (the chain through the secret config).",
]


class UnsupportedStatement(ValueError):
    pass


@dataclass(frozen=True)
class Condition:
    variable: str
    equal: bool
    value: str  # as written: 'exact' without its quotes, or a /pattern/ with its slashes

    @property
    def pattern(self) -> bool:
        return self.value.startswith("/")

    def matches(self, actual: str) -> bool:
        """OCI compares case-insensitively; a pattern starts with, ends with or contains its text."""
        actual = actual.casefold()
        if not self.pattern:
            return actual == self.value.casefold()
        text = self.value.strip("/").casefold()
        if text.startswith("*") and text.endswith("*"):
            return text.strip("*") in actual
        if text.endswith("*"):
            return actual.startswith(text[:-1])
        return actual.endswith(text[1:])


@dataclass(frozen=True)
class Statement:
    text: str
    effect: str
    subject: str  # "any-user", "<domain>/<group>", or "service <name>" (an OCI service: no person, no workload)
    verb: str
    resource: str
    compartment_id: str | None  # None: the whole tenancy
    where: str  # the condition text as written; "" for none
    quantifier: str  # "all" or "any"
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Principal:
    kind: str  # "workload" or "user"
    namespace: str = ""
    service_account: str = ""
    cluster_id: str = ""
    groups: frozenset[str] = frozenset()  # "<domain>/<group>"


@dataclass(frozen=True)
class Request:
    """One permission check: who, which permission, where, and the target variables it carries."""

    principal: Principal
    permission: str
    compartment_id: str
    targets: Mapping[str, str]
    region: str = ""  # the key of the region the request is made in (FRA, AMS)


_STATEMENT = re.compile(
    r"^(?P<effect>Allow|Deny) (?P<subject>any-user|group '(?P<domain>[^']+)'/'(?P<group>[^']+)'|service (?P<service>[A-Za-z]+))"
    r" to (?P<verb>\S+) (?P<resource>\S+) in (?P<location>tenancy|compartment id \S+)(?: where (?P<conditions>.+))?$"
)
# A value is 'quoted', or an OCI pattern: /text*/, /*text/ or /*text*/ (no other wildcard).
_CONDITION = re.compile(
    r"^(?P<variable>[a-z_.]+) (?P<op>=|!=) (?:'(?P<value>[^']*)'|(?P<pattern>/(?:\*[^*/]+\*?|[^*/]+\*)/))$"
)
_BLOCK = re.compile(r"^(?P<kind>all|any) \{(?P<body>[^{}]*)\}$")


def parse(text: str) -> Statement:
    match = _STATEMENT.match(text)
    if not match or match["verb"] not in VERBS:
        raise UnsupportedStatement(f"cannot parse policy statement: {text}")
    if match["resource"] not in (*PERMISSIONS, *FAMILIES, *NON_VAULT_RESOURCES, *REPLICATION_RESOURCES):
        raise UnsupportedStatement(f"unknown resource type {match['resource']!r} in: {text}")
    quantifier, conditions = "all", ()
    if match["conditions"]:
        block = _BLOCK.match(match["conditions"])
        quantifier = block["kind"] if block else "all"
        parts = block["body"].split(", ") if block else [match["conditions"]]
        conditions = tuple(_condition(part.strip(), text) for part in parts)
    location = match["location"]
    return Statement(
        text=text,
        effect=match["effect"],
        subject=match["subject"] if match["group"] is None else f"{match['domain']}/{match['group']}",
        verb=match["verb"],
        resource=match["resource"],
        compartment_id=None if location == "tenancy" else location.removeprefix("compartment id "),
        where=match["conditions"] or "",
        quantifier=quantifier,
        conditions=conditions,
    )


def _condition(text: str, statement: str) -> Condition:
    match = _CONDITION.match(text)
    if not match or match["variable"] not in VARIABLES:
        raise UnsupportedStatement(f"cannot evaluate condition {text!r} in: {statement}")
    return Condition(match["variable"], match["op"] == "=", match["value"] if match["pattern"] is None else match["pattern"])


def granted(verb: str, resource: str) -> set[str]:
    """Every permission `<verb> <resource>` grants: its own verb's and every lesser one's."""
    types = FAMILIES.get(resource, (resource,))
    lesser = VERBS[: VERBS.index(verb) + 1]
    return {p for t in types for v in lesser for p in PERMISSIONS.get(t, {}).get(v, ())}


def variables(request: Request) -> dict[str, str]:
    """The variables that apply to `request`, with their values; no others."""
    p = request.principal
    found = {"request.permission": request.permission, "request.principal.type": p.kind, "request.region": request.region}
    if p.kind == "workload":
        found |= {
            "request.principal.namespace": p.namespace,
            "request.principal.service_account": p.service_account,
            "request.principal.cluster_id": p.cluster_id,
        }
    applicable = TARGET_VARIABLES.get(RESOURCE_OF[request.permission], ())
    return found | {name: value for name, value in request.targets.items() if name in applicable}


def conditions_hold(statement: Statement, request: Request) -> bool:
    """The `where` clause alone; a condition on a variable the request lacks is false, even `!=`."""
    known = variables(request)
    results = [c.variable in known and c.matches(known[c.variable]) == c.equal for c in statement.conditions]
    return all(results) if statement.quantifier == "all" else any(results)


def matches(statement: Statement, request: Request) -> bool:
    if statement.subject != "any-user" and statement.subject not in request.principal.groups:
        return False
    if request.permission not in granted(statement.verb, statement.resource):
        return False
    if statement.compartment_id is not None and statement.compartment_id != request.compartment_id:
        return False
    return conditions_hold(statement, request)


def allowed(statements: Iterable[Statement], request: Request) -> bool:
    relevant = [s for s in statements if matches(s, request)]
    return any(s.effect == "Allow" for s in relevant) and not any(s.effect == "Deny" for s in relevant)


# --- the environments and identities, as the program generated them -----------------------


@dataclass(frozen=True)
class Environment:
    """A column: an environment's secrets in one region (its own, or its replica region)."""

    name: str  # the column's key: the environment, or "<environment> replicas"
    tier: str
    compartment_id: str
    targets: Mapping[str, str]  # target variable -> this region's vault and key OCIDs, a database URL's name
    namespace: str
    region: str = ""  # the region's key (FRA, AMS)
    replica_of: str | None = None  # the environment whose replicas these are
    # secret kind -> one secret of that kind (SECRET_OF_DELETION)
    secret_names: Mapping[str, str] = dataclasses.field(default_factory=dict)
    urls_in_config: bool = True  # some database URL is in the stack's secret config (not adopted)

    @property
    def owner(self) -> str:
        return self.replica_of or self.name

    def with_secret(self, kind: str) -> "Environment":
        """The same environment, its requests naming a secret of `kind`."""
        return dataclasses.replace(self, targets={**self.targets, "target.secret.name": self.secret_names[kind]})

    def requests(self, principal: Principal, operation: Operation) -> list[Request]:
        return [
            Request(principal, permission, self.compartment_id, self.targets if targeted else {}, self.region)
            for permission, targeted in operation.needs
        ]

    @property
    def title(self) -> str:
        return f"{self.owner.capitalize()} secrets" + (" (replicas)" if self.replica_of else "")


@dataclass(frozen=True)
class Identity:
    """A row of the matrix: an environment's sync identity (and its services), or one of its groups."""

    environment: str
    role: str  # "sync", "standbySync", or the tier's role name
    label: str
    principals: tuple[Principal, ...]
    promise: Promise
    # The columns of its environment its promise holds in: a standby cluster's sync identity reads replicas only.
    replicas_only: bool = False


SYNC_ROLES: Final = ("sync", "standbySync")


@dataclass(frozen=True)
class Chain:
    """A way to an environment's secrets beside the identity's own IAM grants, and what closes it."""

    reaches: "Access"  # what it reaches on the environment's own secrets (on replicas: on_replicas)
    through: str
    closed_by: str
    short: str  # "through …", as a table cell names it


@dataclass(frozen=True)
class Access:
    read: bool
    write: bool
    deletes: frozenset[str]  # of DELETIONS' keys

    def render(self) -> str:
        parts = [name for name, on in (("read", self.read), ("write", self.write)) if on]
        if self.deletes == frozenset(DELETIONS):
            parts.append("delete")
        elif self.deletes:
            parts.append("delete " + " and ".join(d for d in DELETIONS if d in self.deletes))
        return ", ".join(parts) if parts else "none"


NO_ACCESS: Final = Access(False, False, frozenset())


def promised(promise: Promise) -> Access:
    deletes = DELETIONS if promise.delete else ("JWT generations",) if promise.delete_jwt_generations else ()
    return Access(promise.read, promise.write, frozenset(deletes))


def on_replicas(access: Access) -> Access:
    """What `access` amounts to on replicas: OCI refuses every write and deletion of a replica whatever IAM
    grants (OCI, "Replicating Secrets"; terraform-provider-oci internal/service/vault/vault_secret_resource.go,
    `Update`/`Delete` refuse when `is_replica`). Their vault and key are ordinary resources of the stack."""
    return dataclasses.replace(access, write=False, deletes=access.deletes - frozenset(SECRET_OF_DELETION))


@dataclass(frozen=True)
class Store:
    namespace: str
    vault_id: str
    principal: Principal


def stores(run: ProgramRun) -> list[Store]:
    """Every SecretStore a stack creates, with the workload identity it authenticates as (on the cluster
    its Kubernetes provider names)."""
    clusters = {r.urn: str(r.inputs["clusterIdentifier"]) for r in run.of_type("pulumi:providers:kubernetes")}
    found = []
    for registration in run.of_type("kubernetes:external-secrets.io/v1:SecretStore"):
        # A provider reference is "<urn>::<id>".
        cluster_id = clusters[registration.provider.rsplit("::", 1)[0]]
        manifest = registration.plain_inputs
        oracle = manifest["spec"]["provider"]["oracle"]
        namespace = manifest["metadata"]["namespace"]
        # Without serviceAccountRef, ESO authenticates as its own controller's account.
        account = oracle.get("serviceAccountRef", {}).get("name", "external-secrets")
        found.append(Store(namespace, oracle["vault"], Principal("workload", namespace, account, cluster_id)))
    return found


def iam_settings_of(iam_run: ProgramRun) -> IamStackSettings:
    prefix = f"{IAM_PROJECT}:"
    return load_iam_settings({k[len(prefix):]: v for k, v in iam_run.config.items() if k.startswith(prefix)}, iam_run.stack)


def _environment_and_identities(
    run: ProgramRun, iam_run: ProgramRun, all_stores: list[Store]
) -> tuple[list[Environment], list[Identity]]:
    settings = load_stack_settings(project_keys(run.config), run.stack)
    access = iam_settings_of(iam_run)
    # A database URL stands for the secrets a grant reads or writes; deletion is judged per kind
    # (the strict deployer may delete JWT generations, which every rotation retires: ASSUMPTIONS).
    keys = {k.name: k for k in run.of_type("oci:Kms/key:Key")}
    environments = []
    for vault in run.of_type("oci:Kms/vault:Vault"):
        replicas = vault.name.endswith("-recovery-vault")
        key = keys[vault.name.removesuffix("vault") + "key"]
        region = settings.disaster_recovery.region if replicas and settings.disaster_recovery else settings.region
        environments.append(Environment(
            name=f"{run.stack} replicas" if replicas else run.stack,
            tier=access.iam.tier,
            compartment_id=vault.inputs["compartmentId"],
            targets={
                "target.vault.id": placeholder(f"{vault.name}-id"),
                "target.key.id": placeholder(f"{key.name}-id"),
                "target.secret.name": oci_secret_name(settings.services[0], "database-url"),
            },
            namespace=settings.kubernetes.namespace,
            region=OCI_REGIONS[region].key,
            replica_of=run.stack if replicas else None,
            secret_names={kind: oci_secret_name(settings.services[0], kind) for kind in SECRET_OF_DELETION.values()},
            urls_in_config=bool(set(settings.services) - set(settings.adopt.database_url_secrets)),
        ))
    environments.sort(key=lambda e: e.replica_of is not None)
    # The services read through every store of their namespace on their cluster, whichever identity it uses.
    identities = []
    recovery = settings.disaster_recovery
    for role, k, replicas_only in (
        ("sync", settings.kubernetes, False),
        *((("standbySync", recovery.standby, True),) if recovery and recovery.standby else ()),
    ):
        services = tuple(s.principal for s in all_stores if (s.namespace, s.principal.cluster_id) == (k.namespace, k.cluster_id))
        where = " on the standby cluster" if replicas_only else ""
        identities.append(Identity(run.stack, role, f"{SYNC.label} ({k.namespace}/{k.service_account}{where})", services,
                                   SYNC.promise, replicas_only))
    roles = TIERS[access.iam.tier]
    for role, group in access.iam.role_groups().items():
        member = Principal("user", groups=frozenset({f"{access.iam.identity_domain}/{group}"}))
        identities.append(Identity(run.stack, role, f"{roles[role].label} ({group})", (member,), roles[role].promise))
    # Granted nothing by the IAM program (docs/pipeline.md lists its read-only statements), but it holds
    # the stack's passphrase: what it reaches, it reaches through the secret config.
    identities.append(Identity(run.stack, "preview", f"previewing CI identity (`{run.stack}-preview`)", (), NO_PROMISE))
    return environments, identities


NO_PROMISE: Final = Promise(read=False, write=False, delete=False)
# Who runs the IAM program: `manage policies` in the tenancy, granted outside this project.
IAM_ADMINISTRATORS: Final = Identity("tenancy", "iamAdmin", "IAM administrators (run the IAM program)", (), NO_PROMISE)
WRITING_POLICIES: Final = Chain(
    Access(True, True, frozenset(DELETIONS)), "writing a policy that grants it (manage policies)",
    "nothing in this project: keep the group small, its CI job behind its own reviewed environment "
    "(`iam-<env>`), and the IAM program's files owned by the IAM administrators (CODEOWNERS)",
    "by writing a policy",
)


THROUGH_THE_SECRET_CONFIG: Final = Chain(
    Access(True, False, frozenset()),
    "the stack's secret config: `pulumi preview` and `pulumi up` decrypt the database URLs with the stack's "
    "passphrase (held by the `<env>` and `<env>-preview` GitHub environments) to create the secrets, and the "
    "state holds them encrypted with the same passphrase",
    "adopting a vault, key and database-URL secrets that the administrators created and wrote the values into "
    "(`adopt.vaultId`, `adopt.keyId`, and `adopt.databaseUrlSecrets` for every service: docs/adoption.md), so "
    "that no URL is in the stack's config or state (OCI never returns a secret's content); another secrets "
    "provider does not close it, since the CLI decrypts the config for the program in the same job",
    "through the secret config",
)
THROUGH_THE_CLUSTER: Final = Chain(
    Access(True, False, frozenset()),
    "the deployer's kubeconfig, which may create ExternalSecrets in the environment's namespace (whose "
    "SecretStore reads every service secret) and read the Secrets they become",
    "a deployer whose Kubernetes role in the namespace may manage SecretStores, ExternalSecrets and the sync "
    "service account but not read Secrets, create pods or bind roles, an admission policy admitting there only "
    "SecretStores of the oracle provider as the sync identity's workload (no webhook store to send a value out), "
    "with ESO and Reloader installed by the platform team (deployer-access.yaml of `offline.plan --out`; docs/isolation.md, 'Closing the cluster chain')",
    "through the cluster",
)


def policy_statements(iam_runs: Iterable[ProgramRun]) -> list[Statement]:
    """Every statement of every policy the IAM program writes."""
    return [
        parse(text)
        for run in iam_runs
        for policy in run.of_type(POLICY_TYPE)
        for text in policy.plain_inputs["statements"]
    ]


@dataclass(frozen=True)
class AccessMatrix:
    environments: list[Environment]
    rows: dict[Identity, dict[str, Access]]
    # Beside the IAM grants: (identity, owner) -> the chains that reach owner's secrets.
    chains: dict[tuple[Identity, str], list[Chain]]

    def expected(self, identity: Identity, column: str) -> Access:
        [environment] = [e for e in self.environments if e.name == column]
        own = environment.owner == identity.environment and (environment.replica_of or not identity.replicas_only)
        if not own:
            return NO_ACCESS
        return on_replicas(promised(identity.promise)) if environment.replica_of else promised(identity.promise)

    def violations(self) -> list[tuple[Identity, str]]:
        """(row, column) of every cell that differs from what the row's tier promises."""
        return [
            (identity, owner)
            for identity, cells in self.rows.items()
            for owner, access in cells.items()
            if access != self.expected(identity, owner)
        ]

    def blocked(self, identity: Identity, owner: str) -> bool:
        """No IAM grant and no chain reaches `owner`'s secrets."""
        return self.rows[identity][owner] == NO_ACCESS and not self.chains.get((identity, owner))


def can(statements: list[Statement], principals: Iterable[Principal], operation: str, owner: Environment) -> bool:
    return any(
        all(allowed(statements, request) for request in owner.requests(p, OPERATIONS[operation])) for p in principals
    )


def access_matrix(runs: list[ProgramRun], iam_runs: list[ProgramRun]) -> AccessMatrix:
    """The matrix of the environment stacks `runs` and the IAM stacks `iam_runs` (same stack names)."""
    statements = policy_statements(iam_runs)
    iam_of = {run.stack: run for run in iam_runs}
    all_stores = [store for run in runs for store in stores(run)]
    environments, identities = [], []
    for run in runs:
        columns, named = _environment_and_identities(run, iam_of[run.stack], all_stores)
        environments += columns
        identities += named
    identities.append(IAM_ADMINISTRATORS)

    def cell(identity: Identity, owner: Environment) -> Access:
        access = Access(
            read=can(statements, identity.principals, READ_VALUES, owner),
            write=can(statements, identity.principals, WRITE_VERSION, owner),
            deletes=frozenset(
                d for d, op in DELETIONS.items()
                if can(statements, identity.principals, op, owner.with_secret(SECRET_OF_DELETION[d]) if d in SECRET_OF_DELETION else owner)
            ),
        )
        return on_replicas(access) if owner.replica_of else access

    rows = {i: {e.name: cell(i, e) for e in environments} for i in identities}
    chains: dict[tuple[Identity, str], list[Chain]] = {(IAM_ADMINISTRATORS, e.name): [WRITING_POLICIES] for e in environments}
    # A grant of `manage policies` in a generated statement would be the same chain; none may exist.
    writers = {s.subject for s in statements if s.resource == "policies" and s.verb == "manage"}
    clusters = {run.stack: run.config[f"{PROJECT}:kubernetes"]["clusterId"] for run in runs}
    column_cluster = {
        e.name: (run.config.get(f"{PROJECT}:disasterRecovery", {}).get("standby", {}).get("clusterId")
                 if e.replica_of else clusters[run.stack])
        for run in runs for e in environments if e.owner == run.stack
    }
    installs = {run.stack: bool(run.of_type("kubernetes:helm.sh/v3:Release")) for run in runs}
    for identity in identities:
        for owner in environments:
            found = chains.setdefault((identity, owner.name), [])
            if any(g in writers for p in identity.principals for g in p.groups):
                found.append(WRITING_POLICIES)
            # The deployer's kubeconfig reaches its own namespace, and on a cluster where it installs the
            # operators (cluster-wide rights), every namespace of that cluster, where the store there reads.
            # (Its kubeconfig holds the standby cluster's context too: replicas are reached the same way there.)
            same_cluster = clusters.get(identity.environment) == column_cluster[owner.name] and installs.get(identity.environment)
            store_reads = any(
                rows[i][owner.name].read for i in identities if i.environment == owner.owner and i.role in SYNC_ROLES
            )
            # The secret config holds the database URLs themselves: their replicas hold the same values.
            if identity.role in ("deployer", "preview") and identity.environment == owner.owner and owner.urls_in_config:
                found.append(THROUGH_THE_SECRET_CONFIG)
            if identity.role == "deployer" and store_reads and (identity.environment == owner.owner or same_cluster):
                found.append(THROUGH_THE_CLUSTER)
    return AccessMatrix(environments, rows, {k: v for k, v in chains.items() if v})


def row_title(identity: Identity) -> str:
    return identity.label if identity is IAM_ADMINISTRATORS else f"{identity.environment.capitalize()} {identity.label}"


def render_matrix(matrix: AccessMatrix) -> str:
    owners = [e.name for e in matrix.environments]
    chain_number: dict[Chain, int] = {}
    for found in matrix.chains.values():
        for chain in found:
            chain_number.setdefault(chain, len(chain_number) + 1)
    lines = [
        "| Identity | " + " | ".join(e.title for e in matrix.environments) + " |",
        "|---|" + "---|" * len(owners),
    ]
    replicas = {e.name for e in matrix.environments if e.replica_of}
    for identity, cells in matrix.rows.items():
        shown = []
        for owner in owners:
            access, expected = cells[owner], matrix.expected(identity, owner)
            text = "❌ blocked" if access == NO_ACCESS else f"✅ {access.render()}"
            if access != expected:
                text = f"⚠️ **{access.render()}** (promised: {expected.render()})"
            chains = matrix.chains.get((identity, owner), [])
            if chains:
                text = ("" if access == NO_ACCESS else text + "; ") + "; ".join(
                    f"🔗 {(on_replicas(c.reaches) if owner in replicas else c.reaches).render()} (chain {chain_number[c]})"
                    for c in chains
                )
            shown.append(text)
        lines.append(f"| **{row_title(identity)}** | " + " | ".join(shown) + " |")
    lines += [
        "",
        "Cells: read = secret values (GetSecretBundleByName); write = new secret versions "
        "(UpdateSecret); delete = scheduling the deletion of the vault, the key and the secrets (database URLs, "
        "JWT generations), through the identity's own IAM grants. 🔗 = reached by a chain beside them; "
        "❌ = neither reaches it."
        + (" Replicas are read-only: OCI refuses to write or delete one whatever IAM grants (a change to the "
           "source reaches them), so a replicas column shows at most read and the deletion of the replicas' own "
           "vault and key." if any(e.replica_of for e in matrix.environments) else ""),
        "",
        "Chains:",
        *(f"{n}. through {c.through}; closed by {c.closed_by}." for c, n in chain_number.items()),
        "",
        "Assumptions:",
    ] + [f"- {a}" for a in ASSUMPTIONS]
    return "\n".join(lines) + "\n"
