"""Settings that are fixed once a stack is deployed, and the guard that keeps them so.

Some settings reach inputs that OCI or Kubernetes cannot change in place, so the provider
replaces the resource: the vault's type, the key's protection mode, the region, the cluster,
the namespace, the operator's namespace (which inputs force a replacement is read from the
providers themselves; `tests/test_replacements.py` derives it). Replacing the vault or the key
replaces every secret: the JWT secrets are generated anew, so every issued token stops
verifying, and the old vault, key and secrets are scheduled for deletion. Replacing a namespace
the program created deletes everything in it. The compartment replaces nothing that holds data but
is the one setting that updates JWT generations pods may sign with, which the program otherwise never does.

So the values deployed last are exported (`fixedSettings`) and read back on the next run through
a StackReference to the stack itself; a change is refused, with the steps to make it on purpose,
unless the stack file lists the key under `allowReplacement` for that one update (which is also
the only way the program lifts `protect` from what the change replaces). The same read is the
rotation clock: which JWT generation signs and which key version is current, and since when
(components/rotation.py).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

import pulumi

from components.naming import PROJECT, child_urn
from components.rotation import Rotation, jwt_rotation, key_rotation
from components.settings import FixedSettingKey, StackSettings
from components.settings_errors import SettingsError, shown

# What a replacement of each fixed setting takes with it; the component lifts `protect` from
# exactly these while the setting is listed under allowReplacement.
Replaced = Literal["vault", "key", "secrets", "namespace", "operator", "replicas", "standby"]

FIXED_OUTPUT: Final = "fixedSettings"
JWT_OUTPUT: Final = "jwtRotation"
KEY_OUTPUT: Final = "keyRotation"


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
    # Replaces nothing that holds data, but is the one change that reaches a JWT generation pods may sign with,
    # which the program otherwise never updates (components/environment_vault.py, _SecretFactory.jwt).
    "compartmentId": FixedSetting(
        (),
        "moves the vault, the key and every secret to the new compartment (whose IAM the IAM program, not "
        "this stack, must grant first); each live JWT generation is updated as well (terraform-provider-oci vault_secret_resource.go, "
        "Update: ChangeSecretCompartment, then UpdateSecret, which re-sends its generation context), and "
        "whether OCI then generates a new value is undocumented: if it does, every token issued before "
        "stops verifying and the services' pods hold keys that no longer match until they restart",
    ),
    "region": FixedSetting(
        ("vault", "key", "secrets"), f"moves the environment to another region: a new vault, key and {_DATA}"
    ),
    "vaultType": FixedSetting(("vault", "key", "secrets"), f"REPLACES the vault, and with it the key and {_DATA}"),
    "keyProtectionMode": FixedSetting(
        ("vault", "key", "secrets", "replicas"),
        f"REPLACES the key (and the replicas' key), and with it {_DATA}; OCI keeps a deleted secret's name taken while its "
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
    # Replicas follow their source secret: a new target replaces the replicas' vault and key and re-replicates
    # the database URLs there (a replica its source no longer names is deleted: OCI, "Replicating Secrets"). The
    # JWT generations pods may sign with are NOT updated (replication_config is in their ignore_changes,
    # environment_vault.py), so they have no replica in the new vault: the standby counts its generations afresh
    # (rotation.replicated_from) and signs with a later one for up to two rotations.
    "disasterRecovery.region": FixedSetting(
        ("replicas",),
        "moves the replicas to another region: a new vault and key there, the database URLs updated to replicate "
        "there, and the old replicas, vault and key deleted; the JWT generations pods may sign with keep their old "
        "target, so for up to two rotations the standby signs with a later generation and refuses tokens signed "
        "before a failover; until OCI has copied every secret, a failover finds nothing to sync",
    ),
    "disasterRecovery.vaultType": FixedSetting(
        ("replicas",),
        "REPLACES the replicas' vault and key: the database URLs re-replicate into the new one, the old replicas are "
        "deleted; the JWT generations pods may sign with keep their old target, so for up to two rotations the standby "
        "signs with a later generation and refuses tokens signed before a failover",
    ),
    "disasterRecovery.standby.clusterId": FixedSetting(
        ("standby",),
        "moves the standby sync to another cluster: Pulumi deletes the namespace it created on the old standby "
        "cluster, with everything in it",
    ),
    "disasterRecovery.standby.namespace": FixedSetting(
        ("standby",),
        "REPLACES the standby cluster's namespace: deleting the old one deletes everything in it",
    ),
}


def fixed_values(settings: StackSettings) -> dict[str, Any]:
    """What this stack deploys for each fixed setting (None where the setting does not apply)."""
    k = settings.kubernetes
    return {
        "compartmentId": settings.compartment_id,
        "region": settings.region,
        "vaultType": settings.vault_type,
        "keyProtectionMode": settings.key_protection_mode,
        "kubernetes.clusterId": k.cluster_id,
        "kubernetes.manageNamespace": k.manage_namespace,
        "kubernetes.namespace": k.namespace if k.manage_namespace == "create" else None,
        "kubernetes.operatorNamespace": k.operator_namespace if k.install_operator else None,
        **_recovery_values(settings),
        # Not a setting: what this update declared unprotected, so that the next may stop declaring it.
        UNPROTECTED: sorted(declared_unprotected(settings)),
    }


def _recovery_values(settings: StackSettings) -> dict[str, Any]:
    recovery = settings.disaster_recovery
    standby = recovery.standby if recovery else None
    return {
        "disasterRecovery.region": recovery.region if recovery else None,
        "disasterRecovery.vaultType": recovery.vault_type if recovery else None,
        "disasterRecovery.standby.clusterId": standby.cluster_id if standby else None,
        "disasterRecovery.standby.namespace": standby.namespace if standby and standby.manage_namespace == "create" else None,
    }


UNPROTECTED: Final = "unprotected"
# The settings whose removal stops declaring what they protect, and what that is. The engine deletes a resource
# the program no longer declares with the protect flag its state holds (pulumi/pulumi pkg/resource/deploy/step.go,
# DeleteStep.Apply: deleteProtectedError), after the other steps, so an update must first declare it unprotected.
_STOPPING: Final[dict[FixedSettingKey, tuple[Replaced, ...]]] = {
    "disasterRecovery.region": ("replicas", "standby"),
    "disasterRecovery.standby.clusterId": ("standby",),
}

# Where the replicas live: both None exactly when disasterRecovery is off.
_REPLICA_TARGET: Final = ("disasterRecovery.region", "disasterRecovery.vaultType")
# One of them, so that turning disasterRecovery off is one problem, not one per key.
_RECOVERY_ON: Final = _REPLICA_TARGET[0]
_RECOVERY_OFF: Final = (
    "deletes the replicas' vault and key and the standby's sync; the unprotected standby ExternalSecrets go first "
    "and with them (creationPolicy Owner) every Secret they synced on the standby cluster, before protect refuses "
    "the vault"
)


def unprotected(settings: StackSettings) -> set[Replaced]:
    """What this update may replace, because the stack file allows it for a fixed setting."""
    return {part for key in settings.allow_replacement for part in FIXED_SETTINGS[key].replaces}


def declared_unprotected(settings: StackSettings) -> set[Replaced]:
    """Of the parts whose removal `_STOPPING` guards, what this update declares unprotected: what allowReplacement
    lifts, and the standby's namespace and releases of a stack that protects nothing (`protect: false`); the
    replicas' vault and key are protected whatever `protect` says (components/environment_vault.py)."""
    return unprotected(settings) | (set() if settings.protect else {"standby"})


def refused_changes(deployed: Mapping[str, Any], settings: StackSettings, stack: str) -> list[str]:
    """One problem per fixed setting that differs from what `stack` deployed last, unless allowed."""
    # The engine's own `protect` refuses a protected replacement only when it reaches that resource's
    # step (pulumi/pulumi pkg/resource/deploy/step_generator.go, "unable to replace resource ... marked
    # for protection"), after earlier steps of an `up` may have run, naming the flag rather than the
    # setting; and it covers nothing unprotected (staging's secrets, a namespace with protect off). This
    # check stays because it refuses before anything is registered, names the setting and its cost.
    current = fixed_values(settings)
    problems = []
    for key, setting in FIXED_SETTINGS.items():
        before, now = deployed.get(key), current[key]
        # A setting that did not apply before (or now) replaces nothing when it starts (or stops) applying,
        # except the replicas' target: it stops applying when disasterRecovery is turned off, which deletes the
        # standby's ExternalSecrets (creationPolicy Owner: Kubernetes deletes the Secrets they synced) before
        # `protect` on the replicas' vault refuses, since the engine checks protect in each delete step's Apply
        # and carries on with the others (pulumi/pulumi pkg/resource/deploy/step.go deleteProtectedError).
        stops_replicating = now is None and key == _RECOVERY_ON
        stopping = now is None and key in _STOPPING
        # Turning recovery off removes the standby too: one problem, under disasterRecovery.region (_STOPPING).
        if stopping and key != _RECOVERY_ON and current[_RECOVERY_ON] is None:
            continue
        if before is None or (now is None and not stopping) or before == now:
            continue
        still_protected = _still_protected(deployed, key) if stopping else []
        if key in settings.allow_replacement and not still_protected:
            continue
        steps = _deliberate_steps(key, setting, settings.environment, stack)
        if stopping:
            steps = _stopping_steps(key, deployed, stack)
            if key in settings.allow_replacement:
                problems.append(
                    f"{PROJECT}:{key} = null: allowReplacement lists it, but stack {stack}'s last update still protected "
                    f"{' and '.join(still_protected)}, which this one no longer declares, and the engine refuses to delete a "
                    f"resource its state holds as protected (after carrying out the other steps). Nothing was changed. "
                    f"To remove it on purpose: {steps}"
                )
                continue
        if stops_replicating:
            change, keep = f"turning disasterRecovery off {_RECOVERY_OFF}", "put the disasterRecovery section back"
        elif stopping:
            change, keep = "removing the standby deletes its namespace and sync objects", "put disasterRecovery.standby back"
        else:
            change, keep = f"changing it {setting.consequence}", f"pulumi config set --path '{key}' {before} --stack {stack}"
        problems.append(
            f"{PROJECT}:{key} = {shown(now)}: was {shown(before)} when stack {stack} was last deployed, and "
            f"{change}. Nothing was changed. To keep the deployed value: {keep}. "
            f"To {'remove it' if stopping else 'replace'} on purpose: {steps}"
        )
    return problems


def _still_protected(deployed: Mapping[str, Any], key: FixedSettingKey) -> list[str]:
    """What removing `key` stops declaring that the deployed state still holds as protected: the replicas' vault
    and key always, the standby's namespace and releases where the stack protects them (and it had a standby)."""
    lifted = set(deployed.get(UNPROTECTED) or ())
    # Read from the deployed state only: the engine deletes with the flag the last update left there, whatever
    # this update's settings say (a `protect: false` in the same update lifts nothing it no longer declares).
    parts = [p for p in _STOPPING[key] if p == "replicas" or deployed.get("disasterRecovery.standby.clusterId")]
    return [p for p in parts if p not in lifted]


def _stopping_steps(key: FixedSettingKey, deployed: Mapping[str, Any], stack: str) -> str:
    """Two updates: one that still declares what `key` protects, unprotected; one that removes it."""
    keys = [k for k in _STOPPING if set(FIXED_SETTINGS[k].replaces) & set(_STOPPING[key]) and deployed.get(k) is not None]
    allow = "; ".join(f"pulumi config set --path 'allowReplacement[{i}]' {k} --stack {stack}" for i, k in enumerate(keys))
    return (
        f"(1) pulumi stack export --stack {stack} --file {stack}-before-{key}.json (a backup); (2) with the section still "
        f"in the stack file: {allow}; then pulumi up --stack {stack} (it only lifts protect, and warns that the entries "
        f"did not change); (3) remove the section, keep allowReplacement"
        + (", and in the same reviewed change remove the environment's standbyClusterId from every copy in "
           "policy/config.json (the policy pack refuses a stack without replication whose standby it records)"
           if key == _RECOVERY_ON else "")
        + f", pulumi preview --stack {stack} and read every deletion it lists, then pulumi up --stack {stack}; "
        f"(4) pulumi config rm allowReplacement --stack {stack}" + ("; then the IAM administrators remove disasterRecovery "
        "from the IAM program's stack file and apply it" if key == _RECOVERY_ON else "")
    )


def _deliberate_steps(key: str, setting: FixedSetting, environment: str, stack: str) -> str:
    up = f"pulumi up --stack {stack}"
    if setting.needs_vault_replacement:
        up += f" --replace '{child_urn(stack, environment, 'oci:Kms/vault:Vault', 'vault')}'"
    return (
        f"(1) pulumi stack export --stack {stack} --file {stack}-before-{key}.json (a backup); "
        f"(2) pulumi config set --path 'allowReplacement[0]' {key} --stack {stack}; "
        f"(3) pulumi preview --stack {stack}, and read every replacement it lists; (4) {up} (if it fails, run it "
        "again: do not put the old value back before an update has gone through); "
        f"(5) pulumi config rm allowReplacement --stack {stack} (protection returns with the next update)"
    )


def unused_allowances(deployed: Mapping[str, Any], settings: StackSettings) -> list[str]:
    """allowReplacement entries whose setting is unchanged: they only leave things unprotected."""
    current = fixed_values(settings)
    return [key for key in settings.allow_replacement if deployed.get(key) in (None, current[key])]


def verdict(deployed: Mapping[str, Any], settings: StackSettings, stack: str, jwt: Mapping[str, Any] | None = None) -> None:
    """Raise SettingsError for what the deployed state forbids; warn about what it only questions."""
    problems = refused_changes(deployed, settings, stack) + refused_while_the_standby_catches_up(deployed, jwt, settings, stack)
    if problems:
        raise SettingsError(stack, problems)
    for key in unused_allowances(deployed, settings):
        pulumi.log.warn(
            f"{PROJECT}:allowReplacement lists {key}, which did not change: it only leaves things unprotected; "
            f"remove it: pulumi config rm allowReplacement --stack {stack}"
        )


@dataclass(frozen=True)
class DeployedState:
    """What this update may do, decided from the stack's last outputs: children wait for `reference`."""

    reference: pulumi.Resource
    key: Rotation
    jwt: Rotation


def deployed_state(settings: StackSettings, today: date) -> pulumi.Output[DeployedState]:
    """Resolves once the deployed state allows this update, with the rotations it carries out.

    The StackReference reads this stack's own last outputs (the engine's builtin provider asks
    the backend for them, in a preview as in an update: pulumi/pulumi
    pkg/resource/deploy/builtins.go, readStackReference); a stack never deployed has none. Each
    output is read on its own (`get_output`), so that a secret output elsewhere never makes the
    rotation summaries secret.
    """
    stack = pulumi.get_stack()
    reference = pulumi.StackReference(
        f"{PROJECT}-{stack}-deployed", f"{pulumi.get_organization()}/{pulumi.get_project()}/{stack}"
    )

    def allowed(outputs: list[Any]) -> DeployedState:
        fixed, key, jwt = outputs
        verdict(fixed or {}, settings, stack, jwt)
        return DeployedState(
            reference,
            key_rotation(key, settings.key_schedule(), today),
            jwt_rotation(
                jwt, settings.jwt_schedule(), today, replicating=settings.disaster_recovery is not None,
                replicas_moved=_replicas_moved(fixed or {}, settings),
            ),
        )

    return pulumi.Output.all(*(reference.get_output(name) for name in (FIXED_OUTPUT, KEY_OUTPUT, JWT_OUTPUT))).apply(allowed)


def refused_while_the_standby_catches_up(
    deployed: Mapping[str, Any], jwt: Mapping[str, Any] | None, settings: StackSettings, stack: str
) -> list[str]:
    """Moving or removing the replicas, even allowed, waits while the standby signs with a generation the primary
    has not published (`replicatedFrom` above the deployed `next`: recovery turned on, or its replicas moved,
    since the last rotation). The recount would start at the deployed next + 1 (rotation.replicated_from),
    that very generation, and give it a new replication config: an update of a generation the standby's pods
    may have signed with during a failover (or, turned off and on again, one nothing records)."""
    if not jwt or jwt.get("replicatedFrom") is None or jwt.get("next") is None:
        return []
    first, published = int(jwt["replicatedFrom"]), int(jwt["next"])
    changed = _moved_replica_settings(deployed, settings)
    if first <= published or not changed:
        return []
    key, current = changed[0], fixed_values(settings)
    if jwt.get("nextDue"):
        wait = (f"until the JWT rotation due {jwt['nextDue']} has run, or rotate once early: pulumi config set --path "
                f"'secrets.jwtRotation.intervalDays' <days since {jwt.get('since')}, at least 1> --stack {stack} for one update")
    else:
        wait = (f"until a JWT rotation has run: JWT rotation is off, so turn it on for one update: pulumi config set --path "
                f"'secrets.jwtRotation.automatic' true --stack {stack}, with secrets.jwtRotation.intervalDays at most the "
                f"days since {jwt.get('since')} (at least 1)")
    return [
        f"{PROJECT}:{key} = {shown(current[key])}: was {shown(deployed[key])}, and the standby cluster still signs with "
        f"JWT generation {first}, which the primary publishes only at its next rotation (disasterRecovery was turned "
        f"on, or its replicas moved, since the last one); moving or removing the replicas now would change that "
        f"generation under it. Nothing was changed. Keep {key} {wait}; then change it "
        '(docs/disaster-recovery.md, "Turning it on for a deployed stack").'
    ]


def _replicas_moved(deployed: Mapping[str, Any], settings: StackSettings) -> bool:
    """The replicas' target (region or vault type) differs from the deployed one: an allowed move, since the
    guard refuses any other; the standby must then count its generations afresh (rotation.replicated_from).
    Only a recorded move counts: an allowReplacement entry left in the stack file would otherwise restart the
    count on every update, and the standby would never sign with the primary's generation. (An update that
    moved the replicas and failed records nothing: run it again rather than putting the old value back, as the
    deliberate steps say.)"""
    return bool(_moved_replica_settings(deployed, settings))


def _moved_replica_settings(deployed: Mapping[str, Any], settings: StackSettings) -> list[FixedSettingKey]:
    """The replicas' target settings (region, vault type) whose value differs from the deployed one; turned off, both."""
    current = fixed_values(settings)
    return [key for key in _REPLICA_TARGET if deployed.get(key) not in (None, current[key])]

