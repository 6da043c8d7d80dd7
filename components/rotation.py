"""Rotation of the master key and of the JWT signing secrets, decided from what the stack deployed last.

OCI rotates keys natively only in VIRTUAL_PRIVATE vaults; everywhere else the program rotates, and
its clock is held in the stack's own state: each update exports which generation (JWT) or key
version it left current and since which day (`jwtRotation`, `keyRotation`), and the next update
reads that back (components/replacement_guard.py, `deployed_state`). A rotation is due once
`intervalDays` have passed since the current one took over; an update on or after that day
rotates exactly one step, whatever the gap, and records its own day as the new `since`. No anchor
date, no period count: a missed month, a changed interval or rotation switched off and on again
moves nothing by itself. docs/rotation.md says why this, and not pulumiverse-time's `Rotating`.

- `keyVersion`: one KeyVersion resource, which OCI makes the key's current version. The one it
  replaces leaves the program and Pulumi only forgets it (`retain_on_delete`): its key material
  stays in OCI, where older secret versions still need it.
- `newSecret`: each service's JWT signing secret is a new OCI-generated secret per generation.
  Three are published at any time: the one that signs, the one before it (accepted) and the next
  one (accepted before anyone signs with it); a rotation promotes next to signing. An update that
  does not rotate also keeps the one after next, unpublished (`JwtGenerations.ahead`).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final, Literal

RotationMethod = Literal["native", "keyVersion", "newSecret", "manual"]
# Methods whose rotations the program carries out by declaring resources.
COUNTED: Final[tuple[RotationMethod, ...]] = ("keyVersion", "newSecret")

# The key's schedule as freeform tags, for people, audits and the policy pack (policy/ecommerce_rules.py,
# which cannot import this module: it runs on its own). Only on the key: a JWT generation carries no tag a
# schedule change would alter, since every update of an auto-generated secret re-sends its generation context.
TAG_METHOD = "rotation-method"
TAG_INTERVAL = "rotation-interval-days"


@dataclass(frozen=True)
class Schedule:
    """What the settings ask for: how, and every how many days."""

    method: RotationMethod
    interval_days: int | None

    @property
    def counted(self) -> bool:
        return self.method in COUNTED and self.interval_days is not None

    def tags(self) -> dict[str, str]:
        tags = {TAG_METHOD: self.method}
        if self.interval_days is not None:
            tags[TAG_INTERVAL] = str(self.interval_days)
        return tags


@dataclass(frozen=True)
class Clock:
    """What the stack holds: which number is current (the JWT generation that signs, or the last
    KeyVersion the program created, 0 being the key's own first version) and since which day."""

    current: int
    since: date

    def next_due(self, schedule: Schedule) -> date | None:
        """The first day an update rotates (None where the program does not rotate)."""
        if not schedule.counted:
            return None
        assert schedule.interval_days is not None
        return self.since + timedelta(days=schedule.interval_days)

    def advanced(self, schedule: Schedule, today: date) -> "Clock":
        """The clock after an update on `today`: one step once due, however late; otherwise unchanged."""
        due = self.next_due(schedule)
        return Clock(self.current + 1, today) if due is not None and today >= due else self


JWT_CURRENT: Final = "signing"
KEY_CURRENT: Final = "version"


@dataclass(frozen=True)
class JwtGenerations:
    """The generations every service's Secret names: signing, the one before it once one exists, the
    next; and those the stack declares, which may hold one more (`ahead`)."""

    signing: int
    # Declare the generation after next too, unpublished. An update that rotates from the deployed
    # clock creates the deployed `next + 1`; when its outputs are not recorded (it failed, or was
    # stopped, after creating it), the stack still holds that generation. Were the next update not to
    # rotate (rotation switched off, a longer interval) and not declare it, Pulumi would delete it, and
    # OCI keeps a deleted secret's name taken while its deletion is pending (up to 30 days): the next
    # rotation would ask for that name again. So every update that does not rotate declares it.
    ahead: bool = False
    # With disaster recovery on, the first generation that replicates (None: off): each one from here on
    # gets its replication config, at creation or in an update; those before never do (`replicated_from`).
    # The standby cluster, which reads replicas only, names only generations from this one on (`replicated`).
    replicated_from: int | None = None
    # The first generation no pod may sign with (`jwt_rotation`): only from here on may an update reach an
    # existing generation (`sends_replication`), whatever the stack's outputs say about the replicas.
    unsigned_from: int = 0

    @property
    def previous(self) -> int | None:
        return self.signing - 1 if self.signing > 0 else None

    @property
    def next(self) -> int:
        return self.signing + 1

    def replicated(self, generation: int | None) -> bool:
        return generation is not None and self.replicated_from is not None and generation >= self.replicated_from

    def sends_replication(self, generation: int) -> bool:
        """Whether this update may send the generation its replication config: creating it sends every input
        anyway; updating it, only one no pod may sign with. An update that failed after moving the replicas
        records nothing, so the next one cannot tell that the replicas' vault changed under the older
        generations: this bound holds regardless (docs/disaster-recovery.md)."""
        return self.replicated(generation) and generation >= self.unsigned_from

    @property
    def standby_signing(self) -> int | None:
        """What the standby cluster signs with: the lowest declared generation from the signing one up that
        replicates. Once recovery has been on for two rotations, the primary's signing one; before, its next one,
        or the one after it (unpublished on the primary: tokens the standby signs with it during a failover
        are refused after failback until a rotation publishes it). None without disaster recovery."""
        candidates = (self.signing, self.next, *([self.next + 1] if self.ahead else []))
        return next((g for g in candidates if self.replicated(g)), None)

    @property
    def kept(self) -> list[int]:
        published = [g for g in (self.previous, self.signing, self.next) if g is not None]
        return published + ([self.next + 1] if self.ahead else [])


@dataclass(frozen=True)
class Rotation:
    """One schedule's state after this update: what the stack exports for the next one to read."""

    schedule: Schedule
    clock: Clock
    # The output field naming `clock.current`: JWT_CURRENT or KEY_CURRENT.
    current_field: str
    # JWT only: the stack declares the generation after next (JwtGenerations.ahead).
    ahead: bool = False
    # JWT only: JwtGenerations.replicated_from and unsigned_from.
    replicated_from: int | None = None
    unsigned_from: int = 0

    @property
    def generations(self) -> JwtGenerations:
        return JwtGenerations(self.clock.current, self.ahead, self.replicated_from, self.unsigned_from)

    def summary(self) -> dict[str, Any]:
        due = self.clock.next_due(self.schedule)
        summary: dict[str, Any] = {
            "method": self.schedule.method,
            "intervalDays": self.schedule.interval_days,
            self.current_field: self.clock.current,
            "since": self.clock.since.isoformat(),
            "nextDue": due.isoformat() if due else None,
        }
        if self.current_field == JWT_CURRENT:
            summary |= {"previous": self.generations.previous, "next": self.generations.next}
            if self.replicated_from is not None:
                summary["replicatedFrom"] = self.replicated_from
        return summary


def deployed_clock(deployed: Mapping[str, Any] | None, current_field: str, today: date) -> Clock:
    """The clock an update starts from, read from the schedule's output of the stack's last update.

    Numbers come back through a protobuf Struct, where every number is a double (3 → 3.0). A stack
    never deployed starts at 0, today. A stack deployed by the program's previous version (an anchor
    and a `period` count, no `since`) keeps its generation, and its period's start as `since`
    (`nextDue - intervalDays`), so that its schedule carries on where it was.
    """
    if not deployed:
        return Clock(0, today)
    if deployed.get(current_field) is not None and deployed.get("since"):
        return Clock(int(deployed[current_field]), date.fromisoformat(str(deployed["since"])))
    current = int(deployed.get("period") or 0)
    due, interval = deployed.get("nextDue"), deployed.get("intervalDays")
    since = date.fromisoformat(str(due)) - timedelta(days=int(interval)) if due and interval else today
    return Clock(current, since)


def key_rotation(deployed: Mapping[str, Any] | None, schedule: Schedule, today: date) -> Rotation:
    clock = deployed_clock(deployed, KEY_CURRENT, today)
    return Rotation(schedule, clock.advanced(schedule, today), KEY_CURRENT)


def replicated_from(
    deployed: Mapping[str, Any] | None, replicating: bool, unsigned: int, replicas_moved: bool = False
) -> int | None:
    """The first JWT generation that replicates, kept from the stack's last update.

    A stack never deployed creates every generation with its replication config (0). On a deployed stack,
    the update that turns replication on gives it to every generation from `unsigned` on, the first one no
    pod can have signed with (`jwt_rotation`), in an update if it exists already (environment_vault.py,
    `_SecretFactory.jwt`, says why that request should write no new value; were OCI to generate one anyway,
    no token would lose its key). Turned off, nothing is recorded; turned on again, counted afresh. Counted
    afresh too when the replicas move (`replicas_moved`: another region or vault type, allowed on purpose):
    the generations before keep replicating to the old target, so they have no replica in the new vault.
    """
    if not replicating:
        return None
    if not deployed:
        return 0
    if deployed.get("replicatedFrom") is not None and not replicas_moved:
        return int(deployed["replicatedFrom"])
    return unsigned


def jwt_rotation(
    deployed: Mapping[str, Any] | None,
    schedule: Schedule,
    today: date,
    replicating: bool = False,
    replicas_moved: bool = False,
) -> Rotation:
    """Signing moves only to a generation every running pod already accepts: the `next` that the last
    update published. A stack whose last update published none (deployed by the previous version of
    this program, which kept two generations) first gets one, and its clock starts that day: the
    rotation waits a full interval, so that no update the same day signs with a key that pods
    started before it do not accept."""
    clock = deployed_clock(deployed, JWT_CURRENT, today)
    published = deployed is not None and deployed.get("next") is not None and int(deployed["next"]) == clock.current + 1
    if not published:
        # Nothing above the deployed signing generation exists yet: this update creates its next.
        unsigned = clock.current + 1 if deployed else 0
        replicas = replicated_from(deployed, replicating, unsigned, replicas_moved)
        return Rotation(schedule, Clock(clock.current, today), JWT_CURRENT, replicated_from=replicas, unsigned_from=unsigned)
    advanced = clock.advanced(schedule, today)
    # Pods may have signed with the deployed next, not only the signing one: an update that rotated and
    # reached the cluster, then failed before its outputs were recorded, left them signing with it. So
    # the first generation no pod can have signed with is the one after (the standby signs with no lower one).
    unsigned = clock.current + 2
    replicas = replicated_from(deployed, replicating, unsigned, replicas_moved)
    # The highest generation any update from this deployed clock creates is the deployed next + 1:
    # a rotation creates it as its next; every other update declares it ahead (JwtGenerations.ahead).
    return Rotation(schedule, advanced, JWT_CURRENT, ahead=advanced == clock, replicated_from=replicas, unsigned_from=unsigned)


def key_version_name(key_resource_name: str, version: int) -> str:
    return f"{key_resource_name}-v{version}"
