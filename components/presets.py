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
        "secrets": {"preventReuse": True, "preventReuseOfDeletedVersions": True},
    },
    "moderate": {
        "protect": False,
        "keyRotation": {"automatic": True, "intervalDays": 180},
        "secrets": {"preventReuse": True, "preventReuseOfDeletedVersions": False},
    },
    "relaxed": {
        "protect": False,
        "keyRotation": {"automatic": False},
        "secrets": {"preventReuse": False, "preventReuseOfDeletedVersions": False},
    },
}

