"""Production's secrets survive a region outage: replicas in a second region, a standby cluster syncing them.

Driven through the real program under the mocks, with deployed outputs where a deployment is what the
promise is about (turning disaster recovery on, a rotation afterwards). Which input changes replace a
resource is read from the providers (`offline/replacements.py`), as in tests/test_replacements.py.
"""

import copy
from datetime import date, timedelta
from typing import Any

import oci
import pytest

from components.naming import PROJECT
from components.regions import OCI_REGIONS
from components.replacement_guard import FIXED_SETTINGS
from components.settings_errors import SettingsError
from components.stack_config import load_stack_settings, project_keys
from offline.harness import ProgramRun, run_program, stack_file_config
from offline.replacements import KEY, SECRET, VAULT
from tests.conftest import PINNED_TODAY
from tests.test_rotation import as_the_engine_hands_them, generation_of
from tests.test_replacements import (
    RECOVERY_KEYS, authority_for, changed_inputs, deployed_outputs, left_protected, lost, updated_generations, with_setting,
)

P = f"{PROJECT}:"
KEY_VERSION = "oci:Kms/keyVersion:KeyVersion"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
RECOVERY = P + "disasterRecovery"


def production(config: dict[str, Any], today: date = PINNED_TODAY, **kwargs: Any) -> ProgramRun:
    services = config.get(P + "services")
    kwargs.setdefault("authority", authority_for(config, "production"))
    return run_program("production", config, {s: "<url>" for s in services}, today=today, **kwargs)


@pytest.fixture(scope="module")
def with_recovery() -> dict[str, Any]:
    # What replication reaches does not depend on how many services there are: one keeps this fast.
    return with_setting(stack_file_config("production"), "services", ["auth-service"])


@pytest.fixture(scope="module")
def without_recovery(with_recovery) -> dict[str, Any]:
    return {k: v for k, v in with_recovery.items() if k != RECOVERY}


def replica_targets(secret) -> list[dict[str, Any]]:
    return secret.plain_inputs.get("replicationConfig", {}).get("replicationTargets", [])


def test_the_region_table_is_the_oci_sdks():
    """components/regions.py is the OCI SDK's region list (realm and key), so an SDK upgrade cannot drift from it."""
    keys = {region: short.upper() for short, region in oci.regions.REGIONS_SHORT_NAMES.items()}
    assert {r: (o.realm, o.key) for r, o in OCI_REGIONS.items()} == {
        r: (realm, keys[r]) for r, realm in oci.regions.REGION_REALMS.items()
    }
    assert OCI_REGIONS["eu-amsterdam-1"] == ("oc1", "AMS") and OCI_REGIONS["eu-frankfurt-1"].realm == "oc1"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"region": "eu-frankfurt-1"}, "is the primary region (region)"),
        ({"region": "eu-atlantis-1"}, "is not an OCI region"),
        ({"region": "us-langley-1"}, "is in realm oc2, the primary eu-frankfurt-1 in oc1"),
        ({"standby": {"clusterId": "ocid1.cluster.oc1.eu-frankfurt-1.aaaaaaaaplaceholderecommerceproductioncluster0000000000",
                      "context": "x"}}, "is the primary cluster"),
        ({"replicas": 3}, "replicas"),
    ],
)
def test_a_wrong_recovery_setting_is_one_message_before_anything(change, expected):
    """Not the primary region, a region OCI has, in the primary's realm, a standby that is not the primary
    cluster, no unknown key: refused with the key, the value and the fix, before any resource."""
    config = copy.deepcopy(stack_file_config("production"))
    config[RECOVERY] = {**config[RECOVERY], **change}
    with pytest.raises(SettingsError) as refused:
        load_stack_settings(project_keys(config), "production")
    message = str(refused.value)
    assert "disasterRecovery" in message and expected in message
    assert "Traceback" not in message


def test_native_rotation_needs_a_virtual_private_vault_for_the_replicas_too():
    """The replicas' key rotates on the primary's schedule: native rotation needs a VIRTUAL_PRIVATE vault there too."""
    config = copy.deepcopy(stack_file_config("production"))
    config[P + "vaultType"] = "VIRTUAL_PRIVATE"
    config[P + "keyRotation"] = {"automatic": True, "intervalDays": 90, "method": "native"}
    assert load_stack_settings(project_keys(config), "production").disaster_recovery.vault_type == "VIRTUAL_PRIVATE"
    config[RECOVERY] = {**config[RECOVERY], "vaultType": "DEFAULT"}
    with pytest.raises(SettingsError, match="disasterRecovery.vaultType"):
        load_stack_settings(project_keys(config), "production")


def test_recovery_is_off_unless_a_stack_turns_it_on(stack_runs):
    """Staging and development create nothing in a second region; production replicates every secret."""
    for stack in ("staging", "development"):
        run = stack_runs[stack]
        assert len(run.of_type(VAULT)) == len(run.of_type(KEY)) == 1
        assert not any(replica_targets(s) for s in run.of_type(SECRET))
    run = stack_runs["production"]
    [replica_vault] = [v for v in run.of_type(VAULT) if v not in run.own(VAULT)]
    [replica_key] = [k for k in run.of_type(KEY) if k not in run.own(KEY)]
    assert replica_vault.provider.split("::")[-2] == replica_key.provider.split("::")[-2] == "oci-production-recovery"
    [provider] = [p for p in run.of_type("pulumi:providers:oci") if p.name == "oci-production-recovery"]
    assert provider.inputs["region"] == "eu-amsterdam-1"
    # Protected like the primary ones, an AES-256 key of the same protection mode, on the same schedule.
    assert replica_vault.protect and replica_key.protect
    [own_key] = run.own(KEY)
    for field in ("keyShape", "protectionMode", "freeformTags", "isAutoRotationEnabled"):
        assert replica_key.inputs[field] == own_key.inputs[field], field
    # Every secret, database URLs and every JWT generation alike, replicates there, read-only.
    for secret in run.of_type(SECRET):
        assert replica_targets(secret) == [{
            "targetRegion": "eu-amsterdam-1",
            "targetVaultId": f"<{replica_vault.name}-id>",
            "targetKeyId": f"<{replica_key.name}-id>",
        }], secret.name
        assert secret.plain_inputs["replicationConfig"]["isWriteForwardEnabled"] is False
        assert set(secret.property_dependencies["replicationConfig"]) == {replica_vault.urn, replica_key.urn}


def test_the_standby_cluster_syncs_the_replicas_in_the_same_namespace(stack_runs):
    """Same namespace, service account, store name and ExternalSecrets as the own cluster; the store reads the
    replicas' vault in the replica region. Production's plan is the update that turns recovery on for a stack
    deployed a year before: the generations above this update's signing one get a replica, the signing one
    and the one before never do, so the standby signs with the next one (which every primary pod accepts)
    until the next rotation (the simulated year below). (Schemas: tests/test_schemas.py validates every object
    of both.)"""
    run = stack_runs["production"]
    stores = run.of_type("kubernetes:external-secrets.io/v1:SecretStore")
    [own] = run.own("kubernetes:external-secrets.io/v1:SecretStore")
    [standby] = [s for s in stores if s is not own]
    [replica_vault] = [v for v in run.of_type(VAULT) if v not in run.own(VAULT)]
    assert standby.provider.split("::")[-2] == "kubernetes-production-standby"
    assert standby.plain_inputs["spec"]["provider"]["oracle"] == {
        **own.plain_inputs["spec"]["provider"]["oracle"], "region": "eu-amsterdam-1", "vault": f"<{replica_vault.name}-id>",
    }
    assert standby.plain_inputs["metadata"] == own.plain_inputs["metadata"]
    externals = run.of_type(EXTERNAL_SECRET)
    mine = run.own(EXTERNAL_SECRET)

    def synced(objects, keys) -> dict[str, Any]:
        return {e.inputs["metadata"]["name"]: (e.plain_inputs["metadata"]["namespace"],
                                               {**e.plain_inputs["spec"], "data": [d for d in e.plain_inputs["spec"]["data"] if d["secretKey"] in keys]})
                for e in objects}

    assert len(externals) == 2 * len(mine)
    assert synced((e for e in externals if e not in mine), {"DATABASE_URL"}) == synced(mine, {"DATABASE_URL"})
    for primary in mine:
        [standby] = [e for e in externals if e not in mine and e.inputs["metadata"]["name"] == primary.inputs["metadata"]["name"]]
        assert jwt_keys(standby) == {"JWT_SECRET": jwt_keys(primary)["JWT_SECRET_NEXT"], "JWT_SECRET_NEXT": jwt_keys(primary)["JWT_SECRET_NEXT"]}
    rotation = run.exports["jwtRotation"].value
    assert rotation["replicatedFrom"] == rotation["signing"] + 1


def test_turning_recovery_on_for_a_deployed_stack_replaces_and_deletes_nothing(without_recovery, with_recovery):
    """Production deployed without recovery (twice: the second update declares the generation after next), then
    the update that turns it on: every resource stays, nothing holding data is replaced, and the only update
    any secret gets is its replication config, without content (terraform-provider-oci vault_secret_resource.go,
    Update, sends secret_content only on HasChange): each database URL, and each JWT generation above the
    deployed next one, which no pod can have signed with. The deployed next one, the signing one and the one
    before are not updated at all (replicationConfig in their ignore_changes: the provider would re-send their
    generation context, and what OCI does with it is undocumented)."""
    first = production(without_recovery)
    before = production(without_recovery, deployed=deployed_outputs(first))
    after = production(with_recovery, deployed=deployed_outputs(before))
    assert {r.urn for r in before.registrations} <= {r.urn for r in after.registrations}
    assert lost(before, after) == set()
    deployed_next = before.exports["jwtRotation"].value["next"]
    now = {r.urn: r for r in after.of_type(SECRET)}
    above = 0
    for secret in before.of_type(SECRET):
        name = secret.inputs["secretName"]
        if ".jwt-secret" in name and generation_of(name) <= deployed_next:
            assert "replicationConfig" in now[secret.urn].ignore_changes and not changed_inputs(secret, now[secret.urn]), name
            continue
        above += ".jwt-secret" in name
        assert changed_inputs(secret, now[secret.urn]) == {"replicationConfig"} and replica_targets(now[secret.urn]), name
    assert above, "no generation above the deployed next one existed: the scenario tests nothing"


def replicas_in_oci(runs: list[ProgramRun]) -> dict[str, bool]:
    """Each JWT generation's name -> whether OCI replicates it after these updates: the update that created it
    sent a replication config (a create sends every input), or a later one sent it in an update (outside the
    generation's ignore_changes)."""
    replicated: dict[str, bool] = {}
    for run in runs:
        for s in run.of_type(SECRET):
            name = s.inputs["secretName"]
            if ".jwt-secret" in name:
                sent = name not in replicated or "replicationConfig" not in s.ignore_changes
                replicated[name] = replicated.get(name, False) or (sent and bool(replica_targets(s)))
    return replicated


def jwt_keys(external) -> dict[str, str]:
    return {d["secretKey"]: d["remoteRef"]["key"] for d in external.plain_inputs["spec"]["data"] if d["secretKey"].startswith("JWT")}


# (day, rotation interval): production deployed for months, recovery turned on on one of these days, then
# rotations every 30 days, gaps of two and five periods, an interval change.
DR_YEAR = [(0, 30), (30, 30), (61, 30), (75, 30), (76, 30), (91, 30), (150, 30), (182, 30), (335, 30), (340, 7), (347, 7), (365, 7)]


@pytest.mark.parametrize("turned_on_day", [75, 61], ids=["between-rotations", "on-a-rotation-day"])
def test_the_standby_names_only_generations_that_replicate_over_a_simulated_year(without_recovery, with_recovery, turned_on_day):
    """Each update fed the last one's outputs as the engine hands them. At every step: the standby's
    ExternalSecrets name only JWT generations that have a replica (ESO fails a whole ExternalSecret on a missing
    source); no generation pods may sign with (up to the deployed next) is ever updated; the standby always has
    a JWT_SECRET: the primary's signing one, its next one, or the one after (unpublished on the primary). The
    first generation that replicates is the one after the deployed next, so the standby signs with what the
    primary signs with from the second rotation after recovery was turned on (the first, if that update rotated
    too), and names exactly what the primary names one rotation later."""
    runs: list[ProgramRun] = []
    turned_on = None
    deployed: dict[str, Any] | None = None
    for day, interval in DR_YEAR:
        on = day >= turned_on_day
        config = with_setting(with_recovery if on else without_recovery, "secrets.jwtRotation", {"automatic": True, "intervalDays": interval})
        run = production(config, today=PINNED_TODAY + timedelta(days=day), deployed=deployed)
        if runs:
            assert updated_generations(runs[-1], run) == set(), day
        runs.append(run)
        replicated = replicas_in_oci(runs)
        [primary] = run.own(EXTERNAL_SECRET)
        standby = [e for e in run.of_type(EXTERNAL_SECRET) if e is not primary]
        if not on:
            assert not standby and "replicatedFrom" not in run.exports["jwtRotation"].value
        else:
            [standby_keys] = [jwt_keys(e) for e in standby]
            primary_keys = jwt_keys(primary)
            assert all(replicated[name] for name in standby_keys.values()), (day, standby_keys)
            signing = generation_of(primary_keys["JWT_SECRET"])
            assert generation_of(standby_keys["JWT_SECRET"]) - signing in (0, 1, 2), day
            assert {k: v for k, v in standby_keys.items() if k != "JWT_SECRET"}.items() <= primary_keys.items(), day
            if turned_on is None:
                turned_on = signing
                first_replicated = 1 + runs[-2].exports["jwtRotation"].value["next"]
                assert run.exports["jwtRotation"].value["replicatedFrom"] == first_replicated
            assert (standby_keys["JWT_SECRET"] == primary_keys["JWT_SECRET"]) == (signing >= first_replicated), day
            assert (standby_keys == primary_keys) == (signing >= first_replicated + 1), day
        deployed = as_the_engine_hands_them(run)
    [primary] = runs[-1].own(EXTERNAL_SECRET)
    [standby] = [e for e in runs[-1].of_type(EXTERNAL_SECRET) if e is not primary]
    assert jwt_keys(standby) == jwt_keys(primary) and set(jwt_keys(primary)) == {"JWT_SECRET", "JWT_SECRET_PREVIOUS", "JWT_SECRET_NEXT"}
    # The scenario is what its name says: the update that turns recovery on rotates too, or does not.
    turn_on = [d for d, _ in DR_YEAR].index(turned_on_day)
    signing = [run.exports["jwtRotation"].value["signing"] for run in runs]
    assert (signing[turn_on] > signing[turn_on - 1]) == (turned_on_day == 61)
    # ...and the standby catches up in the number of rotations the docs give (docs/disaster-recovery.md).
    assert first_replicated - signing[turn_on] == (1 if turned_on_day == 61 else 2)


def test_turning_recovery_on_gives_the_replica_key_the_primarys_current_version_at_once(without_recovery, with_recovery):
    """A stack whose key has rotated, then recovery turned on before the next due day: the new replicas' key
    gets a KeyVersion with the primary's current number in that same update (one version more than OCI's
    first, harmless: docs/disaster-recovery.md), so both keys go on rotating on one clock."""
    first = production(without_recovery, today=PINNED_TODAY)
    due = date.fromisoformat(first.exports["keyRotation"].value["nextDue"])
    rotated = production(without_recovery, today=due, deployed=deployed_outputs(first))
    [primary] = [v.name for v in rotated.of_type(KEY_VERSION)]
    turned_on = production(with_recovery, today=due, deployed=deployed_outputs(rotated))
    number = primary.rsplit("-v", 1)[1]
    assert int(number) > 0
    assert sorted(v.name.rsplit("key-", 1)[1] for v in turned_on.of_type(KEY_VERSION)) == [f"v{number}", f"v{number}"]
    assert {v.provider.split("::")[-2] for v in turned_on.of_type(KEY_VERSION)} == {"oci-production", "oci-production-recovery"}


def test_a_rotation_in_the_primary_keeps_the_replicas_current(with_recovery):
    """The new JWT generation is created with the replication config (OCI replicates it from its first version),
    and the replicas' key gets a new version on the same day, with the same number, as the primary's."""
    first = production(with_recovery, today=PINNED_TODAY)
    due = max(date.fromisoformat(first.exports[o].value["nextDue"]) for o in ("jwtRotation", "keyRotation"))
    rotated = production(with_recovery, today=due + timedelta(days=1), deployed=deployed_outputs(first))
    new = {s.urn for s in rotated.of_type(SECRET)} - {s.urn for s in first.of_type(SECRET)}
    assert new, "the rotation created no new generation: the scenario tests nothing"
    assert all(replica_targets(s) for s in rotated.of_type(SECRET) if s.urn in new)

    def versions(run: ProgramRun) -> list[str]:
        return sorted(v.name.rsplit("key-", 1)[1] for v in run.of_type(KEY_VERSION))

    number = versions(rotated)[0]
    assert versions(rotated) == [number, number] and versions(rotated) != versions(first)
    assert {v.provider.split("::")[-2] for v in rotated.of_type(KEY_VERSION)} == {"oci-production", "oci-production-recovery"}


# One valid new value for each recovery setting on a stack where it is on, or why it is not changed.
RECOVERY_CHANGES: dict[str, Any] = {
    "disasterRecovery.region": "eu-paris-1",
    "disasterRecovery.vaultType": "VIRTUAL_PRIVATE",
    "disasterRecovery.standby.clusterId": "ocid1.cluster.oc1.eu-amsterdam-1.aaaaaaaaanotherstandby",
    "disasterRecovery.standby.namespace": "ecommerce-production-standby",
    "disasterRecovery.standby.context": "another-context",
    "disasterRecovery.standby.serviceAccount": "another-sync",
}


def test_recovery_settings_that_would_replace_or_delete_data_are_exactly_the_fixed_ones(with_recovery):
    """On a stack with recovery on: the region, the replicas' vault type and the standby's cluster and namespace
    replace what holds data (or update live JWT generations), so each is a fixed setting; the others are not."""
    before = production(with_recovery)
    reaching = {key for key, value in RECOVERY_CHANGES.items() if lost(before, production(with_setting(with_recovery, key, value)))}
    assert reaching == RECOVERY_KEYS == {key for key in FIXED_SETTINGS if key.startswith("disasterRecovery.")}


def test_a_recovery_region_change_on_a_deployed_stack_is_refused_with_the_steps(with_recovery):
    """Moving the replicas is refused like any fixed setting: what it does, and how to do it on purpose."""
    before = production(with_recovery)
    with pytest.raises(SettingsError) as refused:
        production(with_setting(with_recovery, "disasterRecovery.region", "eu-paris-1"), deployed=deployed_outputs(before))
    message = str(refused.value)
    assert 'disasterRecovery.region = "eu-paris-1": was "eu-amsterdam-1"' in message
    assert "moves the replicas to another region" in message
    assert "pulumi config set --path 'allowReplacement[0]' disasterRecovery.region --stack production" in message


@pytest.mark.parametrize("key,value", [("disasterRecovery.vaultType", "VIRTUAL_PRIVATE"), ("disasterRecovery.region", "eu-paris-1")])
def test_after_moving_the_replicas_the_standby_names_no_generation_without_a_replica_there(with_recovery, key, value):
    """Invariant: the standby never names a JWT generation without a replica in the vault its store reads. Replicas
    moved on purpose (allowReplacement): the generations up to the deployed next keep replicating to the OLD
    target (replicationConfig is in their ignore_changes), those above get the new one, so `replicatedFrom` is
    counted afresh from the deployed next + 1; kept from the deployed outputs, the standby's ExternalSecret would
    name one its new vault lacks, and ESO fails the whole ExternalSecret (docs/rotation.md). (Reviewer r18.)"""
    before = production(with_recovery)
    config = with_setting(with_setting(with_recovery, key, value), "allowReplacement", [key])
    if key == "disasterRecovery.region":
        # The standby cluster lives in the replicas' region: moving them leaves it behind (the recount still shows),
        # which takes an update that lifts its protection first (components/replacement_guard.py, _STOPPING).
        allowed = ["disasterRecovery.region", "disasterRecovery.standby.clusterId"]
        before = production(with_setting(with_recovery, "allowReplacement", allowed), deployed=as_the_engine_hands_them(before))
        config = with_setting(with_setting(config, "disasterRecovery.standby", None), "allowReplacement", allowed)
    after = production(config, deployed=as_the_engine_hands_them(before))
    deployed_next = before.exports["jwtRotation"].value["next"]
    old_target = {s.inputs["secretName"] for s in before.of_type(SECRET)
                  if ".jwt-secret" in s.inputs["secretName"] and generation_of(s.inputs["secretName"]) <= deployed_next}
    [moved] = {str(replica_targets(s)) for s in after.of_type(SECRET) if s.inputs["secretName"] not in old_target}
    # (Under the mocks a replaced vault keeps its id: that the ids move is the engine's part.)
    for s in after.of_type(SECRET):
        if s.inputs["secretName"] in old_target:
            assert "replicationConfig" in s.ignore_changes, s.name
        else:
            assert "replicationConfig" not in s.ignore_changes and str(replica_targets(s)) == moved, s.name
    [primary] = after.own(EXTERNAL_SECRET)
    named = {n for e in after.of_type(EXTERNAL_SECRET) if e is not primary for n in jwt_keys(e).values()}
    assert not (named & old_target), f"the standby names generations whose replicas are in the old vault/region: {sorted(named & old_target)}"
    assert after.exports["jwtRotation"].value["replicatedFrom"] == deployed_next + 1


def test_turning_recovery_off_on_a_deployed_stack_is_refused_before_anything(with_recovery, without_recovery):
    """Invariant: turning disasterRecovery off on a deployed stack is refused before anything is registered,
    with the deliberate steps. `protect` on the replicas' vault alone is too late: the engine checks it in each
    delete step's Apply and carries on with the other steps (pulumi/pulumi pkg/resource/deploy/step.go,
    deleteProtectedError), so the unprotected standby ExternalSecrets would be deleted first, and with them
    (creationPolicy Owner) every Secret the standby holds. (Reviewer r18.)"""
    deployed = as_the_engine_hands_them(production(with_recovery))
    with pytest.raises(SettingsError) as refused:
        production(without_recovery, deployed=deployed)
    message = str(refused.value)
    assert 'disasterRecovery.region = null: was "eu-amsterdam-1"' in message
    assert "turning disasterRecovery off deletes the replicas' vault and key" in message
    assert "To keep the deployed value: put the disasterRecovery section back." in message
    assert "pulumi config set --path 'allowReplacement[0]' disasterRecovery.region --stack production" in message
    # Allowed on purpose in one update, still refused: the update would stop declaring the replicas' vault and key
    # and the standby's namespace and releases, which the state holds as protected, and the engine deletes those
    # with the flag their state holds (pulumi/pulumi pkg/resource/deploy/step.go, DeleteStep.Apply), after the
    # other steps. (Reviewer rv5.)
    allowed = ["disasterRecovery.region", "disasterRecovery.standby.clusterId"]
    with pytest.raises(SettingsError) as refused:
        production(with_setting(without_recovery, "allowReplacement", allowed), deployed=deployed)
    assert "still protected replicas and standby, which this one no longer declares" in str(refused.value)
    # In two updates, as the message says: the first lifts protect, the second stops declaring nothing protected.
    lifted = production(with_setting(with_recovery, "allowReplacement", allowed), deployed=deployed)
    off = production(with_setting(without_recovery, "allowReplacement", allowed), deployed=as_the_engine_hands_them(lifted))
    assert left_protected(lifted, off) == []


def test_the_pack_refuses_production_without_replication_where_the_authority_records_its_standby(without_recovery):
    """Invariant: the pack refuses a stack without replication whose standby cluster the guardrail authority
    (policy/config.json) records, though no secret is left to compare with another: a stack-file edit or a
    compromised CI job that drops disasterRecovery does not pass (`replicas-everywhere`). (Reviewer r18.)"""
    from offline.policy_checks import check, pack_config
    assert pack_config()["replicas-everywhere"]["environments"]["production"].get("standbyClusterId")
    found = [(rule.name, message) for rule, message in check(production(without_recovery), pack_config())]
    assert [name for name, message in found if "records a standby cluster" in message] == ["replicas-everywhere"], found


def test_replication_and_the_standby_get_exactly_their_iam(iam_runs):
    """Only a replicating environment's deployer may manage secret replication; the standby's reads all carry
    the replica region (request.region), so it reads replicas, never the primary's secrets."""
    def statements(stack: str) -> list[str]:
        return [t for p in iam_runs[stack].of_type("oci:Identity/policy:Policy") for t in p.plain_inputs["statements"]]

    assert not any("secret-replication" in t for stack in ("staging", "development") for t in statements(stack))
    [replication] = [t for t in statements("production") if "secret-replication" in t]
    assert replication.startswith("Allow group 'Default'/'ecommerce-production-deployers' to manage secret-replication in compartment id ")
    standby = [t for t in statements("production") if "productionstandby" in t]
    assert standby and all(t.startswith("Allow any-user to read ") and "request.region = 'AMS'" in t for t in standby)
    assert not any("request.region" in t for t in statements("production") if t not in standby)


def test_every_update_warns_while_the_standby_signs_with_a_generation_the_primary_does_not(without_recovery, with_recovery, caplog):
    """Tell people: from the update that turns recovery on until the primary signs with a replicated generation,
    the standby signs with another one (a failover then refuses tokens signed before it); each preview and update
    says so, with the next rotation's day. A stack replicating from its first deployment never hears it."""
    before = production(without_recovery)
    caplog.clear()
    turned_on = production(with_recovery, deployed=deployed_outputs(before))
    rotation = turned_on.exports["jwtRotation"].value
    [warning] = [r.getMessage() for r in caplog.records if "standby cluster signs" in r.getMessage()]
    assert f"not the primary's {rotation['signing']}, which has no replica" in warning
    assert f"until the primary signs with generation {rotation['replicatedFrom']}, 2 rotation(s) from now" in warning
    assert rotation["nextDue"] in warning
    caplog.clear()
    production(with_recovery)
    assert not [r for r in caplog.records if "standby cluster signs" in r.getMessage()]


def test_turning_recovery_off_is_one_problem_naming_both_steps(with_recovery, without_recovery):
    """Turning disasterRecovery off on a deployed production stack (with a standby) is reported once, under
    disasterRecovery.region, and its deliberate steps lift the protection of both the replicas and the standby
    before anything stops being declared."""
    deployed = as_the_engine_hands_them(production(with_recovery))
    with pytest.raises(SettingsError) as refused:
        production(without_recovery, deployed=deployed)
    assert refused.value.problems and len(refused.value.problems) == 1
    [message] = refused.value.problems
    assert "pulumi config set --path 'allowReplacement[0]' disasterRecovery.region --stack production; " \
           "pulumi config set --path 'allowReplacement[1]' disasterRecovery.standby.clusterId --stack production" in message
