"""The GitHub workflows, read by independent checkers (GitHub's workflow schema, zizmor, shellcheck)
and checked against the program, the locks and the credential rules they must keep."""

import fnmatch
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

from components.stack_config import CLOCK_VARIABLE, today_from
from offline.harness import PROJECT_DIR, STACKS

WORKFLOWS_DIR = PROJECT_DIR / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOWS_DIR.glob("*.yml"))
SCRIPTS = [PROJECT_DIR / ".ci" / "run", *sorted((PROJECT_DIR / ".github").glob("*.sh"))]
STACK_WORKFLOW = "./.github/workflows/pulumi-stack.yml"
TOOLS = Path(sys.executable).parent


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS_DIR / name).read_text())


def jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(w.name, name, job) for w in WORKFLOWS for name, job in load(w.name)["jobs"].items()]


def steps() -> list[tuple[str, dict[str, Any]]]:
    return [(f"{w}:{j}", step) for w, j, job in jobs() for step in job.get("steps", [])]


def locked_version(lock: Path, package: str) -> str:
    return next(p["version"] for p in tomllib.loads(lock.read_text())["package"] if p["name"] == package)


def test_workflows_match_the_github_schema():
    """Each workflow validates offline against the schema GitHub Actions workflows follow."""
    result = subprocess.run(
        [str(TOOLS / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_reports_nothing_of_medium_or_high_severity():
    """The workflow security audit (dangerous triggers, injection, pinning, permissions, credential
    persistence, inherited secrets), with its most suspicious persona; suppressions are in place, with reasons."""
    result = subprocess.run(
        [str(TOOLS / "zizmor"), "--offline", "--persona=auditor", "--min-severity=medium", "--format=json", str(WORKFLOWS_DIR)],
        capture_output=True, text=True, timeout=120,
    )
    findings = json.loads(result.stdout)

    def described(finding: dict[str, Any]) -> str:
        where = finding["locations"][0]["symbolic"]
        file = Path(where["key"]["Local"]["verbatim_path"]).name
        return f"{finding['ident']} ({finding['determinations']['severity']}): {file}: {where['annotation']}"

    assert findings == [], [described(f) for f in findings]


def test_shellcheck_finds_nothing_in_run_blocks_and_scripts(tmp_path):
    """Every `run:` block (as the bash GitHub runs it) and every script passes shellcheck."""
    blocks = {}
    for i, (where, step) in enumerate(s for s in steps() if "run" in s[1]):
        assert "${{" not in step["run"], f"{where}: expressions go through env:, never into the script"
        path = tmp_path / f"run-{i}.sh"
        path.write_text(step["run"])
        blocks[path] = f"{where}: {step.get('name', step['run'].splitlines()[0])}"
    result = subprocess.run(
        [str(TOOLS / "shellcheck"), "--shell=bash", "--format=gcc", *map(str, blocks), *map(str, SCRIPTS)],
        capture_output=True, text=True, timeout=120,
    )
    report = result.stdout
    for path, where in blocks.items():
        report = report.replace(str(path), where)
    assert result.returncode == 0, report


def test_every_action_is_pinned_to_a_commit_with_its_version():
    """`uses: owner/repo@<40-hex commit> # vX.Y.Z`, one version of each action across all workflows."""
    pins: dict[str, set[str]] = {}
    for workflow in WORKFLOWS:
        for line in workflow.read_text().splitlines():
            found = re.match(r"\s*(?:-\s+)?uses:\s*(\S+)(.*)$", line)
            if not found or found.group(1) == STACK_WORKFLOW:
                continue
            action, comment = found.groups()
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), f"{workflow.name}: {line.strip()}"
            assert re.fullmatch(r"\s+# v\d+\.\d+\.\d+", comment), f"{workflow.name}: {line.strip()} (version comment)"
            pins.setdefault(action.split("@")[0], set()).add(action + comment)
    assert pins and all(len(versions) == 1 for versions in pins.values()), pins


def test_the_cli_and_uv_are_the_locked_versions():
    """The Pulumi CLI matches the locked Python SDK; uv is the version the project pins."""
    sdk = locked_version(PROJECT_DIR / "uv.lock", "pulumi")
    uv = locked_version(PROJECT_DIR / "uv.lock", "uv")
    used = [step for _, step in steps() if "uses" in step]
    pulumi = [s["with"]["pulumi-version"] for s in used if s["uses"].startswith("pulumi/actions@")]
    setup_uv = [s["with"]["version"] for s in used if s["uses"].startswith("astral-sh/setup-uv@")]
    assert pulumi and set(pulumi) == {sdk}
    assert setup_uv and set(setup_uv) == {uv}


def test_jobs_get_least_permissions_and_named_secrets():
    """Nothing granted at the top; each job declares its own permissions; no `secrets: inherit`;
    checkouts leave no token on disk; only the plan comment may write to pull requests."""
    for workflow in WORKFLOWS:
        assert load(workflow.name)["permissions"] == {}, workflow.name
    for workflow, name, job in jobs():
        assert "permissions" in job, f"{workflow}:{name}"
        assert job.get("secrets") != "inherit", f"{workflow}:{name}"
        writes = [scope for scope, grant in (job["permissions"] or {}).items() if grant == "write"]
        assert writes == (["pull-requests"] if (workflow, name) == ("plan-comment.yml", "comment") else []), f"{workflow}:{name}"
    checkouts = [step for _, step in steps() if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_credentials_are_read_only_in_environments_and_previews_never_deploy():
    """Every job that reads a credential runs in a GitHub environment; pull requests preview only
    development and staging, in their read-only `<stack>-preview` environments; production's
    preview and updates run from main only (deploy and rotation)."""
    for workflow, name, job in jobs():
        reads = re.findall(r"secrets\.(\w+)", json.dumps({k: v for k, v in job.items() if k != "secrets"}))
        if reads:
            assert job.get("environment"), f"{workflow}:{name} reads {reads} outside an environment"
    stack_job = load("pulumi-stack.yml")
    assert stack_job["jobs"]["pulumi"]["environment"] == "${{ inputs.environment }}"
    # PyYAML reads the key `on` as YAML 1.1's boolean true.
    assert stack_job[True]["workflow_call"]["inputs"]["environment"]["required"] is True
    preview = load("pull-request.yml")["jobs"]["preview"]
    assert preview["with"] == {"stack": "${{ matrix.stack }}", "command": "preview", "environment": "${{ matrix.stack }}-preview"}
    assert preview["strategy"]["matrix"]["stack"] == ["development", "staging"]
    callers = [(workflow, job["with"]) for workflow, _, job in jobs() if job.get("uses") == STACK_WORKFLOW]
    for workflow, given in callers:
        expected = f"{given['stack']}-preview" if given["command"] == "preview" else given["stack"]
        assert given["environment"] == expected, (workflow, given)


def test_no_run_replaces_another_stacks_or_workflows_pending_update():
    """GitHub keeps one pending run per concurrency group and cancels the older: each (workflow, stack,
    command) updating a stack has a group of its own, so a rotation never cancels a pending deploy."""
    groups = {}
    for workflow, _name, job in jobs():
        if job.get("uses") == STACK_WORKFLOW and job["with"]["command"] == "up":
            group = job["concurrency"]["group"]
            assert job["with"]["stack"] in group and job["concurrency"]["cancel-in-progress"] is False
            groups.setdefault(group, set()).add(workflow)
    assert groups and all(len(workflows) == 1 for workflows in groups.values()), groups


def test_the_pack_runs_where_the_policy_pack_is_passed():
    """Wherever a workflow passes a policy pack (a path from the step's work-dir, where the CLI runs), its
    locked environment is built first in that directory, uv is installed for the CLI's uv toolchain, and
    the pack's committed config (the guardrail authority) is given."""
    passed = set()
    for workflow, name, job in jobs():
        job_steps = job.get("steps", [])
        for i, step in enumerate(job_steps):
            pack = step.get("with", {}).get("policyPacks")
            if not pack:
                continue
            work_dir = PROJECT_DIR / step["with"].get("work-dir", ".")
            directory = (work_dir / pack).resolve().relative_to(PROJECT_DIR)
            before = "\n".join(s.get("run", "") for s in job_steps[:i])
            assert f"uv sync --locked --directory {directory}" in before, f"{workflow}:{name}"
            assert any(s.get("uses", "").startswith("astral-sh/setup-uv@") for s in job_steps[:i])
            assert (PROJECT_DIR / directory / "PulumiPolicy.yaml").exists()
            assert (work_dir / step["with"]["policyPackConfigs"]).resolve() == PROJECT_DIR / directory / "config.json"
            passed.add(workflow)
    assert {"pulumi-stack.yml", "iam.yml"} <= passed


def test_iam_is_applied_only_in_its_own_gated_environment():
    """The IAM program is previewed with read-only credentials (`iam-<stack>-preview`), then updated in
    `iam-<stack>` (IAM-administrator credentials, its own reviewers), one environment at a time, after every
    preview; both jobs run the same steps on the IAM project, and no other workflow touches it."""
    iam = load("iam.yml")["jobs"]
    preview, up = iam["preview"], iam["up"]
    assert preview["environment"] == "iam-${{ matrix.stack }}-preview" and preview["strategy"]["matrix"]["command"] == ["preview"]
    assert up["environment"] == "iam-${{ matrix.stack }}" and up["strategy"]["matrix"]["command"] == ["up"]
    assert up["needs"] == "preview" and up["strategy"]["max-parallel"] == 1
    assert preview["steps"] == up["steps"] and preview["strategy"]["matrix"]["stack"] == up["strategy"]["matrix"]["stack"]
    [step] = [s for s in up["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert step["with"]["work-dir"] == "iam" and step["with"]["command"] == "${{ matrix.command }}"
    assert (PROJECT_DIR / "iam" / "Pulumi.yaml").exists()
    for workflow, name, other in jobs():
        if workflow != "iam.yml":
            assert not str(other.get("environment", "")).startswith("iam-"), f"{workflow}:{name}"
            assert all(s.get("with", {}).get("work-dir") != "iam" for s in other.get("steps", [])), f"{workflow}:{name}"


def test_rotation_reads_its_stack_from_the_configured_backend():
    """pulumi/actions without a command only installs the CLI: the check logs in (PULUMI_BACKEND_URL
    for a self-managed backend) before reading the stack's outputs."""
    check = load("scheduled.yml")["jobs"]["due"]
    assert check["env"]["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
    runs = [step.get("run", "") for step in check["steps"]]
    login = next(i for i, run in enumerate(runs) if run.strip() == "pulumi login")
    assert login < next(i for i, run in enumerate(runs) if "pulumi stack output" in run)


def test_pull_requests_run_the_readmes_test_command():
    """CI on GitHub runs the same `.ci/run` as here, with the reference schemas fetched first."""
    test_steps = load("pull-request.yml")["jobs"]["test"]["steps"]
    assert any(step.get("run") == "bash .ci/run" for step in test_steps)
    assert any(".github/fetch-schemas.sh" in step.get("run", "") for step in test_steps)


def test_production_is_deployed_last_after_its_preview_and_behind_its_environment():
    """Deploy order development → staging → production preview → production, in the gated environment."""
    deploy = load("deploy.yml")["jobs"]
    assert deploy["staging"]["needs"] == ["clock", "development"]
    assert deploy["production-preview"]["needs"] == ["clock", "staging"]
    assert deploy["production"]["needs"] == ["clock", "production-preview"]
    assert deploy["production"]["with"]["environment"] == "production"


def test_due_rotations_run_a_full_update_behind_the_stacks_own_gate():
    """A JWT rotation creates secrets, rewrites ExternalSecrets and retires a generation: no target
    narrows the update, and each stack's update runs in its deploying environment only when due."""
    scheduled = load("scheduled.yml")["jobs"]
    for stack, first in (("staging", "staging"), ("production", "production-preview")):
        job = scheduled[stack]
        assert job["with"] == {"stack": stack, "command": "up", "environment": stack, "today": PINNED}
        # Stated in full: a bare condition would also require every job upstream to succeed.
        assert scheduled[first]["if"] == (
            f"${{{{ !cancelled() && needs.decide.result == 'success' && needs.decide.outputs.{stack} == 'true' }}}}"
        )
    assert scheduled["production"]["if"] == "${{ !cancelled() && needs.production-preview.result == 'success' }}"
    due = "\n".join(step.get("run", "") for step in scheduled["due"]["steps"])
    assert "offline.rotation_status due" in due and "offline.rotation_status overdue" in due


def test_the_scheduled_production_rotation_is_approved_after_a_preview_of_the_same_day():
    """Issue 15 item 3, for the scheduled workflow as for a push: production's reviewers approve a rotation
    after reading a preview, with production's read-only credentials, of the same program on the same
    pinned day, in the same run; no approval is asked for after a failed preview."""
    scheduled = load("scheduled.yml")["jobs"]
    previews = {
        name for name in upstream(scheduled, "production")
        if scheduled[name].get("with", {}) == {"stack": "production", "command": "preview", "environment": "production-preview",
                                                "today": scheduled["production"]["with"]["today"]}
    }
    assert previews == {"production-preview"}
    assert "production-preview.result == 'success'" in scheduled["production"]["if"]


def test_drift_is_a_refreshed_preview_of_every_stack_not_rotating_today():
    """A console change only shows against a refreshed state; the check uses read-only credentials
    and covers every stack except one whose rotation (which would show as changes) runs today."""
    drift = load("scheduled.yml")["jobs"]["drift"]
    assert drift["needs"] == ["clock", "decide"] and drift["if"] == "${{ !cancelled() && needs.decide.result == 'success' }}"
    assert drift["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.decide.outputs.drift) }}"
    assert drift["with"] == {
        "stack": "${{ matrix.stack }}", "command": "preview", "environment": "${{ matrix.stack }}-preview",
        "refresh": True, "expect-no-changes": True, "today": PINNED,
    }
    inputs = load("pulumi-stack.yml")[True]["workflow_call"]["inputs"]  # YAML 1.1 reads the key `on` as true
    step = next(s for s in load("pulumi-stack.yml")["jobs"]["pulumi"]["steps"] if s.get("uses", "").startswith("pulumi/actions"))
    for name in ("refresh", "expect-no-changes"):
        assert inputs[name]["type"] == "boolean" and step["with"][name] == f"${{{{ inputs.{name} }}}}"


PINNED = "${{ needs.clock.outputs.today }}"


def test_every_preview_and_update_of_a_run_decides_rotation_on_one_pinned_day(tmp_path):
    """A run computes its day once (its `clock` job) and hands that same value to every preview and
    update of any stack and to the due check, so that what reviewers read is what their approval runs;
    the reusable workflow gives it to the program, the only place the CLI runs; the value parses."""
    for workflow in ("deploy.yml", "scheduled.yml"):
        jobs = load(workflow)["jobs"]
        assert jobs["clock"]["outputs"] == {"today": "${{ steps.now.outputs.today }}"}
        callers = {name: job for name, job in jobs.items() if job.get("uses") == STACK_WORKFLOW}
        assert callers
        for name, job in callers.items():
            assert job["with"]["today"] == PINNED and "clock" in upstream(jobs, name), f"{workflow}:{name}"
            assert "clock" in ([job["needs"]] if isinstance(job["needs"], str) else job["needs"]), f"{workflow}:{name}"
    due = load("scheduled.yml")["jobs"]["due"]
    assert due["env"]["TODAY"] == PINNED and due["needs"] == "clock"
    checks = [line for step in due["steps"] for line in step.get("run", "").splitlines() if "offline.rotation_status" in line]
    assert len(checks) == 2 and all('--today "$TODAY"' in line for line in checks)
    stack = load("pulumi-stack.yml")
    assert stack[True]["workflow_call"]["inputs"]["today"]["type"] == "string"  # YAML 1.1 reads `on` as true
    steps_ = stack["jobs"]["pulumi"]["steps"]
    [cli] = [s for s in steps_ if s.get("uses", "").startswith("pulumi/actions@")]
    assert cli["env"] == {CLOCK_VARIABLE: "${{ inputs.today }}"}
    assert not any("pulumi " in s.get("run", "") for s in steps_)
    code, _, written = run_step("deploy.yml", "clock", "now", {}, tmp_path / "clock")
    assert code == 0 and today_from({CLOCK_VARIABLE: written["today"]}).isoformat() == written["today"]


def upstream(jobs: dict[str, Any], name: str) -> set[str]:
    """Every job `name` waits for, directly or not."""
    needs = jobs[name].get("needs", [])
    direct = {needs} if isinstance(needs, str) else set(needs)
    return direct.union(*(upstream(jobs, n) for n in direct))


def test_nothing_but_a_rotation_waits_for_a_deploying_environment():
    """An approval pending for days must not hold back the drift checks or the alarm."""
    scheduled = load("scheduled.yml")["jobs"]
    gated = {name for name, job in scheduled.items() if job.get("with", {}).get("environment") in ("staging", "production")}
    assert gated == {"staging", "production"}
    for name in set(scheduled) - gated:
        assert not upstream(scheduled, name) & gated, name


def run_step(workflow: str, job: str, step_name: str, files: dict[str, str], tmp_path: Path,
             env: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    """Run a step (by id or name) with bash as the runner does (`bash --noprofile --norc -eo pipefail`), next to `files` and the
    project's virtual environment; its exit code, output and what it wrote to GITHUB_OUTPUT."""
    step = next(s for s in load(workflow)["jobs"][job]["steps"] if step_name in (s.get("id"), s.get("name")))
    tmp_path.mkdir()
    (tmp_path / ".venv").symlink_to(PROJECT_DIR / ".venv")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    output = tmp_path / "github-output"
    output.touch()
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=tmp_path, capture_output=True, text=True, check=False,
                          env={"GITHUB_OUTPUT": str(output), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **(env or {})})
    written = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return done.returncode, done.stdout + done.stderr, written


def decide(files: dict[str, str], tmp_path: Path) -> tuple[int, str, dict[str, str]]:
    return run_step("scheduled.yml", "decide", "read", files, tmp_path)


def test_decide_rotates_what_is_due_and_checks_the_rest_for_drift(tmp_path):
    """A stack due today rotates and skips drift; a stack whose status is missing (its `due` failed) does not rotate."""
    code, _, out = decide({"due-staging": "true\n", "due-production": "false\n"}, tmp_path / "a")
    assert code == 0 and (out["staging"], out["production"]) == ("true", "false")
    assert json.loads(out["drift"]) == ["development", "production"]
    code, _, out = decide({"due-production": "true\n"}, tmp_path / "b")
    assert code == 0 and (out["staging"], out["production"]) == ("false", "true")
    assert json.loads(out["drift"]) == ["development", "staging"]


def alarm(files: dict[str, str], tmp_path: Path) -> tuple[int, str]:
    step = "Fail on a rotation overdue, or a stack whose rotation could not be read"
    return run_step("scheduled.yml", "alarm", step, files, tmp_path)[:2]


def test_the_alarm_fails_on_an_overdue_rotation_or_a_stack_it_could_not_read(tmp_path):
    """On time: passes. Overdue: fails with rotation_status's own message. No status at all: fails too."""
    on_time = "staging: no rotation overdue on 2026-12-01 (grace 3 days)\n"
    late = "::error title=Rotation overdue::production: jwtRotation was due on 2026-11-01\n"
    assert alarm({"overdue-staging": on_time, "overdue-production": on_time}, tmp_path / "a")[0] == 0
    code, output = alarm({"overdue-staging": on_time, "overdue-production": late}, tmp_path / "b")
    assert code == 1 and late.strip() in output
    code, output = alarm({"overdue-staging": on_time}, tmp_path / "c")
    assert code == 1 and "production: its outputs could not be read" in output


def test_production_gets_a_kubeconfig_for_its_standby_cluster_too(tmp_path):
    """With disasterRecovery.standby, the stack also manages the standby cluster in the replicas' region: the
    kubeconfig step lists both clusters, under the contexts the stack file names, before asking the OCI CLI
    for each (run here without the OCI CLI on PATH, so it stops at the first)."""
    text = (PROJECT_DIR / "Pulumi.production.yaml").read_text()
    config = yaml.safe_load(text)["config"]
    env = {"STACK": "production", "KUBE_ENDPOINT": "PUBLIC_ENDPOINT"}
    code, output, _ = run_step("pulumi-stack.yml", "pulumi", "Kubeconfig of the stack's cluster (OCI CLI)",
                               {"Pulumi.production.yaml": text}, tmp_path / "production", env)
    assert code == 127 and "oci: command not found" in output
    own, recovery = config["ecommerce-kms-vault:kubernetes"], config["ecommerce-kms-vault:disasterRecovery"]
    listed = [line.removeprefix("kubeconfig (cluster region context): ") for line in output.splitlines() if line.startswith("kubeconfig (")]
    assert listed == [f"{own['clusterId']} {config['ecommerce-kms-vault:region']} {own['context']}",
                      f"{recovery['standby']['clusterId']} {recovery['region']} {recovery['standby']['context']}"]


def test_a_stack_with_its_own_kubeconfig_skips_the_oci_cli_one(tmp_path):
    """The kubeconfig step makes one from the OCI CLI for a stack naming a context, and none for a
    stack that brings a secret kubeconfig instead (run here without the OCI CLI on PATH)."""
    stack_file = yaml.safe_load((PROJECT_DIR / "Pulumi.staging.yaml").read_text())

    def kubeconfig_step(directory: Path) -> tuple[int, str]:
        files = {"Pulumi.staging.yaml": yaml.safe_dump(stack_file)}
        env = {"STACK": "staging", "KUBE_ENDPOINT": "PUBLIC_ENDPOINT"}
        return run_step("pulumi-stack.yml", "pulumi", "Kubeconfig of the stack's cluster (OCI CLI)", files, directory, env)[:2]

    code, output = kubeconfig_step(tmp_path / "context")
    assert code == 127 and "oci: command not found" in output
    kubernetes = stack_file["config"]["ecommerce-kms-vault:kubernetes"]
    assert f"kubeconfig (cluster region context): {kubernetes['clusterId']} eu-frankfurt-1 {kubernetes['context']}" in output
    for absent in ("own", "null"):
        kubernetes = stack_file["config"]["ecommerce-kms-vault:kubernetes"]
        kubernetes.pop("context", None)
        if absent == "null":
            kubernetes["context"] = None
        code, output = kubeconfig_step(tmp_path / absent)
        assert code == 0 and "uses its secret kubeconfig" in output


# --- who reviews what the IAM job runs with IAM-administrator credentials ------------------------------------


def owners_of(path: str) -> list[str]:
    """The owners .github/CODEOWNERS gives `path`: GitHub's rule, the last matching pattern wins (only the
    anchored file and folder forms are used in this repository)."""
    found: list[str] = []
    for line in (PROJECT_DIR / ".github" / "CODEOWNERS").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            pattern, *owners = line.split()
            anchored = pattern.lstrip("/")
            if (anchored.endswith("/") and path.startswith(anchored)) or fnmatch.fnmatch(path, anchored):
                found = owners
    return found


def iam_job_files() -> list[str]:
    """Every file of this repository the IAM job executes with IAM-administrator credentials: iam/__main__.py and
    the modules of this repository it imports, as the interpreter loads them (transitively), the locked
    dependencies, and the policy pack's code, which the same job runs."""
    code = (
        "import ast, json, sys, importlib; root = sys.argv[1]; sys.path.insert(0, root);"
        "tree = ast.parse(open(root + '/iam/__main__.py').read());"
        "[importlib.import_module(n.module) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module];"
        "[importlib.import_module(a.name) for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names];"
        "print(json.dumps([getattr(m, '__file__', None) or '' for m in list(sys.modules.values())]))"
    )
    loaded = json.loads(subprocess.run([sys.executable, "-c", code, str(PROJECT_DIR)], capture_output=True, text=True,
                                       check=True).stdout)
    root = f"{PROJECT_DIR}/"
    mine = {f.removeprefix(root) for f in loaded if f.startswith(root) and "/.venv/" not in f}
    # The pack's code; its config, the guardrail authority, is data the security/platform team alone approves.
    pack = {f"policy/{p.name}" for p in (PROJECT_DIR / "policy").iterdir() if p.is_file() and p.name != "config.json"}
    assert "components/presets.py" in mine and "components/naming.py" in mine  # the import walk found the grants
    return sorted({"iam/__main__.py", *mine, "pyproject.toml", "uv.lock", *pack})


def test_every_file_the_iam_job_runs_is_reviewed_by_the_iam_administrators():
    """A deployer with repository write opens a pull request adding `Grant("read", "secret-bundles")` to `_deploy`
    (components/presets.py), widening a name pattern in components/naming.py, or adding a dependency to uv.lock:
    iam.yml would apply it with IAM-administrator credentials. Every file that job executes needs the IAM
    administrators' review (CODEOWNERS), not only iam/."""
    assert [f for f in iam_job_files() if "@ecommerce/iam-admins" not in owners_of(f)] == []


def test_what_enforces_the_guardrails_is_reviewed_like_the_authority():
    """The guardrails are as strong as their least-reviewed enforcer: the authority, the pack's rules (e.g.
    `neighbours_refused` returning []) and the program's check of the authority (components/guardrails.py,
    check_owned in components/settings.py) all need the security/platform team's review."""
    enforcers = ["policy/config.json", *(f"policy/{p.name}" for p in (PROJECT_DIR / "policy").iterdir() if p.is_file()),
                 "components/guardrails.py", "components/settings.py", ".github/CODEOWNERS"]
    assert [f for f in enforcers if "@ecommerce/security-platform" not in owners_of(f)] == []


def test_the_iam_workflow_runs_when_anything_it_runs_changes():
    """A change to anything the IAM job runs (naming's patterns, the settings' checks, uv.lock) lands on main:
    iam.yml's `paths` must start it, so that its preview shows that change alone rather than mixed into the next,
    unrelated IAM change."""
    paths = load("iam.yml")[True]["push"]["paths"]  # YAML 1.1 reads the key `on` as True
    files = [*iam_job_files(), ".github/workflows/iam.yml"]
    assert [f for f in files if not any(fnmatch.fnmatch(f, p) for p in paths)] == []


def test_the_iam_jobs_run_only_mains_code_in_environments_documented_main_only():
    """`workflow_dispatch` lets anyone with write access run iam.yml on a branch: its code would get the IAM
    preview's passphrase, and its `up` would ask the IAM administrators to apply code CODEOWNERS never saw. Both
    jobs run only on main, and docs/pipeline.md lists every iam-* environment with `main` as its only deployment
    branch (the rule GitHub enforces), the update's with the IAM administrators as reviewers."""
    iam = load("iam.yml")
    assert all(job["if"] == "github.ref == 'refs/heads/main'" for job in iam["jobs"].values())
    rows = [[cell.strip() for cell in line.split("|")[1:-1]]
            for line in (PROJECT_DIR / "docs" / "pipeline.md").read_text().splitlines()
            if line.startswith("|") and "`iam-" in line.split("|")[1]]
    named = {env.strip("` ") for row in rows for env in row[0].split(",")}
    assert named == {f"iam-{s}{p}" for s in STACKS for p in ("", "-preview")}
    assert all(row[3] == "`main`" for row in rows)
    assert any("IAM administrators" in row[4] for row in rows if "-preview" not in row[0])


def test_the_iam_stacks_state_is_where_no_deploying_job_writes():
    """A compromised production deploy job holds read-write credentials for the deployers' state backend; were
    the IAM stacks' state there, it could rewrite their checkpoints (record another policy's OCID as
    `ecommerce-production-secrets-access`), which the IAM administrators' next update would then act on with their
    credentials. The IAM jobs use a backend of their own, named by no other workflow."""
    iam = load("iam.yml")["jobs"]
    backend = "${{ vars.PULUMI_IAM_BACKEND_URL }}"
    assert all(job["env"]["PULUMI_BACKEND_URL"] == backend for job in iam.values())
    assert all(s["with"]["cloud-url"] == backend for job in iam.values() for s in job["steps"]
               if s.get("uses", "").startswith("pulumi/actions@"))
    assert load("pulumi-stack.yml")["jobs"]["pulumi"]["env"]["PULUMI_BACKEND_URL"] != backend
    assert [w.name for w in WORKFLOWS if w.name != "iam.yml" and "PULUMI_IAM_BACKEND_URL" in w.read_text()] == []
