"""Isolation between environments, as generated: identifiers, IAM statements (the IAM program's),
Kubernetes scope."""

import itertools
import json

import pytest

from components import iam
from components.iam_settings import IAM_PROJECT
from components.naming import DEFAULT_SERVICES, PROJECT
from offline.access import FAMILIES, TARGET_VARIABLES, VERBS, Environment, access_matrix, can, parse
from offline.harness import IAM_DIR, PROJECT_DIR, STACKS, ProgramRun, run_stack, stack_file_config
from tests.conftest import PINNED_TODAY, ROTATED_BEFORE
from offline.doc_commands import doc_files

POLICY = "oci:Identity/policy:Policy"


def identifiers(stack: str, run: ProgramRun) -> set[str]:
    """What only this environment may name: compartment, cluster, namespace, vault, secret paths."""
    config = stack_file_config(stack)
    kubernetes = config[f"{PROJECT}:kubernetes"]
    vault = run.of_type("oci:Kms/vault:Vault")[0]
    return {
        config[f"{PROJECT}:compartmentId"],
        kubernetes["clusterId"],
        f"ecommerce-{stack}",  # the namespace, and the prefix of every resource and path
        f"ecommerce/{stack}/",
        f"<{vault.name}-id>",
    }


def statements(run: ProgramRun) -> list[str]:
    return [s for policy in run.of_type(POLICY) for s in policy.plain_inputs["statements"]]


@pytest.mark.parametrize(("mine", "theirs"), list(itertools.permutations(STACKS, 2)))
def test_nothing_of_one_environment_names_another(stack_runs, iam_runs, mine, theirs):
    """No input of any resource of one stack (of either program) names another environment's compartment,
    cluster, namespace, vault or secret."""
    everything = json.dumps([r.plain_inputs for run in (stack_runs, iam_runs) for r in run[mine].registrations])
    for identifier in identifiers(theirs, stack_runs[theirs]):
        assert identifier not in everything, f"{mine} names {theirs}'s {identifier}"


@pytest.mark.parametrize("stack", STACKS)
def test_the_environment_stacks_write_no_iam(stack_runs, stack):
    """The identity that runs an environment's `pulumi up` registers no policy, group or dynamic group."""
    assert not [r.type for r in stack_runs[stack].registrations if r.type.startswith("oci:Identity/")]


@pytest.mark.parametrize("stack", STACKS)
def test_no_environment_identity_is_granted_iam_or_everything(iam_runs, stack):
    """No generated statement names policies, groups, dynamic groups or all-resources: nobody these statements
    empower can write IAM (and so grant itself more) or reach beyond the Vault, Notifications and Events types."""
    for text in statements(iam_runs[stack]):
        assert not {"policies", "groups", "dynamic-groups", "all-resources"} & set(text.split()), text


@pytest.mark.parametrize("stack", STACKS)
def test_any_user_never_appears_without_the_workload_conditions(iam_runs, stack):
    """`any-user` alone grants everyone; every such statement is pinned to this environment's sync identity."""
    config = stack_file_config(stack)
    identity = iam.SyncIdentity(
        cluster_id=config[f"{PROJECT}:kubernetes"]["clusterId"],
        namespace=f"ecommerce-{stack}",
        service_account="ecommerce-secrets-sync",
    )
    standby = config.get(f"{PROJECT}:disasterRecovery", {}).get("standby")
    identities = [identity] + ([iam.SyncIdentity(standby["clusterId"], identity.namespace, identity.service_account,
                                                 region="AMS")] if standby else [])
    allows = [s for s in statements(iam_runs[stack]) if s.startswith("Allow any-user")]
    assert allows
    for statement in allows:
        assert any(all(c in statement for c in i.conditions()) for i in identities), statement
        assert statement.count("where all {") == 1


@pytest.mark.parametrize("stack", STACKS)
def test_every_statement_stays_in_the_environments_compartment_and_needs_no_later_ocid(iam_runs, stack):
    """Each statement names this compartment, and no OCID only known once the environment is deployed (the IAM
    program runs first); every target variable is one OCI documents for the statement's resource type."""
    compartment = stack_file_config(stack, IAM_DIR)[f"{IAM_PROJECT}:compartmentId"]
    for text in statements(iam_runs[stack]):
        statement = parse(text)
        assert statement.compartment_id == compartment and "<" not in text, text
        # A variable OCI does not document for a resource type would make the condition false.
        for condition in statement.conditions:
            variable = condition.variable
            assert not variable.startswith("target.") or variable in TARGET_VARIABLES.get(statement.resource, ()), text


@pytest.mark.parametrize("stack", STACKS)
def test_no_statement_grants_key_delegate(iam_runs, stack):
    """`use key-delegate` lets other services use the key; no consumer here needs it, not even the deployer."""
    assert not [s for s in statements(iam_runs[stack]) if "key-delegate" in s or "key-family" in s]


@pytest.mark.parametrize("stack", STACKS)
def test_the_sync_identity_reads_only_its_services_secrets(stack_runs, iam_runs, stack):
    """One secret-bundles statement per service, narrowed by name (target.secret.name, which OCI documents for
    secret bundles); the sync identity reads every service secret of every generation, and no other secret
    someone stores in the same compartment, such as a database admin password."""
    # One set for the environment's cluster, and one for a standby cluster where there is one.
    reads = [parse(t) for t in statements(iam_runs[stack]) if "to read secret-bundles" in t]
    clusters = 2 if stack_file_config(stack).get(f"{PROJECT}:disasterRecovery", {}).get("standby") else 1
    assert [[c.value for c in s.conditions if c.variable == "target.secret.name"] for s in reads] == [
        [f"/{service}.*/"] for service in DEFAULT_SERVICES] * clusters
    matrix = access_matrix([stack_runs[s] for s in STACKS], [iam_runs[s] for s in STACKS])
    [sync] = [i for i in matrix.rows if i.environment == stack and i.role == "sync"]
    [own] = [e for e in matrix.environments if e.name == stack]
    every = [parse(t) for run in iam_runs.values() for t in statements(run)]

    def reads_secret(name: str) -> bool:
        return can(every, sync.principals, "GetSecretBundleByName", Environment(
            own.name, own.tier, own.compartment_id, {**own.targets, "target.secret.name": name}, own.namespace, own.region))

    assert all(reads_secret(f"{service}.{kind}") for service in DEFAULT_SERVICES for kind in ("database-url", "jwt-secret.v7"))
    assert not reads_secret("dbadmin-password") and not reads_secret("billing-team.api-token")


def test_the_store_check_still_reads_the_vault(stack_runs, iam_runs):
    """ESO's store check calls GetVault: the sync identity keeps `read vaults` in its compartment."""
    matrix = access_matrix([stack_runs[s] for s in STACKS], [iam_runs[s] for s in STACKS])
    every = [parse(t) for run in iam_runs.values() for t in statements(run)]
    for environment in matrix.environments:
        [sync] = [i for i in matrix.rows if i.environment == environment.owner
                  and i.role == ("standbySync" if environment.replica_of else "sync")]
        assert can(every, sync.principals, "GetVault", environment)


def test_deny_statements_refuse_every_other_workload_with_negated_conditions():
    """Opt-in Deny statements cover a different namespace, service account or cluster, each alone, in this compartment."""
    identity = iam.SyncIdentity("ocid1.cluster.oc1.x.a", "ns", "sa")
    denies = iam.deny_statements([identity], "c")
    assert len(denies) == 3
    assert all(s.startswith("Deny any-user to read secret-family in compartment id c where all {") for s in denies)
    assert all("request.principal.type = 'workload'" in s for s in denies)
    assert [s.count("!=") for s in denies] == [1, 1, 1]
    assert {"namespace != 'ns'", "service_account != 'sa'", "cluster_id != 'ocid1.cluster.oc1.x.a'"} == {
        s.split("request.principal.")[-1].rstrip("}") for s in denies
    }


def secrets_policies(run: ProgramRun) -> list:
    """The policies about the secrets; the Events service's delivery policy is about its topic."""
    return [p for p in run.of_type(POLICY) if "-secrets-" in p.inputs["name"]]


@pytest.mark.parametrize("stack", STACKS)
def test_deny_statements_are_off_unless_asked_for(iam_runs, stack):
    """Deny policies must first be enabled tenancy-wide; no stack writes them by default."""
    assert not [s for s in statements(iam_runs[stack]) if s.startswith("Deny")]
    assert [p.inputs["name"] for p in secrets_policies(iam_runs[stack])] == [f"ecommerce-{stack}-secrets-access"]


def test_deny_statements_live_in_a_policy_of_their_own(production_with_denies):
    """The Allows stay in a policy of their own; the Denies (Default-domain administrators only, once enabled) apart."""
    policies = {p.inputs["name"]: p.plain_inputs["statements"] for p in secrets_policies(production_with_denies)}
    assert set(policies) == {"ecommerce-production-secrets-access", "ecommerce-production-secrets-deny"}
    assert all(s.startswith("Allow ") for s in policies["ecommerce-production-secrets-access"])
    # Differing from the own cluster's identity in one of three ways and from the standby's in one of three.
    assert len(policies["ecommerce-production-secrets-deny"]) == 3 * 3
    assert all(s.startswith("Deny ") for s in policies["ecommerce-production-secrets-deny"])


def test_every_policy_is_deleted_before_it_is_replaced(production_with_denies):
    """Policy names are unique in the tenancy: create-before-delete replacement would fail on the name."""
    policies = production_with_denies.of_type(POLICY)
    assert len(policies) == 4  # secrets access, secrets deny, deployer, events delivery
    assert all(p.delete_before_replace for p in policies)


def test_the_denies_keep_the_matrix_intact(production_with_denies, stack_runs, iam_runs):
    """With the Denies, production's own workload still reads, and every tier's promise still holds."""
    matrix = access_matrix([stack_runs[s] for s in STACKS], [production_with_denies, iam_runs["staging"], iam_runs["development"]])
    assert matrix.violations() == []


# The IAM resource type that authorizes each OCI resource type the program can register, from each
# service's policy reference: Vault (keypolicyreference.htm: vaults, keys, secrets), IAM
# (policies), Notifications (notificationpolicyreference.htm: ons-topics, ons-subscriptions),
# Events (eventspolicyreference.htm: cloudevents-rules).
IAM_RESOURCE_TYPE = {
    "oci:Kms/vault:Vault": "vaults",
    "oci:Kms/key:Key": "keys",
    "oci:Kms/keyVersion:KeyVersion": "keys",
    "oci:Vault/secret:Secret": "secrets",
    "oci:Ons/notificationTopic:NotificationTopic": "ons-topics",
    "oci:Ons/subscription:Subscription": "ons-subscriptions",
    "oci:Events/rule:Rule": "cloudevents-rules",
}
PREVIEW_USER = "Allow group 'Default'/'ecommerce-preview' to read "


def with_every_kind_of_resource(stack: str) -> ProgramRun:
    """The stack with mail subscribers, after rotations (a KeyVersion)."""
    config = stack_file_config(stack) | {f"{PROJECT}:notifications": {"emails": ["secops@example.com"]}}
    return run_stack(stack, today=PINNED_TODAY, config=config, deployed=ROTATED_BEFORE)


def granted(statements: list[str], verb: str) -> set[str]:
    """The resource types these statements grant at least `verb` on, families expanded."""
    types = set()
    for statement in map(parse, statements):
        if VERBS.index(statement.verb) >= VERBS.index(verb):
            types |= {statement.resource, *FAMILIES.get(statement.resource, ())}
    return types


def deployer_statements(iam_run: ProgramRun) -> list[str]:
    [policy] = [p for p in iam_run.of_type(POLICY) if p.inputs["name"].endswith("-deployer")]
    return policy.plain_inputs["statements"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_deployer_manages_and_the_preview_user_reads_every_kind_of_resource(iam_runs, stack):
    """A resource type the deployer may not manage fails its first `pulumi up`; one the preview user
    may not read fails every preview. Both lists must grow with the program."""
    run = with_every_kind_of_resource(stack)
    registered = {r.type for r in run.registrations if r.type.startswith("oci:")}
    assert registered <= set(IAM_RESOURCE_TYPE), f"unmapped OCI types: {registered - set(IAM_RESOURCE_TYPE)}"
    needed = {IAM_RESOURCE_TYPE[t] for t in registered}
    assert needed - granted(deployer_statements(iam_runs[stack]), "manage") == set()
    readme = [line for path in doc_files(PROJECT_DIR) for line in path.read_text(encoding="utf-8").splitlines()]
    preview_user = {line.removeprefix(PREVIEW_USER).split(" ")[0] for line in readme if line.startswith(PREVIEW_USER)}
    assert needed - preview_user == set()
