"""The access matrix and the generated docs: computed from what the program emits, and able to fail."""

import dataclasses
import shutil

import pytest

from offline import plan
from offline.access import (
    Principal,
    Request,
    UnsupportedStatement,
    access_matrix,
    allowed,
    breaches,
    parse,
)
from offline.harness import PROJECT_DIR, STACKS, ProgramRun
from offline.report import ARCHITECTURE, compare_table, render_docs

WORKLOAD = Principal("workload", "ns-a", "sa-a", "cluster-a")
READ_A = Request(WORKLOAD, "read", "secret-bundles", "comp-a", "vault-a")
MINE = "request.principal.namespace = 'ns-a'"


def test_allow_matches_subject_verb_family_location_and_conditions():
    """A grant needs every part to match; a greater verb and a family include the lesser ones."""
    assert allowed([parse(f"Allow any-user to manage secret-family in compartment id comp-a where {MINE}")], READ_A)
    assert not allowed([parse(f"Allow any-user to inspect secret-bundles in compartment id comp-a where {MINE}")], READ_A)
    assert not allowed([parse(f"Allow any-user to read secret-bundles in compartment id comp-b where {MINE}")], READ_A)
    assert not allowed([parse("Allow any-user to read keys in tenancy")], READ_A)
    assert not allowed([parse("Allow group 'Default'/'admins' to read secret-bundles in tenancy")], READ_A)
    assert not allowed(
        [parse("Allow any-user to read secret-bundles in tenancy where all {" + MINE + ", target.vault.id = 'vault-b'}")],
        READ_A,
    )
    assert allowed(
        [parse("Allow any-user to read secret-bundles in tenancy where any {" + MINE + ", target.vault.id = 'vault-b'}")],
        READ_A,
    )


def test_deny_beats_allow():
    """An explicit Deny wins over any Allow."""
    statements = [
        parse("Allow any-user to read secret-bundles in compartment id comp-a"),
        parse("Deny any-user to read secret-family in compartment id comp-a where all "
              "{request.principal.type = 'workload', request.principal.cluster_id != 'cluster-b'}"),
    ]
    assert not allowed(statements, READ_A)


@pytest.mark.parametrize(
    "statement",
    [
        "Allow dynamic-group ci to read secret-bundles in tenancy",
        "Allow any-user to read secret-bundles in compartment ecommerce-production",
        "Allow any-user to read secret-bundles in tenancy where request.user.id = 'x'",
        "Allow any-user to read secret-bundles in tenancy where all {a = 'b', any {c = 'd'}}",
        "Permit any-user to read secret-bundles in tenancy",
    ],
)
def test_statements_outside_the_grammar_are_errors_not_blocks(statement):
    """What the evaluator cannot read is reported, never silently counted as 'blocked'."""
    with pytest.raises(UnsupportedStatement):
        parse(statement)


def test_the_three_real_stacks_give_exactly_the_diagonal(stack_runs):
    """Each environment's services read their own secrets and nobody else's."""
    matrix = access_matrix([stack_runs[s] for s in STACKS])
    assert matrix == {r: {o: r == o for o in STACKS} for r in STACKS}
    assert breaches(matrix) == []


def point_staging_policy_at_production(runs: dict[str, ProgramRun]) -> list[ProgramRun]:
    """A copy-paste mistake built in the test: staging's policy names production's compartment and vault."""
    production, staging = runs["production"], runs["staging"]
    swaps = {
        staging.of_type("oci:Kms/vault:Vault")[0].inputs["compartmentId"]:
            production.of_type("oci:Kms/vault:Vault")[0].inputs["compartmentId"],
        "<ecommerce-staging-vault-id>": "<ecommerce-production-vault-id>",
    }

    def swap(text: str) -> str:
        for old, new in swaps.items():
            text = text.replace(old, new)
        return text

    registrations = [
        dataclasses.replace(r, inputs={**r.inputs, "statements": [swap(s) for s in r.inputs["statements"]]})
        if r.type == "oci:Identity/policy:Policy" else r
        for r in staging.registrations
    ]
    broken = dataclasses.replace(staging, registrations=registrations)
    return [production, broken, runs["development"]]


def test_a_policy_pointed_at_production_is_a_breach_and_fails_the_command(stack_runs, capsys):
    """The matrix can fail: staging's identity allowed on production's vault turns that cell to ALLOWED, exit 1."""
    runs = point_staging_policy_at_production(stack_runs)
    assert breaches(access_matrix(runs)) == [("staging", "production")]
    assert plan.matrix_command(runs) == 1
    assert "BREACH: staging can read production's secrets" in capsys.readouterr().err
    assert plan.matrix_command([stack_runs[s] for s in STACKS]) == 0


def test_committed_architecture_doc_is_what_the_stacks_generate_now():
    """docs/ARCHITECTURE.md is regenerated, never edited: run `python -m offline.report` after a change."""
    assert ARCHITECTURE.read_text() == render_docs()


def test_comparison_table_is_read_from_the_stacks(stack_runs):
    """The comparison shows each stack's real vault, rotation, namespace and access, as generated."""
    runs = [stack_runs[s] for s in STACKS]
    table = compare_table(runs, access_matrix(runs))
    assert "| **Key rotation** | every 90 days (new key version) | every 180 days (new key version) | manual |" in table
    assert "| **K8s namespace** | ecommerce-production | ecommerce-staging | ecommerce-development |" in table
    assert "| **Can read its secrets** | Production only | Staging only | Development only |" in table


def test_a_broken_stack_file_gets_the_programs_own_settings_error(tmp_path, capsys):
    """The plan reports a stack file mistake exactly as `pulumi up` would, and exits non-zero."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT_DIR, project, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__"))
    stack_file = project / "Pulumi.staging.yaml"
    stack_file.write_text(stack_file.read_text().replace("preset: moderate", "preset: paranoid"))
    assert plan.main(["staging", "--project-dir", str(project)]) == 1
    err = capsys.readouterr().err
    assert "ecommerce-kms-vault:preset = \"paranoid\"" in err and "'strict', 'moderate' or 'relaxed'" in err
