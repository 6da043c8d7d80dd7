"""The guardrail authority (policy/config.json) as the program reads it: neighbours refused in their own
stack, whichever stack is planned, and nothing regenerates the authority from the stacks."""

import copy
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from components import guardrails
from components.naming import DEFAULT_SERVICES, PROJECT
from components.settings_errors import SettingsError
from offline import plan, report
from offline.harness import PROJECT_DIR, run_program, run_stack, stack_file_config
from offline.policy_checks import PACK_CONFIG
from tests.conftest import PINNED_TODAY

P = f"{PROJECT}:"
URLS = {s: f"<url-of-{s}>" for s in DEFAULT_SERVICES}
AUTHORITY = guardrails.load()
KEYS = {"compartmentId": "compartment_id", "kubernetes.clusterId": "cluster_id", "kubernetes.namespace": "namespace"}


def with_setting(stack: str, key: str, value) -> dict:
    config = copy.deepcopy(stack_file_config(stack))
    top, *rest = key.split(".")
    if rest:
        config[P + top] = {**config[P + top], rest[0]: value}
    else:
        config[P + top] = value
    return config


def refusal(stack: str, config: dict) -> str:
    with pytest.raises(SettingsError) as refused:
        run_program(stack, config, URLS, today=PINNED_TODAY)
    assert refused.value.program_run.resources == []  # type: ignore[attr-defined]
    return str(refused.value)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("stack", ["staging", "development"])
def test_a_neighbour_on_productions_identifier_is_refused_in_its_own_stack(stack, key):
    """Staging or development pointed at production's compartment, cluster or namespace: its own plan fails,
    naming its own stack file; production's plan, which did not change, still passes."""
    theirs = getattr(AUTHORITY.environments["production"], KEYS[key])
    message = refusal(stack, with_setting(stack, key, theirs))
    assert message.startswith(f"Pulumi.{stack}.yaml has 1 problem(s)")
    assert f"{P}{key}" in message and "production" in message and "Pulumi.production.yaml" not in message
    run_stack("production", today=PINNED_TODAY)


def test_a_cluster_the_authority_shares_is_allowed_and_only_one_environment_installs_its_operators(monkeypatch):
    """With staging and development sharing a cluster in the authority, development may run there, but its
    operator or Reloader install collides with staging's and is refused (keyed on both settings)."""
    shared = AUTHORITY.environments["staging"].cluster_id
    environments = dict(AUTHORITY.environments)
    environments["development"] = environments["development"].model_copy(
        update={"cluster_id": shared, "installs_operators": False})
    monkeypatch.setattr(guardrails, "load", lambda: AUTHORITY.model_copy(update={"environments": environments}))
    config = with_setting("development", "kubernetes.clusterId", shared)
    for key in ("installOperator", "installReloader"):
        installs = {**config[P + "kubernetes"], "installOperator": False, key: True}
        message = refusal("development", {**config, P + "kubernetes": installs})
        assert f"{P}kubernetes.{key} = true" in message and "staging installs" in message
    quiet = {**config[P + "kubernetes"], "installOperator": False, "installReloader": False}
    run_program("development", {**config, P + "kubernetes": quiet}, URLS, today=PINNED_TODAY)


@pytest.mark.parametrize(("text", "expected"), [
    (None, "policy/config.json cannot be read"),
    ('{"key-rotation": {"environments": {}, "maxRotationDays": {}}, "iam-isolation": {}}', "must hold the same guardrails"),
])
def test_without_a_readable_authority_nothing_is_deployed(monkeypatch, tmp_path, text, expected):
    """A missing, unreadable or inconsistent authority refuses the run: no stack runs unguarded."""
    path = tmp_path / "config.json"
    if text is not None:
        path.write_text(text)
    read = guardrails.load
    monkeypatch.setattr(guardrails, "load", lambda: read(path))
    assert expected in refusal("staging", stack_file_config("staging"))


def test_nothing_rewrites_the_authority_from_the_stack_files(tmp_path, capsys):
    """A copy of the project whose staging stack asks for a 200-day key (moderate promises 180): every offline
    command run on it leaves the committed authority as it was, the plan refuses the stack, and no code of the
    project writes the authority (the pack refuses such a key with this very file: test_policy_protocol)."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT_DIR, project, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", ".tools"))
    stack_file = project / "Pulumi.staging.yaml"
    text = stack_file.read_text()
    assert "keyRotation:" not in text  # the preset's 180 days, which the line below overrides
    stack_file.write_text(text.replace(
        "  ecommerce-kms-vault:kubernetes:", "  ecommerce-kms-vault:keyRotation:\n    intervalDays: 200\n  ecommerce-kms-vault:kubernetes:", 1
    ))
    before = hashlib.sha256(PACK_CONFIG.read_bytes()).hexdigest()
    assert plan.main(["staging", "--project-dir", str(project), "--out", str(tmp_path / "out")]) == 1
    assert "policy/config.json allows staging at most 180 days" in capsys.readouterr().err
    plan.main(["all", "--out", str(tmp_path / "committed")])
    report.render_docs()
    capsys.readouterr()
    assert hashlib.sha256(PACK_CONFIG.read_bytes()).hexdigest() == before
    assert json.loads(PACK_CONFIG.read_text())["key-rotation"]["maxRotationDays"] == {"production": 90, "staging": 180}
    sources = []
    for folder, subfolders, files in os.walk(PROJECT_DIR):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]  # .venv, .tools, .git
        sources += [Path(folder) / f for f in files if f.endswith(".py")]
    writers = [path for path in sources
               if re.search(r"config\.json.*(write|dump)|(PACK_CONFIG|AUTHORITY_FILE)\.write", path.read_text())]
    assert writers == []
