"""The pull-request comment shows what the pull request changes, whole, under GitHub's limit, as GitHub renders it.

Both sides are planned by their own checkout's code (`offline/diff.py`). The comment is rendered with
cmark-gfm, GitHub's own Markdown engine (PyPI `cmarkgfm`), then every HTML tag GitHub does not allow
is dropped, as GitHub's sanitizer does: what is left is what a reviewer sees.
"""

import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from components.naming import DEFAULT_SERVICES
from components.stack_config import CLOCK_VARIABLE
from offline import diff
from offline.harness import PROJECT_DIR, STACKS
from offline.markdown import GITHUB_COMMENT_LIMIT, github_length
from tests.conftest import PINNED_TODAY

# The tags GitHub keeps in rendered Markdown that this comment can produce (html-pipeline's allowlist).
GITHUB_TAGS = {"h1", "h2", "h3", "h4", "p", "ul", "ol", "li", "pre", "code", "table", "thead", "tbody", "tr", "th",
               "td", "em", "strong", "a", "details", "summary", "br", "del", "blockquote", "hr", "input"}
BREAK_GLASS = "ecommerce-production-break-glass"


def copy_of_repository(to: Path) -> Path:
    shutil.copytree(PROJECT_DIR, to, ignore=shutil.ignore_patterns(".venv", ".tools", ".git", "__pycache__", ".pytest_cache"))
    return to


def change_one_setting_one_service_one_grant(head: Path) -> None:
    """staging syncs every 30 minutes; development gains search-service; production's IAM stack gains a break-glass group."""
    staging = head / "Pulumi.staging.yaml"
    staging.write_text(staging.read_text().replace("    installOperator: true\n", "    installOperator: true\n    refreshInterval: 30m\n"))
    development = head / "Pulumi.development.yaml"
    services = [*DEFAULT_SERVICES, "search-service"]
    development.write_text(development.read_text() + "  ecommerce-kms-vault:services:\n" + "".join(f"    - {s}\n" for s in services))
    production = head / "iam" / "Pulumi.production.yaml"
    production.write_text(production.read_text().replace(f"    # breakGlassGroup: {BREAK_GLASS}", f"    breakGlassGroup: {BREAK_GLASS}"))


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> Iterator[dict[str, Any]]:
    """Three checkouts planned at once, beside the module's other tests: the base, this repository, a changed copy."""
    base = copy_of_repository(tmp_path_factory.mktemp("pr") / "base")
    head = copy_of_repository(base.parent / "head")
    change_one_setting_one_service_one_grant(head)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CLOCK_VARIABLE, PINNED_TODAY.isoformat())
        started = {name: diff.start_plan(folder) for name, folder in (("base", base), ("real", PROJECT_DIR), ("head", head))}
    done: dict[str, Any] = {}

    def collect(name: str) -> dict[str, Any]:
        if name not in done:
            done[name], error = diff.collect_plan(started[name])
            assert error is None, error
        return done[name]

    yield {"collect": collect}
    for process in started.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


def comment(plans: dict[str, Any], head: str, budget: int | None = diff.BUDGET) -> str:
    base, changed = plans["collect"]("base"), plans["collect"](head)
    return diff.render([diff.diff_stack(s, base[s], changed[s]) for s in STACKS], "main", budget)


class Visible(HTMLParser):
    """The text GitHub shows, and for each piece the tags it sits in (unknown tags dropped with their name)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.pieces: list[tuple[tuple[str, ...], str]] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in GITHUB_TAGS and tag not in ("br", "hr", "input"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in GITHUB_TAGS and tag in self.open:
            while self.open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        self.pieces.append((tuple(self.open), data))


def seen(markdown: str) -> Visible:
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    parser = Visible()
    parser.feed(html)
    return parser


def text_of(view: Visible) -> str:
    return "".join(data for _, data in view.pieces)


def sections(view: Visible) -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """The pieces under each stack's heading."""
    found: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    current = None
    for tags, data in view.pieces:
        if tags[-1:] == ("h3",):
            current = data
            found[current] = []
        elif current is not None:
            found[current].append((tags, data))
    return found


def inside(pieces: list[tuple[tuple[str, ...], str]], tag: str) -> str:
    return "".join(data for tags, data in pieces if tag in tags)


def test_the_real_stacks_against_themselves_say_no_change(plans):
    """This repository against an unchanged copy: every stack, each saying it has no change."""
    text = comment(plans, "real")
    view = seen(text)
    assert list(sections(view)) == list(STACKS)
    for stack, pieces in sections(view).items():
        assert "No change: this stack's plan is the same as on the base branch." in inside(pieces, "p"), stack
    assert "<…>" in text_of(view)  # the placeholder legend is visible text, not a stripped tag


def test_a_pull_request_changing_a_setting_a_service_and_a_grant_shows_each_where_it_belongs(plans):
    """Each change appears under its own stack, in the block for it, and every value is visible text."""
    base, head = plans["collect"]("base"), plans["collect"]("head")
    text = comment(plans, "head")
    view = seen(text)
    by_stack = sections(view)
    assert list(by_stack) == list(STACKS)
    staging = by_stack["staging"]
    assert "spec.refreshInterval" in inside(staging, "li") and '"1h"' in inside(staging, "code") and '"30m"' in inside(staging, "code")
    development = by_stack["development"]
    for name in ("ecommerce-development-search-service-database-url", "ecommerce-development-search-service-external-secret"):
        assert name in inside(development, "li")
    production = by_stack["production"]
    added = [s for s in diff._statements(head["production"]) if s not in diff._statements(base["production"])]
    assert added and all(BREAK_GLASS in s for s in added)
    shown_statements = inside(production, "pre")
    for statement in added:
        assert f"+ {statement}" in shown_statements
    matrix_row = inside(production, "td")
    assert f"Production break-glass ({BREAK_GLASS})" in matrix_row and "read, write, delete" in matrix_row
    # Nothing of one stack's change leaks into another's section, and the summary counts each change.
    assert "search-service" not in inside(staging + production, "li")
    summary = [data for tags, data in view.pieces if "td" in tags and tags.count("td") == 1]
    # The new row's cells: production's secrets, their replicas (disasterRecovery), staging's and development's.
    assert summary[:10] == ["production", "0", "0", "0", "0", "0", f"+{len(added)} −0", "4", summary[8], "staging"]


def test_no_angle_bracket_value_is_ever_outside_code(plans):
    """GitHub strips unknown tags: every `<…>` of the comment must render as text."""
    text = comment(plans, "head")
    shown = text_of(seen(text))
    for placeholder in set(re.findall(r"<[a-z…][^<>\s]*>", text)):
        assert placeholder in shown, placeholder


def huge(d: diff.StackDiff, statements: int) -> diff.StackDiff:
    d.statements_added = [f"Allow group 'Default'/'g{n}' to read secret-bundles in compartment id <{d.stack}-compartment-{n}>"
                          for n in range(statements)]
    return d


def test_any_size_stays_under_the_limit_and_keeps_every_stack(plans):
    """Thousands of changed statements in two stacks: the comment fits, development's whole change is there,
    the others are cut fairly between items, each block still closed, each saying what it left out."""
    base, head = plans["collect"]("base"), plans["collect"]("head")
    diffs = [diff.diff_stack(s, base[s], head[s]) for s in STACKS]
    diffs[0], diffs[1] = huge(diffs[0], 4000), huge(diffs[1], 3000)
    text = diff.render(diffs, "main")
    assert github_length(text) <= diff.BUDGET < GITHUB_COMMENT_LIMIT
    view = seen(text)
    by_stack = sections(view)
    assert list(by_stack) == list(STACKS)
    full = diff.render(diffs, "main", budget=None)
    development_full = full.split("### development\n\n")[1].split(diff.FOOTER)[0]
    assert development_full in text
    for stack in ("production", "staging"):
        pieces = by_stack[stack]
        assert "more statements in the artifact" in inside(pieces, "em")
        assert github_length(inside(pieces, "pre")) > diff.BUDGET // 5  # a fair share, not a crumb
    assert diff.FOOTER.strip("_\n").split("`")[0] in text_of(view)
    assert text.count("```") % 2 == 0


def test_a_missing_base_checkout_is_one_clear_error(tmp_path, capsys):
    """Pointed at a folder that is not a checkout, the command says how to make one."""
    assert diff.main([str(tmp_path)]) == 2
    assert "git worktree add" in capsys.readouterr().err


def test_the_pull_request_workflow_comments_the_change_against_a_worktree_of_the_base():
    """pull-request.yml plans the base commit in a git worktree and renders the comment with offline.diff."""
    import yaml

    workflow = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "pull-request.yml").read_text())
    [render] = [step for step in workflow["jobs"]["offline-plan"]["steps"] if step.get("name") == "Render"]
    assert render["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert 'git worktree add --detach "$base" "$BASE_SHA"' in render["run"]
    assert '-m offline.diff "$base"' in render["run"] and "> plan/comment.md" in render["run"]
    comment_step = (PROJECT_DIR / ".github" / "workflows" / "plan-comment.yml").read_text()
    assert ".slice(" not in comment_step and "65536" in comment_step


def test_a_base_planned_by_older_code_is_compared_as_far_as_it_goes(plans):
    """A base whose plan lacks the access matrix (code from before it was printed) moves no cell, and says so."""
    base, head = plans["collect"]("base"), plans["collect"]("head")
    older = {k: v for k, v in base["production"].items() if k != "access"}
    older["resources"] = [{k: v for k, v in r.items() if k not in ("custom", "provider", "adopts")} for r in older["resources"]]
    found = diff.diff_stack("production", older, head["production"])
    assert found.access == [] and "Access matrix not compared" in found.notes[0]
    assert found.statements_added and not found.replaced


@pytest.mark.parametrize("stack", STACKS)
def test_the_full_markdown_plan_shows_every_placeholder_and_keeps_its_outputs_in_a_block(stack_runs, stack):
    """`offline.plan --markdown` (in the artifact): outputs in a code block, every `<…>` visible as GitHub renders it."""
    from offline import plan

    text = plan.render_text(stack_runs[stack], [], markdown=True)
    view = seen(text)
    shown = text_of(view)
    placeholders = set(re.findall(r"<[a-z][^<>\s\"]*>", text)) - {"<details>", "<summary>"}
    assert f"<{stack}-vault-id>".replace(stack, f"ecommerce-{stack}") in placeholders
    assert all(p in shown for p in placeholders), sorted(p for p in placeholders if p not in shown)
    outputs = "".join(data for tags, data in view.pieces if "pre" in tags)
    assert "vaultId:" in outputs and "namespace:" in outputs


def test_a_base_that_cannot_plan_is_said_in_the_comment_and_fails_nothing(plans, tmp_path, capsys):
    """A broken base branch is reported under each stack; only this branch's own failure fails the run."""
    base = copy_of_repository(tmp_path / "base")
    staging = base / "Pulumi.staging.yaml"
    staging.write_text(staging.read_text().replace("    clusterId:", "   clusterId:"))
    broken = diff.collect_plan(diff.start_plan(base))
    assert broken[1] and "Pulumi.staging.yaml, line" in broken[1]
    shown = text_of(seen(diff.render(diff.compare_plans(broken, (plans["collect"]("real"), None)), "main")))
    assert shown.count("the base branch: the offline plan failed") == len(STACKS)
    assert diff.main([str(base), "--project-dir", str(base)]) == 1  # this branch's own plan failed
    assert "this branch: the offline plan failed" in text_of(seen(capsys.readouterr().out))
