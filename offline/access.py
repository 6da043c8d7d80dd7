"""Who can read which environment's secrets, computed from what the program generates.

A small evaluator of the OCI policy statement grammar the program emits:

    (Allow|Deny) <subject> to <verb> <resource-type> in <location> [where <conditions>]

- subject: `any-user`, or `group '<domain>'/'<name>'` (matches principals in that group);
- verb: inspect < read < use < manage (a statement grants its verb and every lesser one);
- resource type: a type, or a family (`secret-family` covers secrets, secret-versions,
  secret-bundles; `all-resources` covers everything);
- location: `tenancy`, or `compartment id <ocid>` (the compartment itself; the environments'
  compartments are siblings, so inheritance plays no part here);
- conditions: one `<variable> (=|!=) '<value>'`, or `all {…}` / `any {…}` of them, over the
  variables `request.principal.type|namespace|service_account|cluster_id` and `target.vault.id`.

A request is allowed when some Allow matches it and no Deny does (Deny beats Allow). A
statement outside this grammar raises `UnsupportedStatement`: it is never taken as "blocked".

The matrix's rows are each environment's sync identity and the services of its namespace,
which read only through the SecretStores of that namespace; its columns are each
environment's secrets (`read secret-bundles` in its compartment, on its vault).
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from components.naming import PROJECT
from offline.harness import ProgramRun

VERBS = ("inspect", "read", "use", "manage")
FAMILIES = {
    "secret-family": {"secrets", "secret-versions", "secret-bundles"},
    "key-family": {"keys", "key-delegate"},
}

_STATEMENT = re.compile(
    r"^(?P<effect>Allow|Deny) (?P<subject>any-user|group '[^']+'/'[^']+') to (?P<verb>\S+) (?P<resource>\S+)"
    r" in (?P<location>tenancy|compartment id \S+)(?: where (?P<conditions>.+))?$"
)
_CONDITION = re.compile(r"^(?P<variable>[a-z_.]+) (?P<op>=|!=) '(?P<value>[^']*)'$")
_BLOCK = re.compile(r"^(?P<kind>all|any) \{(?P<body>[^{}]*)\}$")
VARIABLES = {
    "request.principal.type",
    "request.principal.namespace",
    "request.principal.service_account",
    "request.principal.cluster_id",
    "target.vault.id",
}

ASSUMPTIONS = [
    "Only each environment's deployer (and cluster administrators) may create SecretStores, "
    "ExternalSecrets or service-account tokens in that environment's namespace: whoever can, "
    "reads that environment's secrets.",
    "Services read secrets only through the Kubernetes Secrets that ESO writes in their own namespace.",
    "No other policy in the tenancy grants `any-user` or these workloads access to the vaults "
    "(only the statements this program generates are evaluated).",
    "Placeholder OCIDs stand for distinct real ones: each environment has its own compartment and vault.",
]


class UnsupportedStatement(ValueError):
    pass


@dataclass(frozen=True)
class Condition:
    variable: str
    equal: bool
    value: str


@dataclass(frozen=True)
class Statement:
    text: str
    effect: str
    subject: str
    verb: str
    resource: str
    compartment_id: str | None  # None: the whole tenancy
    quantifier: str  # "all" or "any"
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Principal:
    kind: str
    namespace: str
    service_account: str
    cluster_id: str
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Request:
    principal: Principal
    verb: str
    resource: str
    compartment_id: str
    vault_id: str


def parse(text: str) -> Statement:
    match = _STATEMENT.match(text)
    if not match or match["verb"] not in VERBS:
        raise UnsupportedStatement(f"cannot parse policy statement: {text}")
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
        subject=match["subject"],
        verb=match["verb"],
        resource=match["resource"],
        compartment_id=None if location == "tenancy" else location.removeprefix("compartment id "),
        quantifier=quantifier,
        conditions=conditions,
    )


def _condition(text: str, statement: str) -> Condition:
    match = _CONDITION.match(text)
    if not match or match["variable"] not in VARIABLES:
        raise UnsupportedStatement(f"cannot evaluate condition {text!r} in: {statement}")
    return Condition(match["variable"], match["op"] == "=", match["value"])


def _variable(request: Request, name: str) -> str:
    p = request.principal
    return {
        "request.principal.type": p.kind,
        "request.principal.namespace": p.namespace,
        "request.principal.service_account": p.service_account,
        "request.principal.cluster_id": p.cluster_id,
        "target.vault.id": request.vault_id,
    }[name]


def matches(statement: Statement, request: Request) -> bool:
    if statement.subject != "any-user" and statement.subject not in request.principal.groups:
        return False
    if VERBS.index(statement.verb) < VERBS.index(request.verb):
        return False
    if statement.resource not in ("all-resources", request.resource) and request.resource not in FAMILIES.get(
        statement.resource, ()
    ):
        return False
    if statement.compartment_id is not None and statement.compartment_id != request.compartment_id:
        return False
    results = [(_variable(request, c.variable) == c.value) == c.equal for c in statement.conditions]
    return all(results) if statement.quantifier == "all" else any(results)


def allowed(statements: Iterable[Statement], request: Request) -> bool:
    relevant = [s for s in statements if matches(s, request)]
    return any(s.effect == "Allow" for s in relevant) and not any(s.effect == "Deny" for s in relevant)


# --- the environments, as the program generated them ------------------------------------


@dataclass(frozen=True)
class Environment:
    name: str
    compartment_id: str
    vault_id: str
    namespace: str
    sync_identity: Principal


@dataclass(frozen=True)
class Store:
    namespace: str
    vault_id: str
    principal: Principal


def _environment(run: ProgramRun) -> Environment:
    [vault] = run.of_type("oci:Kms/vault:Vault")
    [store] = stores(run)
    return Environment(
        name=run.stack,
        compartment_id=vault.inputs["compartmentId"],
        vault_id=f"<{vault.name}-id>",
        namespace=store.namespace,
        sync_identity=store.principal,
    )


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


def policy_statements(runs: Iterable[ProgramRun]) -> list[Statement]:
    return [
        parse(text)
        for run in runs
        for policy in run.of_type("oci:Identity/policy:Policy")
        for text in policy.plain_inputs["statements"]
    ]


def access_matrix(runs: list[ProgramRun]) -> dict[str, dict[str, bool]]:
    """matrix[reader][owner]: can `reader`'s sync identity or services read `owner`'s secrets?"""
    statements = policy_statements(runs)
    environments = {run.stack: _environment(run) for run in runs}
    all_stores = [store for run in runs for store in stores(run)]

    def can_read(principal: Principal, owner: Environment) -> bool:
        request = Request(principal, "read", "secret-bundles", owner.compartment_id, owner.vault_id)
        return allowed(statements, request)

    matrix: dict[str, dict[str, bool]] = {}
    for reader in environments.values():
        reader_stores = [s for s in all_stores if s.namespace == reader.namespace]
        matrix[reader.name] = {
            owner.name: can_read(reader.sync_identity, owner)
            or any(s.vault_id == owner.vault_id and can_read(s.principal, owner) for s in reader_stores)
            for owner in environments.values()
        }
    return matrix


def breaches(matrix: Mapping[str, Mapping[str, bool]]) -> list[tuple[str, str]]:
    return [(reader, owner) for reader, row in matrix.items() for owner, ok in row.items() if ok and reader != owner]


def render_matrix(matrix: Mapping[str, Mapping[str, bool]]) -> str:
    owners = list(next(iter(matrix.values())))
    lines = [
        "| Environment | " + " | ".join(f"{o.capitalize()} secrets" for o in owners) + " |",
        "|---|" + "---|" * len(owners),
    ]
    for reader, row in matrix.items():
        cells = [
            ("✅ full access" if reader == owner else "⚠️ **ALLOWED**") if row[owner] else "❌ blocked"
            for owner in owners
        ]
        lines.append(f"| **{reader.capitalize()} services** | " + " | ".join(cells) + " |")
    lines += ["", "Assumptions:"] + [f"- {a}" for a in ASSUMPTIONS]
    return "\n".join(lines) + "\n"
