"""One locked set of dependencies, installed the same way by the README, CI, Pulumi and the workflows.

`uv run --locked` / `uv sync --locked` refuse a lock that no longer matches pyproject.toml, so the
lock cannot drift from what is declared; these tests keep every other way in closed.
"""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from offline.doc_commands import readme_commands
from offline.harness import PROJECT_DIR

LOCKS = sorted(p for p in PROJECT_DIR.glob("**/uv.lock") if ".venv" not in p.parts)


def test_ci_runs_the_readmes_test_command_verbatim():
    """What CI runs is exactly what a new user is told to run; both install uv only when it is missing."""
    plan, tests = readme_commands(PROJECT_DIR)
    assert (PROJECT_DIR / ".ci" / "run").read_text().rstrip().endswith("\n" + tests)
    assert "uv run --locked --group test python -m pytest" in tests and "uv run --locked python -m offline.plan all" in plan
    setup = "test -x .tools/bin/uv || python3.11 -m pip install -q --target .tools uv=="
    assert plan.startswith(setup) and tests.startswith(setup) and "--upgrade" not in plan + tests
    test_group = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["dependency-groups"]["test"]
    assert plan.startswith(setup + next(d for d in test_group if d.startswith("uv==")).removeprefix("uv==") + "\n"), "one uv version"


def test_every_dependency_is_pinned_and_every_locked_package_hashed():
    """Top-level pins are exact; the locks hold a hash for every artifact, transitive ones included."""
    assert LOCKS, "no uv.lock"
    for lock_path in LOCKS:
        project = tomllib.loads((lock_path.parent / "pyproject.toml").read_text())
        declared = project["project"]["dependencies"] + [
            d for group in project.get("dependency-groups", {}).values() for d in group
        ]
        assert declared and all(re.fullmatch(r"[A-Za-z0-9_.\[\]-]+==[0-9][^,;]*", d) for d in declared), declared
        lock = tomllib.loads(lock_path.read_text())
        artifacts = [a for p in lock["package"] for a in (p.get("wheels", []) + ([p["sdist"]] if "sdist" in p else []))]
        assert artifacts and all(a.get("hash", "").startswith("sha256:") for a in artifacts), lock_path


def test_nothing_else_declares_dependencies():
    """No requirements file that could drift from the lock."""
    assert not list(PROJECT_DIR.glob("requirements*.txt"))


def test_pulumi_installs_through_uv_into_the_environment_uv_builds():
    """`pulumi up` / `pulumi install` use Pulumi's uv toolchain, on the same .venv as `uv run`."""
    runtime = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["runtime"]
    assert runtime["options"] == {"toolchain": "uv", "virtualenv": ".venv"}
    assert (PROJECT_DIR / ".python-version").read_text().strip() == "3.11"


def test_the_iam_program_runs_in_the_main_programs_locked_environment():
    """iam/ names no virtualenv and holds no project file: the CLI's uv toolchain then uses the nearest uv.lock,
    the repository's, and the .venv beside it (pulumi/pulumi sdk/python/toolchain/uv.go, newUv)."""
    runtime = yaml.safe_load((PROJECT_DIR / "iam" / "Pulumi.yaml").read_text())["runtime"]
    assert runtime["options"] == {"toolchain": "uv"}
    assert not [p.name for p in (PROJECT_DIR / "iam").iterdir() if p.name in ("uv.lock", "pyproject.toml", "requirements.txt")]


def test_dependency_updates_are_grouped_weekly_pull_requests_for_every_lock_and_the_actions():
    """Dependabot's own schema accepts the config, and it covers each lock's folder and the workflows."""
    path = PROJECT_DIR / ".github" / "dependabot.yml"
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run([str(checker), "--builtin-schema", "vendor.dependabot", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    updates = {u["package-ecosystem"]: u for u in yaml.safe_load(path.read_text())["updates"]}
    folders = {"/" + ("" if p.parent == PROJECT_DIR else p.parent.relative_to(PROJECT_DIR).as_posix()) for p in LOCKS}
    assert set(updates["uv"]["directories"]) == folders
    assert updates["github-actions"]["directory"] == "/"
    assert all(u["schedule"]["interval"] == "weekly" and u["groups"] for u in updates.values())
