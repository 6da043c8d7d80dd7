"""The named presets a stack picks (`preset: strict | moderate | relaxed`), and the access tiers, as data.

A stack's own values win over its preset's, key by key; the settings model fills in the rest
from here (`components/settings.py`). Keys are the stack file's camelCase keys. The access tier
is the IAM program's setting (`iam.tier` in `iam/Pulumi.<env>.yaml`, components/iam_settings.py).

A tier says, per role, which statements its group gets (`grants`, turned into OCI policy
statements by `components/iam.py`) and what the product promises that role (`promise`,
checked by `python -m offline.plan --matrix` against what those statements really allow).
Verbs, resource types and permission names are OCI's Vault policy reference
(https://docs.oracle.com/en-us/iaas/Content/Identity/Reference/keypolicyreference.htm).
"""

from dataclasses import dataclass
from typing import Any, Final, Literal

PresetName = Literal["strict", "moderate", "relaxed"]
TierName = Literal["strict", "moderate", "relaxed"]
Verb = Literal["inspect", "read", "use", "manage"]
# The settings key of each role's group is `iam.<role>Group`.
RoleName = Literal["admin", "readers", "breakGlass", "deployer"]


@dataclass(frozen=True)
class Grant:
    """`<verb> <resource type>` in the environment's compartment, narrowed by `components/iam.py`.

    The compartment is the environment's own (the guardrail authority, policy/config.json) and holds
    the one vault and key its stack creates: no statement names an OCID only known once they exist,
    so the IAM program can grant before the first deployment. `only` keeps a single permission of the
    verb; `without` carves permissions out of it (`request.permission` conditions); `named` keeps only
    targets whose name matches an OCI name pattern (`x*` starts with, `*x` ends with, `*x*` contains);
    `per_service` makes one statement per service, each narrowed to that service's secret names.
    """

    verb: Verb
    resource: str
    only: str | None = None
    without: tuple[str, ...] = ()
    # An OCI name pattern the target's name must match (`target.<type>.name = /…/`), where OCI documents one.
    named: str | None = None
    per_service: bool = False


@dataclass(frozen=True)
class Promise:
    """What the product promises a role on its own environment's secrets (nothing on any other's)."""

    read: bool  # secret values (GetSecretBundleByName)
    write: bool  # new secret versions (UpdateSecret)
    delete: bool  # the vault, the key and the secrets (each one's scheduled deletion)
    # Only the JWT secret generations: every JWT rotation retires one, and a name pattern cannot tell
    # the retired from the live (`_deploy`), so a deployer that may delete nothing else deletes these.
    delete_jwt_generations: bool = False


@dataclass(frozen=True)
class Role:
    label: str
    grants: tuple[Grant, ...]
    promise: Promise


_LIST = (Grant("inspect", "vaults"), Grant("inspect", "keys"))

SYNC: Final = Role(
    "sync identity",
    (
        # GetSecretBundleByName: the values ESO copies, of this environment's services only (by name).
        Grant("read", "secret-bundles", per_service=True),
        Grant("read", "vaults"),  # GetVault: ESO's store check
    ),
    Promise(read=True, write=False, delete=False),
)

_READ_VALUES = (
    Grant("inspect", "vaults"),
    Grant("read", "vaults"),
    Grant("read", "secret-family"),
)
_OPERATE = (
    *_LIST,
    Grant("read", "vaults"),
    Grant("read", "keys"),
    # manage keys holds KEY_DELETE too: only the rotation (CreateKeyVersion) is kept.
    Grant("manage", "keys", only="KEY_ROTATE"),
    # use secrets: list, read metadata, UpdateSecret (a new version); no values, no deletion.
    Grant("use", "secrets"),
    Grant("read", "secret-versions"),
)
_FULL = (*_LIST, Grant("manage", "vaults"), Grant("manage", "keys"), Grant("manage", "secret-family"))


def _deploy(may_delete: bool) -> tuple[Grant, ...]:
    """What `pulumi up` needs for everything the program creates. It never reads a secret's value:
    the provider reads a secret with GetSecret (metadata), and OCI generates the JWT secrets itself."""

    def unless_deleting(*permissions: str) -> tuple[str, ...]:
        return () if may_delete else permissions

    return (
        Grant("manage", "vaults", without=unless_deleting("VAULT_DELETE")),
        Grant("manage", "keys", without=unless_deleting("KEY_DELETE")),
        Grant(
            "manage",
            "secret-family",
            without=("SECRET_BUNDLE_READ", *unless_deleting("SECRET_DELETE", "SECRET_VERSION_DELETE")),
        ),
        # A JWT rotation retires the generation before the previous one, so even a deployer that may
        # delete nothing else must delete JWT generations. A name pattern cannot tell the retired one
        # from the live ones (names are fixed, the signing generation moves): it covers them all.
        *(() if may_delete else (Grant("manage", "secrets", only="SECRET_DELETE", named="*.jwt-secret*"),)),
        # No IAM at all: a deployer that could write a policy could grant itself anything (CIS OCI
        # landing zones keep `manage policies` with the IAM administrators); the IAM program does it.
        # The environment's Notifications topic, its mail subscriptions and its Events rule, deletion
        # included in every tier: they hold no data, and the program replaces them when they move.
        Grant("manage", "ons-topics"),
        Grant("manage", "ons-subscriptions"),
        Grant("manage", "cloudevents-rules"),
    )


# With disasterRecovery, the deployer also creates every secret with a replication config and updates live
# ones to add it. OCI's Vault policy reference lists `secret-replication` as a resource type of its own,
# outside `secret-family`, and names no narrower verb for it here: `manage` in the environment's
# compartment. The replicas' vault and key are covered by the deployer's `manage vaults` / `manage keys`
# (a compartment spans regions). Whether OCI's secret service also needs a statement of its own to encrypt
# a replica with the target key is not documented: only a real tenancy shows it (docs/disaster-recovery.md).
REPLICATION: Final = (Grant("manage", "secret-replication"),)

TIERS: Final[dict[TierName, dict[RoleName, Role]]] = {
    # Services read their own secrets through the sync identity and nothing else does by default.
    "strict": {
        "admin": Role("administrators", _OPERATE, Promise(read=False, write=True, delete=False)),
        "breakGlass": Role("break-glass", _FULL, Promise(read=True, write=True, delete=True)),
        "deployer": Role(
            "deploying CI identity", _deploy(may_delete=False),
            Promise(read=False, write=True, delete=False, delete_jwt_generations=True),
        ),
    },
    "moderate": {
        "admin": Role("administrators", _FULL, Promise(read=True, write=True, delete=True)),
        "readers": Role("readers", _READ_VALUES, Promise(read=True, write=False, delete=False)),
        "deployer": Role("deploying CI identity", _deploy(may_delete=True), Promise(read=False, write=True, delete=True)),
    },
    "relaxed": {
        "admin": Role("developers", _FULL, Promise(read=True, write=True, delete=True)),
        "readers": Role("readers", _READ_VALUES, Promise(read=True, write=False, delete=False)),
        "deployer": Role("deploying CI identity", _deploy(may_delete=True), Promise(read=False, write=True, delete=True)),
    },
}

PRESETS: Final[dict[PresetName, dict[str, Any]]] = {
    "strict": {
        "protect": True,
        "keyRotation": {"automatic": True, "intervalDays": 90},
        # A leaked signing secret forges tokens until it rotates: monthly in production; the
        # previous generation stays accepted until the next rotation, far longer than any token lives.
        "secrets": {
            "preventReuse": True,
            "preventReuseOfDeletedVersions": True,
            "jwtRotation": {"automatic": True, "intervalDays": 30},
        },
    },
    "moderate": {
        "protect": False,
        "keyRotation": {"automatic": True, "intervalDays": 180},
        "secrets": {
            "preventReuse": True,
            "preventReuseOfDeletedVersions": False,
            "jwtRotation": {"automatic": True, "intervalDays": 90},
        },
    },
    "relaxed": {
        "protect": False,
        "keyRotation": {"automatic": False},
        # Development rotates nothing on its own: a rotation there only logs developers out.
        "secrets": {
            "preventReuse": False,
            "preventReuseOfDeletedVersions": False,
            "jwtRotation": {"automatic": False},
        },
    },
}
