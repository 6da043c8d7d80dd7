"""Rotation reaches the running services, and people hear of it: stepped through a pinned clock.

- A JWT rotation is a new OCI-generated secret per service (generation N) on the first `pulumi up`
  on or after its due date; generation N-1 stays, delivered as JWT_SECRET_PREVIOUS, until the next.
- ESO fails a whole ExternalSecret when one source is missing (external-secrets
  pkg/controllers/externalsecret), so every remote key must be a secret the stack declares.
- The synced Secrets carry Reloader's "match" annotation; each Deployment needs "search"
  (stakater/Reloader README, "search and match").
- The Events rule feeds the environment's topic with key, vault and secret events of its own
  compartment only.
"""

import json
import re
from datetime import date, timedelta

import pytest

from components.naming import PREVIOUS_JWT_ENV_VAR, PROJECT
from components.notifications import EVENT_TYPES
from components.settings_errors import SettingsError
from offline.harness import ProgramRun, run_program, stack_file_config
from offline.rotation_status import GRACE_DAYS, overdue
from tests.conftest import PINNED_TODAY

P = f"{PROJECT}:"
SECRET = "oci:Vault/secret:Secret"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
ANCHOR = date(2026, 12, 1)  # the stack files' anchorDate


def one_service(stack: str, today: date, deployed: object = None, preview: bool = True, **config: object) -> ProgramRun:
    settings = stack_file_config(stack) | {P + "services": ["auth-service"]} | {P + k: v for k, v in config.items()}
    return run_program(stack, settings, {"auth-service": "<url>"}, today=today, deployed=deployed, preview=preview)


def jwt_names(run: ProgramRun) -> set[str]:
    return {s.inputs["secretName"] for s in run.of_type(SECRET) if ".jwt-secret" in s.inputs["secretName"]}


def days_around_due_dates(interval: int, periods: int) -> list[tuple[date, int]]:
    """(day, the period it falls in) on the day before, the day of, and the day after each due date."""
    days = [(ANCHOR, 0)]
    for period in range(1, periods + 1):
        due = ANCHOR + timedelta(days=period * interval)
        days += [(due - timedelta(days=1), period - 1), (due, period), (due + timedelta(days=1), period)]
    return days


@pytest.mark.parametrize(("stack", "interval"), [("production", 30), ("staging", 90)])
def test_a_new_jwt_generation_exactly_on_each_due_date(stack, interval):
    """Generation N appears on its due date, N-1 stays beside it, N-2 is gone; nothing happens in between."""
    for today, period in days_around_due_dates(interval, 2):
        run = one_service(stack, today)
        expected = {"auth-service.jwt-secret"} if period == 0 else {
            f"auth-service.jwt-secret{'' if g == 0 else f'.v{g}'}" for g in (period - 1, period)
        }
        assert jwt_names(run) == expected, today
        assert run.exports["jwtRotation"].value["period"] == period
        assert run.exports["jwtRotation"].value["nextDue"] == (ANCHOR + timedelta(days=(period + 1) * interval)).isoformat()


def deployed_on(day: date, **config: object) -> dict[str, object]:
    """The outputs the next update reads back from production deployed on `day` (one service)."""
    return {name: export.value for name, export in one_service("production", day, **config).exports.items()}


def jwt_rotation(**fields: object) -> dict[str, object]:
    """Stack-file `secrets.jwtRotation` fields, over the tier's."""
    return {"secrets": {"jwtRotation": fields}}


def test_an_update_may_rotate_once_but_never_skip_a_generation():
    """Deployed in period 1 (v0, v1), next run in period 3 would keep only v2 and v3: refused, with the anchor
    that rotates once instead; a preview warns; the period itself and its successor go through."""
    deployed = deployed_on(ANCHOR + timedelta(days=30))
    for day in (ANCHOR + timedelta(days=59), ANCHOR + timedelta(days=60)):  # period 1, then 2
        one_service("production", day, deployed=deployed, preview=False)
    late = ANCHOR + timedelta(days=95)  # period 3
    with pytest.raises(SettingsError) as refused:
        one_service("production", late, deployed=deployed, preview=False)
    message = str(refused.value)
    assert "deployed JWT generation v1 last" in message and "keeps only v2 and v3" in message
    fix = ANCHOR + timedelta(days=30)  # period 2 on the late day: v1 stays beside v2
    assert f"pulumi config set --path 'secrets.jwtRotation.anchorDate' {fix.isoformat()} --stack production" in message
    assert refused.value.program_run.resources == []  # type: ignore[attr-defined]
    one_service("production", late, deployed=deployed, preview=True)
    fixed = one_service("production", late, deployed=deployed, preview=False, **jwt_rotation(anchorDate=fix.isoformat()))
    assert jwt_names(fixed) == {"auth-service.jwt-secret.v1", "auth-service.jwt-secret.v2"}


def suggested_anchor(refused: pytest.ExceptionInfo[SettingsError]) -> str:
    return re.findall(r"'secrets.jwtRotation.anchorDate' (\S+) --stack", str(refused.value))[0]


@pytest.mark.parametrize(
    "change",
    [{"intervalDays": 90}, {"anchorDate": (ANCHOR + timedelta(days=160)).isoformat()}],
    ids=["a longer interval", "the anchor moved past today"],
)
def test_generations_never_go_back(change):
    """A longer interval or a later anchor would bring back an older generation: refused, with the
    anchor that keeps the deployed one current, which then goes through unchanged."""
    deployed = deployed_on(ANCHOR + timedelta(days=150))  # period 5: v4 and v5
    day = ANCHOR + timedelta(days=151)
    with pytest.raises(SettingsError, match="deployed JWT generation v5 last") as refused:
        one_service("production", day, deployed=deployed, preview=False, **jwt_rotation(**change))
    assert "keep v5 current" in str(refused.value)
    fixed = one_service("production", day, deployed=deployed, preview=False,
                        **jwt_rotation(**change | {"anchorDate": suggested_anchor(refused)}))
    assert jwt_names(fixed) == {"auth-service.jwt-secret.v4", "auth-service.jwt-secret.v5"}


def test_turning_jwt_rotation_off_after_a_rotation_is_refused():
    """Manual rotation keeps generation 0 only: after v5, that would delete v5 (and recreate a deleted name)."""
    deployed = deployed_on(ANCHOR + timedelta(days=150))
    with pytest.raises(SettingsError, match="secrets.jwtRotation.automatic = false") as refused:
        one_service("production", ANCHOR + timedelta(days=151), deployed=deployed, preview=False,
                    **jwt_rotation(automatic=False))
    assert "it keeps only v0" in str(refused.value)
    assert "pulumi config set --path 'secrets.jwtRotation.intervalDays' 365 --stack production" in str(refused.value)


def test_development_never_rotates_its_jwt_secrets_on_its_own():
    """The relaxed preset rotates by hand: one generation forever, no due date."""
    run = one_service("development", PINNED_TODAY + timedelta(days=4000))
    assert jwt_names(run) == {"auth-service.jwt-secret"}
    assert run.exports["jwtRotation"].value == {"method": "manual", "intervalDays": None, "period": 0, "nextDue": None}


@pytest.mark.parametrize("today", [ANCHOR, ANCHOR + timedelta(days=29), ANCHOR + timedelta(days=30), PINNED_TODAY])
def test_previous_jwt_secret_is_delivered_exactly_when_a_previous_generation_exists(today):
    """JWT_SECRET_PREVIOUS only from the first rotation on, and every remote key is a declared secret."""
    run = one_service("production", today)
    [external] = run.of_type(EXTERNAL_SECRET)
    data = {d["secretKey"]: d["remoteRef"]["key"] for d in external.inputs["spec"]["data"]}
    has_previous = run.exports["jwtRotation"].value["period"] > 0
    assert (PREVIOUS_JWT_ENV_VAR in data) == has_previous
    declared = {s.inputs["secretName"] for s in run.of_type(SECRET)}
    assert set(data.values()) <= declared
    if has_previous:
        assert data[PREVIOUS_JWT_ENV_VAR] != data["JWT_SECRET"]


def test_jwt_values_never_pass_through_pulumi(stack_runs):
    """Every JWT generation is generated by OCI: no content in any input."""
    for run in stack_runs.values():
        for secret in run.of_type(SECRET):
            if ".jwt-secret" in secret.inputs["secretName"]:
                assert secret.inputs["enableAutoGeneration"] is True and "secretContent" not in secret.inputs


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


def test_reloader_is_off_by_default_and_installed_once_when_asked(stack_runs):
    """No stack installs Reloader unless its file says so; then one pinned release with a stable name."""
    for run in stack_runs.values():
        assert not [r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "reloader"]
    run = one_service("staging", PINNED_TODAY, kubernetes={**stack_file_config("staging")[P + "kubernetes"], "installReloader": True})
    [reloader] = [r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "reloader"]
    assert (reloader.inputs["name"], reloader.inputs["version"], reloader.inputs["namespace"]) == ("reloader", "2.2.16", "reloader")
    assert reloader.inputs["repositoryOpts"] == {"repo": "https://stakater.github.io/stakater-charts"}
    assert reloader.inputs["values"]["reloader"]["reloadStrategy"] == "annotations"


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
    run = one_service("staging", PINNED_TODAY, notifications={"emails": ["secops@example.com", "oncall@example.com"]})
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
