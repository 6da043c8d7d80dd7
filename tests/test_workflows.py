"""The GitHub workflows: valid against the workflow schema, and consistent with the program."""

import fnmatch
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from offline.harness import PROJECT_DIR

WORKFLOWS = sorted((PROJECT_DIR / ".github" / "workflows").glob("*.yml"))


def load(name: str) -> dict:
    return yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / name).read_text())


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_workflow_matches_the_github_schema(workflow: Path):
    """Each workflow validates offline against the schema GitHub Actions workflows follow."""
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(workflow)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pull_requests_run_the_readmes_test_command():
    """CI on GitHub runs the same `.ci/run` as here, with the reference schemas fetched first."""
    steps = load("pull-request.yml")["jobs"]["test"]["steps"]
    assert any(step.get("run") == "bash .ci/run" for step in steps)
    assert any(".github/fetch-schemas.sh" in step.get("run", "") for step in steps)


def test_production_is_deployed_last_and_behind_its_environment():
    """Deploy order development → staging → production; production runs in the gated environment."""
    jobs = load("deploy.yml")["jobs"]
    assert jobs["staging"]["needs"] == "development" and jobs["production"]["needs"] == "staging"
    assert jobs["production"]["with"]["environment"] == "production"


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_rotation_targets_match_the_key_versions_the_program_declares(stack_runs, stack):
    """The scheduled rotation's target glob matches the stack's KeyVersion URN and nothing else."""
    target = load("rotate-keys.yml")["jobs"][stack]["with"]["target"]
    pattern = target.replace("**", "*")
    matched = [r.urn for r in stack_runs[stack].registrations if fnmatch.fnmatchcase(r.urn, pattern)]
    assert [urn.rsplit("::", 1)[-1] for urn in matched] == [r.name for r in stack_runs[stack].of_type("oci:Kms/keyVersion:KeyVersion")]
    assert matched


def test_every_workflow_step_uses_the_policy_pack_that_exists():
    """Previews and updates run the pack in policy/ with its generated config."""
    step = next(s for s in load("pulumi-stack.yml")["jobs"]["pulumi"]["steps"] if s.get("uses", "").startswith("pulumi/actions"))
    assert (PROJECT_DIR / step["with"]["policyPacks"] / "PulumiPolicy.yaml").exists()
    assert (PROJECT_DIR / step["with"]["policyPackConfigs"]).exists()
