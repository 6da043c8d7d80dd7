"""Is a rotation overdue? Read from what a stack last deployed, for the scheduled workflow.

Rotations happen when `pulumi up` runs on or after their due day; a stack's outputs keep the
`nextDue` of its last update. A `nextDue` more than a few days in the past means no update ran
since: a schedule switched off, an approval never given, a run that keeps failing. Nothing else
would say so, so the scheduled workflow runs this and fails loudly.

    pulumi stack output --json --stack production > outputs.json
    python -m offline.rotation_status production outputs.json [--today YYYY-MM-DD]
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


def overdue(stack: str, outputs: Mapping[str, Any], today: date, grace_days: int = GRACE_DAYS) -> list[str]:
    problems = []
    for key, what in SCHEDULES.items():
        due = (outputs.get(key) or {}).get("nextDue")
        if due is None:
            continue
        late = (today - date.fromisoformat(due)).days
        if late > grace_days:
            problems.append(
                f"{stack}: the {what} rotation was due on {due}, {late} days ago, and no update has carried it out "
                f"(stack output {key}.nextDue). Is the scheduled workflow disabled, or its approval pending? "
                f"Run it, or `pulumi up --stack {stack}`."
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.rotation_status", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("stack")
    parser.add_argument("outputs", type=Path, help="the JSON of `pulumi stack output --json`")
    parser.add_argument("--today", type=date.fromisoformat, default=datetime.now(timezone.utc).date())
    args = parser.parse_args(argv)
    problems = overdue(args.stack, json.loads(args.outputs.read_text()), args.today)
    for problem in problems:
        print(f"::error title=Rotation overdue::{problem}")
    if not problems:
        print(f"{args.stack}: no rotation overdue on {args.today.isoformat()} (grace {GRACE_DAYS} days)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
