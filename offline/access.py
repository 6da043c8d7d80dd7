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

The matrix's rows are every identity the stacks name: each environment's sync identity (with
the services of its namespace, which read through the SecretStores there) and each group by
its role; its columns are each environment's secrets. Each cell says whether that identity
can read values, write new versions, and delete the vault, the key and the secrets; each row
is checked against what its tier promises (`components/presets.py`), nothing anywhere else.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from components.naming import PROJECT, oci_secret_name
from components.presets import SYNC, TIERS, Promise
from components.stack_config import load_stack_settings, project_keys
from offline.harness import ProgramRun, placeholder

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
# Named by the deployer's statements (its policies, topic, subscriptions and Events rule) and the
# Events service's (the topic): they grant IAM, Notifications or Events permissions, never a Vault one.
NON_VAULT_RESOURCES: Final = ("policies", "ons-topics", "ons-subscriptions", "cloudevents-rules")
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
DELETIONS: Final = {"vault": "ScheduleVaultDeletion", "key": "ScheduleKeyDeletion", "secrets": "ScheduleSecretDeletion"}

ASSUMPTIONS: Final = [
    "Only each environment's deployer (and cluster administrators) may create SecretStores, "
    "ExternalSecrets or service-account tokens in that environment's namespace: whoever can, "
    "reads that environment's secrets.",
    "Services read secrets only through the Kubernetes Secrets that ESO writes in their own namespace.",
    "No other policy in the tenancy grants these groups or workloads access to the vaults "
    "(only the statements this program generates, and the deployer's it prints, are evaluated).",
    "Placeholder OCIDs stand for distinct real ones: each environment has its own compartment, vault and key.",
    "A secret is judged by a database URL's: the strict tier's deployer may also schedule the "
    "deletion of any JWT secret generation (names like *.jwt-secret*), the current one included, "
    "since every JWT rotation retires one and a name pattern cannot tell them apart; a scheduled "
    "deletion can be cancelled for 30 days.",
    "The deploying CI identity writes every policy of its environment (ecommerce-<env>-*), so it "
    "could grant itself more in that compartment: its pipeline is guarded by reviewers "
    "(production) and the policy pack.",
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
    if match["resource"] not in (*PERMISSIONS, *FAMILIES, *NON_VAULT_RESOURCES):
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
    found = {"request.permission": request.permission, "request.principal.type": p.kind}
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
    name: str
    tier: str
    compartment_id: str
    targets: Mapping[str, str]  # target variable -> this environment's vault and key OCIDs
    namespace: str

    def requests(self, principal: Principal, operation: Operation) -> list[Request]:
        return [
            Request(principal, permission, self.compartment_id, self.targets if targeted else {})
            for permission, targeted in operation.needs
        ]


@dataclass(frozen=True)
class Identity:
    """A row of the matrix: an environment's sync identity (and its services), or one of its groups."""

    environment: str
    role: str  # "sync", or the tier's role name
    label: str
    principals: tuple[Principal, ...]
    promise: Promise


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
    return Access(promise.read, promise.write, frozenset(DELETIONS) if promise.delete else frozenset())


@dataclass(frozen=True)
class Store:
    namespace: str
    vault_id: str
    principal: Principal


def stores(run: ProgramRun) -> list[Store]:
    """Every SecretStore a stack creates, with the workload identity it authenticates as."""
    cluster_id = run.config[f"{PROJECT}:kubernetes"]["clusterId"]
    found = []
    for registration in run.of_type("kubernetes:external-secrets.io/v1:SecretStore"):
        manifest = registration.plain_inputs
        oracle = manifest["spec"]["provider"]["oracle"]
        namespace = manifest["metadata"]["namespace"]
        # Without serviceAccountRef, ESO authenticates as its own controller's account.
        account = oracle.get("serviceAccountRef", {}).get("name", "external-secrets")
        found.append(Store(namespace, oracle["vault"], Principal("workload", namespace, account, cluster_id)))
    return found


def _environment_and_identities(run: ProgramRun, all_stores: list[Store]) -> tuple[Environment, list[Identity]]:
    settings = load_stack_settings(project_keys(run.config), run.stack)
    [vault] = run.of_type("oci:Kms/vault:Vault")
    [key] = run.of_type("oci:Kms/key:Key")
    vault_id = placeholder(f"{vault.name}-id")
    environment = Environment(
        name=run.stack,
        tier=settings.iam.tier,
        compartment_id=vault.inputs["compartmentId"],
        # A database URL stands for "the secrets": the strict deployer may also delete JWT
        # generations, which every rotation retires (ASSUMPTIONS; components/presets.py, _deploy).
        targets={
            "target.vault.id": vault_id,
            "target.key.id": placeholder(f"{key.name}-id"),
            "target.secret.name": oci_secret_name(settings.services[0], "database-url"),
        },
        namespace=settings.kubernetes.namespace,
    )
    # The services read through every store of their namespace, whichever identity it uses.
    services = tuple(s.principal for s in all_stores if s.namespace == environment.namespace)
    workload = f"{settings.kubernetes.namespace}/{settings.kubernetes.service_account}"
    identities = [Identity(run.stack, "sync", f"{SYNC.label} ({workload})", services, SYNC.promise)]
    roles = TIERS[settings.iam.tier]
    for role, group in settings.iam.role_groups().items():
        member = Principal("user", groups=frozenset({f"{settings.iam.identity_domain}/{group}"}))
        identities.append(Identity(run.stack, role, f"{roles[role].label} ({group})", (member,), roles[role].promise))
    return environment, identities


def policy_statements(runs: Iterable[ProgramRun]) -> list[Statement]:
    """Every statement of every policy the stacks create, and the deployer's they print."""
    return [
        parse(text)
        for run in runs
        for text in [
            *(s for policy in run.of_type("oci:Identity/policy:Policy") for s in policy.plain_inputs["statements"]),
            *run.exports["deployerPolicy"].value,
        ]
    ]


@dataclass(frozen=True)
class AccessMatrix:
    environments: list[Environment]
    rows: dict[Identity, dict[str, Access]]

    def expected(self, identity: Identity, owner: str) -> Access:
        return promised(identity.promise) if owner == identity.environment else NO_ACCESS

    def violations(self) -> list[tuple[Identity, str]]:
        """(row, column) of every cell that differs from what the row's tier promises."""
        return [
            (identity, owner)
            for identity, cells in self.rows.items()
            for owner, access in cells.items()
            if access != self.expected(identity, owner)
        ]


def can(statements: list[Statement], principals: Iterable[Principal], operation: str, owner: Environment) -> bool:
    return any(
        all(allowed(statements, request) for request in owner.requests(p, OPERATIONS[operation])) for p in principals
    )


def access_matrix(runs: list[ProgramRun]) -> AccessMatrix:
    statements = policy_statements(runs)
    all_stores = [store for run in runs for store in stores(run)]
    environments, identities = [], []
    for run in runs:
        environment, named = _environment_and_identities(run, all_stores)
        environments.append(environment)
        identities += named

    def cell(identity: Identity, owner: Environment) -> Access:
        return Access(
            read=can(statements, identity.principals, READ_VALUES, owner),
            write=can(statements, identity.principals, WRITE_VERSION, owner),
            deletes=frozenset(d for d, op in DELETIONS.items() if can(statements, identity.principals, op, owner)),
        )

    return AccessMatrix(environments, {i: {e.name: cell(i, e) for e in environments} for i in identities})


def row_title(identity: Identity) -> str:
    return f"{identity.environment.capitalize()} {identity.label}"


def render_matrix(matrix: AccessMatrix) -> str:
    owners = [e.name for e in matrix.environments]
    lines = [
        "| Identity | " + " | ".join(f"{o.capitalize()} secrets" for o in owners) + " |",
        "|---|" + "---|" * len(owners),
    ]
    for identity, cells in matrix.rows.items():
        shown = []
        for owner in owners:
            access, expected = cells[owner], matrix.expected(identity, owner)
            text = "❌ blocked" if access == NO_ACCESS else f"✅ {access.render()}"
            if access != expected:
                text = f"⚠️ **{access.render()}** (promised: {expected.render()})"
            shown.append(text)
        lines.append(f"| **{row_title(identity)}** | " + " | ".join(shown) + " |")
    lines += [
        "",
        "Cells: read = secret values (GetSecretBundleByName); write = new secret versions "
        "(UpdateSecret); delete = scheduling the deletion of the vault, the key and the secrets.",
        "",
        "Assumptions:",
    ] + [f"- {a}" for a in ASSUMPTIONS]
    return "\n".join(lines) + "\n"
