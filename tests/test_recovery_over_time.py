"""Disaster recovery's promises walked through time and through an adversary (issue 18; reviewers rv1, rv2, rv3).

Sequences of updates through the real program under the mocks, each fed the last one's outputs as the engine
hands them (tests/test_disaster_recovery.py's harness), and registrations through the real pack over the
analyzer protocol (offline/crossguard.py). The promises (docs/disaster-recovery.md, "Turning it on for a
deployed stack"): no update sends anything to a JWT generation pods may sign with; the standby names only
generations with a replica in the vault it reads; the pack refuses what the standby would miss, and nothing
else, in whatever order the engine hands it the resources.
"""

import dataclasses
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from components.naming import DEFAULT_SERVICES
from components.settings_errors import SettingsError
from offline.crossguard import PackSession
from offline.harness import ProgramRun, Registration, placeholder_database_urls
from offline.policy_checks import rules
from offline.replacements import SECRET, VAULT, at, replace_forcing
from tests.test_disaster_recovery import EXTERNAL_SECRET, jwt_keys, production, replica_targets
# The production configs with and without disasterRecovery (one service), as pytest fixtures.
from tests.test_disaster_recovery import with_recovery, without_recovery  # noqa: F401
from tests.test_replacements import authority_for, changed_inputs, with_setting
from tests.test_rotation import as_the_engine_hands_them, generation_of

ROTATION = {"automatic": True, "intervalDays": 30}
KUBERNETES = "pulumi:providers:kubernetes"


def signed_with(run: ProgramRun) -> set[str]:
    """The JWT generations (OCI names) pods of every cluster of `run` sign with: each ExternalSecret's JWT_SECRET."""
    return {jwt_keys(e)["JWT_SECRET"] for e in run.of_type(EXTERNAL_SECRET)}


def held_by_pods(run: ProgramRun) -> set[str]:
    """The JWT generations (OCI names) pods of every cluster of `run` hold: whatever its ExternalSecrets name."""
    return {name for e in run.of_type(EXTERNAL_SECRET) for name in jwt_keys(e).values()}


def updates_sent(before: ProgramRun, after: ProgramRun) -> dict[str, set[str]]:
    """JWT generation name -> the inputs `after` sends in an update of what `before` left in the state: a changed
    input outside the generation's ignore_changes, or one depending on a resource `after` replaces (its id
    changes in the engine; under the mocks a replaced resource keeps its id, so the replace-forcing inputs of
    offline/replacements.py tell, as `lost` reads them)."""
    now = {r.urn: r for r in after.of_type(SECRET)}
    later = {r.urn: r for r in after.registrations}
    replaced = {r.urn for r in before.registrations if r.urn in later
                and any(at(r.plain_inputs, p) != at(later[r.urn].plain_inputs, p) for p in replace_forcing(r.type))}
    sent: dict[str, set[str]] = {}
    for r in before.of_type(SECRET):
        name = r.inputs["secretName"]
        if ".jwt-secret" not in name or r.urn not in now:
            continue
        dependent = {k for k, urns in now[r.urn].property_dependencies.items() if replaced & set(urns) and k not in now[r.urn].ignore_changes}
        changed = changed_inputs(r, now[r.urn]) | dependent
        if changed:
            sent[name] = changed
    return sent


def handed_to_the_pack(before: ProgramRun, after: ProgramRun) -> list[Registration]:
    """`after`'s registrations with each ignore_changes input reset to `before`'s value, or dropped where `before`
    had none (pulumi/pulumi pkg/resource/deploy/step_generator.go, processIgnoreChanges; properties_path.go,
    Reset). A stack rule gets outputs, which for an input never sent are what OCI still holds: the same values."""
    old = {r.urn: r for r in before.registrations}

    def handed(r: Registration) -> Registration:
        if r.urn not in old or not r.ignore_changes:
            return r
        inputs = {k: v for k, v in r.inputs.items() if k not in r.ignore_changes}
        inputs |= {k: old[r.urn].inputs[k] for k in r.ignore_changes if k in old[r.urn].inputs}
        return dataclasses.replace(r, inputs=inputs)

    return [handed(r) for r in after.registrations]


@pytest.fixture
def pack_for() -> Iterator[Any]:
    """Launches the pack as the CLI does, configured with the guardrail authority the stack's config calls for."""
    sessions: list[PackSession] = []

    def launch(run: ProgramRun, config: dict[str, Any], authority: str | None = None) -> PackSession:
        session = PackSession(run, database_urls=placeholder_database_urls(DEFAULT_SERVICES))
        sessions.append(session)
        session.configure(authority or authority_for(config, "production").read_text())
        return session

    yield launch
    for session in sessions:
        session.close()


def refusals(pack: PackSession, registrations: list[Registration], policy: str | None = "replicas-everywhere") -> list[str]:
    """The mandatory verdicts of `policy` (of every policy: None)."""
    return sorted(d.message for d in pack.analyze(registrations) if policy in (None, d.policy) and d.level == "mandatory")


@pytest.mark.parametrize("held", [{"automatic": False}, {"automatic": True, "intervalDays": 90}], ids=["switched-off", "interval-lengthened"])
def test_a_failed_rotation_then_recovery_turned_on_updates_no_generation_pods_may_sign_with(without_recovery, with_recovery, held):
    """Sequence: production deployed without recovery (signs S); on the due day an update rotates (its primary
    ExternalSecret reaches the cluster, pods sign with S+1) but fails before its outputs are recorded (the engine
    keeps the old ones: tests/test_rotation.py, test_an_update_that_failed_to_deliver_a_rotation_does_not_advance_the_clock);
    the same day the next update turns recovery on with rotation switched off or its interval lengthened, so it
    does not rotate and signing is S again. S+1 must get no update: recovery's first replicated generation is the
    one after the deployed next (components/rotation.py, jwt_rotation). (Reviewer rv1.)"""
    deployed = production(with_setting(without_recovery, "secrets.jwtRotation", ROTATION))
    due = date.fromisoformat(deployed.exports["jwtRotation"].value["nextDue"])
    failed = production(with_setting(without_recovery, "secrets.jwtRotation", ROTATION), today=due,
                        deployed=as_the_engine_hands_them(deployed))
    assert failed.exports["jwtRotation"].value["signing"] == deployed.exports["jwtRotation"].value["signing"] + 1
    turned_on = production(with_setting(with_recovery, "secrets.jwtRotation", held), today=due,
                           deployed=as_the_engine_hands_them(deployed))
    touched = {name: inputs for name, inputs in updates_sent(failed, turned_on).items() if name in signed_with(failed)}
    assert touched == {}, f"generations pods signed with in the failed update get an update: {touched}"


# Changes of the replicas' target a stack may make on purpose (allowReplacement), and the setting each one names.
TARGET_CHANGES = {
    "moved": ("disasterRecovery.vaultType", lambda config: with_setting(config, "disasterRecovery.vaultType", "VIRTUAL_PRIVATE")),
    "turned off": ("disasterRecovery.region", lambda config: {k: v for k, v in config.items() if k != "ecommerce-kms-vault:disasterRecovery"}),
}


@pytest.mark.parametrize("change", TARGET_CHANGES, ids=list(TARGET_CHANGES))
@pytest.mark.parametrize("start", ["turned on later", "moved once"])
def test_the_replicas_target_waits_while_the_standby_signs_with_an_unpublished_generation(without_recovery, with_recovery, start, change):
    """Sequence: the standby comes to sign with a generation the primary has not published (recovery turned on for
    a deployed stack between two rotations, or the replicas of a stack replicating from the start moved once); then,
    before the next rotation, the replicas' target changes again, on purpose. The recount would start at that very
    generation and send it a new replication config (an update of a generation the standby may have signed with
    during a failover; turned off and on again, one nothing records): refused before anything, naming the setting
    and when it can be done. After the next rotation the same change goes through and sends nothing to a generation
    any pod holds. (Reviewer rv1: moved before the first rotation, moved twice, turned off and on again.)"""
    key, changed = TARGET_CHANGES[change]
    config = lambda base: with_setting(base, "secrets.jwtRotation", ROTATION)  # noqa: E731
    if start == "turned on later":
        first = production(config(without_recovery))
        first = production(config(without_recovery), deployed=as_the_engine_hands_them(first))
        catching_up = production(config(with_recovery), deployed=as_the_engine_hands_them(first))
    else:
        first = production(config(with_recovery))
        vault_type = "disasterRecovery.vaultType"
        moved = with_setting(with_setting(config(with_recovery), vault_type, "VIRTUAL_PRIVATE"), "allowReplacement", [vault_type])
        catching_up = production(moved, deployed=as_the_engine_hands_them(first))
        changed = (lambda c: with_setting(c, vault_type, "DEFAULT")) if change == "moved" else changed
    rotation = catching_up.exports["jwtRotation"].value
    assert rotation["replicatedFrom"] > rotation["next"], "the standby signs with a published generation: the scenario tests nothing"
    again = with_setting(changed(catching_up.config), "allowReplacement", [key])
    with pytest.raises(SettingsError) as refused:
        production(again, deployed=as_the_engine_hands_them(catching_up))
    message = str(refused.value)
    assert f"ecommerce-kms-vault:{key} = " in message and f"still signs with JWT generation {rotation['replicatedFrom']}" in message
    assert f"Keep {key} until the JWT rotation due {rotation['nextDue']} has run" in message
    # The rotation's update also lifts what turning recovery off stops declaring (replacement_guard._STOPPING).
    lift = ["disasterRecovery.region", "disasterRecovery.standby.clusterId"] if change == "turned off" else []
    if lift:
        again = with_setting(again, "allowReplacement", lift)
    rotated = production(with_setting(catching_up.config, "allowReplacement", lift), today=date.fromisoformat(rotation["nextDue"]),
                         deployed=as_the_engine_hands_them(catching_up))
    assert rotated.exports["jwtRotation"].value["signing"] == rotation["signing"] + 1
    after = production(again, today=date.fromisoformat(rotation["nextDue"]), deployed=as_the_engine_hands_them(rotated))
    touched = {name: inputs for name, inputs in updates_sent(rotated, after).items() if name in held_by_pods(rotated)}
    assert touched == {}, f"generations pods hold get an update: {touched}"


def test_the_pack_passes_the_updates_after_recovery_is_turned_off_on_purpose(with_recovery, without_recovery, pack_for):
    """Sequence: production replicating from its first deployment; recovery turned off on purpose (allowReplacement,
    and the authority's owners removing standbyClusterId in a reviewed commit). The generations pods may sign with
    keep their replication config (in their ignore_changes), the database URLs and new generations have none: the
    stack replicates no more, and the pack must not take a leftover target for the stack's and refuse every update
    until those generations are rotated out (which only updates it refuses could do). (Reviewer rv1.)"""
    import json

    allowed = ["disasterRecovery.region", "disasterRecovery.standby.clusterId"]
    first = production(with_setting(with_recovery, "allowReplacement", allowed),
                       deployed=as_the_engine_hands_them(production(with_recovery)))
    off = production(with_setting(without_recovery, "allowReplacement", allowed), deployed=as_the_engine_hands_them(first))
    authority = json.loads(authority_for(with_recovery, "production").read_text())
    for entry in authority.values():
        entry["environments"]["production"].pop("standbyClusterId", None)
    handed = handed_to_the_pack(first, off)
    assert any(replica_targets(r) for r in handed if r.type == SECRET), "no leftover replication config: the scenario tests nothing"
    assert refusals(pack_for(off, off.config, json.dumps(authority)), handed) == []


def test_the_pack_refuses_a_secret_the_standby_syncs_without_its_replica(with_recovery, pack_for):
    """Sequence: production replicating from its first deployment; a compromised CI job declares the generation the
    standby signs with without its replication config (OCI deletes a replica when its source stops replicating).
    At a failover ESO would fail that whole ExternalSecret, DATABASE_URL with it. Refused, naming the secret.
    (Reviewer rv1: a fixed number of exempt generations let it through.)"""
    run = production(with_recovery)
    [primary] = run.own(EXTERNAL_SECRET)
    [standby] = [e for e in run.of_type(EXTERNAL_SECRET) if e is not primary]
    signing = jwt_keys(standby)["JWT_SECRET"]
    crafted = [dataclasses.replace(r, inputs={k: v for k, v in r.inputs.items() if k != "replicationConfig"})
               if r.type == SECRET and r.inputs["secretName"] == signing else r for r in run.registrations]
    pack = pack_for(run, with_recovery)
    assert refusals(pack, run.registrations) == []
    assert [m for m in refusals(pack, crafted) if f"({signing})" in m and "every secret the standby cluster syncs" in m]


def legitimate(run: ProgramRun) -> list[Registration]:
    """`run` (recovery turned on for a stack deployed with generation 3 signing, on a rotation day) as the engine
    hands it to the pack: the generations below `replicatedFrom` keep their old inputs, without replicationConfig
    (never sent)."""
    first = int(run.exports["jwtRotation"].value["replicatedFrom"])
    return [dataclasses.replace(r, inputs={k: v for k, v in r.inputs.items() if k != "replicationConfig"})
            if r.type == SECRET and ".jwt-secret" in r.inputs["secretName"] and generation_of(r.inputs["secretName"]) < first
            else r for r in run.registrations]


def standby_external_secrets(run: ProgramRun) -> list[Registration]:
    return [e for e in run.of_type(EXTERNAL_SECRET) if e not in run.own(EXTERNAL_SECRET)]


def unreplicated(run: ProgramRun) -> str:
    """The OCI name of the generation the primary signs with, which (legitimately) has no replica."""
    name = jwt_keys(run.own(EXTERNAL_SECRET)[0])["JWT_SECRET"]
    assert generation_of(name) < int(run.exports["jwtRotation"].value["replicatedFrom"])
    return name


def with_spec(r: Registration, change: Callable[[dict[str, Any]], dict[str, Any]]) -> Registration:
    return dataclasses.replace(r, inputs={**r.inputs, "spec": change(dict(r.inputs["spec"]))})


def renaming_keys(rename: Callable[[str, str], str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """An ExternalSecret spec whose each remoteRef.key is rename(secretKey, key)."""
    return lambda spec: {**spec, "data": [{**d, "remoteRef": {**d["remoteRef"], "key": rename(d["secretKey"], d["remoteRef"]["key"])}}
                                          for d in spec["data"]]}


@pytest.fixture
def legit(stack_runs, pack_for) -> tuple[ProgramRun, list[Registration], PackSession]:
    """Production's real update as the engine hands it, the pack launched for it, and the proof it passes."""
    run = stack_runs["production"]
    handed = legitimate(run)
    pack = pack_for(run, run.config)
    assert refusals(pack, handed, None) == [], "the legitimate update is refused: the scenarios test nothing"
    return run, handed, pack


def test_the_standby_naming_a_generation_without_a_replica_is_refused(legit):
    """A compromised CI job (or a changed program) on the update that turns recovery on: the signing generation has no
    replica (legitimately: pods signed with it before), and the standby's ExternalSecret is registered naming it as
    JWT_SECRET. At a failover ESO finds no such secret in the replicas' vault and fails the whole ExternalSecret:
    the standby's services would start without DATABASE_URL either. (Reviewer rv2.)"""
    run, handed, pack = legit
    primary = run.own(EXTERNAL_SECRET)[0]
    standby = next(e for e in standby_external_secrets(run) if e.inputs["metadata"]["name"] == primary.inputs["metadata"]["name"])
    bad = unreplicated(run)
    attacked = [with_spec(r, renaming_keys(lambda secret_key, k: bad if secret_key == "JWT_SECRET" else k))
                if r is standby else r for r in handed]
    assert any(f"({bad})" in m for m in refusals(pack, attacked, None))


def test_the_pack_refuses_a_standby_store_that_reads_another_vault_than_the_replicas(legit):
    """A compromised job points the standby cluster's SecretStore at the primary's vault (in the primary region: its
    own stack's vault, so no isolation rule minds). Every secret still replicates to the replicas' vault, which
    nothing on the standby reads: at a failover the primary region is down and the standby syncs nothing. The
    store's spec.provider.oracle vault and region must be the replicas' targetVaultId and targetRegion.
    (Reviewer rv3, MUST.)"""
    run, handed, pack = legit
    [primary_vault] = run.own(VAULT)
    standby_stores = {s.urn for s in run.of_type(rules.SECRET_STORE) if s not in run.own(rules.SECRET_STORE)}
    assert standby_stores

    def primary(r: Registration) -> Registration:
        oracle = {**r.inputs["spec"]["provider"]["oracle"], "vault": f"<{primary_vault.name}-id>", "region": "eu-frankfurt-1"}
        moved = with_spec(r, lambda spec: {**spec, "provider": {"oracle": oracle}})
        return dataclasses.replace(moved, property_dependencies={**r.property_dependencies, "spec": (primary_vault.urn,)})

    attacked = [primary(r) if r.urn in standby_stores else r for r in handed]
    assert refusals(pack, attacked, None), "the standby reads the primary region's vault, and the pack passes it"


def test_the_pack_refuses_replicas_in_a_vault_the_standby_does_not_read(legit):
    """A compromised job gives every secret a replication target whose vault is a literal OCID (another vault of the
    tenancy, one its owner can read), keeping a dependency on the replicas' vault so that
    `secrets-own-vault-and-key` (which checks the property's dependencies) sees the stack's own replica vault.
    Every production secret would be copied outside the stack, and the standby would have nothing at a failover:
    the targets are compared, as values, with the vault the standby's store reads. (Reviewer rv3, MUST.)"""
    run, handed, pack = legit
    elsewhere = "ocid1.vault.oc1.eu-amsterdam-1.aaaaaaaaanothervaultofthetenancy000000000000000000000000"

    def exfiltrating(r: Registration) -> Registration:
        config = r.inputs.get("replicationConfig")
        if not config:
            return r
        targets = [{**t, "targetVaultId": elsewhere} for t in config["replicationTargets"]]
        return dataclasses.replace(r, inputs={**r.inputs, "replicationConfig": {**config, "replicationTargets": targets}})

    attacked = [exfiltrating(r) if r.type == SECRET else r for r in handed]
    assert refusals(pack, attacked, None), "every secret replicates to a vault the standby does not read, and the pack passes it"


def test_the_pack_refuses_database_urls_renamed_out_of_its_sight(legit):
    """A compromised job names the database URLs otherwise (auth-service.databaseurl: a replacement, filled from the
    same config) and drops their replication config, the ExternalSecrets following the new names. The pack knew
    them by '.database-url' in their name; it now requires every secret OCI does not generate (enableAutoGeneration
    not true), whatever its name, to replicate. At a failover no service would have DATABASE_URL.
    (Reviewer rv3, MUST.)"""
    run, handed, pack = legit
    renamed = lambda name: name.replace(".database-url", ".databaseurl")  # noqa: E731

    def attacked_one(r: Registration) -> Registration:
        if r.type == SECRET and ".database-url" in r.inputs["secretName"]:
            inputs = {k: v for k, v in r.inputs.items() if k != "replicationConfig"}
            return dataclasses.replace(r, inputs={**inputs, "secretName": renamed(r.inputs["secretName"])})
        if r.type == EXTERNAL_SECRET:
            return with_spec(r, renaming_keys(lambda _, key: renamed(key)))
        return r

    attacked = [attacked_one(r) for r in handed]
    assert refusals(pack, attacked, None), "no database URL replicates and the standby syncs them, and the pack passes it"


@pytest.mark.parametrize("spelled", ["upper-case V", "generation 0 as .v0", "does not exist"])
def test_the_pack_refuses_a_standby_key_that_names_no_replicated_secret_of_the_stack(legit, spelled):
    """A standby ExternalSecret naming a key that is no secret of the stack (auth-service.jwt-secret.V5; .v0 for
    generation 0, whose OCI name has no suffix; a generation the stack does not declare): OCI finds no such secret
    in the replicas' vault (ESO's oracle provider passes remoteRef.key to GetSecretBundleByName as the name) and ESO
    fails the whole ExternalSecret, DATABASE_URL with it. Refused, naming the key. (Reviewer rv3, SHOULD.)"""
    run, handed, pack = legit
    signing = jwt_keys(standby_external_secrets(run)[0])["JWT_SECRET"]
    key = {"upper-case V": signing.replace(".v", ".V"), "generation 0 as .v0": "auth-service.jwt-secret.v0",
           "does not exist": "auth-service.jwt-secret.v99"}[spelled]
    standby = {e.urn for e in standby_external_secrets(run)}
    attacked = [with_spec(r, renaming_keys(lambda secret_key, k: key if secret_key == "JWT_SECRET" else k))
                if r.urn in standby else r for r in handed]
    assert any(key in m for m in refusals(pack, attacked, None)), f"the standby signs with {key}, which OCI does not hold there"


def test_the_pack_refuses_a_standby_provider_that_claims_the_primary_cluster(legit):
    """A compromised job gives the standby cluster's Kubernetes provider the primary's clusterIdentifier (its
    kubeconfig context still reaches the standby cluster): `neighbours-refused` sees the environment's own cluster.
    Two configurations claiming one cluster are refused (`one-provider-per-cluster`), and `replicas-everywhere`,
    which can then trust neither claim, checks every ExternalSecret: the standby's naming a generation without a
    replica is refused. (Reviewer rv3, SHOULD.)"""
    run, handed, pack = legit
    [primary_provider] = [p for p in run.of_type(KUBERNETES) if not p.name.endswith("-standby")]
    claimed = primary_provider.inputs["clusterIdentifier"]
    standby = {e.urn for e in standby_external_secrets(run)}
    bad = unreplicated(run)

    def attacked_one(r: Registration) -> Registration:
        if r.type == KUBERNETES and r.name.endswith("-standby"):
            return dataclasses.replace(r, inputs={**r.inputs, "clusterIdentifier": claimed})
        if r.urn in standby:
            return with_spec(r, renaming_keys(lambda secret_key, k: bad if secret_key == "JWT_SECRET" else k))
        return r

    found = refusals(pack, [attacked_one(r) for r in handed], None)
    assert any(f"({bad})" in m for m in found) and any(f"cluster {claimed}: 2 different" in m for m in found), found


def test_an_update_after_moving_the_replicas_on_purpose_passes_in_any_order(with_recovery, pack_for):
    """Replicas moved on purpose (allowReplacement: [disasterRecovery.region]) on a stack replicating from its first
    deployment: the generations pods may sign with keep their old target (replicationConfig in their ignore_changes),
    every other secret gets the new one (the standby cluster, left in the old region, is dropped). The engine builds
    AnalyzeStack's resources by ranging over a sync.Map (step_generator.go, AnalyzeResources), so the order is
    unspecified: the verdict must not depend on which secret comes first. (Reviewer rv2.)"""
    # The standby, left in the old region, is dropped: an update lifting its protection comes first.
    allowed = ["disasterRecovery.region", "disasterRecovery.standby.clusterId"]
    before = production(with_setting(with_recovery, "allowReplacement", allowed), deployed=as_the_engine_hands_them(production(with_recovery)))
    config = with_setting(with_setting(with_recovery, "disasterRecovery.region", "eu-paris-1"), "allowReplacement", allowed)
    config = with_setting(config, "disasterRecovery.standby", None)
    after = production(config, deployed=as_the_engine_hands_them(before))
    handed = handed_to_the_pack(before, after)
    secrets = [r for r in handed if r.type == SECRET]
    old_target = [r for r in secrets if replica_targets(r) and replica_targets(r)[0]["targetRegion"] == "eu-amsterdam-1"]
    assert old_target and len(old_target) < len(secrets), "no secret kept its old target: the scenario tests nothing"
    pack = pack_for(after, config)
    assert refusals(pack, handed) == []
    assert refusals(pack, old_target + [r for r in handed if r not in old_target]) == []


def test_a_replica_move_retried_after_it_failed_reaches_no_generation_the_primary_may_sign_with(with_recovery):
    """Sequence: production replicating from its first deployment, rotated once. The replicas are moved on purpose
    (allowReplacement: [disasterRecovery.vaultType]); the update replaces the replicas' vault, gives the generation
    after next the new target, then fails before its outputs are recorded, so they still say nothing moved. The
    operator runs it again, as the deliberate steps say: the move is still a change against the recorded outputs,
    so the standby counts afresh, and nothing up to the deployed next is sent anything
    (JwtGenerations.sends_replication), though the vault replaced again changes every generation's replication
    config. Putting the old value back instead would send nothing to those generations either. (Reviewer rv3.)"""
    config = with_setting(with_recovery, "secrets.jwtRotation", ROTATION)
    first = production(config)
    first = production(config, deployed=as_the_engine_hands_them(first))
    due = date.fromisoformat(first.exports["jwtRotation"].value["nextDue"])
    rotated = production(config, today=due, deployed=as_the_engine_hands_them(first))
    key = "disasterRecovery.vaultType"
    move = with_setting(with_setting(config, key, "VIRTUAL_PRIVATE"), "allowReplacement", [key])
    failed = production(move, today=due, deployed=as_the_engine_hands_them(rotated))
    deployed_next = rotated.exports["jwtRotation"].value["next"]
    retried = production(move, today=due, deployed=as_the_engine_hands_them(rotated))
    assert retried.exports["jwtRotation"].value["replicatedFrom"] == deployed_next + 1
    put_back = production(with_setting(config, "allowReplacement", [key]), today=due, deployed=as_the_engine_hands_them(rotated))
    assert updates_sent(failed, put_back), "putting the value back sent nothing: the scenario tests nothing"
    for again in (retried, put_back):
        touched = {name for name in updates_sent(failed, again) if generation_of(name) <= deployed_next}
        assert touched == set(), f"generations the primary's pods may sign with get an update: {touched}"


def test_a_leftover_allowance_does_not_keep_resetting_the_standby(with_recovery):
    """Sequence: production replicating from its first deployment (the standby signs with what the primary signs
    with), then updates on rotation days whose stack file still lists allowReplacement: [disasterRecovery.vaultType]
    with the vault type unchanged (step (5) of the deliberate steps forgotten). Nothing moved: the standby keeps
    signing with the primary's generation, rotation after rotation. (Reviewer rv4.)"""
    config = with_setting(with_recovery, "secrets.jwtRotation", ROTATION)
    run = production(config)
    run = production(config, deployed=as_the_engine_hands_them(run))
    stray = with_setting(config, "allowReplacement", ["disasterRecovery.vaultType"])
    for _ in range(3):
        due = date.fromisoformat(run.exports["jwtRotation"].value["nextDue"])
        run = production(stray, today=due, deployed=as_the_engine_hands_them(run))
        assert signed_with(run) == {jwt_keys(run.own(EXTERNAL_SECRET)[0])["JWT_SECRET"]}, signed_with(run)


def test_the_wait_for_the_standby_says_how_to_rotate_when_rotation_is_off(without_recovery, with_recovery):
    """Sequence: production with JWT rotation switched off, recovery turned on (the standby signs with an unpublished
    generation until a rotation, which never comes by itself), then the replicas moved on purpose: refused, and the
    message names the setting that makes a rotation happen (secrets.jwtRotation.automatic), not intervalDays alone,
    which does nothing while rotation is off. (Reviewer rv3.)"""
    off = {"automatic": False}
    deployed = production(with_setting(without_recovery, "secrets.jwtRotation", off))
    deployed = production(with_setting(without_recovery, "secrets.jwtRotation", off), deployed=as_the_engine_hands_them(deployed))
    turned_on = production(with_setting(with_recovery, "secrets.jwtRotation", off), deployed=as_the_engine_hands_them(deployed))
    rotation = turned_on.exports["jwtRotation"].value
    assert rotation["replicatedFrom"] > rotation["next"], "the standby signs with a published generation: the scenario tests nothing"
    key = "disasterRecovery.vaultType"
    moved = with_setting(with_setting(turned_on.config, key, "VIRTUAL_PRIVATE"), "allowReplacement", [key])
    with pytest.raises(SettingsError) as refused:
        production(moved, deployed=as_the_engine_hands_them(turned_on))
    message = str(refused.value)
    assert "still signs with JWT generation" in message
    assert "pulumi config set --path 'secrets.jwtRotation.automatic' true --stack production" in message
