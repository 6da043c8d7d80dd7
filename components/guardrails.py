"""The guardrail authority: what each environment owns and how far its key may go between rotations.

`policy/config.json` is data kept apart from the stacks: per environment the identifiers only it
may use (compartment, cluster, namespace), whether it installs the cluster-wide operators on its
cluster, and the longest key rotation interval its tier promises. The security/platform team owns
it (`.github/CODEOWNERS`) and changes it in a reviewed commit of its own; nothing regenerates it
from the stack files, so a stack can never raise its own ceiling or claim a neighbour's
identifiers by editing itself.

Two readers, one file: the CrossGuard pack gets it as its `--policy-pack-config` (one identical
entry per configured policy, the engine's format), and the program reads it here, so that a stack
deployed without the pack is refused all the same (`components/settings.py`, `_check_guardrails`).
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# In the checkout of the program itself, never beside a stack file: a stack cannot bring its own.
# Not Final: the offline harness points it at the checkout it runs (a copy of the project has its own).
AUTHORITY_FILE = Path(__file__).resolve().parent.parent / "policy" / "config.json"
AUTHORITY_NAME: Final = "policy/config.json"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class OwnedIdentifiers(_Data):
    compartment_id: str = Field(alias="compartmentId")
    cluster_id: str = Field(alias="clusterId")
    # Its standby cluster in the disaster-recovery region (docs/disaster-recovery.md), if it has one.
    standby_cluster_id: str | None = Field(default=None, alias="standbyClusterId")
    namespace: str
    # On a cluster several environments share, the one that installs ESO and Reloader there.
    installs_operators: bool = Field(alias="installsOperators")


class Guardrails(_Data):
    environments: dict[str, OwnedIdentifiers]
    max_rotation_days: dict[str, int] = Field(alias="maxRotationDays")

    def others(self, environment: str) -> dict[str, OwnedIdentifiers]:
        return {name: owned for name, owned in self.environments.items() if name != environment}


class AuthorityError(Exception):
    """The authority file is missing, malformed, or its copies disagree: nothing may be deployed."""


def parse(config_by_policy: Mapping[str, object]) -> Guardrails:
    """The one entry every configured policy of the pack config holds; its copies must be identical."""
    entries = list(config_by_policy.values())
    if not entries or any(entry != entries[0] for entry in entries):
        raise AuthorityError(
            f"{AUTHORITY_NAME}: every policy's entry must hold the same guardrails "
            f"(policies: {', '.join(sorted(config_by_policy)) or 'none'}); fix it in a commit its owners review"
        )
    try:
        return Guardrails.model_validate(entries[0])
    except ValidationError as error:
        raise AuthorityError(f"{AUTHORITY_NAME} is malformed: {error}") from None


def load(path: Path | None = None) -> Guardrails:
    """The authority of the checkout the program runs from (`AUTHORITY_FILE`, read when called)."""
    path = path or AUTHORITY_FILE
    try:
        return parse(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError) as error:
        raise AuthorityError(f"{AUTHORITY_NAME} cannot be read ({error}): the program refuses to run without it") from None
