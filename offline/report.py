"""Tables and diagrams rendered from what the three stacks generate, never typed by hand.

`.tools/bin/uv run python -m offline.report` rewrites `docs/ARCHITECTURE.md`; a test fails when the committed
document differs from what this renders now. The clock is pinned (`DOCS_TODAY`) so that the
passing of rotation dates does not change the document. The stacks' own identifiers never reach
it: every OCID in the settings is replaced by a stand-in of the same shape, so that a tenancy's
real values in the stack files neither stale the document nor end up in the repository. `python -m offline.report --identifiers` prints the document with the
stack files' real values instead, to standard output only.
"""

import argparse
import re
import sys
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import pulumi

from components import iam
from components.naming import DEFAULT_SERVICES, SECRET_KINDS
from components.presets import SYNC, TIERS, TierName
from offline.access import DELETIONS, Access, AccessMatrix, access_matrix, render_matrix, row_title
from offline.harness import (
    IAM_DIR, POLICY_TYPE, PROJECT_DIR, STACKS, ProgramRun, Registration, run_iam_stack, run_stack, stack_file_config, unwrap_secrets,
)

# The docs show each environment as deployed for the first time on this day.
DOCS_TODAY: Final = date(2026, 12, 1)
TIMELINE_ROTATIONS: Final = 3
ARCHITECTURE: Final = PROJECT_DIR / "docs" / "ARCHITECTURE.md"
COLOURS: Final = {"production": "#c62828", "staging": "#f57c00", "development": "#4caf50"}
OCID: Final = re.compile(r"^ocid1\.([a-z0-9]+)\.(oc[0-9]+)\.[a-z0-9-]*(\.[a-z0-9-]+)?\.[a-z0-9]+$")


HOW: Final = {
    "native": "OCI native",
    "keyVersion": "new key version",
    "newSecret": "the published next secret signs; a new next is OCI-generated",
}


def _rotation(schedule: dict[str, Any]) -> str:
    """A rotation stack output (`keyRotation`, `jwtRotation`) in words."""
    if schedule["method"] == "manual":
        return "manual"
    return f"every {schedule['intervalDays']} days ({HOW[schedule['method']]})"


def _due_dates(schedule: dict[str, Any]) -> str:
    if schedule["nextDue"] is None:
        return "none: rotate by hand"
    first = date.fromisoformat(schedule["nextDue"])
    return ", ".join((first + timedelta(days=n * schedule["intervalDays"])).isoformat() for n in range(TIMELINE_ROTATIONS))


def _current(output: str, schedule: dict[str, Any]) -> str:
    """What a rotation stack output says is current, since when."""
    if output == "jwtRotation":
        previous = "" if schedule["previous"] is None else f", v{schedule['previous']} accepted"
        return f"v{schedule['signing']} signs{previous}, v{schedule['next']} published (since {schedule['since']})"
    version = schedule["version"]
    return f"{'the first version' if version == 0 else f'version v{version}'} (since {schedule['since']})"


def timeline_table(runs: list[ProgramRun]) -> str:
    """When each environment's key and JWT secrets rotate next, from its stack outputs, if every
    update runs on its due date (a later one rotates once, and the dates after it move with it)."""
    lines = ["| Environment | What | How | Current | Next due dates |", "|---|---|---|---|---|"]
    for run in runs:
        for output, what in (("keyRotation", "master key"), ("jwtRotation", "JWT signing secrets")):
            schedule = run.exports[output].value
            lines.append(
                f"| {run.stack.capitalize()} | {what} | {_rotation(schedule)} | {_current(output, schedule)} "
                f"| {_due_dates(schedule)} |"
            )
    return "\n".join(lines) + "\n"


def _is_database_url(r: Registration) -> bool:
    return r.inputs["secretName"].endswith(".database-url")


PROTECTABLE: Final[dict[str, tuple[str, Callable[[Registration], bool]]]] = {
    "vault": ("oci:Kms/vault:Vault", lambda r: True),
    "key": ("oci:Kms/key:Key", lambda r: True),
    "database URLs": ("oci:Vault/secret:Secret", _is_database_url),
    "namespace": ("kubernetes:core/v1:Namespace", lambda r: True),
    "operator": ("kubernetes:helm.sh/v3:Release", lambda r: r.inputs["chart"] == "external-secrets"),
}


def _protected(run: ProgramRun) -> str:
    protected = []
    for kind, (type_, which) in PROTECTABLE.items():
        registrations = [r for r in run.of_type(type_) if which(r)]
        if registrations and all(r.protect for r in registrations):
            protected.append(kind)
    return ", ".join(protected) or "nothing"


def _who(matrix: AccessMatrix, owner: str, can: Callable[[Access], bool]) -> str:
    """The identities whose cell on `owner`'s secrets passes `can`, named within that environment."""
    names = [
        identity.label.split(" (")[0] if identity.environment == owner else row_title(identity)
        for identity, cells in matrix.rows.items()
        if can(cells[owner])
    ]
    return ", ".join(names) or "nobody"


def _own(run: ProgramRun, type_: str) -> Registration:
    """The environment's one resource of `type_` in its own region and cluster."""
    [found] = run.own(type_)
    return found


def _targets(secret: Registration) -> list[dict[str, Any]]:
    """The regions, vaults and keys a secret replicates to (none without disaster recovery)."""
    return list((secret.plain_inputs.get("replicationConfig") or {}).get("replicationTargets") or ())


def _recovery(run: ProgramRun) -> str:
    """Where the secrets are replicated, and who syncs the replicas there."""
    own = _own(run, "oci:Kms/key:Key")
    replicas = [r for r in run.of_type("oci:Kms/key:Key") if r is not own]
    if not replicas:
        return "off"
    [target] = {t["targetRegion"] for s in run.of_type("oci:Vault/secret:Secret") for t in _targets(s)}
    shape = replicas[0].inputs["keyShape"]
    standby = len(run.of_type("kubernetes:external-secrets.io/v1:SecretStore")) > 1
    return (f"every secret replicated to {target} (own vault, {shape['algorithm']}-{int(shape['length']) * 8} key)"
            + ("; standby cluster syncs them" if standby else ""))


def _facts(run: ProgramRun, matrix: AccessMatrix) -> dict[str, str]:
    vault = _own(run, "oci:Kms/vault:Vault")
    key = _own(run, "oci:Kms/key:Key")
    store = _own(run, "kubernetes:external-secrets.io/v1:SecretStore")
    secrets = run.of_type("oci:Vault/secret:Secret")
    externals = run.own("kubernetes:external-secrets.io/v1:ExternalSecret")
    shape = key.inputs["keyShape"]
    length = int(shape["length"])
    kinds = sorted({s.inputs["metadata"]["path"].rsplit("/", 1)[-1] for s in secrets})
    paths = {s.inputs["metadata"]["path"] for s in secrets}
    previous = len(secrets) - len(paths)
    [environment] = [e for e in matrix.environments if e.name == run.stack]
    readers = sorted({i.environment for i, cells in matrix.rows.items() if cells[run.stack].read})
    return {
        "KMS vault": vault.inputs["displayName"],
        "Vault type": vault.inputs["vaultType"],
        "Master key": f"{shape['algorithm']}-{length * 8}, {length} bytes",
        "Key protection": key.inputs["protectionMode"],
        "Key rotation": _rotation(run.exports["keyRotation"].value),
        "JWT secret rotation": _rotation(run.exports["jwtRotation"].value),
        "Protected from deletion": _protected(run),
        "Secrets": f"{len(paths)} ({len(paths) // len(kinds)} services × {len(kinds)})"
        + (f", + {previous} more JWT generations (next, previous)" if previous else ""),
        "Secret types": ", ".join(kinds),
        "K8s namespace": store.inputs["metadata"]["namespace"],
        "Refresh interval": ", ".join(sorted({e.inputs["spec"]["refreshInterval"] for e in externals})),
        "Access control": environment.tier.capitalize(),
        "Can read its secrets": ", ".join(r.capitalize() for r in readers) + " only",
        "Reads secret values": _who(matrix, run.stack, lambda a: a.read),
        "Writes new secret versions": _who(matrix, run.stack, lambda a: a.write),
        "Deletes vault, key, secrets": _who(matrix, run.stack, lambda a: a.deletes == frozenset(DELETIONS)),
        "People told (topic)": run.of_type("oci:Ons/notificationTopic:NotificationTopic")[0].inputs["name"],
        "Disaster recovery": _recovery(run),
    }


def compare_table(runs: list[ProgramRun], matrix: AccessMatrix) -> str:
    facts = {run.stack: _facts(run, matrix) for run in runs}
    rows = list(next(iter(facts.values())))
    lines = ["| Component | " + " | ".join(s.capitalize() for s in facts) + " |", "|---|" + "---|" * len(facts)]
    lines += [f"| **{row}** | " + " | ".join(facts[s][row] for s in facts) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _blocked(matrix: AccessMatrix, reader: str, owner: str) -> bool:
    """No identity of `reader` can do anything with `owner`'s secrets."""
    return all(matrix.blocked(identity, owner) for identity in matrix.rows if identity.environment == reader)


def iam_policy_text(iam_run: ProgramRun) -> str:
    """Every statement the IAM program writes for one environment, policy by policy."""
    lines = [
        f"# OCI IAM statements of environment {iam_run.stack}, as the IAM program (iam/) writes them; an IAM",
        "# administrator applies them before the environment's first `pulumi up`. None names an OCID only known",
        "# after that deployment.",
    ]
    for p in iam_run.of_type(POLICY_TYPE):
        lines += ["", f"# Policy {p.inputs['name']}: {p.inputs['description']}", *unwrap_secrets(p.inputs)["statements"]]
    return "\n".join(lines) + "\n"


def tier_table() -> str:
    """What each tier promises each role on its own environment's secrets (docs/ARCHITECTURE.md shows this table)."""
    check = {True: "✅", False: "❌"}
    lines = [
        "| Tier | Identity (setting) | Read values | Write new versions | Delete vault, key, secrets |",
        "|---|---|---|---|---|",
    ]
    for tier, roles in TIERS.items():
        for name, role in [("sync", SYNC), *roles.items()]:
            who = "sync identity (ESO's workload identity)" if name == "sync" else f"{role.label} (`iam.{name}Group`)"
            p = role.promise
            delete = "JWT generations only" if p.delete_jwt_generations and not p.delete else check[p.delete]
            lines.append(f"| {tier} | {who} | {check[p.read]} | {check[p.write]} | {delete} |")
    return "\n".join(lines) + "\n"


def people_table(matrix: AccessMatrix) -> str:
    """Per environment, who can read, write and delete its secrets through IAM, and what a chain beside IAM
    reaches (🔗): computed (docs/isolation.md shows this table)."""
    check = {True: "✅", False: "❌"}
    tiers = {e.name: e.tier for e in matrix.environments}
    lines = [
        "| Environment (tier) | Identity | Read values | Write new versions | Delete vault, key, secrets |",
        "|---|---|---|---|---|",
    ]
    for identity, cells in matrix.rows.items():
        if identity.environment not in tiers:
            continue  # the IAM administrators: every environment, by chain only (the matrix shows them)
        own = cells[f"{identity.environment} replicas" if identity.replicas_only else identity.environment]
        reading = [c.short for c in matrix.chains.get((identity, identity.environment), []) if c.reaches.read]
        read = check[own.read] + (f" (🔗 {', '.join(reading)})" if reading and not own.read else "")
        deletes = (check[bool(own.deletes)] if own.deletes in (frozenset(), frozenset(DELETIONS))
                   else "✅ " + " and ".join(d for d in DELETIONS if d in own.deletes) + " only")
        lines.append(
            f"| {identity.environment} ({tiers[identity.environment]}) | {identity.label} "
            f"| {read} | {check[own.write]} | {deletes} |"
        )
    return "\n".join(lines) + "\n"


def tier_statements(tier: TierName) -> str:
    """The statements a tier generates, with symbolic names for what each stack fills in."""
    identity = iam.SyncIdentity("<kubernetes.clusterId>", "<kubernetes.namespace>", "<kubernetes.serviceAccount>")
    # One statement per service: the first two stand for them all.
    lines = ["# sync identity (one secret-bundles statement per service)",
             *iam.sync_statements(identity, "<compartmentId>", DEFAULT_SERVICES[:2])]
    for name, role in TIERS[tier].items():
        subject = iam.group_subject("<iam.identityDomain>", f"<iam.{name}Group>")
        lines += [f"# {role.label}", *iam.role_statements(role, subject, "<compartmentId>")]
    return "\n".join(lines) + "\n"


def _overview(runs: list[ProgramRun], matrix: AccessMatrix) -> str:
    lines = ["```mermaid", "graph TB"]
    for run in runs:
        env, e = run.stack, run.stack[:4]
        vault = _own(run, "oci:Kms/vault:Vault")
        key = _own(run, "oci:Kms/key:Key")
        count = len(run.of_type("oci:Vault/secret:Secret"))
        # Those this plan gives a replica (all of them on a stack replicating from its first deployment).
        replicas = sum(bool(_targets(s)) for s in run.of_type("oci:Vault/secret:Secret"))
        recovery = _recovery(run)
        shape = key.inputs["keyShape"]
        lines += [
            f'    subgraph {e}["{env.capitalize()}"]',
            f'        {e}_vault["KMS vault<br/>{vault.inputs["displayName"]}<br/>type {vault.inputs["vaultType"]}"]',
            f'        {e}_key["Master key<br/>{shape["algorithm"]}-{int(shape["length"]) * 8}<br/>rotation: {_rotation(run.exports["keyRotation"].value)}"]',
            f'        {e}_secrets["{count} secrets<br/>ecommerce/{env}/&lt;service&gt;/&lt;secret&gt;"]',
            f"        {e}_vault --> {e}_key --> {e}_secrets",
            *([f'        {e}_replicas["{replicas} read-only replicas<br/>{recovery.split(" (")[0].removeprefix("every secret ")}"]',
               f"        {e}_secrets -->|replicated| {e}_replicas"] if recovery != "off" else []),
            "    end",
            f"    style {e} fill:{COLOURS.get(env, '#607d8b')},color:#fff",
        ]
    names = [e.name for e in matrix.environments if not e.replica_of]
    for owner in names:
        for reader in names:
            if reader != owner and _blocked(matrix, reader, owner):
                lines.append(f'    {owner[:4]}_secrets -.->|"blocked for {reader}"| {reader[:4]}_secrets')
    return "\n".join(lines + ["```"])


def _flow(run: ProgramRun) -> str:
    env = run.stack
    secrets = run.of_type("oci:Vault/secret:Secret")
    # Registration order is not deterministic: pick the example by name.
    external = min(run.of_type("kubernetes:external-secrets.io/v1:ExternalSecret"), key=lambda r: r.name)
    service = external.inputs["metadata"]["name"]
    examples = sorted(s.inputs["metadata"]["path"] for s in secrets if s.inputs["metadata"]["service"] == service)
    target = external.inputs["spec"]["target"]["name"]
    namespace = external.inputs["metadata"]["namespace"]
    keys = ", ".join(d["secretKey"] for d in external.inputs["spec"]["data"])
    return "\n".join(
        [
            "```mermaid",
            "graph LR",
            f'    vault["KMS vault {env}"] --> key["Master key"]',
            f'    key -->|encrypts| s1["{examples[0]}"]',
            f'    key -->|encrypts| s2["{examples[1]}"]',
            f'    key -->|encrypts| more["… {len(secrets) - 2} more"]',
            f'    s1 & s2 -->|"SecretStore (workload identity), every {external.inputs["spec"]["refreshInterval"]}"| k8s["Kubernetes Secret {target}<br/>namespace {namespace}"]',
            f'    k8s -->|"{keys}"| pod["{service} pods"]',
            "```",
        ]
    )


def _paths(runs: list[ProgramRun]) -> str:
    lines = ["```mermaid", "graph LR", '    root["ecommerce/"]']
    for run in runs:
        e = run.stack[:4]
        lines.append(f'    root --> {e}["{run.stack}/"] --> {e}_svc["&lt;service&gt;/"]')
        for kind in SECRET_KINDS:
            lines.append(f'    {e}_svc --> {e}_{kind.replace("-", "_")}["{kind}"]')
    return "\n".join(lines + ["```"])


def architecture_doc(runs: list[ProgramRun], iam_runs: list[ProgramRun]) -> str:
    matrix = access_matrix(runs, iam_runs)
    first = runs[0]
    return "\n\n".join(
        [
            "# Architecture (generated)",
            "Generated by `.tools/bin/uv run python -m offline.report` from the three stack files and the IAM program's, "
            f"each as on its first deployment, on {DOCS_TODAY.isoformat()}, and every OCID shown as a stand-in of "
            "its shape (`ocid1.compartment.oc1..exampleproductioncompartment`), never a tenancy's own. Do not edit: "
            "change the stacks or the program, then regenerate (a test fails while this file is stale).",
            "## The three environments\n\n" + _overview(runs, matrix),
            f"## One environment: {first.stack}, from vault to service\n\n" + _flow(first),
            "## Secret path structure\n\n"
            "The logical path is kept in each secret's metadata and tags; OCI's own secret name "
            "is `<service>.<secret>`, since `/` is not allowed there.\n\n" + _paths(runs),
            "## Environment comparison\n\n" + compare_table(runs, matrix),
            f"## Rotation timeline (first deployed on {DOCS_TODAY.isoformat()}; docs/rotation.md)\n\n"
            + timeline_table(runs),
            "## What each access tier promises\n\n" + tier_table(),
            "## Who can read, write and delete what (computed from the generated IAM statements and SecretStores)\n\n"
            + render_matrix(matrix),
            "## The IAM statements of each environment (generated by the IAM program)\n\n"
            + "\n\n".join(f"### {run.stack.capitalize()}\n\n```\n{iam_policy_text(run)}```" for run in iam_runs),
        ]
    ) + "\n"


def documented(value: Any, stack: str, owner: str = "") -> dict[str, str]:
    """Each OCID a stack's settings hold, and the shaped stand-in the docs show for it (a standby cluster's its own)."""
    if isinstance(value, Mapping):
        return {o: v for k, item in value.items() for o, v in documented(item, stack, "standby" if k == "standby" else owner).items()}
    if isinstance(value, list):
        return {k: v for item in value for k, v in documented(item, stack, owner).items()}
    found = OCID.match(value) if isinstance(value, str) else None
    return {value: f"ocid1.{found[1]}.{found[2]}..example{stack}{owner}{found[1]}"} if found else {}


def render_docs(project_dir: Path = PROJECT_DIR, identifiers: bool = False) -> str:
    # The program runs on the stack files' own OCIDs (the guardrail authority accepts only those); the
    # document then shows stand-ins in their place.
    iam_dir = project_dir / IAM_DIR.relative_to(PROJECT_DIR)
    document = architecture_doc(
        [run_stack(stack, today=DOCS_TODAY, project_dir=project_dir) for stack in STACKS],
        [run_iam_stack(stack, project_dir=project_dir) for stack in STACKS],
    )
    if identifiers:
        return document
    stand_ins: dict[str, str] = {}
    for stack in STACKS:
        for directory in (project_dir, iam_dir):
            stand_ins = documented(stack_file_config(stack, directory), stack) | stand_ins
    for ocid, stand_in in stand_ins.items():
        document = document.replace(ocid, stand_in)
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.report", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--identifiers", action="store_true",
        help="print the document with the stack files' real OCIDs to standard output (nothing written)",
    )
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        document = render_docs(args.project_dir, identifiers=args.identifiers)
    except KeyError as error:  # a stack file missing: which ones there are
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 2
    except pulumi.RunError as error:  # a stack file mistake: its own message, not a traceback
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.identifiers:
        print(document, end="")
        return 0
    target = args.project_dir / ARCHITECTURE.relative_to(PROJECT_DIR)
    target.parent.mkdir(exist_ok=True)
    target.write_text(document)
    print(f"wrote {target.relative_to(Path.cwd()) if target.is_relative_to(Path.cwd()) else target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
