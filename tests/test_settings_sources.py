"""Settings reach the program through Pulumi's config alone, and every mistake in them is answered in one form.

The engine hands a program its config (from the stack file, an ESC environment or `pulumi config
set` alike) and the names of the secret keys; a stack whose file is absent must behave exactly like
one whose settings are in its file. A stack file YAML cannot read, an empty or missing section and a
mistyped key each get one message naming where and what to do, with no traceback and no internal name.
"""

import copy
import inspect
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from components import settings as settings_module
from components.naming import DEFAULT_SERVICES, PROJECT
from components.settings_errors import SettingsError
from offline import plan, report
from offline.harness import PROJECT_DIR, ProgramRun, run_program, stack_file_config
from tests.conftest import PINNED_TODAY, ROTATED_BEFORE
from tests.test_settings import CASES

P = f"{PROJECT}:"
URLS = {s: f"<url of {s}>" for s in DEFAULT_SERVICES}
MODEL_NAMES = sorted(
    name for name, value in vars(settings_module).items()
    if inspect.isclass(value) and issubclass(value, BaseModel) and value.__module__ == settings_module.__name__
)


def no_internal_names(message: str) -> None:
    assert MODEL_NAMES and not [name for name in MODEL_NAMES if name in message], message
    assert "Input should be a valid dictionary" not in message and "pydantic" not in message.lower()


def refusal(config: dict[str, Any], stack: str = "staging") -> str:
    with pytest.raises(SettingsError) as refused:
        run_program(stack, config, URLS, today=PINNED_TODAY)
    message = str(refused.value)
    no_internal_names(message)
    return message


def view(run: ProgramRun) -> tuple[Any, ...]:
    # Dependencies arrive in the order the SDK threads resolve them: compared as sets.
    return (
        [(r.type, r.name, r.parent, r.protect, r.retain_on_delete, sorted(r.depends_on), r.inputs) for r in run.registrations],
        run.exports,
    )


def test_a_stack_whose_settings_come_only_from_the_engine_plans_as_one_from_its_file(tmp_path, stack_runs):
    """No stack file on disk (settings from ESC or `pulumi config set`): the same resources, inputs and outputs."""
    shutil.copy(PROJECT_DIR / "__main__.py", tmp_path)
    assert not list(tmp_path.glob("Pulumi.*.yaml"))
    for stack, from_file in stack_runs.items():
        from_engine = run_program(
            stack, stack_file_config(stack), None, today=PINNED_TODAY, program=tmp_path / "__main__.py",
            secrets={P + "databaseUrls": {s: f"<database-url-of-{s}>" for s in DEFAULT_SERVICES}},
            deployed=ROTATED_BEFORE,
        )
        assert view(from_engine) == view(from_file) and from_engine.resources


def test_an_engine_only_stack_gets_the_same_refusals(tmp_path):
    """A mistake in settings that reach the program only through the engine is refused the same way."""
    shutil.copy(PROJECT_DIR / "__main__.py", tmp_path)
    config = stack_file_config("staging") | {P + "vaultType": "SHARED"}
    with pytest.raises(SettingsError) as refused:
        run_program("staging", config, URLS, today=PINNED_TODAY, program=tmp_path / "__main__.py")
    assert f'{P}vaultType = "SHARED"' in str(refused.value)


def broken_copy(tmp_path: Path, stack: str = "staging") -> tuple[Path, int]:
    """A copy of the stack file with one line indented one space short; returns (folder, that line's number)."""
    lines = (PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text().splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.startswith("    clusterId:"))
    lines[number - 1] = lines[number - 1][1:]
    (tmp_path / f"Pulumi.{stack}.yaml").write_text("\n".join(lines) + "\n")
    return tmp_path, number


def test_a_yaml_syntax_error_names_the_file_line_and_column(tmp_path, capsys):
    """The offline plan reports an indentation mistake as one message with file, line and column."""
    folder, number = broken_copy(tmp_path)
    assert plan.main(["staging", "--project-dir", str(folder)]) == 1
    error = capsys.readouterr().err
    assert "Pulumi.staging.yaml, line " in error and ", column " in error and "not valid YAML" in error
    reported = int(error.split("Pulumi.staging.yaml, line ")[1].split(",")[0])
    assert reported in (number, number + 1)  # YAML notices the mistake on the line or the next
    assert "Traceback" not in error


def test_the_docs_generator_reports_a_yaml_syntax_error_the_same_way(tmp_path, capsys):
    """`offline.report` reads the stack files too: the same one message, nothing written."""
    folder, _ = broken_copy(tmp_path)
    for name in ("Pulumi.production.yaml", "Pulumi.development.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, folder)
    # A checkout brings its own guardrail authority, which the program reads.
    (folder / "policy").mkdir()
    shutil.copy(PROJECT_DIR / "policy" / "config.json", folder / "policy")
    assert report.main(["--project-dir", str(folder)]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: Pulumi.staging.yaml has 1 problem(s)") and "not valid YAML" in error
    assert not (folder / "docs").exists()


def test_a_yaml_syntax_error_prints_no_traceback_from_the_command_line(tmp_path):
    """As a user runs it (`uv run python -m offline.plan`): one message, exit 1, no traceback."""
    folder, _ = broken_copy(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "offline.plan", "staging", "--project-dir", str(folder)],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: Pulumi.staging.yaml has 1 problem(s)")


def sections(model: type[BaseModel] = settings_module.StackSettings, prefix: str = "") -> list[tuple[str, type[BaseModel]]]:
    found = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
            key = prefix + (field.alias or name)
            found += [(key, annotation), *sections(annotation, key + ".")]
    return found


def set_path(config: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(config)
    top, *rest = key.split(".")
    if not rest:
        changed[P + top] = value
        return changed
    node = changed.setdefault(P + top, {})
    for part in rest[:-1]:
        node = node.setdefault(part, {})
    node[rest[-1]] = value
    return changed


@pytest.mark.parametrize("empty", ["", None], ids=["as the CLI passes it", "as null"])
@pytest.mark.parametrize(("key", "model"), sections(), ids=[key for key, _ in sections()])
def test_an_empty_section_names_the_keys_it_needs(key, model, empty):
    """`keyRotation:` with nothing below it (the CLI passes "": loaders.go, checkForEmptyConfig) names its keys."""
    message = refusal(set_path(stack_file_config("staging"), key, empty))
    assert f"{P}{key} = " in message and "is empty" in message
    required = [f.alias for f in model.model_fields.values() if f.is_required()]
    optional = [f.alias for f in model.model_fields.values() if not f.is_required()]
    if required:
        assert f"needs {', '.join(required)}" in message
    assert f"may have {', '.join(optional)}" in message


def test_a_missing_section_names_the_keys_it_needs():
    """A stack file without `kubernetes:` is told what that section holds."""
    config = {k: v for k, v in stack_file_config("staging").items() if k != P + "kubernetes"}
    message = refusal(config)
    assert f"{P}kubernetes: is required: a section that needs clusterId" in message


@pytest.mark.parametrize(
    ("key", "meant"),
    [("compartmentID", "compartmentId"), ("kubernetes.namspace", "namespace"), ("keyRotation.intervalDay", "intervalDays"),
     ("databaseURLs", "databaseUrls"), ("secrets.jwtRotation.intervalDay", "intervalDays")],
)
def test_an_unknown_key_names_the_closest_valid_one(key, meant):
    """A typo is matched to the key the user meant, at its own level (credentials included at the top)."""
    message = refusal(set_path(stack_file_config("staging"), key, "x"))
    assert f"{P}{key} = \"x\": unknown key (a typo?); did you mean {meant}?" in message


def test_a_key_like_none_gets_no_guess():
    """Nothing close: no suggestion, only the keys allowed there."""
    message = refusal(set_path(stack_file_config("staging"), "kubernetes.zzzzzz", "x"))
    assert "did you mean" not in message and "allowed here: clusterId, context" in message


@pytest.mark.parametrize(("stack", "change", "urls"), [c[1:4] for c in CASES], ids=[c[0] for c in CASES])
def test_no_message_names_an_internal_class(stack, change, urls):
    """Every refusal of the settings table speaks of stack file keys, never of the program's classes."""
    config = copy.deepcopy(stack_file_config(stack))
    change(config)
    with pytest.raises(SettingsError) as refused:
        run_program(stack, config, urls or URLS, today=PINNED_TODAY)
    no_internal_names(str(refused.value))


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [("services", "auth-service", "must be a list, one '- item' per line"),
     ("notifications.emails", "secops@example.com", "must be a list"),
     ("keyRotation.intervalDays", "often", "must be a whole number"),
     ("adopt.databaseUrlSecrets", ["auth-service"], "must be a map, one 'key: value' per line")],
)
def test_a_value_of_the_wrong_kind_is_named_in_the_stack_files_terms(key, value, said):
    """A list, map or number written as something else is explained as YAML, not as Python types."""
    message = refusal(set_path(stack_file_config("staging"), key, value))
    assert f"{P}{key} = " in message and said in message
    assert "tuple" not in message and "dictionary" not in message
