"""Offline plan: what `pulumi up --stack <env>` would create, with no credentials, cluster or CLI.

It runs the real `__main__.py` with the stack's real config under the project's mocks
(`offline/harness.py`): no second copy of resource logic. Values only the cloud knows appear
as `<...>` placeholders; database URLs not given in $ECOMMERCE_DATABASE_URLS_FILE (a JSON map
of stack to {service: url}) are placeholders too, and anything secret prints as [secret].

    python -m offline.plan [production|staging|development|all] [--markdown | --json] [--out DIR]
    python -m offline.plan --matrix     who can read, write and delete what, computed; exits 1 on any cell
                                        that differs from the tier's promise
    python -m offline.plan --compare    the environment comparison table and the rotation timeline

The plan also runs the policy pack's rules (`policy/ecommerce_rules.py`) and exits 1 when a
mandatory one is violated.
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import pulumi
import yaml

from components.cluster_access import deployer_access
from components.settings_errors import SECRET_SHOWN
from offline import policy_checks
from offline.access import AccessMatrix, UnsupportedStatement, access_matrix, render_matrix, row_title
from offline.harness import POLICY_TYPE, PROJECT_DIR, STACKS, map_secrets, ProgramRun, Registration, run_iam_stack, run_stack
from offline.markdown import code
from offline.report import compare_table, iam_policy_text, timeline_table

DATABASE_URLS_VARIABLE = "ECOMMERCE_DATABASE_URLS_FILE"

# The inputs worth reading in a review, per resource type (everything else is in --json).
SHOWN_INPUTS: dict[str, tuple[str, ...]] = {
    "oci:Kms/vault:Vault": ("displayName", "vaultType", "compartmentId"),
    "oci:Kms/key:Key": ("displayName", "keyShape", "protectionMode", "isAutoRotationEnabled", "freeformTags"),
    "oci:Kms/keyVersion:KeyVersion": ("keyId",),
    "oci:Vault/secret:Secret": ("secretName", "metadata", "secretContent", "enableAutoGeneration"),
    "oci:Identity/policy:Policy": ("name", "compartmentId"),
    "kubernetes:core/v1:Namespace": ("metadata",),
    "kubernetes:core/v1:NamespacePatch": ("metadata",),
    "kubernetes:core/v1:ServiceAccount": ("metadata",),
    "kubernetes:helm.sh/v3:Release": ("chart", "version", "namespace", "values"),
    "kubernetes:external-secrets.io/v1:SecretStore": ("metadata", "spec"),
    "kubernetes:external-secrets.io/v1:ExternalSecret": ("metadata", "spec"),
}
KUBERNETES_MANIFEST_TYPES = (
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:external-secrets.io/v1:SecretStore",
    "kubernetes:external-secrets.io/v1:ExternalSecret",
)


def redact(value: Any) -> Any:
    """Secret-marked values become [secret], for printing."""
    # The engine's wire format has only floats: the pack's own `plain` prints a key length as 32, not 32.0.
    return policy_checks.rules.plain(map_secrets(value, lambda _: SECRET_SHOWN))


def resource_view(r: Registration) -> dict[str, Any]:
    return {
        "type": r.type,
        "name": r.name,
        "custom": r.custom,
        "parent": r.parent.rsplit("::", 1)[-1] if r.parent else None,
        # The provider reference is `<urn>::<id>`: its name is the URN's last part.
        "provider": r.provider.rsplit("::", 2)[-2] if r.provider else None,
        "adopts": r.import_id or None,
        "protect": r.protect,
        "retainOnDelete": r.retain_on_delete,
        "dependsOn": [urn.rsplit("::", 1)[-1] for urn in r.depends_on],
        "inputs": redact(r.inputs),
    }


Findings = list[tuple[Any, str]]  # (rule, message) from the policy pack's rules


def access_view(matrix: AccessMatrix | None, stack: str) -> dict[str, Any] | None:
    """The matrix rows of `stack`'s identities, by role: what each can do on each environment's secrets."""
    if matrix is None:
        return None
    return {
        identity.role: {"label": row_title(identity), "cells": {owner: access.render() for owner, access in cells.items()}}
        for identity, cells in matrix.rows.items()
        if identity.environment == stack
    }


def plan_view(
    run: ProgramRun, findings: Findings, matrix: AccessMatrix | None = None, iam_run: ProgramRun | None = None
) -> dict[str, Any]:
    return {
        "stack": run.stack,
        # The IAM program's statements for this environment: what a pull request's IAM change shows.
        "iamStatements": [
            text for p in (iam_run.of_type(POLICY_TYPE) if iam_run else []) for text in p.plain_inputs["statements"]
        ],
        "resources": [resource_view(r) for r in run.registrations],
        "outputs": {name: SECRET_SHOWN if e.secret else e.value for name, e in run.exports.items()},
        "policy": [{"rule": rule.name, "level": rule.level, "message": m} for rule, m in findings],
        "access": access_view(matrix, run.stack),
    }


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if colour else text


def render_text(run: ProgramRun, findings: Findings, markdown: bool, colour: bool = False) -> str:
    counts: dict[str, int] = {}
    for r in run.resources:
        counts[r.type] = counts.get(r.type, 0) + 1
    lines = [f"## Plan of stack `{run.stack}`" if markdown else f"Plan of stack {run.stack}", ""]
    lines += [f"- {n} × `{t}`" if markdown else f"  {n:>3} x {t}" for t, n in sorted(counts.items())]
    lines.append("")
    if markdown:
        lines.append("<details><summary>Resource tree</summary>\n\n```")
    depth = {"": -1}
    for r in run.registrations:
        level = depth.get(r.parent, 0) + 1
        depth[r.urn] = level
        flags = "".join(f" [{f}]" for f, on in (("protect", r.protect), ("retain-on-delete", r.retain_on_delete)) if on)
        flags += f" [adopts {r.import_id}]" if r.import_id else ""
        lines.append(
            # `=` is how `pulumi preview` marks an import, `+` a creation.
            f"{'  ' * level}{_paint('=' if r.import_id else '+', '32', colour)} {_paint(r.type, '36', colour)}  "
            f"{_paint(r.name, '1', colour)}{_paint(flags, '33', colour)}"
        )
        for key in SHOWN_INPUTS.get(r.type, ()):
            if key in r.inputs:
                lines.append(f"{'  ' * level}    {key}: {json.dumps(redact(r.inputs[key]), sort_keys=True)}")
    if markdown:
        lines.append("```\n\n</details>")
    lines += ["", "Outputs:" if not markdown else "**Outputs**", ""]
    view = plan_view(run, findings)
    # In Markdown, a code block: indented plain lines would fold into one paragraph, and GitHub
    # would strip every `<placeholder>` as an unknown HTML tag.
    lines += ["```"] if markdown else []
    for name, value in view["outputs"].items():
        lines.append(f"  {name}: {json.dumps(value, sort_keys=True)}")
    lines += ["```"] if markdown else []
    lines += ["", "**Policy checks** (the CrossGuard pack's rules)" if markdown else "Policy checks:", ""]
    for found in view["policy"] or [{"level": "ok", "rule": "all rules", "message": "no violation"}]:
        message = code(found["message"], limit=10_000) if markdown else found["message"]
        lines.append(f"  - {found['level']}: {found['rule']}: {message}")
    return "\n".join(lines) + "\n"


def write_files(run: ProgramRun, iam_run: ProgramRun, out: Path) -> list[Path]:
    """Kubernetes manifests as `kubectl apply` takes them, and the IAM statements as text."""
    folder = out / run.stack
    folder.mkdir(parents=True, exist_ok=True)
    manifests = [
        {"apiVersion": r.inputs["apiVersion"], "kind": r.inputs["kind"], **redact(r.inputs)}
        for t in KUBERNETES_MANIFEST_TYPES
        for r in run.of_type(t)
    ]
    written = [folder / "kubernetes.yaml", folder / "iam-policy.txt"]
    # Keys sorted: dicts deserialized from the engine's protobuf Structs come in no fixed order.
    written[0].write_text(yaml.safe_dump_all(manifests, sort_keys=True))
    # The IAM program's statements for this environment (an IAM administrator applies them).
    written[1].write_text(iam_policy_text(iam_run))
    # What the platform team applies to close the deployer's chain through the cluster (docs/isolation.md).
    written.append(folder / "deployer-access.yaml")
    store = run.of_type("kubernetes:external-secrets.io/v1:SecretStore")[0].plain_inputs
    namespace, account = store["metadata"]["namespace"], store["spec"]["provider"]["oracle"]["serviceAccountRef"]["name"]
    written[-1].write_text(yaml.safe_dump_all(deployer_access(run.stack, namespace, account), sort_keys=True))
    for release in run.of_type("kubernetes:helm.sh/v3:Release"):
        path = folder / "external-secrets-values.yaml"
        path.write_text(yaml.safe_dump(redact(release.inputs["values"]), sort_keys=True))
        written.append(path)
    return written


def matrix_command(runs: list[ProgramRun], iam_runs: list[ProgramRun]) -> int:
    """Print the computed access matrix; 1 when any cell differs from what its tier promises."""
    try:
        matrix = access_matrix(runs, iam_runs)
    except UnsupportedStatement as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(render_matrix(matrix))
    found = matrix.violations()
    for identity, owner in found:
        print(
            f"CONTRACT: {row_title(identity)} on {owner}'s secrets can {matrix.rows[identity][owner].render()}; "
            f"promised: {matrix.expected(identity, owner).render()}",
            file=sys.stderr,
        )
    return 1 if found else 0


def database_urls_by_stack() -> dict[str, dict[str, str]]:
    path = os.environ.get(DATABASE_URLS_VARIABLE)
    return json.loads(Path(path).read_text()) if path else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.plan", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("stack", nargs="?", default="all", help="production, staging, development or all (default)")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="machine-readable plan")
    form.add_argument("--markdown", action="store_true", help="for a pull-request comment")
    parser.add_argument("--out", type=Path, help="write Kubernetes manifests and IAM statements under DIR/<stack>/")
    parser.add_argument("--matrix", action="store_true", help="access matrix of the three stacks; exit 1 where a tier's promise is broken")
    parser.add_argument("--compare", action="store_true", help="environment comparison table of the three stacks")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    stacks = STACKS if args.stack == "all" or args.matrix or args.compare else (args.stack,)
    runs = []
    urls = database_urls_by_stack()
    for stack in stacks:
        try:
            runs.append(run_stack(stack, database_urls=urls.get(stack), project_dir=args.project_dir))
        except KeyError as error:
            print(f"error: {error.args[0]}", file=sys.stderr)
            return 2
        except pulumi.RunError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1

    def iam_runs() -> list[ProgramRun]:
        # The IAM program's stacks of the same checkout: their statements are what the matrix evaluates.
        return [run_iam_stack(run.stack, project_dir=args.project_dir) for run in runs]

    if args.matrix:
        return matrix_command(runs, iam_runs())
    if args.compare:
        print(compare_table(runs, access_matrix(runs, iam_runs())))
        print(timeline_table(runs))
        return 0
    pack_config = policy_checks.pack_config(args.project_dir)
    findings = {run.stack: policy_checks.check(run, pack_config) for run in runs}
    if args.json:
        try:
            matrix = access_matrix(runs, iam_runs())
        except UnsupportedStatement:
            matrix = None  # --matrix names the statement; the plan itself is still worth printing
        views = [plan_view(run, findings[run.stack], matrix, iam_run) for run, iam_run in zip(runs, iam_runs())]
        print(json.dumps(views, indent=2, sort_keys=True))
    else:
        colour = sys.stdout.isatty() and not args.markdown and "NO_COLOR" not in os.environ
        print("\n".join(render_text(run, findings[run.stack], args.markdown, colour) for run in runs))
    if args.out:
        for run, iam_run in zip(runs, iam_runs()):
            for path in write_files(run, iam_run, args.out):
                print(f"wrote {path}", file=sys.stderr)
    mandatory = [(stack, rule.name) for stack, found in findings.items() for rule, _ in found if rule.level == "mandatory"]
    for stack, rule in mandatory:
        print(f"POLICY: {stack} violates mandatory rule {rule}", file=sys.stderr)
    return 1 if mandatory else 0


if __name__ == "__main__":
    sys.exit(main())
