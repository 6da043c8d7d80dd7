"""A tenancy's real identifiers in the stack files break no test and never reach a generated file.

The scenario: a user replaces every placeholder OCID of the stack files (and of the pack's
authority data, policy/config.json) with their tenancy's own, consistently. The committed
docs/ARCHITECTURE.md must still be current and must not carry those values; the plan and the
pack's checks still pass; the real values appear only where the user asks for them.
"""

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from offline import plan, report
from offline.harness import PROJECT_DIR, STACKS

PLACEHOLDER_OCID = re.compile(r"ocid1\.[a-z]+\.oc1\.[a-z0-9-]*\.aaaaaaaaplaceholder[a-z0-9]+")


def real_looking(placeholder: str) -> str:
    """What a tenancy's OCID of the same kind looks like: same prefix, a unique part of its own."""
    prefix = placeholder.split(".aaaaaaaa")[0]
    return f"{prefix}.aaaaaaaa{hashlib.sha256(placeholder.encode()).hexdigest()[:52]}"


@pytest.fixture(scope="module")
def tenancy_copy(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A copy of the repository whose stack files (the IAM program's too) and policy/config.json hold 'real' OCIDs."""
    copy = tmp_path_factory.mktemp("tenancy") / "repo"
    shutil.copytree(PROJECT_DIR, copy, ignore=shutil.ignore_patterns(".venv", ".tools", ".git", "__pycache__", ".pytest_cache"))
    files = [folder / f"Pulumi.{stack}.yaml" for folder in (copy, copy / "iam") for stack in STACKS]
    files.append(copy / "policy" / "config.json")
    replaced = {found: real_looking(found) for path in files for found in PLACEHOLDER_OCID.findall(path.read_text())}
    assert len(replaced) == 7  # a compartment and a cluster per environment, and production's standby cluster
    for path in files:
        text = path.read_text()
        for old, new in replaced.items():
            text = text.replace(old, new)
        path.write_text(text)
    return copy, replaced


def test_the_committed_docs_stay_current_and_carry_no_real_identifier(tenancy_copy):
    """The staleness check passes unchanged in the copy, and no real OCID is in what it compares."""
    copy, replaced = tenancy_copy
    rendered = report.render_docs(copy)
    assert rendered == (copy / "docs" / "ARCHITECTURE.md").read_text()
    assert not [real for real in replaced.values() if real in rendered]


def test_real_identifiers_are_shown_only_when_asked_for(tenancy_copy, capsys):
    """With `identifiers`, the document holds the stack files' own OCIDs; `--identifiers` only prints it."""
    copy, replaced = tenancy_copy
    assert all(real in report.render_docs(copy, identifiers=True) for real in replaced.values())
    before = report.ARCHITECTURE.read_text()
    assert report.main(["--identifiers"]) == 0
    assert "placeholderecommerceproduction" in capsys.readouterr().out
    assert report.ARCHITECTURE.read_text() == before


def test_the_plan_and_the_pack_checks_pass_with_real_identifiers(tenancy_copy, capsys):
    """Every stack plans with no mandatory violation and no isolation breach."""
    copy, _ = tenancy_copy
    assert plan.main(["all", "--project-dir", str(copy)]) == 0
    assert plan.main(["--matrix", "--project-dir", str(copy)]) == 0
    assert "POLICY:" not in capsys.readouterr().err
