"""Is a rotation due, or overdue? Read from what a stack last deployed, for the scheduled workflow.

Rotations happen when `pulumi up` runs on or after their due day; a stack's outputs keep the
`nextDue` of its last update (`keyRotation`, `jwtRotation`: `intervalDays` after the current one
took over, components/rotation.py). Due: that day has come, so the workflow runs `pulumi up`.
Overdue: it passed more than a few days ago and no update has carried it out since (a schedule
switched off, an approval never given, a run that keeps failing). Nothing else would say so, so
the workflow fails loudly. The workflow passes `--today`: the one day its whole run decides for.

    pulumi stack output --json --stack production > outputs.json
    python -m offline.rotation_status due production outputs.json        prints true or false
    python -m offline.rotation_status overdue production outputs.json    exit 1 when overdue
"""

import argparse
import json
import sys
from collections.abc import Mapping
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Final

# A day for the daily schedule to come round, and two for an approval to be given.
GRACE_DAYS: Final = 3
SCHEDULES: Final = {"keyRotation": "master key", "jwtRotation": "JWT signing secrets"}


def _days_late(outputs: Mapping[str, Any], today: date) -> dict[str, int]:
    """Per schedule with a due date: days since it (negative while it is ahead)."""
    dues = {key: (outputs.get(key) or {}).get("nextDue") for key in SCHEDULES}
    return {key: (today - date.fromisoformat(due)).days for key, due in dues.items() if due is not None}


def due(outputs: Mapping[str, Any], today: date) -> bool:
    return any(late >= 0 for late in _days_late(outputs, today).values())


def overdue(stack: str, outputs: Mapping[str, Any], today: date, grace_days: int = GRACE_DAYS) -> list[str]:
    problems = []
    for key, late in _days_late(outputs, today).items():
        if late > grace_days:
            what, due_on = SCHEDULES[key], outputs[key]["nextDue"]
            problems.append(
                f"{stack}: the {what} rotation was due on {due_on}, {late} days ago, and no update has carried it out "
                f"(stack output {key}.nextDue). Is the scheduled workflow disabled, or its approval pending? "
                f"Run it, or `pulumi up --stack {stack}`."
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.rotation_status", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("question", choices=("due", "overdue"))
    parser.add_argument("stack")
    parser.add_argument("outputs", type=Path, help="the JSON of `pulumi stack output --json`")
    parser.add_argument("--today", type=date.fromisoformat, default=datetime.now(timezone.utc).date())
    args = parser.parse_args(argv)
    outputs = json.loads(args.outputs.read_text())
    if args.question == "due":
        print("true" if due(outputs, args.today) else "false")
        return 0
    problems = overdue(args.stack, outputs, args.today)
    for problem in problems:
        print(f"::error title=Rotation overdue::{problem}")
    if not problems:
        print(f"{args.stack}: no rotation overdue on {args.today.isoformat()} (grace {GRACE_DAYS} days)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
