"""Nothing is replaced or deleted by surprise.

Which inputs force a replacement is read from the providers, not assumed (`offline/replacements.py`).
Every setting is changed in turn on the real program, and whatever it would make the engine
replace or delete among the things that hold data, or update on a live JWT generation (which the
program never updates: docs/rotation.md), must be a fixed setting the guard refuses.
"""

import copy
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from components.naming import DEFAULT_SERVICES, PROJECT
from components.replacement_guard import FIXED_OUTPUT, FIXED_SETTINGS, refused_changes
from components.settings import StackSettings
from components.settings_errors import SettingsError
from components.stack_config import load_stack_settings, project_keys
from offline.harness import ProgramRun, run_program, stack_file_config, unwrap_secrets
from offline.policy_checks import PACK_CONFIG
from offline.replacements import KEY, RELEASE, SECRET, VAULT, at, replace_forcing
from tests.conftest import PINNED_TODAY
from tests.test_rotation import generation_of

P = f"{PROJECT}:"
NAMESPACE = "kubernetes:core/v1:Namespace"

# What holds data or running workloads: replacing or deleting one loses something. Reloader's
# release holds nothing (a reinstall only pauses reloads); a JWT generation is retired on purpose.
HOLDS_DATA = {VAULT, KEY, SECRET, NAMESPACE, RELEASE}


def holds_data(r) -> bool:
    if r.type == RELEASE:
        return r.inputs["chart"] == "external-secrets"
    if r.type == SECRET:
        return r.inputs["secretName"].endswith(".database-url")
    return r.type in HOLDS_DATA


# One valid new value for every setting of the stack file (staging's), or why it is not changed here.
CHANGES: dict[str, Any] = {
    "preset": "relaxed",
    "compartmentId": "ocid1.compartment.oc1..aaaaaaaaanothercompartment",
    "region": "eu-amsterdam-1",
    "ociProfile": "OTHER",
    "vaultType": "VIRTUAL_PRIVATE",
    "keyProtectionMode": "SOFTWARE",
    "protect": True,
    "allowReplacement": ["vaultType"],
    "keyRotation.automatic": False,
    "keyRotation.intervalDays": 90,
    "secrets.preventReuse": False,
    "secrets.preventReuseOfDeletedVersions": True,
    "secrets.jwtLength": 24,
    "secrets.jwtRotation.automatic": False,
    "secrets.jwtRotation.intervalDays": 30,
    "notifications.emails": ["secops@example.com"],
    "kubernetes.installReloader": False,
    "kubernetes.reloaderNamespace": "reloads",
    "kubernetes.reloaderWatchNamespaces": ["ecommerce-other"],
    "kubernetes.clusterId": "ocid1.cluster.oc1.eu-frankfurt-1.aaaaaaaaanothercluster",
    "kubernetes.context": "other-context",
    "kubernetes.namespace": "ecommerce-staging-two",
    "kubernetes.manageNamespace": "adopt",
    "kubernetes.serviceAccount": "other-sync",
    "kubernetes.secretStore": "other-store",
    "kubernetes.refreshInterval": "30m",
    "kubernetes.operatorNamespace": "eso",
}
NOT_CHANGED = {
    "environment": "must equal the stack name: it cannot change",
    "keyRotation.method": "native needs vaultType VIRTUAL_PRIVATE, whose change is covered above",
    "services": "removing a service deletes its secrets on purpose (protected in strict stacks)",
    "kubernetes.installOperator": "false uninstalls the operator on purpose (its CRDs are kept)",
    # Adoption changes no input: it names an existing resource the engine imports (docs/adoption.md says
    # what a change of it does on a deployed stack: an import-replacement the engine refuses when protected).
    "adopt.vaultId": "the vault's inputs stay as they are; the engine imports the named vault",
    "adopt.keyId": "the key's inputs stay as they are; the engine imports the named key",
    "adopt.managementEndpoint": "only completes the key's import ID",
    "adopt.databaseUrlSecrets": "the secrets' inputs stay as they are (but for their content); the engine imports them",
    "disasterRecovery": "turning it on is tests/test_disaster_recovery.py's, which changes each of its keys on a "
    "stack where it is on (RECOVERY_CHANGES)",
}
RECOVERY_KEYS = {key for key in FIXED_SETTINGS if key.startswith("disasterRecovery.")}


def leaf_settings(model: type[BaseModel] = StackSettings, prefix: str = "") -> set[str]:
    leaves = set()
    for name, field in model.model_fields.items():
        key = prefix + to_camel(name)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            leaves |= leaf_settings(annotation, key + ".")
        else:
            leaves.add(key)
    return leaves


def with_setting(config: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(config)
    top, *rest = key.split(".")
    node = changed.setdefault(P + top, {}) if rest else changed
    for part in rest[:-1]:
        node = node.setdefault(part, {})
    node[rest[-1] if rest else P + top] = value
    return changed


_AUTHORITIES = tempfile.TemporaryDirectory()


def authority_for(config: dict[str, Any], environment: str = "staging") -> Path:
    """The guardrail authority moved first to where `config` puts `environment` (a reviewed change of
    policy/config.json, which accepts only an environment's own compartment, cluster, namespace and standby cluster)."""
    k = config[P + "kubernetes"]
    own = {"compartmentId": config[P + "compartmentId"], "clusterId": k["clusterId"],
           "namespace": k.get("namespace", f"ecommerce-{environment}")}
    standby = config.get(P + "disasterRecovery", {}).get("standby")
    if standby:
        own["standbyClusterId"] = standby["clusterId"]
    authority = json.loads(PACK_CONFIG.read_text())
    for entry in authority.values():
        entry["environments"][environment] = {**entry["environments"][environment], **own}
    moved = json.dumps([environment, own], sort_keys=True).encode()
    path = Path(_AUTHORITIES.name) / f"{hashlib.sha256(moved).hexdigest()}.json"
    path.write_text(json.dumps(authority))
    return path


def staging(config: dict[str, Any], **kwargs: Any) -> ProgramRun:
    services = config.get(P + "services", DEFAULT_SERVICES)
    return run_program("staging", config, {s: "<url>" for s in services}, today=PINNED_TODAY,
                       authority=authority_for(config), **kwargs)


def changed_inputs(before, after) -> set[str]:
    """The inputs `after` sends in an update of the resource `before` declared (its ignore_changes left out)."""
    return {k for k in before.inputs.keys() | after.inputs.keys()
            if before.plain_inputs.get(k) != after.plain_inputs.get(k) and k not in after.ignore_changes}


def left_protected(before: ProgramRun, after: ProgramRun) -> list[str]:
    """What `before` registered with protect that `after` no longer declares: the engine deletes it with the flag
    its state holds (pulumi/pulumi pkg/resource/deploy/step.go, DeleteStep.Apply), so it refuses."""
    declared = {r.urn for r in after.registrations}
    return sorted(r.name for r in before.registrations if r.protect and r.urn not in declared)


def updated_generations(before: ProgramRun, after: ProgramRun) -> set[tuple[str, str]]:
    """(type, input) of each input `after` changes on a JWT generation both declare, outside ignore_changes:
    any input of a generation pods may sign with (up to the deployed next: a rotation that reached the cluster
    and failed before its outputs were recorded leaves pods signing with it), any but its replication config
    on one above it."""
    now = {r.urn: r for r in after.resources}
    deployed_next = int(before.exports["jwtRotation"].value["next"])
    return {
        (r.type, name)
        for r in before.of_type(SECRET)
        if ".jwt-secret" in r.inputs["secretName"] and r.urn in now
        for name in changed_inputs(r, now[r.urn])
        if generation_of(r.inputs["secretName"]) <= deployed_next or name != "replicationConfig"
    }


def lost(before: ProgramRun, after: ProgramRun) -> set[tuple[str, str]]:
    """(type, why) of everything holding data that `after` would make the engine replace or delete, and
    of each update it would send to a live JWT generation (`updated_generations`)."""
    now = {r.urn: r for r in after.registrations}
    changed_providers = {
        r.urn
        for r in before.registrations
        if r.urn in now and any(at(unwrap_secrets(r.inputs), p) != at(unwrap_secrets(now[r.urn].inputs), p) for p in replace_forcing(r.type))
    }
    found = set()
    for r in before.resources:
        if not holds_data(r):
            continue
        if r.urn not in now:
            found.add((r.type, "deleted"))
            continue
        provider = r.provider.rsplit("::", 1)[0]
        if provider in changed_providers:
            found.add((r.type, "its provider is replaced"))
        for path in replace_forcing(r.type):
            if at(r.plain_inputs, path) != at(now[r.urn].plain_inputs, path):
                found.add((r.type, ".".join(path)))
    return found | updated_generations(before, after)


@pytest.fixture(scope="module")
def one_service_staging() -> dict[str, Any]:
    # What a setting reaches does not depend on how many services there are: one keeps this fast.
    return with_setting(stack_file_config("staging"), "services", ["auth-service"])


def test_every_setting_is_exercised():
    """The table changes every key of the settings model, or says why it does not."""
    assert set(CHANGES) | set(NOT_CHANGED) == leaf_settings()
    assert not set(CHANGES) & set(NOT_CHANGED)


def test_the_sdk_docstrings_mark_what_oci_replaces():
    """The rule read from pulumi-oci matches what the facts say OCI replaces (and so can be trusted below)."""
    assert replace_forcing(VAULT) >= {("vaultType",)}
    assert ("compartmentId",) not in replace_forcing(VAULT)
    assert replace_forcing(KEY) >= {("keyShape",), ("managementEndpoint",), ("protectionMode",)}
    assert replace_forcing(SECRET) >= {("keyId",), ("secretName",), ("vaultId",)}
    assert replace_forcing("oci:Identity/policy:Policy") >= {("compartmentId",), ("name",)}
    assert ("statements",) not in replace_forcing("oci:Identity/policy:Policy")


def test_settings_that_would_replace_or_delete_data_are_exactly_the_fixed_ones(one_service_staging):
    """Changing any other setting replaces nothing that holds data and updates no live JWT generation;
    each fixed one does (so guarding it is needed)."""
    before = staging(one_service_staging)
    reaching = {}
    for key, value in CHANGES.items():
        found = lost(before, staging(with_setting(one_service_staging, key, value)))
        if found:
            reaching[key] = found
    assert set(reaching) == set(FIXED_SETTINGS) - RECOVERY_KEYS, reaching


def test_policies_are_deleted_before_they_are_replaced(iam_runs):
    """An IAM policy's name is unique in the tenancy, so its replacement must delete the old one first."""
    for run in iam_runs.values():
        policies = run.of_type("oci:Identity/policy:Policy")
        assert policies and all(p.delete_before_replace for p in policies)


def test_helm_releases_are_deleted_before_they_are_replaced(stack_runs):
    """A release moved to another namespace would find its cluster-wide objects owned by the old one."""
    releases = [r for run in stack_runs.values() for r in run.of_type(RELEASE)]
    assert releases and all(r.delete_before_replace for r in releases)


def deployed_outputs(run: ProgramRun) -> dict[str, Any]:
    """What the engine would hand back, through the StackReference, after `run` was deployed."""
    return {name: export.value for name, export in run.exports.items()}


def test_a_fixed_setting_change_on_a_deployed_stack_is_refused_before_anything(stack_runs):
    """vaultType changed on a deployed stack: refused with key, both values, what it destroys and the steps."""
    config = with_setting(stack_file_config("staging"), "vaultType", "VIRTUAL_PRIVATE")
    with pytest.raises(SettingsError) as refused:
        staging(config, deployed=deployed_outputs(stack_runs["staging"]))
    message = str(refused.value)
    for fragment in (
        f'{P}vaultType = "VIRTUAL_PRIVATE": was "DEFAULT" when stack staging was last deployed',
        "REPLACES the vault, and with it the key and every secret",
        "pulumi config set --path 'vaultType' DEFAULT --stack staging",
        "pulumi stack export --stack staging",
        "pulumi config set --path 'allowReplacement[0]' vaultType --stack staging",
    ):
        assert fragment in message
    assert refused.value.program_run.resources == []  # type: ignore[attr-defined]


def test_a_key_replacement_is_only_offered_together_with_the_vault(stack_runs):
    """Re-created secrets would collide with the old names in the same vault: the steps replace the vault too."""
    config = with_setting(stack_file_config("staging"), "keyProtectionMode", "SOFTWARE")
    with pytest.raises(SettingsError) as refused:
        staging(config, deployed=deployed_outputs(stack_runs["staging"]))
    [vault] = stack_runs["staging"].of_type(VAULT)
    assert f"pulumi up --stack staging --replace '{vault.urn}'" in str(refused.value)


def test_an_allowed_replacement_lifts_protection_for_that_update_only(stack_runs):
    """With allowReplacement the engine may replace vault, key and secrets; nothing else loses protection. (The
    replicas' vault follows vaultType unless disasterRecovery.vaultType says otherwise: both are allowed here.)"""
    config = with_setting(stack_file_config("production"), "vaultType", "VIRTUAL_PRIVATE")
    config = with_setting(config, "allowReplacement", ["vaultType", "disasterRecovery.vaultType"])
    run = run_program("production", config, {s: "<url>" for s in DEFAULT_SERVICES}, today=PINNED_TODAY,
                      deployed=deployed_outputs(stack_runs["production"]))
    assert not any(r.protect for r in run.of_type(VAULT) + run.of_type(KEY) + run.of_type(SECRET))
    assert all(r.protect for r in run.of_type(NAMESPACE) + run.of_type(RELEASE))


def test_a_compartment_move_reaches_live_jwt_generations_only_when_allowed(stack_runs, one_service_staging):
    """A live JWT generation is never updated (docs/rotation.md), and moving the compartment would update
    each one (ChangeSecretCompartment, then UpdateSecret): refused on a deployed stack, with what it does;
    carried out only with allowReplacement, and then what changes on a live generation is its compartment."""
    moved = with_setting(one_service_staging, "compartmentId", CHANGES["compartmentId"])
    before = staging(one_service_staging)
    with pytest.raises(SettingsError) as refused:
        staging(moved, deployed=deployed_outputs(before))
    message = str(refused.value)
    assert f"{P}compartmentId = " in message and "each live JWT generation is updated as well" in message
    assert "pulumi config set --path 'allowReplacement[0]' compartmentId --stack staging" in message
    allowed = staging(with_setting(moved, "allowReplacement", ["compartmentId"]), deployed=deployed_outputs(before))
    assert updated_generations(before, allowed) == {(SECRET, "compartmentId")}


def test_a_stack_deployed_before_the_guard_existed_is_not_refused(stack_runs, one_service_staging):
    """Outputs without fixedSettings: nothing to compare with, so nothing is refused."""
    deployed = {k: v for k, v in deployed_outputs(stack_runs["staging"]).items() if k != FIXED_OUTPUT}
    staging(with_setting(one_service_staging, "vaultType", "VIRTUAL_PRIVATE"), deployed=deployed)


def test_a_setting_that_did_not_apply_before_is_no_change():
    """Installing the operator where none was installed replaces nothing."""
    settings = load_stack_settings(project_keys(stack_file_config("staging")), "staging")
    assert refused_changes({"kubernetes.operatorNamespace": None}, settings, "staging") == []
