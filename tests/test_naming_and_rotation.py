"""Pure functions: OCI-legal names, and the rotation clock's arithmetic."""

import re
from datetime import date, timedelta

import pytest

from components.naming import DEFAULT_SERVICES, OCI_SECRET_NAME_MAX, SECRET_KINDS, oci_secret_name, secret_path
from components.rotation import Clock, JwtGenerations, Schedule
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


SCHEDULE = Schedule(method="keyVersion", interval_days=90)
SINCE = date(2026, 1, 1)


@pytest.mark.parametrize(("days_since", "current"), [(-10, 3), (0, 3), (89, 3), (90, 4), (91, 4), (900, 4)])
def test_an_update_rotates_one_step_once_the_interval_has_passed(days_since, current):
    """Due `intervalDays` after the current one took over; however late the update, exactly one step,
    and the late day becomes the new `since`."""
    today = SINCE + timedelta(days=days_since)
    clock = Clock(3, SINCE).advanced(SCHEDULE, today)
    assert clock.current == current
    assert clock.since == (today if current == 4 else SINCE)


def test_next_due_is_the_first_day_that_rotates():
    """The due date moves the clock, and not a day earlier."""
    clock = Clock(0, SINCE)
    due = clock.next_due(SCHEDULE)
    assert due is not None
    assert clock.advanced(SCHEDULE, due).current == 1
    assert clock.advanced(SCHEDULE, due - timedelta(days=1)).current == 0


@pytest.mark.parametrize("method", ["native", "manual"])
def test_only_the_program_s_own_methods_rotate(method):
    """Native rotation is OCI's job and manual rotation is a person's: neither moves the clock."""
    plan = Schedule(method=method, interval_days=90 if method == "native" else None)
    clock = Clock(2, date(2020, 1, 1))
    assert (clock.advanced(plan, date(2026, 1, 1)), clock.next_due(plan)) == (clock, None)
    assert plan.tags()["rotation-method"] == method


@pytest.mark.parametrize(
    ("signing", "ahead", "kept"),
    [(0, False, [0, 1]), (1, False, [0, 1, 2]), (7, False, [6, 7, 8]), (0, True, [0, 1, 2]), (7, True, [6, 7, 8, 9])],
)
def test_three_generations_once_a_previous_one_exists(signing, ahead, kept):
    """Signing, the one before it (from the first rotation on) and the next one, plus the one after next
    where an update does not rotate (JwtGenerations.ahead): nothing else is kept."""
    assert JwtGenerations(signing, ahead).kept == kept
