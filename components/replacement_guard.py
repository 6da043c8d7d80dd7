"""Settings that are fixed once a stack is deployed, and the guard that keeps them so.

Some settings reach inputs that OCI or Kubernetes cannot change in place, so the provider
replaces the resource: the vault's type, the key's protection mode, the region, the cluster,
the namespace, the operator's namespace (which inputs force a replacement is read from the
providers themselves; `tests/test_replacements.py` derives it). Replacing the vault or the key
replaces every secret: the JWT secrets are generated anew, so every issued token stops
verifying, and the old vault, key and secrets are scheduled for deletion. Replacing a namespace
the program created deletes everything in it.

So the values deployed last are exported (`fixedSettings`) and read back on the next run through
a StackReference to the stack itself; a change is refused, with the steps to make it on purpose,
unless the stack file lists the key under `allowReplacement` for that one update (which is also
the only way the program lifts `protect` from what the change replaces). The same read tells a
first deployment apart, where a rotation anchor far in the past would rotate the new key at once,
and sees a JWT rotation that would skip a generation (so that no secret a token was signed with
survives it).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

import pulumi

from components.naming import PROJECT, child_urn
from components.settings import FixedSettingKey, StackSettings
from components.settings_errors import SettingsError, shown

# What a replacement of each fixed setting takes with it; the component lifts `protect` from
# exactly these while the setting is listed under allowReplacement.
Replaced = Literal["vault", "key", "secrets", "namespace", "operator"]

FIXED_OUTPUT: Final = "fixedSettings"
JWT_OUTPUT: Final = "jwtRotation"


@dataclass(frozen=True)
class FixedSetting:
    replaces: tuple[Replaced, ...]
    consequence: str
    # A key replacement re-creates every secret inside the same vault, where OCI keeps the old
    # names taken until their deletion completes: the vault has to be replaced in the same update.
    needs_vault_replacement: bool = False


_DATA: Final = (
    "every secret (the JWT secrets are generated anew, so every token issued with them stops "
    "verifying; the old vault, key and secrets are scheduled for deletion)"
)

FIXED_SETTINGS: Final[dict[FixedSettingKey, FixedSetting]] = {
    "region": FixedSetting(
        ("vault", "key", "secrets"), f"moves the environment to another region: a new vault, key and {_DATA}"
    ),
    "vaultType": FixedSetting(("vault", "key", "secrets"), f"REPLACES the vault, and with it the key and {_DATA}"),
    "keyProtectionMode": FixedSetting(
        ("vault", "key", "secrets"),
        f"REPLACES the key, and with it {_DATA}; OCI keeps a deleted secret's name taken while its "
        "deletion is pending, so the vault must be replaced in the same update",
        needs_vault_replacement=True,
    ),
    "kubernetes.clusterId": FixedSetting(
        ("namespace", "operator"),
        "moves the sync to another cluster: Pulumi creates the namespace, store and ExternalSecrets there "
        "and deletes them from the old cluster, together with everything else in the old namespace",
    ),
    "kubernetes.manageNamespace": FixedSetting(
        ("namespace",),
        "changes who owns the namespace: from create to adopt, Pulumi DELETES the namespace it created, with "
        "everything in it; from adopt to create, creating it fails because it exists",
    ),
    "kubernetes.namespace": FixedSetting(
        ("namespace",),
        "REPLACES the namespace: deleting the old one deletes everything in it, the services' Deployments included",
    ),
    "kubernetes.operatorNamespace": FixedSetting(
        ("operator",),
        "uninstalls External Secrets Operator and installs it again in the new namespace; no secret syncs "
        "in between (its CRDs, stores and ExternalSecrets are kept, and Helm installs over the kept CRDs only "
        "once they name the new namespace: first kubectl get crd -o name | grep external-secrets.io | xargs -I{} "
        "kubectl annotate --overwrite {} meta.helm.sh/release-namespace=<new namespace>)",
    ),
}


def fixed_values(settings: StackSettings) -> dict[str, Any]:
    """What this stack deploys for each fixed setting (None where the setting does not apply)."""
    k = settings.kubernetes
    return {
        "region": settings.region,
        "vaultType": settings.vault_type,
        "keyProtectionMode": settings.key_protection_mode,
        "kubernetes.clusterId": k.cluster_id,
        "kubernetes.manageNamespace": k.manage_namespace,
        "kubernetes.namespace": k.namespace if k.manage_namespace == "create" else None,
        "kubernetes.operatorNamespace": k.operator_namespace if k.install_operator else None,
    }


def unprotected(settings: StackSettings) -> set[Replaced]:
    """What this update may replace, because the stack file allows it for a fixed setting."""
    return {part for key in settings.allow_replacement for part in FIXED_SETTINGS[key].replaces}


def refused_changes(deployed: Mapping[str, Any], settings: StackSettings, stack: str) -> list[str]:
    """One problem per fixed setting that differs from what `stack` deployed last, unless allowed."""
    current = fixed_values(settings)
    problems = []
    for key, setting in FIXED_SETTINGS.items():
        before, now = deployed.get(key), current[key]
        # A setting that did not apply before (or now) replaces nothing when it starts (or stops) applying.
        if before is None or now is None or before == now or key in settings.allow_replacement:
            continue
        steps = _deliberate_steps(key, setting, settings.environment, stack)
        problems.append(
            f"{PROJECT}:{key} = {shown(now)}: was {shown(before)} when stack {stack} was last deployed, and "
            f"changing it {setting.consequence}. Nothing was changed. To keep the deployed value: pulumi config "
            f"set --path '{key}' {before} --stack {stack}. To replace on purpose: {steps}"
        )
    return problems


def _deliberate_steps(key: str, setting: FixedSetting, environment: str, stack: str) -> str:
    up = f"pulumi up --stack {stack}"
    if setting.needs_vault_replacement:
        up += f" --replace '{child_urn(stack, environment, 'oci:Kms/vault:Vault', 'vault')}'"
    return (
        f"(1) pulumi stack export --stack {stack} --file {stack}-before-{key}.json (a backup); "
        f"(2) pulumi config set --path 'allowReplacement[0]' {key} --stack {stack}; "
        f"(3) pulumi preview --stack {stack}, and read every replacement it lists; (4) {up}; "
        f"(5) pulumi config rm allowReplacement --stack {stack} (protection returns with the next update)"
    )


def unused_allowances(deployed: Mapping[str, Any], settings: StackSettings) -> list[str]:
    """allowReplacement entries whose setting is unchanged: they only leave things unprotected."""
    current = fixed_values(settings)
    return [key for key in settings.allow_replacement if deployed.get(key) in (None, current[key])]


def first_deployment_problems(settings: StackSettings, today: date, stack: str) -> list[str]:
    """A first deployment whose rotation anchor lies a whole interval or more in the past."""
    problems = []
    for key, what, schedule in (
        ("keyRotation.anchorDate", "rotate the new key at once (key version", settings.rotation_schedule(today)),
        ("secrets.jwtRotation.anchorDate", "create JWT secrets of a later generation at once (generation",
         settings.jwt_schedule(today)),
    ):
        if schedule.period == 0 or schedule.anchor is None:
            continue
        problems.append(
            f"{PROJECT}:{key} = {schedule.anchor.isoformat()}: stack {stack} has never been deployed, and deploying "
            f"it now would {what} v{schedule.period}, since the schedule counts {schedule.interval_days}-day periods "
            f"from the anchor); set the anchor to the day of the first deployment: pulumi config set --path "
            f"'{key}' {today.isoformat()} --stack {stack}"
        )
    return problems


def skipped_generation_problems(deployed: Mapping[str, Any], settings: StackSettings, today: date, stack: str) -> list[str]:
    """A JWT rotation that would not keep the generation services sign with now.

    An update keeps the calendar's generations (`RotationSchedule.generations`). When no update ran
    for a whole period (a missed rotation), or the anchor or interval moved, the deployed current
    generation is not among them, and the update would delete it: every token issued with it
    stops verifying at once.
    """
    schedule = settings.jwt_schedule(today)
    period = (deployed.get(JWT_OUTPUT) or {}).get("period")
    if not isinstance(period, (int, float)):
        return []
    # Outputs come back through a protobuf Struct, where every number is a double.
    current = int(period)
    if current in schedule.generations:
        return []
    kept = " and ".join(f"v{g}" for g in schedule.generations)
    lost = (
        f"stack {stack} deployed JWT generation v{current} last, and this update would delete it (it keeps only "
        f"{kept}): every token signed with it would stop verifying. Nothing was changed."
    )
    # Forward: the period after the deployed one (a single rotation); backward: the deployed one.
    target = current + 1 if schedule.period > current else current
    anchor = schedule.anchor_for(target)
    if anchor is None:
        return [
            f"{PROJECT}:secrets.jwtRotation.automatic = false: {lost} Generations only move forward; to rotate as "
            f"rarely as possible instead: pulumi config set --path 'secrets.jwtRotation.automatic' true --stack "
            f"{stack}, then pulumi config set --path 'secrets.jwtRotation.intervalDays' 365 --stack {stack} (the next "
            "run names the anchor to set)"
        ]
    outcome = f"rotate once (v{current} stays beside v{target})" if target > current else f"keep v{current} current"
    return [
        f"{PROJECT}:secrets.jwtRotation.anchorDate = {shown(schedule.anchor and schedule.anchor.isoformat())}: the "
        f"calendar is in period {schedule.period} of {schedule.interval_days} days; {lost} To {outcome}, move the "
        f"anchor: pulumi config set --path 'secrets.jwtRotation.anchorDate' {anchor.isoformat()} --stack {stack}"
    ]


def _refuse_in_update(problems: list[str], stack: str, dry_run: bool) -> None:
    """What would break something only if carried out: `pulumi up` refuses, a preview warns."""
    if problems and not dry_run:
        raise SettingsError(stack, problems)
    for problem in problems:
        pulumi.log.warn(f"{problem} (a preview only warns; `pulumi up` refuses)")


def verdict(deployed: Mapping[str, Any], settings: StackSettings, today: date, stack: str, dry_run: bool) -> None:
    """Raise SettingsError for what the deployed state forbids; warn about what it only questions."""
    if not deployed:
        _refuse_in_update(first_deployment_problems(settings, today, stack), stack, dry_run)
        return
    _refuse_in_update(skipped_generation_problems(deployed, settings, today, stack), stack, dry_run)
    fixed = deployed.get(FIXED_OUTPUT) or {}
    problems = refused_changes(fixed, settings, stack)
    if problems:
        raise SettingsError(stack, problems)
    for key in unused_allowances(fixed, settings):
        pulumi.log.warn(
            f"{PROJECT}:allowReplacement lists {key}, which did not change: it only leaves things unprotected; "
            f"remove it: pulumi config rm allowReplacement --stack {stack}"
        )


def deployed_guard(settings: StackSettings, today: date) -> pulumi.Output[pulumi.Resource]:
    """A resource that resolves once the deployed state allows this update; every child waits for it.

    The StackReference reads this stack's own last outputs (the engine's builtin provider asks
    the backend for them: pulumi/pulumi pkg/resource/deploy/builtins.go, readStackReference);
    a stack never deployed has none.
    """
    stack = pulumi.get_stack()
    reference = pulumi.StackReference(
        f"{PROJECT}-{stack}-deployed", f"{pulumi.get_organization()}/{pulumi.get_project()}/{stack}"
    )
    dry_run = pulumi.runtime.is_dry_run()

    def allowed(outputs: Mapping[str, Any] | None) -> pulumi.Resource:
        verdict(outputs or {}, settings, today, stack, dry_run)
        return reference

    return reference.outputs.apply(allowed)
