"""What a pull request changes, stack by stack, computed offline against its base branch.

    uv run python -m offline.diff BASE_DIR [--out DIR]

BASE_DIR is a checkout of the base branch (the workflow makes it with `git worktree add`). Each
side's own code plans every stack (`python -m offline.plan all --json`, run in that checkout with
its own `.venv` where it has one), so a change to the program shows as well as a change to a stack
file. Printed: a GitHub comment that leads with the change (resources added, removed, replaced,
adopted, inputs changed, IAM statements added and removed, access-matrix cells that moved, policy
verdicts), always under GitHub's comment limit with every stack in it: when the details are too
long, each stack keeps an equal share and says what it left out. `--out DIR` writes both sides'
full plans and the untruncated comment there (the workflow's artifact).

Which input changes replace a resource is what `offline/replacements.py` reads from the providers.
"""

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from offline.harness import POLICY_TYPE, PROJECT_DIR, STACKS
from offline.markdown import GITHUB_COMMENT_LIMIT, cell, code, github_length
from offline.replacements import at, replace_forcing

# What the workflow's comment step adds around this text (a marker and one line) fits in the rest.
BUDGET: Final = GITHUB_COMMENT_LIMIT - 1_536
# Registrations that are not cloud or cluster objects and never change on their own.
BOOKKEEPING: Final = ("pulumi:pulumi:Stack", "pulumi:pulumi:StackReference")

Resource = dict[str, Any]


@dataclass
class StackDiff:
    stack: str
    added: list[Resource] = field(default_factory=list)
    removed: list[Resource] = field(default_factory=list)
    replaced: list[tuple[Resource, list[str]]] = field(default_factory=list)
    updated: list[tuple[Resource, list[tuple[str, Any, Any]]]] = field(default_factory=list)
    adopted: list[Resource] = field(default_factory=list)
    statements_added: list[str] = field(default_factory=list)
    statements_removed: list[str] = field(default_factory=list)
    access: list[tuple[str, str, str, str]] = field(default_factory=list)  # row, owner, before, after
    verdicts: list[dict[str, Any]] = field(default_factory=list)  # the head's
    verdicts_new: list[dict[str, Any]] = field(default_factory=list)
    verdicts_gone: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            (self.added, self.removed, self.replaced, self.updated, self.adopted, self.statements_added,
             self.statements_removed, self.access, self.verdicts_new, self.verdicts_gone, self.error)
        )


def _python(project_dir: Path) -> str:
    own = project_dir / ".venv" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


def start_plan(project_dir: Path) -> subprocess.Popen[str]:
    """`python -m offline.plan all --json` in `project_dir`, with that checkout's own code."""
    return subprocess.Popen(
        [_python(project_dir), "-m", "offline.plan", "all", "--json"],
        cwd=project_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )


def collect_plan(process: subprocess.Popen[str]) -> tuple[dict[str, Any], str | None]:
    """Each stack's plan by name, or an error (exit 1 is a policy violation: the plan is still printed)."""
    printed, errors = process.communicate()
    try:
        return {view["stack"]: view for view in json.loads(printed)}, None
    except (json.JSONDecodeError, TypeError, KeyError):
        last = [line for line in errors.splitlines() if line.strip()][-3:]
        return {}, f"the offline plan failed (exit {process.returncode}): " + " / ".join(last)


def _leaves(value: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    if isinstance(value, dict) and value:
        return {found: leaf for key, item in value.items() for found, leaf in _leaves(item, (*path, key)).items()}
    return {path: value}


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[tuple[str, ...], Any, Any]]:
    old, new = _leaves(before), _leaves(after)
    return [(path, old.get(path), new.get(path)) for path in sorted(set(old) | set(new)) if old.get(path) != new.get(path)]


def _statements(view: dict[str, Any]) -> list[str]:
    # The IAM program's (iamStatements); a base planned by older code held them in the stack itself.
    written = [s for r in view["resources"] if r["type"] == POLICY_TYPE for s in r["inputs"].get("statements", [])]
    return list(view.get("iamStatements") or []) + written + list(view["outputs"].get("deployerPolicy") or [])


def _verdict_key(verdict: dict[str, Any]) -> tuple[str, str, str]:
    return verdict["level"], verdict["rule"], verdict["message"]


def diff_stack(stack: str, base: dict[str, Any] | None, head: dict[str, Any] | None) -> StackDiff:
    found = StackDiff(stack)
    if head is None:
        found.error = "no plan on this branch (the stack was removed, or its plan failed)"
        return found
    base = base or {"resources": [], "outputs": {}, "policy": [], "access": {}}
    before = {(r["type"], r["name"]): r for r in base["resources"] if r["type"] not in BOOKKEEPING}
    after = {(r["type"], r["name"]): r for r in head["resources"] if r["type"] not in BOOKKEEPING}
    replaced_providers = {
        name for (type_, name), r in before.items()
        if type_.startswith("pulumi:providers:") and (type_, name) in after
        and any(at(r["inputs"], p) != at(after[(type_, name)]["inputs"], p) for p in replace_forcing(type_))
    }
    for key, r in after.items():
        if key not in before:
            found.added.append(r)
        if r.get("adopts") and (key not in before or not before[key].get("adopts")):
            found.adopted.append(r)
    found.removed = [r for key, r in before.items() if key not in after]
    for key, old in before.items():
        new = after.get(key)
        if new is None:
            continue
        changes = _changes(old["inputs"], new["inputs"])
        forcing = replace_forcing(new["type"])
        reasons = [".".join(path) for path, _, _ in changes if any(path[: len(p)] == p for p in forcing)]
        if new.get("provider") in replaced_providers:
            reasons.append(f"its provider {new['provider']} is replaced")
        if reasons and new["custom"]:
            found.replaced.append((new, sorted(set(reasons))))
        # Statements are shown as statements, below; the rest as input paths.
        shown = [(".".join(path), a, b) for path, a, b in changes if not (new["type"] == POLICY_TYPE and path[0] == "statements")]
        if shown and not reasons:
            found.updated.append((new, shown))
    old_statements, new_statements = _statements(base), _statements(head)
    found.statements_added = [s for s in new_statements if s not in old_statements]
    found.statements_removed = [s for s in old_statements if s not in new_statements]
    old_access, new_access = base.get("access"), head.get("access")
    if old_access is None or new_access is None:
        # A plan without the matrix: older code on the base branch, or a statement the matrix cannot read.
        side = "this branch" if new_access is None else "the base branch"
        found.notes.append(
            f"Access matrix not compared: the plan of {side} has none (older code there, or a statement the "
            "matrix cannot read: `uv run python -m offline.plan --matrix` names it)."
        )
        old_access = new_access = {}
    for role in sorted(set(old_access) | set(new_access)):
        old_row, new_row = old_access.get(role, {}), new_access.get(role, {})
        label = (new_row or old_row)["label"]
        old_cells, new_cells = old_row.get("cells", {}), new_row.get("cells", {})
        for owner in sorted(set(old_cells) | set(new_cells)):
            was, now = old_cells.get(owner, "(no such identity)"), new_cells.get(owner, "(no such identity)")
            if was != now:
                found.access.append((label, owner, was, now))
    found.verdicts = head["policy"]
    old_verdicts = {_verdict_key(v) for v in base["policy"]}
    new_verdicts = {_verdict_key(v) for v in head["policy"]}
    found.verdicts_new = [v for v in head["policy"] if _verdict_key(v) not in old_verdicts]
    found.verdicts_gone = [v for v in base["policy"] if _verdict_key(v) not in new_verdicts]
    return found


# --- rendering ----------------------------------------------------------------------------


@dataclass
class Block:
    """A self-contained piece of Markdown: its opening, items, closing; cut only between items."""

    opening: list[str]
    items: list[str]
    closing: list[str] = field(default_factory=list)
    what: str = "lines"

    def render(self, allowance: int) -> str:
        """As much as fits in `allowance` (whole items, saying how many were left out); "" if no item fits."""
        text = "\n".join([*self.opening, *self.items, *self.closing]) + "\n\n"
        if github_length(text) <= allowance:
            return text
        kept: list[str] = []
        room = allowance - github_length("\n".join([*self.opening, *self.closing]) + "\n\n") - 120
        for item in self.items:
            if github_length(item) + 1 > room:
                break
            kept.append(item)
            room -= github_length(item) + 1
        if not kept:
            return ""
        left = len(self.items) - len(kept)
        return "\n".join([*self.opening, *kept, *self.closing]) + f"\n\n_… {left} more {self.what} in the artifact._\n\n"


def _resource(r: Resource) -> str:
    return f"{code(r['type'])} {code(r['name'])}"


def _verdict(v: dict[str, Any]) -> str:
    return f"- {v['level']}: {code(v['rule'])}: {code(v['message'], limit=400)}"


def _policy_summary(d: StackDiff) -> str:
    levels = [v["level"] for v in d.verdicts]
    text = ", ".join(f"{levels.count(level)} {level}" for level in sorted(set(levels))) if levels else "no violation"
    mark = "❌" if "mandatory" in levels else ("⚠️" if levels else "✅")
    new = f" (+{len(d.verdicts_new)} new)" if d.verdicts_new else ""
    return f"{mark} {text}{new}"


def stack_blocks(d: StackDiff) -> list[Block]:
    """The change first, then notes and the policy verdicts on this branch."""
    if d.error:
        return [Block([f"⚠️ {code(d.error, limit=600)}"], [])]
    blocks = []
    if not d.changed:
        blocks.append(Block(["No change: this stack's plan is the same as on the base branch."], []))
    if d.replaced:
        blocks.append(Block(["**Replaced** (deleted and created again; what it holds is lost):", ""],
                            [f"- {_resource(r)} because of {', '.join(code(p) for p in why)}" for r, why in d.replaced],
                            what="replacements"))
    if d.removed:
        blocks.append(Block(["**Removed** (deleted):", ""], [f"- {_resource(r)}" for r in d.removed], what="removals"))
    if d.added:
        blocks.append(Block(["**Added**:", ""],
                            [f"- {_resource(r)}" + (f" (adopts {code(r['adopts'])})" if r.get("adopts") else "")
                             for r in d.added], what="additions"))
    if d.adopted:
        blocks.append(Block(["**Adopted** (imported as they are in OCI, not created):", ""],
                            [f"- {_resource(r)}: {code(r['adopts'])}" for r in d.adopted], what="adoptions"))
    if d.updated:
        # The same change on many resources (a setting every ExternalSecret carries) is one line.
        alike: dict[tuple[str, str, str, str], list[str]] = {}
        for r, changes in d.updated:
            for path, a, b in changes:
                alike.setdefault((r["type"], path, json.dumps(a), json.dumps(b)), []).append(r["name"])
        blocks.append(Block(["**Inputs changed** (updated in place):", ""],
                            [f"- {code(path)}: {code(a)} → {code(b)} on {len(names)} × {code(type_)}: "
                             + ", ".join(code(n) for n in names) for (type_, path, a, b), names in alike.items()],
                            what="input changes"))
    if d.statements_added or d.statements_removed:
        blocks.append(Block([f"**IAM statements**: {len(d.statements_added)} added, {len(d.statements_removed)} removed", "",
                             "```diff"],
                            [f"- {s}" for s in d.statements_removed] + [f"+ {s}" for s in d.statements_added],
                            ["```"], what="statements"))
    if d.access:
        blocks.append(Block(["**Access matrix** (computed from the statements): cells that moved", "",
                             "| Identity | On the secrets of | Before | After |", "|---|---|---|---|"],
                            [f"| {cell(label)} | {owner} | {cell(was)} | {cell(now)} |" for label, owner, was, now in d.access],
                            what="cells"))
    blocks += [Block([f"_{note}_"], []) for note in d.notes]
    new_verdicts = [_verdict_key(v) for v in d.verdicts_new]
    if d.verdicts or d.verdicts_gone:
        blocks.append(Block(["**Policy verdicts** (the CrossGuard pack's rules) on this branch:", ""],
                            [_verdict(v) + (" (new)" if _verdict_key(v) in new_verdicts else "") for v in d.verdicts]
                            + [f"{_verdict(v)} (resolved)" for v in d.verdicts_gone],
                            what="verdicts"))
    return blocks


def _summary(diffs: list[StackDiff], base_label: str) -> str:
    lines = [
        "## What this pull request changes",
        "",
        f"Every stack planned offline (no credentials; {code('<…>')} values are known only after "
        f"`pulumi up`), this branch against {code(base_label)}.",
        "",
        "| Stack | Added | Removed | Replaced | Inputs changed | Adopted | IAM statements | Access cells moved | Policy |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for d in diffs:
        if d.error:
            lines.append(f"| {d.stack} | ⚠️ plan failed | | | | | | | |")
            continue
        lines.append(
            f"| {d.stack} | {len(d.added)} | {len(d.removed)} | {len(d.replaced)} | {len(d.updated)} | {len(d.adopted)} "
            f"| +{len(d.statements_added)} −{len(d.statements_removed)} | {len(d.access)} | {_policy_summary(d)} |"
        )
    return "\n".join(lines) + "\n\n"


FOOTER: Final = "_Full plans of both branches: the workflow run's `offline-plan` artifact._\n"


def render(diffs: list[StackDiff], base_label: str, budget: int | None = BUDGET) -> str:
    """The comment; with a budget, each stack's details get an equal share of what is left."""
    head = _summary(diffs, base_label)
    sections = {d.stack: (f"### {d.stack}\n\n", stack_blocks(d)) for d in diffs}

    def full(stack: str) -> str:
        title, blocks = sections[stack]
        return title + "".join(b.render(10**9) for b in blocks)

    sizes = {d.stack: github_length(full(d.stack)) for d in diffs}
    if budget is None or github_length(head + FOOTER) + sum(sizes.values()) <= budget:
        return head + "".join(full(d.stack) for d in diffs) + FOOTER
    # Fair shares: the smallest sections take what they need, the rest split what is left equally.
    remaining, allowance = budget - github_length(head + FOOTER), {}
    for index, stack in enumerate(sorted(sizes, key=sizes.__getitem__)):
        allowance[stack] = min(sizes[stack], remaining // (len(sizes) - index))
        remaining -= allowance[stack]
    text = head
    for d in diffs:
        title, blocks = sections[d.stack]
        room = allowance[d.stack] - github_length(title)
        text += title
        for index, block in enumerate(blocks):
            rendered = block.render(room)
            if not rendered:
                text += f"_… {len(blocks) - index} more part(s) of this stack's change in the artifact._\n\n"
                break
            text += rendered
            room -= github_length(rendered)
    return text + FOOTER


def compare(base_dir: Path, head_dir: Path = PROJECT_DIR) -> tuple[list[StackDiff], dict[str, Any], dict[str, Any]]:
    """Plan both checkouts (side by side, in two processes) and compare them stack by stack."""
    base_run, head_run = start_plan(base_dir), start_plan(head_dir)
    base, head = collect_plan(base_run), collect_plan(head_run)
    return compare_plans(base, head), base[0], head[0]


def compare_plans(
    base_plan: tuple[dict[str, Any], str | None], head_plan: tuple[dict[str, Any], str | None]
) -> list[StackDiff]:
    """Each stack's change from the base's plan to this branch's (each as `collect_plan` returns it)."""
    (base, base_error), (head, head_error) = base_plan, head_plan
    diffs = []
    for stack in [*STACKS, *sorted(set(head) - set(STACKS))]:
        d = diff_stack(stack, base.get(stack), head.get(stack))
        if head_error:
            d = StackDiff(stack, error=f"this branch: {head_error}")
        elif base_error:
            d.error = f"the base branch: {base_error}; nothing to compare with"
        diffs.append(d)
    return diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.diff", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("base_dir", type=Path, help="a checkout of the base branch")
    parser.add_argument("--base-label", default="the base branch", help="how the comment names the base (e.g. main)")
    parser.add_argument("--out", type=Path, help="write base.json, head.json and the untruncated comment here")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not (args.base_dir / "Pulumi.yaml").exists():
        print(f"error: {args.base_dir} is not a checkout of this project (no Pulumi.yaml); make one with "
              "git worktree add --detach DIR <base commit>", file=sys.stderr)
        return 2
    diffs, base, head = compare(args.base_dir.resolve(), args.project_dir.resolve())
    print(render(diffs, args.base_label), end="")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "base.json").write_text(json.dumps(list(base.values()), indent=2, sort_keys=True))
        (args.out / "head.json").write_text(json.dumps(list(head.values()), indent=2, sort_keys=True))
        (args.out / "diff-full.md").write_text(render(diffs, args.base_label, budget=None))
    # A base branch that cannot plan is said in the comment; only this branch's own failure fails the run.
    return 1 if not head else 0


if __name__ == "__main__":
    sys.exit(main())
