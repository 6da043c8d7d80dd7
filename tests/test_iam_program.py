"""The IAM program (iam/): its settings refused like the main program's, and what it writes."""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from components import guardrails
from components.iam_settings import IAM_PROJECT
from components.settings_errors import SettingsError
from offline.harness import IAM_DIR, STACKS, run_iam_stack, stack_file_config
from tests.conftest import UNLISTED_COMPARTMENT

P = f"{IAM_PROJECT}:"


def iam_setting(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        top, *rest = key.split(".")
        config[P + top] = {**config.get(P + top, {}), rest[0]: value} if rest else value
    return change


def production(key: str) -> str:
    top, *rest = key.split(".")
    value = stack_file_config("production", IAM_DIR)[P + top]
    return value[rest[0]] if rest else value


CASES: list[tuple[str, str, Callable[[dict[str, Any]], None], list[str]]] = [
    ("unknown access tier", "staging", iam_setting("iam.tier", "paranoid"),
     [f"{P}iam.tier = \"paranoid\"", "'strict', 'moderate' or 'relaxed'"]),
    ("unknown iam key", "staging", iam_setting("iam.readerGroup", "ecommerce-staging-qa"),
     [f"{P}iam.readerGroup", "unknown key", "readersGroup", "pulumi -C iam config rm --path 'iam.readerGroup' --stack staging"]),
    ("group name not of OCI's shape", "staging", iam_setting("iam.readersGroup", "QA team's"),
     [f"{P}iam.readersGroup = \"QA team's\"", "an OCI group name"]),
    ("readers group in strict", "production", iam_setting("iam.readersGroup", "ecommerce-production-qa"),
     [f"{P}iam.readersGroup = \"ecommerce-production-qa\"", "the strict tier has no readers role"]),
    ("break-glass group in moderate", "staging", iam_setting("iam.breakGlassGroup", "ecommerce-staging-break-glass"),
     [f"{P}iam.breakGlassGroup", "the moderate tier has no breakGlass role"]),
    ("break-glass group equal to the admin group", "production",
     iam_setting("iam.breakGlassGroup", "ecommerce-production-secret-admins"),
     [f"{P}iam.breakGlassGroup = \"ecommerce-production-secret-admins\"", "is also iam.adminGroup"]),
    ("environment is not the stack", "staging", iam_setting("environment", "production"),
     [f"{P}environment = \"production\"", "must equal the stack name 'staging'", "(or edit iam/Pulumi.staging.yaml)"]),
    ("a neighbour's compartment", "staging", iam_setting("compartmentId", production("compartmentId")),
     [f"{P}compartmentId", "is production's, and the guardrail authority policy/config.json allows staging only its own "
      "compartment", "(or edit iam/Pulumi.staging.yaml)"]),
    # A compartment nobody lists (one nested in production's, say) is refused as well: an allow-list.
    ("a compartment the authority gives nobody", "staging", iam_setting("compartmentId", UNLISTED_COMPARTMENT),
     [f"{P}compartmentId = \"{UNLISTED_COMPARTMENT[:40]}", "allows staging only its own compartment"]),
    ("a neighbour's cluster", "development", iam_setting("kubernetes.clusterId", production("kubernetes.clusterId")),
     [f"{P}kubernetes.clusterId", "is production's, and the guardrail authority policy/config.json allows development only "
      "its own cluster"]),
    ("a neighbour's namespace", "staging", iam_setting("kubernetes.namespace", "ecommerce-production"),
     [f"{P}kubernetes.namespace", "belongs to production"]),
]


@pytest.mark.parametrize(("stack", "change", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_iam_settings_are_refused_before_any_policy(stack, change, fragments):
    """Each mistake in an IAM stack file stops the IAM program, naming that file, before any policy is registered."""
    config = copy.deepcopy(stack_file_config(stack, IAM_DIR))
    change(config)
    with pytest.raises(SettingsError) as refused:
        run_iam_stack(stack, config)
    message = str(refused.value)
    assert message.startswith(f"iam/Pulumi.{stack}.yaml has 1 problem(s)")
    for fragment in fragments:
        assert fragment in message
    assert refused.value.program_run.resources == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("stack", STACKS)
def test_the_iam_program_writes_the_environments_policies_in_its_compartment_from_the_home_region(iam_runs, stack):
    """Access, deployer and Events delivery policies, each in the environment's compartment, on the
    home-region provider, deleted before replaced (policy names are unique in the tenancy)."""
    run = iam_runs[stack]
    policies = run.of_type("oci:Identity/policy:Policy")
    assert sorted(p.inputs["name"] for p in policies) == [
        f"ecommerce-{stack}-deployer", f"ecommerce-{stack}-events-delivery", f"ecommerce-{stack}-secrets-access"]
    compartment = stack_file_config(stack, IAM_DIR)[P + "compartmentId"]
    assert {p.inputs["compartmentId"] for p in policies} == {compartment}
    assert all(p.delete_before_replace for p in policies)
    [provider] = run.of_type("pulumi:providers:oci")
    assert provider.inputs["region"] == stack_file_config(stack, IAM_DIR)[P + "homeRegion"]
    assert {p.provider.rsplit("::", 1)[0] for p in policies} == {provider.urn}


def test_the_strict_tier_is_refused_on_a_cluster_the_authority_shares(monkeypatch):
    """Production (strict) on a cluster the authority also lists for staging: its IAM stack is refused, since
    staging's deployer and workloads would share production's cluster."""
    authority = guardrails.load()
    environments = dict(authority.environments)
    environments["staging"] = environments["staging"].model_copy(
        update={"cluster_id": environments["production"].cluster_id})
    monkeypatch.setattr(guardrails, "load", lambda: authority.model_copy(update={"environments": environments}))
    with pytest.raises(SettingsError) as refused:
        run_iam_stack("production")
    assert f"{P}iam.tier = \"strict\": needs a cluster of its own" in str(refused.value)
    assert "staging" in str(refused.value)
