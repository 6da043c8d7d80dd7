"""The policy pack's rules as plain functions, on plain data: fast unit tests of each rule's logic.

These alone prove nothing about the pack as CrossGuard runs it (proxies, config, encodings):
`test_policy_protocol.py` does. Also here: the committed pack config (the guardrail authority) is
well-formed."""

import dataclasses
import json
from typing import Any

import pytest
from jsonschema import Draft7Validator

from components import guardrails
from offline.harness import STACKS
from offline.policy_checks import PACK_CONFIG, load_pack_module, pack_config, resources_of, rules

pack_config_schema = load_pack_module("ecommerce_config")
CONFIG = pack_config()["key-rotation"]
CTX = rules.context_from(CONFIG)


def resource(run, type_: str, index: int = 0):
    return [r for r in resources_of(run) if r.type == type_][index]


def changed(r, **props: Any):
    return dataclasses.replace(r, props={**r.props, **props})


def moved(r, stack: str):
    """The same resource as another stack would have it (policies read the stack from the URN)."""
    return dataclasses.replace(r, urn=r.urn.replace(f"urn:pulumi:{r.stack}::", f"urn:pulumi:{stack}::"))


def test_key_must_be_aes_256(stack_runs):
    """Every KMS key is AES with 32 bytes; a 16-byte key is refused."""
    key = resource(stack_runs["production"], rules.KEY)
    assert rules.key_is_aes_256(key, CTX) == []
    assert rules.key_is_aes_256(changed(key, keyShape={"algorithm": "AES", "length": 16}), CTX)


def test_production_and_staging_keys_rotate_within_their_limits(stack_runs):
    """Production rotates within its preset's 90 days, staging within 180, neither manually."""
    key = resource(stack_runs["production"], rules.KEY)
    assert rules.key_rotates(key, CTX) == []
    tags = dict(key.props["freeformTags"])
    assert rules.key_rotates(changed(key, freeformTags={**tags, "rotation-method": "manual"}), CTX)
    assert "at most 90 in production" in rules.key_rotates(changed(key, freeformTags={**tags, "rotation-interval-days": "120"}), CTX)[0]
    staging_key = resource(stack_runs["staging"], rules.KEY)
    assert rules.key_rotates(staging_key, CTX) == []
    too_slow = changed(staging_key, freeformTags={**staging_key.props["freeformTags"], "rotation-interval-days": "400"})
    assert "at most 180 in staging" in rules.key_rotates(too_slow, CTX)[0]


def test_manual_rotation_is_reported_not_hidden(stack_runs):
    """Development's manual rotation is an advisory finding, not a silent pass."""
    assert rules.manual_rotation_reported(resource(stack_runs["development"], rules.KEY), CTX)
    assert rules.manual_rotation_reported(resource(stack_runs["staging"], rules.KEY), CTX) == []


def test_native_rotation_needs_a_virtual_private_vault(stack_runs):
    """Native auto-rotation on a DEFAULT vault is refused by the stack rule (property dependencies)."""
    resources = resources_of(stack_runs["staging"])
    native = [changed(r, isAutoRotationEnabled=True) if r.type == rules.KEY else r for r in resources]
    assert rules.native_rotation_needs_virtual_private_vault(resources, CTX) == []
    assert rules.native_rotation_needs_virtual_private_vault(native, CTX)
    private = [changed(r, vaultType="VIRTUAL_PRIVATE") if r.type == rules.VAULT else r for r in native]
    assert rules.native_rotation_needs_virtual_private_vault(private, CTX) == []


def test_every_secret_uses_the_stacks_own_vault_and_key(stack_runs):
    """A secret wired to another stack's key is refused, even with values unknown at preview."""
    resources = resources_of(stack_runs["staging"])
    assert rules.secrets_use_own_vault_and_key(resources, CTX) == []
    foreign_key = resource(stack_runs["production"], rules.KEY).urn
    first = next(i for i, r in enumerate(resources) if r.type == rules.SECRET)
    broken = list(resources)
    broken[first] = dataclasses.replace(
        broken[first], property_dependencies={**broken[first].property_dependencies, "keyId": [foreign_key]}
    )
    assert rules.secrets_use_own_vault_and_key(broken, CTX) == [f"{broken[first].name}: keyId must come from this stack's own key"]


def test_iam_statements_are_isolated(iam_runs):
    """Bare any-user and statements naming another environment are refused."""
    policy = resource(iam_runs["staging"], rules.POLICY)
    assert rules.iam_statements_isolated(policy, CTX) == []
    bare = changed(policy, statements=["Allow any-user to read secret-bundles in compartment id x"])
    assert "grants everyone" in rules.iam_statements_isolated(bare, CTX)[0]
    production_compartment = CONFIG["environments"]["production"]["compartmentId"]
    pointed = changed(policy, statements=[s.replace(CONFIG["environments"]["staging"]["compartmentId"], production_compartment)
                                          for s in policy.props["statements"]])
    assert all("names production's" in m for m in rules.iam_statements_isolated(pointed, CTX))


def test_shared_clusters_are_not_reported_as_foreign(iam_runs):
    """Environments may share one cluster; only identifiers that differ from this environment's count."""
    policy = resource(iam_runs["staging"], rules.POLICY)
    environments = {env: dict(ids) for env, ids in CONFIG["environments"].items()}
    environments["production"]["clusterId"] = environments["staging"]["clusterId"]
    ctx = rules.Context(environments=environments, max_rotation_days=CTX.max_rotation_days)
    assert rules.iam_statements_isolated(policy, ctx) == []


def test_sync_stays_in_the_environments_namespace(stack_runs):
    """ExternalSecrets stay in their namespace and use a namespaced store; cluster stores are refused."""
    external = resource(stack_runs["staging"], rules.EXTERNAL_SECRET)
    assert rules.sync_stays_in_namespace(external, CTX) == []
    elsewhere = changed(external, metadata={**external.props["metadata"], "namespace": "ecommerce-production"})
    assert '"ecommerce-staging"' in rules.sync_stays_in_namespace(elsewhere, CTX)[0]
    cluster_ref = changed(external, spec={**external.props["spec"], "secretStoreRef": {"name": "x", "kind": "ClusterSecretStore"}})
    assert "ClusterSecretStore" in rules.sync_stays_in_namespace(cluster_ref, CTX)[0]
    cluster_store = dataclasses.replace(external, type=rules.CLUSTER_SECRET_STORE)
    assert rules.sync_stays_in_namespace(cluster_store, CTX)


def test_production_vault_key_and_secrets_are_protected(stack_runs):
    """An unprotected production vault is refused; staging's need not be protected."""
    vault = resource(stack_runs["production"], rules.VAULT)
    assert rules.production_is_protected(vault, CTX) == []
    assert rules.production_is_protected(dataclasses.replace(vault, protect=False), CTX)
    assert rules.production_is_protected(moved(dataclasses.replace(vault, protect=False), "staging"), CTX) == []


def test_only_oci_generated_jwt_generations_may_go_unprotected_in_production(stack_runs):
    """The exemption needs a generated JWT secret: the rotation tag on a database URL does not unprotect it."""
    secrets = [r for r in resources_of(stack_runs["production"]) if r.type == rules.SECRET]
    jwt = next(r for r in secrets if ".jwt-secret" in r.props["secretName"])
    url = next(r for r in secrets if ".database-url" in r.props["secretName"])
    assert not jwt.protect and rules.production_is_protected(jwt, CTX) == []
    assert rules.production_is_protected(changed(jwt, enableAutoGeneration=False), CTX)
    tagged_url = changed(url, freeformTags={**url.props.get("freeformTags", {}), "rotation-method": "newSecret"})
    assert rules.production_is_protected(dataclasses.replace(tagged_url, protect=False), CTX)


def test_advisories_for_production_hsm_and_deny_statements(stack_runs, iam_runs):
    """Production keys outside HSM, and production without Deny statements in any policy, are reported."""
    key = resource(stack_runs["production"], rules.KEY)
    assert rules.production_key_in_hsm(key, CTX) == []
    assert rules.production_key_in_hsm(changed(key, protectionMode="SOFTWARE"), CTX)
    resources = resources_of(iam_runs["production"])
    assert rules.production_has_deny_statements(resources, CTX)
    policy = resource(iam_runs["production"], rules.POLICY)
    deny = dataclasses.replace(policy, urn=f"{policy.urn}-deny", props={"statements": ["Deny any-user to read secret-family in tenancy"]})
    assert rules.production_has_deny_statements([*resources, deny], CTX) == []
    assert rules.production_has_deny_statements(resources_of(iam_runs["staging"]), CTX) == []


@pytest.mark.parametrize("stack", STACKS)
def test_no_mandatory_rule_is_violated_by_the_real_stacks(stack_runs, stack):
    """The committed stacks pass every mandatory rule."""
    found = rules.violations(resources_of(stack_runs[stack]), pack_config())
    assert [rule.name for rule, _ in found if rule.level == "mandatory"] == []


def test_the_committed_authority_is_one_entry_per_configured_policy_and_passes_the_schema():
    """policy/config.json holds the same guardrails for every policy that reads config (the program reads
    that one entry, components/guardrails.py), valid against the schema the engine is given, and gives each
    environment a compartment and namespace of its own."""
    committed = json.loads(PACK_CONFIG.read_text())
    assert set(committed) == {rule.name for rule in rules.RULES if rule.configured}
    authority = guardrails.parse(committed)
    assert list(Draft7Validator(pack_config_schema.SCHEMA).iter_errors(committed["key-rotation"])) == []
    for identifier in ("compartment_id", "namespace"):
        owned = [getattr(e, identifier) for e in authority.environments.values()]
        assert len(set(owned)) == len(owned), identifier
