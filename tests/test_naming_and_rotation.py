"""Pure functions: OCI-legal names, and the rotation schedule's arithmetic."""

import re
from datetime import date, timedelta

import pytest

from components.naming import DEFAULT_SERVICES, OCI_SECRET_NAME_MAX, SECRET_KINDS, oci_secret_name, secret_path
from components.rotation import RotationSchedule
from offline.harness import STACKS

OCI_SECRET_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


def test_every_oci_secret_name_is_legal_short_and_unique():
    """OCI secret names allow letters, digits, '-', '_', '.', and must be unique in the vault."""
    names = [oci_secret_name(s, k) for s in DEFAULT_SERVICES for k in SECRET_KINDS]
    assert all(OCI_SECRET_NAME.match(n) and len(n) <= OCI_SECRET_NAME_MAX for n in names)
    assert len(set(names)) == len(names) == 22


def test_logical_paths_keep_the_described_form_and_are_unique_across_environments():
    """`ecommerce/<env>/<service>/<secret>`, one per environment, service and secret."""
    paths = {secret_path(e, s, k) for e in STACKS for s in DEFAULT_SERVICES for k in SECRET_KINDS}
    assert len(paths) == 66
    assert secret_path("production", "auth-service", "database-url") == "ecommerce/production/auth-service/database-url"


def schedule(today: date, anchor: date = date(2026, 1, 1), interval: int = 90) -> RotationSchedule:
    return RotationSchedule(method="keyVersion", interval_days=interval, anchor=anchor, today=today)


@pytest.mark.parametrize(
    ("days_after_anchor", "period"),
    [(-10, 0), (0, 0), (89, 0), (90, 1), (179, 1), (180, 2), (365 * 3, 12)],
)
def test_period_counts_completed_intervals(days_after_anchor, period):
    """Period N starts on anchor + N × interval; before the anchor nothing rotates."""
    assert schedule(date(2026, 1, 1) + timedelta(days=days_after_anchor)).period == period


def test_next_due_is_the_first_day_of_the_next_period():
    """The due date moves the period by exactly one, and not a day earlier."""
    current = schedule(date(2026, 11, 30))
    due = current.next_due
    assert due is not None
    assert schedule(due).period == current.period + 1
    assert schedule(due - timedelta(days=1)).period == current.period


@pytest.mark.parametrize("method", ["native", "manual"])
def test_only_key_version_rotation_creates_key_versions(method):
    """Native rotation is OCI's job and manual rotation is a person's: neither has periods here."""
    plan = RotationSchedule(method=method, interval_days=90, anchor=date(2020, 1, 1), today=date(2026, 1, 1))
    assert (plan.period, plan.next_due) == (0, None)
    assert plan.tags()["rotation-method"] == method
