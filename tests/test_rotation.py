"""Rotation reaches the running services without an outage, whatever the calendar does.

- Every service's Secret names three JWT generations: JWT_SECRET signs, JWT_SECRET_PREVIOUS (once one
  exists) and JWT_SECRET_NEXT are accepted. A rotation promotes next to signing; so for any two
  consecutive deployments A and B, B's signing generation is accepted by A's pods and A's by B's.
- The clock is held in state: each update reads what the last one exported (through the stack's own
  StackReference, which hands numbers back as doubles) and rotates one step once `intervalDays` have
  passed since the signing generation took over. No gap, interval change or switch makes it refuse,
  skip a generation, or change an existing one.
- ESO fails a whole ExternalSecret when one source is missing (external-secrets
  pkg/controllers/externalsecret), so every remote key must be a secret the stack declares.
- An update that failed leaves the clock where the last update that delivered its rotation left it:
  the engine keeps the outputs a failed update registered (pulumi/pulumi step_executor.go,
  executeRegisterResourceOutputs), so the rotation outputs resolve only once everything delivering the
  rotation exists. A generation such an update created is never deleted by a later one, since OCI keeps
  a deleted secret's name taken while its deletion is pending.
- Reloader comes with the operator, watches only the environments' namespaces, and restarts the pods
  whose Secret changed: the synced Secrets carry "match", each Deployment needs "search".
"""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import massage

from components.naming import NEXT_JWT_ENV_VAR, PREVIOUS_JWT_ENV_VAR, PROJECT
from components.notifications import EVENT_TYPES
from offline import harness
from offline.harness import ProgramRun, Registration, run_program, stack_file_config
from offline.rotation_status import GRACE_DAYS, overdue
from tests.conftest import PINNED_TODAY

P = f"{PROJECT}:"
SECRET = "oci:Vault/secret:Secret"
KEY_VERSION = "oci:Kms/keyVersion:KeyVersion"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
RELEASE = "kubernetes:helm.sh/v3:Release"
DAY0 = date(2026, 12, 1)


def one_service(
    stack: str, today: date, deployed: object = None, preview: bool = False, config: dict[str, Any] | None = None
) -> ProgramRun:
    settings = stack_file_config(stack) | {P + "services": ["auth-service"]} | {P + k: v for k, v in (config or {}).items()}
    return run_program(stack, settings, {"auth-service": "<url>"}, today=today, deployed=deployed, preview=preview)


def as_the_engine_hands_them(run: ProgramRun) -> dict[str, Any]:
    """A run's exports as the next update's StackReference reads them: through a protobuf Struct,
    where every number is a double (the mock StackReference serializes once more the same way)."""
    struct = struct_pb2.Struct()
    struct.update({name: export.value for name, export in run.exports.items()})
    return json_format.MessageToDict(struct)


def generation_of(secret_name: str) -> int:
    """`auth-service.jwt-secret` is generation 0, `auth-service.jwt-secret.v3` generation 3."""
    return int(secret_name.rsplit(".v", 1)[1]) if ".v" in secret_name else 0


@dataclass(frozen=True)
class Delivered:
    """What a run's ExternalSecret puts in the service's pods: each JWT key's generation."""

    keys: dict[str, int]

    @classmethod
    def of(cls, run: ProgramRun) -> "Delivered":
        [external] = run.own(EXTERNAL_SECRET)
        data = {d["secretKey"]: d["remoteRef"]["key"] for d in external.inputs["spec"]["data"]}
        declared = {s.inputs["secretName"] for s in run.of_type(SECRET)}
        assert set(data.values()) <= declared, "an ExternalSecret names a secret the stack does not declare"
        return cls({key: generation_of(name) for key, name in data.items() if key.startswith("JWT_SECRET")})

    @property
    def signing(self) -> int:
        return self.keys["JWT_SECRET"]

    @property
    def accepted(self) -> set[int]:
        return set(self.keys.values())


def jwt_secrets(run: ProgramRun) -> dict[str, Registration]:
    return {s.urn: s for s in run.of_type(SECRET) if ".jwt-secret" in s.inputs["secretName"]}


def key_version(run: ProgramRun) -> int:
    names = [v.name for v in run.own(KEY_VERSION)]
    assert len(names) <= 1 and all(v.retain_on_delete and not v.protect for v in run.own(KEY_VERSION))
    return int(names[0].rsplit("-v", 1)[1]) if names else 0


def jwt_rotation(**fields: object) -> dict[str, object]:
    return {"secrets": {"jwtRotation": fields}}


# (days since DAY0, stack-file changes from then on, JWT rotates?, key rotates?). Production's preset:
# JWT every 30 days, key every 90. Gaps of one, two and five periods; the intervals shortened and
# lengthened; JWT rotation switched off for longer than a period and on again; key rotation too.
YEAR: list[tuple[int, dict[str, Any], bool, bool]] = [
    (0, {}, False, False),  # first deployment: no anchor, nothing due
    (12, {}, False, False),
    (30, {}, True, False),  # one period later: due on the day
    (90, {}, True, True),  # two periods later: one step only; the key's first rotation
    (91, {}, False, False),
    (241, {}, True, True),  # five periods later: one step each
    (250, jwt_rotation(automatic=True, intervalDays=90), False, False),  # longer: due moves out
    (262, jwt_rotation(automatic=True, intervalDays=7), True, False),  # shorter: due at once, one step
    (263, jwt_rotation(automatic=True, intervalDays=7), False, False),
    (300, jwt_rotation(automatic=False), False, False),  # off: nothing moves, nothing is retired
    (420, jwt_rotation(automatic=False) | {"keyRotation": {"automatic": False}}, False, False),
    (421, {}, True, True),  # on again: long due, one step each
    (422, {"keyRotation": {"automatic": True, "intervalDays": 30}}, False, False),
    (451, {"keyRotation": {"automatic": True, "intervalDays": 30}}, True, True),
]


def test_a_simulated_year_never_refuses_never_skips_and_never_touches_a_live_generation():
    """Each run is a preview and an update on the same pinned day, fed the last update's outputs as the
    engine hands them. At every step: nothing refused; preview and update agree; the new signing
    generation is accepted by the pods of the deployment before and the old one by the new pods; at
    most one rotation; a rotation exactly when due; no generation that stays changes an input; only
    the generation before the previous one is retired."""
    deployed: dict[str, Any] | None = None
    before: ProgramRun | None = None
    for days, config, jwt_rotates, key_rotates in YEAR:
        today = DAY0 + timedelta(days=days)
        preview = one_service("production", today, deployed, preview=True, config=config)
        run = one_service("production", today, deployed, config=config)
        now = Delivered.of(run)
        assert Delivered.of(preview) == now, today
        if before is None:
            assert now.keys == {"JWT_SECRET": 0, NEXT_JWT_ENV_VAR: 1}
            assert key_version(run) == 0
        else:
            was = Delivered.of(before)
            assert now.signing in was.accepted and was.signing in now.accepted, today
            assert now.signing - was.signing == int(jwt_rotates), today
            assert key_version(run) - key_version(before) == int(key_rotates), today
            assert now.keys[NEXT_JWT_ENV_VAR] == now.signing + 1
            assert now.keys.get(PREVIOUS_JWT_ENV_VAR) == (now.signing - 1 if now.signing else None)
            old, new = jwt_secrets(before), jwt_secrets(run)
            for urn in old.keys() & new.keys():
                assert new[urn].inputs == old[urn].inputs, (today, urn)
            retired = {generation_of(old[urn].inputs["secretName"]) for urn in old.keys() - new.keys()}
            assert retired == ({was.signing - 1} if jwt_rotates and was.signing else set()), today
        exported = run.exports["jwtRotation"]
        # Read by the scheduled workflow with `pulumi stack output --json`, which shows secrets as "[secret]".
        assert not exported.secret and not run.exports["keyRotation"].secret
        assert (exported.value["signing"], exported.value["next"]) == (now.signing, now.signing + 1)
        deployed, before = as_the_engine_hands_them(run), run
    assert Delivered.of(before).signing == sum(rotates for _, _, rotates, _ in YEAR)


def test_a_stack_deployed_by_the_previous_version_publishes_next_a_full_interval_before_it_rotates():
    """Outputs of the anchor-and-period program (generation 2 signing beside 1, key version 1, no `since`):
    the first update keeps v2 signing and publishes v3, even on a due day, because the running pods do not
    accept v3 yet; the key, which has no such constraint, rotates; the generations keep their resources,
    and what they lose (the schedule tags) is ignored by the engine rather than sent as an update. The JWT
    clock starts the day v3 is published: a second update the same day (a second push to main, while
    Reloader still rolls the first change out) does not promote v3; the update a full interval later does."""
    due = DAY0 + timedelta(days=60)  # the old program's nextDue for generation 2 of 30 days
    old_outputs = {
        "jwtRotation": {"method": "newSecret", "intervalDays": 30.0, "period": 2.0, "nextDue": (due + timedelta(days=30)).isoformat()},
        "keyRotation": {"method": "keyVersion", "intervalDays": 90.0, "period": 1.0, "nextDue": (DAY0 + timedelta(days=90)).isoformat()},
    }
    today = due + timedelta(days=40)  # past the old nextDue of both schedules
    first = one_service("production", today, old_outputs)
    assert Delivered.of(first).keys == {"JWT_SECRET": 2, PREVIOUS_JWT_ENV_VAR: 1, NEXT_JWT_ENV_VAR: 3}
    assert first.exports["jwtRotation"].value["since"] == today.isoformat()
    assert [v.name for v in first.own(KEY_VERSION)] == ["ecommerce-production-key-v2"]
    names = {s.name for s in jwt_secrets(first).values()}
    assert {"ecommerce-production-auth-service-jwt-secret-v1", "ecommerce-production-auth-service-jwt-secret-v2"} <= names
    for secret in jwt_secrets(first).values():
        assert {"freeformTags", "secretGenerationContext", "secretRules"} <= set(secret.ignore_changes)
        assert not {"rotation-anchor", "rotation-interval-days", "rotation-method"} & set(secret.inputs["freeformTags"])
    same_day = one_service("production", today, as_the_engine_hands_them(first))
    assert Delivered.of(same_day) == Delivered.of(first)
    later = one_service("production", today + timedelta(days=30), as_the_engine_hands_them(same_day))
    assert Delivered.of(later).keys == {"JWT_SECRET": 3, PREVIOUS_JWT_ENV_VAR: 2, NEXT_JWT_ENV_VAR: 4}


def recorded_after_a_failed_update(monkeypatch: pytest.MonkeyPatch, failing_type: str, today: date, deployed: dict[str, Any]) -> dict[str, Any]:
    """Run the program with every registration of `failing_type` failing (as the engine reports a failed
    step); return the stack outputs the engine then keeps: the old ones with whatever outputs the program
    registered merged over them (pulumi/pulumi step_executor.go, executeRegisterResourceOutputs)."""
    registered: list[dict[str, Any]] = []
    real_new, real_run_path = harness.PlaceholderMocks.new_resource, harness.runpy.run_path

    def new_resource(self, args):  # type: ignore[no-untyped-def]
        if args.typ == failing_type:
            raise RuntimeError(f"{args.name}: the cluster could not be reached")
        return real_new(self, args)

    def register_outputs(self, request):  # type: ignore[no-untyped-def]
        if request.urn.split("::")[-2] == "pulumi:pulumi:Stack":
            registered.append(rpc.deserialize_properties(request.outputs))
        return harness.mocks.empty_pb2.Empty()

    def run_path(*args, **kwargs):  # type: ignore[no-untyped-def]
        # What the SDK's entry point does once the program's body has run (pulumi/runtime/stack.py,
        # run_in_stack -> Stack._finish: every export in one request); the harness's mock root stack does not.
        real_run_path(*args, **kwargs)
        root = settings.get_root_resource()
        root.register_outputs(massage(root.outputs, []))  # type: ignore[union-attr]

    monkeypatch.setattr(harness.runpy, "run_path", run_path)
    monkeypatch.setattr(harness.PlaceholderMocks, "new_resource", new_resource)
    monkeypatch.setattr(harness.RecordingMonitor, "RegisterResourceOutputs", register_outputs, raising=False)
    with pytest.raises(Exception, match="the cluster could not be reached"):
        one_service("production", today, deployed)
    monkeypatch.undo()
    assert registered, "the program registered no stack outputs at all: the scenario tests nothing"
    kept = dict(deployed)
    for outputs in registered:
        kept |= outputs
    return kept


@pytest.mark.parametrize("failing", [EXTERNAL_SECRET, SECRET, KEY_VERSION])
def test_an_update_that_failed_to_deliver_a_rotation_does_not_advance_the_clock(monkeypatch, failing):
    """A: first deployment (signs 0, publishes 1). B, due 30 days later: the Kubernetes API is unreachable
    (or OCI refuses the new generation, or the KeyVersion), so the pods keep A's keys; B's outputs must
    not say otherwise. C, on the next due date: signs with a generation A's pods (the last Secret they
    got is A's) accept, and accepts what they sign with; the key's version moves by one from A's."""
    a = one_service("production", DAY0)
    recorded = recorded_after_a_failed_update(monkeypatch, failing, DAY0 + timedelta(days=90), as_the_engine_hands_them(a))
    assert (recorded["jwtRotation"], recorded["keyRotation"]) == (
        as_the_engine_hands_them(a)["jwtRotation"], as_the_engine_hands_them(a)["keyRotation"]
    )
    c = one_service("production", DAY0 + timedelta(days=120), recorded)
    delivered_before, now = Delivered.of(a), Delivered.of(c)
    assert now.signing in delivered_before.accepted and delivered_before.signing in now.accepted, (
        f"pods of the last delivered Secret accept {sorted(delivered_before.accepted)} and sign with "
        f"{delivered_before.signing}; the next update delivers {now.keys}"
    )
    assert key_version(c) == key_version(a) + 1


def test_a_generation_name_once_retired_is_never_asked_for_again():
    """An update that created generation 2 but whose outputs were not recorded (it failed after, or was
    stopped), then an update on which rotation is not due (switched off here; a longer interval does the
    same), then a rotation: generation 2 is never retired in between, so the rotation never asks OCI for
    a name that a pending deletion still holds; and nothing a quiet update declares reaches a Secret."""
    a = one_service("production", DAY0)
    created_then_lost = one_service("production", DAY0 + timedelta(days=30), as_the_engine_hands_them(a))
    off = one_service("production", DAY0 + timedelta(days=31), as_the_engine_hands_them(a), config=jwt_rotation(automatic=False))
    names = {name: {s.inputs["secretName"] for s in jwt_secrets(run).values()} for name, run in
             (("lost", created_then_lost), ("off", off))}
    retired = names["lost"] - names["off"]
    assert retired == set() and Delivered.of(off) == Delivered.of(a)
    on = one_service("production", DAY0 + timedelta(days=40), as_the_engine_hands_them(off))
    assert not retired & {s.inputs["secretName"] for s in jwt_secrets(on).values()}
    assert Delivered.of(on).keys == {"JWT_SECRET": 1, PREVIOUS_JWT_ENV_VAR: 0, NEXT_JWT_ENV_VAR: 2}


def test_a_setting_changed_later_reaches_only_the_next_generation():
    """A longer jwtLength or other reuse rules, edited on a deployed stack: the live generations' inputs
    change only where the engine ignores changes (so OCI receives no update, which might regenerate an
    auto-generated value); a rotation's new generation is created with the new settings."""
    first = one_service("production", DAY0)
    edited = {"secrets": {"jwtLength": 24, "preventReuse": False, "preventReuseOfDeletedVersions": False}}
    later = one_service("production", DAY0 + timedelta(days=30), as_the_engine_hands_them(first), config=edited)
    old, new = jwt_secrets(first), jwt_secrets(later)
    assert len(old.keys() & new.keys()) == 2
    for urn in old.keys() & new.keys():
        changed = {k for k in old[urn].inputs.keys() | new[urn].inputs.keys() if old[urn].inputs.get(k) != new[urn].inputs.get(k)}
        assert changed and changed <= set(new[urn].ignore_changes), changed
    [created] = [new[urn] for urn in new.keys() - old.keys()]
    assert created.inputs["secretGenerationContext"]["passphraseLength"] == 24 and created.inputs["secretRules"] == []


def test_development_never_rotates_its_jwt_secrets_on_its_own():
    """The relaxed preset rotates by hand: signing stays, next stays published, no due date."""
    first = one_service("development", DAY0)
    later = one_service("development", DAY0 + timedelta(days=4000), as_the_engine_hands_them(first))
    assert Delivered.of(later).keys == {"JWT_SECRET": 0, NEXT_JWT_ENV_VAR: 1}
    assert later.exports["jwtRotation"].value == {
        "method": "manual", "intervalDays": None, "signing": 0, "since": DAY0.isoformat(), "nextDue": None,
        "previous": None, "next": 1,
    }


def test_jwt_values_never_pass_through_pulumi(stack_runs):
    """Every JWT generation is generated by OCI: no content in any input, no schedule in any tag."""
    for run in stack_runs.values():
        for secret in jwt_secrets(run).values():
            assert secret.inputs["enableAutoGeneration"] is True and "secretContent" not in secret.inputs
            assert not any(tag.startswith("rotation-") for tag in secret.inputs["freeformTags"])


def test_every_synced_secret_asks_reloader_to_restart_its_pods(stack_runs):
    """Each Kubernetes Secret carries "match"; each service's Deployment annotation is exported as "search"."""
    for run in stack_runs.values():
        externals = run.of_type(EXTERNAL_SECRET)
        for external in externals:
            annotations = external.inputs["spec"]["target"]["template"]["metadata"]["annotations"]
            assert annotations["reloader.stakater.com/match"] == "true"
        exported = run.exports["reloadAnnotations"].value
        assert set(exported) == {e.inputs["metadata"]["name"] for e in externals}
        assert all(a == {"reloader.stakater.com/search": "true"} for a in exported.values())


def reloaders(run: ProgramRun) -> list[Registration]:
    return [r for r in run.own(RELEASE) if r.inputs["chart"] == "reloader"]


def test_reloader_comes_with_the_operator_and_watches_only_the_environments_namespaces(stack_runs):
    """Wherever a stack installs the operator it installs one pinned Reloader with a stable release name,
    in scoped mode (Roles in the listed namespaces, no ClusterRole); turning it off stays possible."""
    for stack, run in stack_runs.items():
        operator = [r for r in run.own(RELEASE) if r.inputs["chart"] == "external-secrets"]
        [reloader] = reloaders(run) if operator else [None]
        if reloader is None:
            continue
        assert (reloader.inputs["name"], reloader.inputs["version"], reloader.inputs["namespace"]) == ("reloader", "2.2.16", "reloader")
        assert reloader.inputs["repositoryOpts"] == {"repo": "https://stakater.github.io/stakater-charts"}
        assert reloader.inputs["values"] == {
            "reloader": {
                "reloadStrategy": "annotations", "watchGlobally": False, "namespaces": [f"ecommerce-{stack}"],
                "ignoreConfigMaps": True,
            }
        }
    assert all(reloaders(run) for run in stack_runs.values())
    kubernetes = stack_file_config("staging")[P + "kubernetes"]
    shared = one_service("staging", PINNED_TODAY, config={"kubernetes": kubernetes | {"reloaderWatchNamespaces": ["ecommerce-qa"]}})
    assert reloaders(shared)[0].inputs["values"]["reloader"]["namespaces"] == ["ecommerce-qa", "ecommerce-staging"]
    off = one_service("staging", PINNED_TODAY, config={"kubernetes": kubernetes | {"installReloader": False}})
    assert reloaders(off) == []
    without_operator = one_service("staging", PINNED_TODAY, config={"kubernetes": kubernetes | {"installOperator": False}})
    assert reloaders(without_operator) == []


def test_reloader_waits_for_the_namespace_its_role_goes_into():
    """Scoped Reloader renders a Role and RoleBinding in each watched namespace (stakater/Reloader
    chart-v2.2.16 templates/role.yaml, rolebinding.yaml). On a stack's first update the environment's
    namespace is created by the same update: the release waits for it, or the API server refuses the Role."""
    run = one_service("staging", PINNED_TODAY)
    [namespace] = run.own("kubernetes:core/v1:Namespace")
    [reloader] = reloaders(run)
    assert namespace.inputs["metadata"]["name"] in reloader.inputs["values"]["reloader"]["namespaces"]
    assert namespace.urn in {*reloader.depends_on, *(u for urns in reloader.property_dependencies.values() for u in urns)}


@pytest.mark.parametrize("stack", ["production", "staging", "development"])
def test_events_of_this_compartment_only_reach_this_environments_topic(stack_runs, stack):
    """One topic and one rule per environment; the rule filters on its own compartment and the vault/key/secret types."""
    run = stack_runs[stack]
    [topic] = run.of_type("oci:Ons/notificationTopic:NotificationTopic")
    [rule] = run.of_type("oci:Events/rule:Rule")
    condition = json.loads(rule.inputs["condition"])
    compartment = stack_file_config(stack)[P + "compartmentId"]
    assert condition == {"eventType": [e.name for e in EVENT_TYPES], "data": {"compartmentId": compartment}}
    assert all(e.startswith(("com.oraclecloud.keymanagementservice.", "com.oraclecloud.vaultsecret.")) for e in condition["eventType"])
    [action] = rule.inputs["actions"]["action"]
    assert action == {"actionType": "ONS", "isEnabled": True, "topicId": f"<{topic.name}-id>"}
    assert rule.inputs["compartmentId"] == topic.inputs["compartmentId"] == compartment


def test_mail_subscriptions_follow_the_stack_file_without_naming_the_address():
    """One EMAIL subscription per address; its resource name is a digest, so no address lands in a URN."""
    run = one_service("staging", PINNED_TODAY, config={"notifications": {"emails": ["secops@example.com", "oncall@example.com"]}})
    subscriptions = run.of_type("oci:Ons/subscription:Subscription")
    assert sorted(s.inputs["endpoint"] for s in subscriptions) == ["oncall@example.com", "secops@example.com"]
    assert all(s.inputs["protocol"] == "EMAIL" and "@" not in s.urn for s in subscriptions)


def test_a_rotation_overdue_is_an_alarm_and_one_on_time_is_not(stack_runs):
    """From what the stack last deployed: past nextDue by more than the grace days, the scheduled check fails."""
    outputs = {name: export.value for name, export in stack_runs["production"].exports.items()}
    due = date.fromisoformat(outputs["jwtRotation"]["nextDue"])
    assert overdue("production", outputs, due + timedelta(days=GRACE_DAYS)) == []
    [late] = overdue("production", outputs, due + timedelta(days=GRACE_DAYS + 1))
    assert f"JWT signing secrets rotation was due on {due.isoformat()}, {GRACE_DAYS + 1} days ago" in late
    assert "pulumi up --stack production" in late
    assert overdue("development", {k: v for k, v in outputs.items() if k not in ("keyRotation", "jwtRotation")}, due) == []
