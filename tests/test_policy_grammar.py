"""Every generated IAM statement, read by an independent parser of OCI's policy grammar.

`oci-policy-analysis` 7.0.0 (PyPI) carries an ANTLR grammar of OCI policy statements and an
evaluator of `where` clauses. It needs Python >= 3.12, so it runs in an environment of its
own (`tests/oci_grammar/`, locked with hashes in its `uv.lock`), built here with
`uv sync --locked` from the first Python >= 3.12 found, reused while up to date, and asked
once per session about every statement of both programs: the IAM program's three stacks (and
its opt-in Deny policy) and the environment stacks' (which must be none: they write no IAM). Without such an interpreter these tests are
skipped with instructions, except in CI, where that is a failure.

No statement holds a placeholder such as `<ecommerce-production-vault-id>` any more (the IAM
program runs before anything is deployed); were one to appear, OCI's lexer would refuse its `<`,
so the parser is given an OCID-shaped stand-in for each, and its reading is mapped back.
"""

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from offline.access import (
    OPERATIONS,
    Request,
    Statement,
    access_matrix,
    conditions_hold,
    granted,
    parse,
    variables,
)
from offline.harness import PROJECT_DIR, STACKS
from offline.uv import uv_executable

GRAMMAR_PROJECT = PROJECT_DIR / "tests" / "oci_grammar"
PYTHON_VARIABLE = "ECOMMERCE_PYTHON312"
BROKEN = "Allow groop 'Default'/'x' to read secret-bundles in compartment id ocid1.compartment.oc1..aaaa"


def python_312_or_newer() -> str | None:
    """$ECOMMERCE_PYTHON312, else python3.13/python3.12/python3 on PATH, else pyenv's versions, newest first."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [
        os.environ.get(PYTHON_VARIABLE),
        *(shutil.which(name) for name in ("python3.13", "python3.12", "python3")),
        *sorted(glob.glob(str(pyenv / "versions" / "3.1[2-9]*" / "bin" / "python3")), reverse=True),
    ]
    for candidate in filter(None, candidates):
        # pyenv's shims fail unless their version is selected; its versions are tried directly.
        if Path(candidate).parent == pyenv / "shims":
            continue
        check = [candidate, "-c", "import sys; sys.exit(sys.version_info < (3, 12))"]
        if subprocess.run(check, capture_output=True).returncode == 0:
            return candidate
    return None


def grammar_environment() -> Path:
    """The python of tests/oci_grammar/.venv, synced with its lock (a no-op when up to date)."""
    python = python_312_or_newer()
    if python is None:
        message = (
            "oci-policy-analysis needs Python >= 3.12 and none was found. Install one (e.g. "
            f"`pyenv install 3.12`) or point {PYTHON_VARIABLE} at its executable"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    uv = uv_executable()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    # The lock pins every package with its hash; no interpreter is ever downloaded.
    subprocess.run(
        [uv, "sync", "--locked", "--quiet", "--project", str(GRAMMAR_PROJECT), "--python", python],
        env={**env, "UV_PYTHON_DOWNLOADS": "never"},
        check=True,
    )
    return GRAMMAR_PROJECT / ".venv" / "bin" / "python"


def stand_in(placeholder: str) -> str:
    """An OCID-shaped value for `<name-of-resource-id>`: `ocid1.<kind>.oc1..standin<hash>`."""
    kind = placeholder[1:-1].removesuffix("-id").rsplit("-", 1)[-1]
    return f"ocid1.{kind}.oc1..standin{hashlib.sha256(placeholder.encode()).hexdigest()[:24]}"


@dataclass(frozen=True)
class GrammarCheck:
    statements: list[Statement]  # as this project reads them
    readings: list[dict[str, Any]]  # as oci-policy-analysis reads them (stand-ins mapped back)
    broken: dict[str, Any]  # its reading of BROKEN
    cases: list[tuple[Statement, Request, bool]]  # conditions deciding a matrix request, our verdict
    verdicts: list[bool]  # its evaluator's verdict on each case


def condition_cases(runs, iam_runs, statements: list[Statement]) -> list[tuple[Statement, Request, bool]]:
    """Each where clause, for every matrix caller and environment whose request it decides
    (subject and permission match), with this project's verdict; duplicates dropped."""
    matrix = access_matrix(runs, iam_runs)
    cases, seen = [], set()
    for identity in matrix.rows:
        for environment in matrix.environments:
            for operation in OPERATIONS.values():
                for principal in identity.principals:
                    for request in environment.requests(principal, operation):
                        for s in statements:
                            subject_matches = s.subject == "any-user" or s.subject in principal.groups
                            if not s.where or not subject_matches or request.permission not in granted(s.verb, s.resource):
                                continue
                            key = (s.where, tuple(sorted(variables(request).items())))
                            if key not in seen:
                                seen.add(key)
                                cases.append((s, request, conditions_hold(s, request)))
    return cases


@pytest.fixture(scope="session")
def grammar(stack_runs, iam_runs, production_with_denies, tmp_path_factory) -> GrammarCheck:
    python = grammar_environment()
    runs = [stack_runs[s] for s in STACKS]
    iam = [iam_runs[s] for s in STACKS]
    texts = list(
        dict.fromkeys(
            t
            for run in [*runs, *iam, production_with_denies]
            for p in run.of_type("oci:Identity/policy:Policy")
            for t in p.plain_inputs["statements"]
        )
    )
    statements = [parse(t) for t in texts]
    cases = condition_cases(runs, [production_with_denies, *iam[1:]], statements)
    placeholders = {found: stand_in(found) for t in texts for found in re.findall(r"<[^<>']+>", t)}

    def real(text: str) -> str:
        for placeholder, value in placeholders.items():
            text = text.replace(placeholder, value)
        return text

    folder = tmp_path_factory.mktemp("oci-grammar")
    (folder / "in.json").write_text(
        json.dumps(
            {
                "statements": [real(t) for t in texts] + [BROKEN],
                "conditions": [[real(s.where), {k: real(v) for k, v in variables(r).items()}] for s, r, _ in cases],
            }
        )
    )
    subprocess.run(
        [str(python), str(GRAMMAR_PROJECT / "read_statements.py"), str(folder / "in.json"), str(folder / "out.json")],
        env={**os.environ, "HOME": str(folder), "OCI_POLICY_ANALYSIS_LOG_LEVEL": "ERROR"},
        capture_output=True,
        check=True,
    )
    out = json.loads((folder / "out.json").read_text())
    back = {value: placeholder for placeholder, value in placeholders.items()}
    readings = json.loads(re.sub(r"ocid1\.[a-z]+\.oc1\.\.standin[0-9a-f]{24}", lambda m: back[m[0]], json.dumps(out["readings"])))
    return GrammarCheck(statements, readings[:-1], readings[-1], cases, out["verdicts"])


def test_every_generated_statement_is_valid_in_ocis_grammar(grammar):
    """All statements of both programs (the IAM program's three stacks and its Deny policy) parse without a syntax error."""
    assert len(grammar.statements) >= 60
    failures = [(s.text, r["invalid_reasons"]) for s, r in zip(grammar.statements, grammar.readings, strict=True) if not r["parsed"]]
    assert not failures, failures
    assert all(r["valid"] and not r["invalid_reasons"] for r in grammar.readings)


def test_the_grammar_check_can_fail(grammar):
    """A misspelt subject kind is refused by the same parser, in the same run."""
    assert grammar.broken["parsed"] is False
    assert any("groop" in reason for reason in grammar.broken["invalid_reasons"])


def test_its_reading_is_what_the_program_meant(grammar):
    """Effect, subject, verb, resource type, location and every condition read as the program wrote them."""
    for ours, theirs in zip(grammar.statements, grammar.readings, strict=True):
        kind = "any-user" if ours.subject == "any-user" else "service" if ours.subject.startswith("service ") else "group"
        subject = {"any-user": ["any-user"], "service": [ours.subject.removeprefix("service ")]}.get(
            kind, [ours.subject.split("/", 1)]
        )
        where = theirs["where_clause"]
        atoms = [(a["left"], a["operator"], a["right"]) for a in theirs["condition_atoms"]]
        quantifier = where["structure"].split(" ", 1)[0].lower() if " {" in where["structure"] else "all"
        assert {
            "action": theirs["action"],
            "subject_type": theirs["subject_type"],
            "subject": theirs["subject"],
            "verb": theirs["verb"],
            "resource": theirs["resource"],
            "permission": theirs["permission"],
            "location": (theirs["location_type"], theirs["location"]),
            "conditions": atoms,
            "quantifier": quantifier if atoms else None,
            "fully read": (where["parse_status"] if ours.where else "parsed", where["residual_text"], where["warnings"]),
        } == {
            "action": ours.effect.lower(),
            "subject_type": kind,
            "subject": subject,
            "verb": ours.verb,
            "resource": ours.resource,
            "permission": [],
            "location": ("compartment id", ours.compartment_id),
            "conditions": [(c.variable, "=" if c.equal else "!=", c.value) for c in ours.conditions],
            "quantifier": ours.quantifier if ours.conditions else None,
            "fully read": ("parsed", "", []),
        }, ours.text


def test_its_condition_evaluator_agrees_with_the_matrix_evaluator(grammar):
    """For every workload and group caller of the matrix, both evaluators decide each where clause alike."""
    assert len(grammar.cases) >= 50
    assert {verdict for _, _, verdict in grammar.cases} == {True, False}
    disagreements = [
        (s.text, r.principal, r.permission, ours)
        for (s, r, ours), theirs in zip(grammar.cases, grammar.verdicts, strict=True)
        if ours != theirs
    ]
    assert not disagreements, disagreements
