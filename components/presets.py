"""The named presets a stack picks (`preset: strict | moderate | relaxed`), as data.

A stack's own values win over its preset's, key by key; the settings model fills in the rest
from here (`components/settings.py`). Keys are the stack file's camelCase keys.
"""

from typing import Any, Final, Literal

PresetName = Literal["strict", "moderate", "relaxed"]

PRESETS: Final[dict[PresetName, dict[str, Any]]] = {
    "strict": {
        "protect": True,
        "keyRotation": {"automatic": True, "intervalDays": 90},
        # A leaked signing secret forges tokens until it rotates: monthly in production; the
        # previous generation stays readable a whole period, far longer than any token lives.
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

