"""The access evaluator, the matrix with people and the generated docs: computed from what the
program emits, read with OCI's documented rules, and able to fail."""

import dataclasses
import shutil

import pytest

from components.presets import TIERS
from offline import plan
from offline.access import (
    NO_ACCESS,
    Access,
    Environment,
    Principal,
    Request,
    UnsupportedStatement,
    access_matrix,
    allowed,
    can,
    granted,
    parse,
    policy_statements,
)
from components.iam_settings import IAM_PROJECT
from offline.access import DELETIONS, IAM_ADMINISTRATORS, THROUGH_THE_CLUSTER, THROUGH_THE_SECRET_CONFIG, WRITING_POLICIES
from components.naming import DEFAULT_SERVICES, PROJECT
from offline.harness import IAM_DIR, PROJECT_DIR, STACKS, ProgramRun, run_iam_stack, run_program, stack_file_config
from tests.conftest import PINNED_TODAY
from offline.report import ARCHITECTURE, compare_table, people_table, render_docs, tier_statements

WORKLOAD = Principal("workload", "ns-a", "sa-a", "cluster-a")
ADMIN = Principal("user", groups=frozenset({"Default/admins"}))
ENV_A = Environment("a", "strict", "comp-a", {"target.vault.id": "vault-a", "target.key.id": "key-a"}, "ns-a")
MINE = "request.principal.namespace = 'ns-a'"


def able(statements: list[str], principal: Principal, operation: str, environment: Environment = ENV_A) -> bool:
    return can([parse(s) for s in statements], [principal], operation, environment)


def test_a_verb_grants_the_permissions_the_reference_lists_for_it_and_every_lesser_verb():
    """`use secrets` writes versions but reads no values; `read secret-family` reads values; manage holds deletion."""
    assert granted("use", "secrets") == {"SECRET_INSPECT", "SECRET_READ", "SECRET_UPDATE"}
    assert "SECRET_BUNDLE_READ" in granted("read", "secret-family")
    assert "SECRET_BUNDLE_READ" not in granted("manage", "secrets")
    assert {"KEY_ROTATE", "KEY_DELETE", "KEY_DECRYPT", "KEY_INSPECT"} <= granted("manage", "keys")
    assert granted("use", "vaults") >= {"VAULT_CREATE_SECRET", "VAULT_READ"} and "VAULT_DELETE" not in granted("use", "vaults")
    assert granted("manage", "policies") == set()


def test_request_permission_conditions_carve_permissions_out_of_a_verb():
    """`request.permission` keeps one permission of a verb, or removes some, as OCI evaluates it per permission."""
    only_rotate = "Allow group 'Default'/'admins' to manage keys in compartment id comp-a where all {target.key.id = 'key-a', request.permission = 'KEY_ROTATE'}"
    assert able([only_rotate], ADMIN, "CreateKeyVersion")
    assert not able([only_rotate], ADMIN, "ScheduleKeyDeletion")
    assert not able([only_rotate], ADMIN, "GetKey")
    no_delete = "Allow group 'Default'/'admins' to manage keys in compartment id comp-a where request.permission != 'KEY_DELETE'"
    assert able([no_delete], ADMIN, "CreateKeyVersion") and not able([no_delete], ADMIN, "ScheduleKeyDeletion")


def test_a_variable_that_does_not_apply_declines_an_allow_and_disarms_a_deny():
    """OCI: a condition on a variable the request lacks is false, whatever its operator."""
    # target.vault.id is documented for vaults only: on keys it never holds.
    assert not able(["Allow group 'Default'/'admins' to manage keys in compartment id comp-a where target.vault.id = 'vault-a'"], ADMIN, "CreateKeyVersion")
    # Listing vaults carries no vault id, so a vault-narrowed Allow cannot list.
    assert not able(["Allow group 'Default'/'admins' to inspect vaults in compartment id comp-a where target.vault.id = 'vault-a'"], ADMIN, "ListVaults")
    assert able(["Allow group 'Default'/'admins' to inspect vaults in compartment id comp-a"], ADMIN, "ListVaults")
    # A Deny narrowed by a variable the request lacks does not apply, even with `!=`.
    statements = [
        f"Allow any-user to read secret-bundles in compartment id comp-a where {MINE}",
        "Deny any-user to read secret-bundles in compartment id comp-a where target.key.id != 'key-b'",
    ]
    assert able(statements, WORKLOAD, "GetSecretBundleByName")


def test_an_operation_needs_every_permission_the_reference_lists():
    """CreateSecret needs VAULT_CREATE_SECRET (use vaults) and the key's encrypt/decrypt, not just manage secrets."""
    secrets = "Allow group 'Default'/'admins' to manage secret-family in compartment id comp-a"
    vault = "Allow group 'Default'/'admins' to use vaults in compartment id comp-a where target.vault.id = 'vault-a'"
    key = "Allow group 'Default'/'admins' to use keys in compartment id comp-a where target.key.id = 'key-a'"
    assert not able([secrets], ADMIN, "CreateSecret")
    assert not able([secrets, vault], ADMIN, "CreateSecret")
    assert able([secrets, vault, key], ADMIN, "CreateSecret")


def test_subject_location_and_quantifiers_must_all_match():
    """A grant needs its subject, compartment and conditions to match; `any` needs one condition."""
    read = "Allow any-user to read secret-bundles in"
    assert able([f"{read} compartment id comp-a where {MINE}"], WORKLOAD, "GetSecretBundleByName")
    assert not able([f"{read} compartment id comp-b where {MINE}"], WORKLOAD, "GetSecretBundleByName")
    assert not able(["Allow group 'Default'/'admins' to read secret-bundles in tenancy"], WORKLOAD, "GetSecretBundleByName")
    assert able(["Allow group 'Default'/'admins' to read secret-bundles in tenancy"], ADMIN, "GetSecretBundleByName")
    assert not able([f"{read} tenancy where all {{{MINE}, request.principal.cluster_id = 'cluster-b'}}"], WORKLOAD, "GetSecretBundleByName")
    assert able([f"{read} tenancy where any {{{MINE}, request.principal.cluster_id = 'cluster-b'}}"], WORKLOAD, "GetSecretBundleByName")


def test_deny_beats_allow():
    """An explicit Deny wins over any Allow."""
    statements = [
        parse("Allow any-user to read secret-bundles in compartment id comp-a"),
        parse("Deny any-user to read secret-family in compartment id comp-a where all "
              "{request.principal.type = 'workload', request.principal.cluster_id != 'cluster-b'}"),
    ]
    assert not allowed(statements, Request(WORKLOAD, "SECRET_BUNDLE_READ", "comp-a", {}))


@pytest.mark.parametrize(
    "statement",
    [
        "Allow dynamic-group ci to read secret-bundles in tenancy",
        "Allow any-user to read secret-bundles in compartment ecommerce-production",
        "Allow any-user to read buckets in tenancy",
        "Allow any-user to read secret-bundles in tenancy where request.user.id = 'x'",
        "Allow any-user to read secret-bundles in tenancy where target.secret.id = 'ocid1.vaultsecret.oc1..x'",
        "Allow any-user to read secret-bundles in tenancy where target.secret.name = /auth*secret/",
        "Allow any-user to read secret-bundles in tenancy where all {request.permission = 'b', any {request.permission = 'd'}}",
        "Permit any-user to read secret-bundles in tenancy",
    ],
)
def test_statements_outside_the_grammar_are_errors_not_blocks(statement):
    """What the evaluator cannot read is reported, never silently counted as 'blocked'."""
    with pytest.raises(UnsupportedStatement):
        parse(statement)


# What the product promises, written out here independently of the tier data:
# role -> (read values, write new versions, delete vault/key/secrets) on its own environment.
ALL = frozenset(DELETIONS)
PROMISED = {
    ("production", "sync"): Access(True, False, frozenset()),
    # Production's standby cluster reads its replicas, and only them (disasterRecovery.standby).
    ("production", "standbySync"): Access(True, False, frozenset()),
    ("production", "admin"): Access(False, True, frozenset()),
    # Rotation retires JWT generations, and a name pattern cannot tell a retired one from a live one.
    ("production", "deployer"): Access(False, True, frozenset({"JWT generations"})),
    ("staging", "sync"): Access(True, False, frozenset()),
    ("staging", "admin"): Access(True, True, ALL),
    ("staging", "readers"): Access(True, False, frozenset()),
    ("staging", "deployer"): Access(False, True, ALL),
    ("development", "sync"): Access(True, False, frozenset()),
    ("development", "admin"): Access(True, True, ALL),
    ("development", "deployer"): Access(False, True, ALL),
    # No IAM grant from the IAM program; the stack's passphrase is a chain (THROUGH_THE_SECRET_CONFIG).
    **{(stack, "preview"): NO_ACCESS for stack in STACKS},
}


# Production replicates its secrets (disasterRecovery): a column for its replicas, read as IAM grants on its
# own secrets but never written or deleted (OCI refuses both on a replica whatever IAM says, "Replicating
# Secrets"), and the standby reads only there.
COLUMNS = (*STACKS, "production replicas")
SECRET_DELETIONS = frozenset({"database URLs", "JWT generations"})


def expected_cell(environment: str, role: str, column: str) -> Access:
    own = column.split()[0] == environment and (role != "standbySync" or column.endswith(" replicas"))
    if not own:
        return NO_ACCESS
    promised = PROMISED[environment, role]
    if column.endswith(" replicas"):
        return Access(promised.read, False, promised.deletes - SECRET_DELETIONS)
    return promised


def test_no_identity_writes_or_deletes_a_replica(stack_runs, iam_runs, capsys):
    """Production's deployer may write its secrets and delete JWT generations, its administrators write them:
    on the replicas neither may, since OCI refuses every write and deletion of a replica whatever IAM grants.
    The matrix says so, for IAM grants and for chains (a policy writer reaches no write on a replica either)."""
    matrix = access_matrix(*both(stack_runs, iam_runs))
    [deployer] = [i for i in matrix.rows if i.environment == "production" and i.role == "deployer"]
    assert matrix.rows[deployer]["production"].write and matrix.rows[deployer]["production"].deletes
    replica_columns = [e.name for e in matrix.environments if e.replica_of]
    assert replica_columns == ["production replicas"]
    for identity, cells in matrix.rows.items():
        for column in replica_columns:
            assert not cells[column].write and not cells[column].deletes & SECRET_DELETIONS, (identity.label, column)
    assert matrix.violations() == []
    plan.matrix_command(*both(stack_runs, iam_runs))
    header, _, *rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    replica_at = header.split(" | ").index("Production secrets (replicas)")
    cells = [row.split(" | ")[replica_at] for row in rows]
    assert cells and not any("write" in cell or "delete JWT" in cell or "delete database" in cell for cell in cells)
    assert "🔗 read, delete vault and key (chain 1)" in cells


def both(stack_runs, iam_runs) -> tuple[list[ProgramRun], list[ProgramRun]]:
    return [stack_runs[s] for s in STACKS], [iam_runs[s] for s in STACKS]


def test_the_three_real_stacks_give_each_identity_exactly_its_tiers_access(stack_runs, iam_runs):
    """Workload diagonal; production people write but never read or delete; every cross-environment cell blocked;
    the IAM administrators reach everything, but only by writing a policy."""
    matrix = access_matrix(*both(stack_runs, iam_runs))
    computed = {(i.environment, i.role): cells for i, cells in matrix.rows.items()}
    assert set(computed) == set(PROMISED) | {("tenancy", "iamAdmin")}
    for (environment, role), cells in computed.items():
        if environment != "tenancy":
            assert cells == {c: expected_cell(environment, role, c) for c in COLUMNS}, (environment, role)
    assert matrix.violations() == []
    assert all(matrix.chains[IAM_ADMINISTRATORS, owner] == [WRITING_POLICIES] for owner in COLUMNS)
    assert plan.matrix_command(*both(stack_runs, iam_runs)) == 0


def test_a_cell_is_blocked_only_when_no_chain_reaches_it(stack_runs, iam_runs, capsys):
    """In production the deployer reaches no value through IAM; its kubeconfig still can (ExternalSecrets in its
    namespace), shown as a chain with what closes it. No identity of one environment reaches another's."""
    matrix = access_matrix(*both(stack_runs, iam_runs))
    [deployer] = [i for i in matrix.rows if i.environment == "production" and i.role == "deployer"]
    assert matrix.rows[deployer]["production"].read is False
    assert matrix.chains[deployer, "production"] == [THROUGH_THE_SECRET_CONFIG, THROUGH_THE_CLUSTER]
    assert not matrix.blocked(deployer, "production")
    assert "not read Secrets" in THROUGH_THE_CLUSTER.closed_by and "platform team" in THROUGH_THE_CLUSTER.closed_by
    for identity in matrix.rows:
        for owner in COLUMNS:
            if identity.environment not in (owner.split()[0], "tenancy"):
                assert matrix.blocked(identity, owner), (identity.label, owner)
    [standby] = [i for i in matrix.rows if i.role == "standbySync"]
    assert matrix.blocked(standby, "production") and not matrix.blocked(standby, "production replicas")
    plan.matrix_command(*both(stack_runs, iam_runs))
    out = capsys.readouterr().out
    assert "✅ write, delete JWT generations; 🔗 read (chain 2); 🔗 read (chain 3)" in out
    assert "🔗 read, write, delete (chain 1)" in out


def test_a_ci_job_holding_the_passphrase_reads_the_database_urls_until_they_are_adopted(stack_runs, iam_runs):
    """A compromised production deploy job, or production's read-only preview job: both hold the stack's passphrase
    and decrypt its secret config (the database URLs) to run the program, whatever their IAM and Kubernetes rights.
    Each row shows that chain on its own environment only, with what closes it: URLs adopted (administrators
    created the secrets), so that none is in the config; a stack adopting every URL has no such chain."""
    matrix = access_matrix(*both(stack_runs, iam_runs))
    for stack in STACKS:
        for role in ("deployer", "preview"):
            [identity] = [i for i in matrix.rows if i.environment == stack and i.role == role]
            assert THROUGH_THE_SECRET_CONFIG in matrix.chains[identity, stack], (stack, role)
            assert all(matrix.blocked(identity, other) for other in STACKS if other != stack)
    assert "adopt.databaseUrlSecrets" in THROUGH_THE_SECRET_CONFIG.closed_by
    production = stack_runs["production"]
    adopted = {"vaultId": "ocid1.vault.oc1.eu-frankfurt-1.aaaaaaaaadopted",
               "managementEndpoint": "https://aaaaaaaa-management.kms.eu-frankfurt-1.oraclecloud.com",
               "keyId": "ocid1.key.oc1.eu-frankfurt-1.aaaaaaaaadopted",
               "databaseUrlSecrets": {s: f"ocid1.vaultsecret.oc1.eu-frankfurt-1.aaaaaaaa{i}" for i, s in enumerate(DEFAULT_SERVICES)}}
    config = {**production.config, f"{PROJECT}:adopt": adopted}
    closed = run_program("production", config, {}, today=PINNED_TODAY)
    matrix = access_matrix([closed, *(stack_runs[s] for s in STACKS if s != "production")], [iam_runs[s] for s in STACKS])
    for role in ("deployer", "preview"):
        [identity] = [i for i in matrix.rows if i.environment == "production" and i.role == role]
        assert THROUGH_THE_SECRET_CONFIG not in matrix.chains.get((identity, "production"), []), role


def test_the_strict_deployers_cell_shows_the_jwt_generations_it_may_delete(stack_runs, iam_runs):
    """A compromised production deploy job may schedule the deletion of every JWT generation, the signing one
    included (`/*.jwt-secret*/` in components/presets.py `_deploy`, which rotation needs): the matrix evaluates
    deletion per kind of secret, so production's deployer cell says 'delete JWT generations', not ❌, and the
    database URLs, the vault and the key stay out of its reach."""
    matrix = access_matrix(*both(stack_runs, iam_runs))
    [deployer] = [i for i in matrix.rows if i.environment == "production" and i.role == "deployer"]
    [production] = [e for e in matrix.environments if e.name == "production"]
    statements = policy_statements(iam_runs.values())
    assert can(statements, deployer.principals, "ScheduleSecretDeletion", production.with_secret("jwt-secret"))
    assert matrix.rows[deployer]["production"].deletes == frozenset({"JWT generations"})
    assert matrix.rows[deployer]["production"].render() == "write, delete JWT generations"


def test_a_deployer_granted_iam_shows_the_chain(stack_runs, iam_runs):
    """Were a generated statement to give a group `manage policies`, its row would reach every environment that
    compartment covers by writing a policy: the matrix reads chains from the statements, not from a list."""
    production = iam_runs["production"]
    [policy] = [p for p in production.of_type("oci:Identity/policy:Policy") if p.inputs["name"].endswith("-deployer")]
    granting = dataclasses.replace(policy, inputs={**policy.inputs, "statements": [
        *policy.inputs["statements"],
        f"Allow group 'Default'/'ecommerce-production-deployers' to manage policies in compartment id {policy.inputs['compartmentId']}",
    ]})
    widened = dataclasses.replace(production, registrations=[granting if r is policy else r for r in production.registrations])
    matrix = access_matrix([stack_runs[s] for s in STACKS], [widened, iam_runs["staging"], iam_runs["development"]])
    [deployer] = [i for i in matrix.rows if i.environment == "production" and i.role == "deployer"]
    assert WRITING_POLICIES in matrix.chains[deployer, "production"]


def test_a_stack_that_overrides_its_tier_gets_that_tiers_access(stack_runs, iam_runs):
    """Staging's IAM stack set to `iam.tier: strict`: its administrators write but no longer read or delete."""
    config = stack_file_config("staging", IAM_DIR)
    iam_keys = {k: v for k, v in config[f"{IAM_PROJECT}:iam"].items() if k != "readersGroup"}
    config[f"{IAM_PROJECT}:iam"] = {**iam_keys, "tier": "strict"}
    staging = run_iam_stack("staging", config=config)
    matrix = access_matrix([stack_runs[s] for s in STACKS], [iam_runs["production"], staging, iam_runs["development"]])
    [admins] = [i for i in matrix.rows if i.environment == "staging" and i.role == "admin"]
    assert matrix.rows[admins]["staging"] == Access(False, True, frozenset())
    assert matrix.violations() == []


def test_people_who_use_the_console_can_list_what_they_may_manage(stack_runs, iam_runs):
    """Every group lists its environment's vaults and secrets; writers list keys; strict admins rotate, managers create."""
    runs, iam = both(stack_runs, iam_runs)
    matrix = access_matrix(runs, iam)
    statements = policy_statements(iam)
    environments = {e.name: e for e in matrix.environments}
    for identity, cells in matrix.rows.items():
        if identity.role in ("sync", "standbySync", "iamAdmin", "preview"):
            continue
        own = environments[identity.environment]
        if identity.role != "deployer":
            assert can(statements, identity.principals, "ListVaults", own), identity
            assert can(statements, identity.principals, "ListSecrets", own), identity
        if cells[own.name].write and identity.role != "deployer":
            assert can(statements, identity.principals, "ListKeys", own), identity
    production_admins = next(i for i in matrix.rows if i.environment == "production" and i.role == "admin")
    assert can(statements, production_admins.principals, "CreateKeyVersion", environments["production"])
    assert not can(statements, production_admins.principals, "CreateSecret", environments["production"])
    # Administrators who manage (moderate, relaxed) can create a secret: use vaults and the key's encrypt/decrypt too.
    for environment in ("staging", "development"):
        [admins] = [i for i in matrix.rows if i.environment == environment and i.role == "admin"]
        assert can(statements, admins.principals, "CreateSecret", environments[environment]), environment


def test_the_deployer_can_create_everything_the_program_creates(stack_runs, iam_runs):
    """The deployer's statements let `pulumi up` create secrets (use vaults + key) and rotate the key."""
    runs, iam = both(stack_runs, iam_runs)
    matrix = access_matrix(runs, iam)
    statements = policy_statements(iam)
    for environment in matrix.environments:  # the replicas' vault and key included
        [deployer] = [i for i in matrix.rows if i.environment == environment.owner and i.role == "deployer"]
        for operation in ("CreateSecret", "UpdateSecret", "CreateKeyVersion", "GetVault", "GetKey", "GetSecret"):
            assert can(statements, deployer.principals, operation, environment), (environment.name, operation)


def point_staging_policy_at_production(runs: dict[str, ProgramRun]) -> list[ProgramRun]:
    """A copy-paste mistake built in the test: staging's IAM policies name production's compartment."""
    production, staging = runs["production"], runs["staging"]
    swaps = {
        staging.of_type("oci:Identity/policy:Policy")[0].inputs["compartmentId"]:
            production.of_type("oci:Identity/policy:Policy")[0].inputs["compartmentId"],
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


def test_a_policy_pointed_at_production_breaks_the_contract_and_fails_the_command(stack_runs, iam_runs, capsys):
    """Staging's identities allowed on production's secrets turn those cells red, and the command exits 1."""
    runs, iam = [stack_runs[s] for s in STACKS], point_staging_policy_at_production(iam_runs)
    violations = access_matrix(runs, iam).violations()
    assert ("staging", "sync", "production") in {(i.environment, i.role, o) for i, o in violations}
    assert plan.matrix_command(runs, iam) == 1
    assert "CONTRACT: Staging sync identity (ecommerce-staging/ecommerce-secrets-sync) on production's secrets can read" in capsys.readouterr().err


def test_a_tier_broken_on_purpose_fails_the_matrix_command(monkeypatch, capsys):
    """Strict administrators given the moderate tier's grants can read and delete: `--matrix` exits non-zero."""
    monkeypatch.setitem(TIERS["strict"], "admin", dataclasses.replace(TIERS["strict"]["admin"], grants=TIERS["moderate"]["admin"].grants))
    assert plan.main(["--matrix"]) == 1
    err = capsys.readouterr().err
    assert "CONTRACT: Production administrators (ecommerce-production-secret-admins) on production's secrets can read, write, delete; promised: write" in err


def test_committed_architecture_doc_is_what_the_stacks_generate_now():
    """docs/ARCHITECTURE.md is regenerated, never edited: run `python -m offline.report` after a change."""
    assert ARCHITECTURE.read_text() == render_docs()


def test_comparison_table_shows_each_tier_and_who_does_what(stack_runs, iam_runs):
    """Like the product's "Access Control" row, read from the stacks; the people rows come from the matrix."""
    runs = [stack_runs[s] for s in STACKS]
    table = compare_table(runs, access_matrix(*both(stack_runs, iam_runs)))
    assert "| **Key rotation** | every 90 days (new key version) | every 180 days (new key version) | manual |" in table
    assert "| **Access control** | Strict | Moderate | Relaxed |" in table
    assert "| **Can read its secrets** | Production only | Staging only | Development only |" in table
    assert "| **Reads secret values** | sync identity | sync identity, administrators, readers | sync identity, developers |" in table
    assert "| **Deletes vault, key, secrets** | nobody |" in table


def test_the_isolation_doc_shows_who_does_what_and_the_statements_as_generated(stack_runs, iam_runs):
    """docs/isolation.md's people table and per-tier statements are what the programs compute now, not prose that drifts."""
    doc = (PROJECT_DIR / "docs" / "isolation.md").read_text()
    assert people_table(access_matrix(*both(stack_runs, iam_runs))) in doc
    for tier in TIERS:
        assert tier_statements(tier) in doc, tier


def test_a_broken_stack_file_gets_the_programs_own_settings_error(tmp_path, capsys):
    """The plan reports a stack file mistake exactly as `pulumi up` would, and exits non-zero."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT_DIR, project, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__"))
    stack_file = project / "Pulumi.staging.yaml"
    stack_file.write_text(stack_file.read_text().replace("preset: moderate", "preset: paranoid"))
    assert plan.main(["staging", "--project-dir", str(project)]) == 1
    err = capsys.readouterr().err
    assert "ecommerce-kms-vault:preset = \"paranoid\"" in err and "'strict', 'moderate' or 'relaxed'" in err


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("/*.jwt-secret*/", "auth-service.jwt-secret", True),
        ("/*.jwt-secret*/", "auth-service.JWT-secret.v12", True),
        ("/*.jwt-secret*/", "auth-service.database-url", False),
        ("/ecommerce-staging-*/", "ecommerce-staging-events-delivery", True),
        ("/ecommerce-staging-*/", "ecommerce-production-secrets-access", False),
        ("/*-access/", "ecommerce-staging-secrets-access", True),
    ],
)
def test_name_patterns_match_as_oci_documents(pattern, name, matches):
    """OCI's patterns: /x*/ starts with, /*x/ ends with, /*x*/ contains; names compare case-insensitively
    (https://docs.oracle.com/iaas/Content/Identity/policysyntax/conditions.htm)."""
    [statement] = [parse(f"Allow any-user to manage secrets in tenancy where target.secret.name = {pattern}")]
    assert statement.conditions[0].matches(name) is matches


def test_the_strict_deployer_may_retire_jwt_generations_and_delete_nothing_else(stack_runs, iam_runs):
    """Every JWT rotation deletes the generation before last: production's deployer may do exactly that."""
    statements = policy_statements(iam_runs.values())
    deployer = Principal("user", groups=frozenset({"Default/ecommerce-production-deployers"}))
    compartment = stack_runs["production"].of_type("oci:Kms/vault:Vault")[0].inputs["compartmentId"]

    def may_delete(name: str) -> bool:
        return allowed(statements, Request(deployer, "SECRET_DELETE", compartment, {"target.secret.name": name}))

    assert may_delete("auth-service.jwt-secret") and may_delete("auth-service.jwt-secret.v7")
    assert not may_delete("auth-service.database-url")
