"""Isolation between environments, as generated: identifiers, IAM statements, Kubernetes scope."""

import itertools
import json
from datetime import date

import pytest

from components import iam
from components.naming import PROJECT
from offline.access import FAMILIES, TARGET_VARIABLES, VERBS, access_matrix, parse
from offline.doc_commands import doc_files
from offline.harness import PROJECT_DIR, STACKS, ProgramRun, run_stack, stack_file_config

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
def test_nothing_of_one_environment_names_another(stack_runs, mine, theirs):
    """No input of any resource of one stack names another environment's compartment, cluster, namespace, vault or secret."""
    everything = json.dumps([r.plain_inputs for r in stack_runs[mine].registrations])
    for identifier in identifiers(theirs, stack_runs[theirs]):
        assert identifier not in everything, f"{mine} names {theirs}'s {identifier}"


@pytest.mark.parametrize("stack", STACKS)
def test_any_user_never_appears_without_the_workload_conditions(stack_runs, stack):
    """`any-user` alone grants everyone; every such statement is pinned to this environment's sync identity."""
    config = stack_file_config(stack)
    identity = iam.SyncIdentity(
        cluster_id=config[f"{PROJECT}:kubernetes"]["clusterId"],
        namespace=f"ecommerce-{stack}",
        service_account="ecommerce-secrets-sync",
    )
    allows = [s for s in statements(stack_runs[stack]) if s.startswith("Allow any-user")]
    assert allows
    for statement in allows:
        assert all(condition in statement for condition in identity.conditions()), statement
        assert statement.count("where all {") == 1


@pytest.mark.parametrize("stack", STACKS)
def test_every_statement_stays_in_the_environments_compartment_and_vault_or_key(stack_runs, stack):
    """Each statement names this compartment; vaults and keys are narrowed by their own documented variable."""
    run = stack_runs[stack]
    compartment = stack_file_config(stack)[f"{PROJECT}:compartmentId"]
    vault_id, key_id = (f"<{run.of_type(t)[0].name}-id>" for t in ("oci:Kms/vault:Vault", "oci:Kms/key:Key"))
    for text in statements(run):
        statement = parse(text)
        assert statement.compartment_id == compartment, text
        variables = {c.variable: c.value for c in statement.conditions if c.equal}
        if statement.resource == "vaults" and statement.verb != "inspect":
            assert variables.get("target.vault.id") == vault_id, text
        if statement.resource == "keys" and statement.verb != "inspect":
            assert variables.get("target.key.id") == key_id, text
        # A variable OCI does not document for a resource type would make the condition false.
        for variable in variables:
            assert not variable.startswith("target.") or variable in TARGET_VARIABLES.get(statement.resource, ()), text


@pytest.mark.parametrize("stack", STACKS)
def test_no_statement_grants_key_delegate(stack_runs, stack):
    """`use key-delegate` lets other services use the key; no consumer here needs it, not even the deployer."""
    everything = [*statements(stack_runs[stack]), *stack_runs[stack].exports["deployerPolicy"].value]
    assert not [s for s in everything if "key-delegate" in s or "key-family" in s]


def test_sync_identity_reads_only_secret_bundles_and_the_vault():
    """The sync identity can read values and check its vault; it can manage nothing."""
    identity = iam.SyncIdentity("ocid1.cluster.oc1.x.a", "ns", "sa")
    verbs = [s.split(" to ")[1].split(" in ")[0] for s in iam.sync_statements(identity, iam.Scope("c", {"vaults": iam.Match.exactly("v")}))]
    assert verbs == ["read secret-bundles", "read vaults"]


def test_deny_statements_refuse_every_other_workload_with_negated_conditions():
    """Opt-in Deny statements cover a different namespace, service account or cluster, each alone, in this compartment."""
    identity = iam.SyncIdentity("ocid1.cluster.oc1.x.a", "ns", "sa")
    denies = iam.deny_statements(identity, "c")
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
def test_deny_statements_are_off_unless_asked_for(stack_runs, stack):
    """Deny policies must first be enabled tenancy-wide; no stack writes them by default."""
    assert not [s for s in statements(stack_runs[stack]) if s.startswith("Deny")]
    assert [p.inputs["name"] for p in secrets_policies(stack_runs[stack])] == [f"ecommerce-{stack}-secrets-access"]


def test_deny_statements_live_in_a_policy_of_their_own(production_with_denies):
    """The Allows stay in a policy the deployer may edit; the Denies (admin-only once enabled) are apart."""
    policies = {p.inputs["name"]: p.plain_inputs["statements"] for p in secrets_policies(production_with_denies)}
    assert set(policies) == {"ecommerce-production-secrets-access", "ecommerce-production-secrets-deny"}
    assert all(s.startswith("Allow ") for s in policies["ecommerce-production-secrets-access"])
    assert len(policies["ecommerce-production-secrets-deny"]) == 3
    assert all(s.startswith("Deny ") for s in policies["ecommerce-production-secrets-deny"])


def test_every_policy_is_deleted_before_it_is_replaced(production_with_denies):
    """Policy names are unique in the tenancy: create-before-delete replacement would fail on the name."""
    policies = production_with_denies.of_type(POLICY)
    assert len(policies) == 3  # secrets access, secrets deny, events delivery
    assert all(p.delete_before_replace for p in policies)


def test_the_denies_keep_the_matrix_intact(production_with_denies, stack_runs):
    """With the Denies, production's own workload still reads, and every tier's promise still holds."""
    matrix = access_matrix([production_with_denies, stack_runs["staging"], stack_runs["development"]])
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
    "oci:Identity/policy:Policy": "policies",
    "oci:Ons/notificationTopic:NotificationTopic": "ons-topics",
    "oci:Ons/subscription:Subscription": "ons-subscriptions",
    "oci:Events/rule:Rule": "cloudevents-rules",
}
PREVIEW_USER = "Allow group 'Default'/'ecommerce-preview' to read "


def with_every_kind_of_resource(stack: str) -> ProgramRun:
    """The stack with mail subscribers, a year after its anchor (a KeyVersion where keys rotate that way)."""
    config = stack_file_config(stack) | {f"{PROJECT}:notifications": {"emails": ["secops@example.com"]}}
    return run_stack(stack, today=date(2027, 12, 1), config=config)


def granted(statements: list[str], verb: str) -> set[str]:
    """The resource types these statements grant at least `verb` on, families expanded."""
    types = set()
    for statement in map(parse, statements):
        if VERBS.index(statement.verb) >= VERBS.index(verb):
            types |= {statement.resource, *FAMILIES.get(statement.resource, ())}
    return types


@pytest.mark.parametrize("stack", STACKS)
def test_the_deployer_manages_and_the_preview_user_reads_every_kind_of_resource(stack):
    """A resource type the deployer may not manage fails its first `pulumi up`; one the preview user
    may not read fails every preview. Both lists must grow with the program."""
    run = with_every_kind_of_resource(stack)
    registered = {r.type for r in run.registrations if r.type.startswith("oci:")}
    assert registered <= set(IAM_RESOURCE_TYPE), f"unmapped OCI types: {registered - set(IAM_RESOURCE_TYPE)}"
    needed = {IAM_RESOURCE_TYPE[t] for t in registered}
    assert needed - granted(run.exports["deployerPolicy"].value, "manage") == set()
    readme = [line for path in doc_files(PROJECT_DIR) for line in path.read_text(encoding="utf-8").splitlines()]
    preview_user = {line.removeprefix(PREVIEW_USER).split(" ")[0] for line in readme if line.startswith(PREVIEW_USER)}
    assert needed - preview_user == set()
