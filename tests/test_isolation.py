"""Isolation between environments, as generated: identifiers, IAM statements, Kubernetes scope."""

import itertools
import json

import pytest

from components import iam
from components.naming import PROJECT
from offline.harness import STACKS, ProgramRun, stack_file_config

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
def test_every_statement_is_scoped_to_the_environments_compartment_and_vault(stack_runs, stack):
    """Each statement stays in this compartment; every Allow is limited to this environment's vault."""
    run = stack_runs[stack]
    compartment = stack_file_config(stack)[f"{PROJECT}:compartmentId"]
    vault_id = f"<{run.of_type('oci:Kms/vault:Vault')[0].name}-id>"
    for statement in statements(run):
        assert f" in compartment id {compartment} where " in statement
        if statement.startswith("Allow"):
            assert f"target.vault.id = '{vault_id}'" in statement


def test_sync_identity_reads_only_secret_bundles_and_the_vault():
    """The sync identity can read values and check its vault; it can manage nothing."""
    identity = iam.SyncIdentity("ocid1.cluster.oc1.x.a", "ns", "sa")
    verbs = [s.split(" to ")[1].split(" in ")[0] for s in iam.sync_statements(identity, "c", "v")]
    assert verbs == ["read secret-bundles", "read vaults"]


def test_deny_statements_refuse_every_other_workload_with_negated_conditions():
    """Opt-in Deny statements cover a different namespace, service account or cluster, each alone."""
    identity = iam.SyncIdentity("ocid1.cluster.oc1.x.a", "ns", "sa")
    denies = iam.deny_statements(identity, "c")
    assert len(denies) == 3
    assert all(s.startswith("Deny any-user to read secret-family in compartment id c where all {") for s in denies)
    assert all("request.principal.type = 'workload'" in s for s in denies)
    assert [s.count("!=") for s in denies] == [1, 1, 1]
    assert {"namespace != 'ns'", "service_account != 'sa'", "cluster_id != 'ocid1.cluster.oc1.x.a'"} == {
        s.split("request.principal.")[-1].rstrip("}") for s in denies
    }


@pytest.mark.parametrize("stack", STACKS)
def test_deny_statements_are_off_unless_asked_for(stack_runs, stack):
    """Deny policies must first be enabled tenancy-wide; no stack writes them by default."""
    assert not [s for s in statements(stack_runs[stack]) if s.startswith("Deny")]
