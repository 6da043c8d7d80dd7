"""Key rotation schedule, as pure functions of the settings and a date.

OCI rotates keys natively only in VIRTUAL_PRIVATE vaults. In a DEFAULT vault a key rotates
when a new `KeyVersion` is created, so the schedule is computed here: the time since the
anchor date is cut into periods of `interval_days`, and period N (N >= 1) is represented by
exactly one KeyVersion resource named after N. When `pulumi up` runs in a new period, the
program declares the next KeyVersion (OCI makes it current) and stops declaring the old one,
which Pulumi then only forgets (the component sets `retain_on_delete`): its key material
stays in OCI, where older secret versions still need it.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

RotationMethod = Literal["native", "keyVersion", "manual"]

# The schedule as freeform tags on the key. The policy pack reads the same names
# (policy/ecommerce_rules.py, which cannot import this module: it runs on its own).
TAG_METHOD = "rotation-method"
TAG_INTERVAL = "rotation-interval-days"
TAG_ANCHOR = "rotation-anchor"


@dataclass(frozen=True)
class RotationSchedule:
    method: RotationMethod
    interval_days: int | None
    anchor: date | None
    today: date

    @property
    def period(self) -> int:
        """Completed rotation periods since the anchor; 0 before the first rotation is due."""
        if self.method != "keyVersion" or self.anchor is None or self.interval_days is None:
            return 0
        return max(0, (self.today - self.anchor).days // self.interval_days)

    @property
    def next_due(self) -> date | None:
        """The first day on which `pulumi up` creates the next key version (keyVersion method only)."""
        if self.method != "keyVersion" or self.anchor is None or self.interval_days is None:
            return None
        return self.anchor + timedelta(days=(self.period + 1) * self.interval_days)

    def tags(self) -> dict[str, str]:
        """Freeform tags that make the schedule visible to people, audits and policy checks."""
        tags = {TAG_METHOD: self.method}
        if self.interval_days is not None:
            tags[TAG_INTERVAL] = str(self.interval_days)
        if self.anchor is not None and self.method == "keyVersion":
            tags[TAG_ANCHOR] = self.anchor.isoformat()
        return tags


def key_version_name(key_resource_name: str, period: int) -> str:
    return f"{key_resource_name}-v{period}"
