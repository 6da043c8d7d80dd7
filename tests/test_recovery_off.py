"""Turning disaster recovery, or its standby, off through time (reviewer rv6).

Each scenario runs the real program under the mocks twice, the second time with the first run's outputs as the
engine hands them, and checks what the engine would do: it deletes a resource the program no longer declares with
the protect flag its state holds (pulumi/pulumi pkg/resource/deploy/step.go, DeleteStep.Apply:
deleteProtectedError), after carrying out the other steps. So an update the guard lets through must not stop
declaring anything the previous update registered with protect.
"""

from typing import Any

import pytest

from components.settings_errors import SettingsError
from offline.harness import ProgramRun
from tests.test_disaster_recovery import production, with_recovery, without_recovery  # noqa: F401 (fixtures)
from tests.test_replacements import left_protected, with_setting
from tests.test_rotation import as_the_engine_hands_them


def next_update(before: ProgramRun, config: dict[str, Any]) -> ProgramRun | None:
    """The next update, or None when the guard refuses it before anything is registered."""
    try:
        return production(config, deployed=as_the_engine_hands_them(before))
    except SettingsError:
        return None


def test_removing_the_standby_with_protect_turned_off_in_the_same_update_leaves_nothing_protected(with_recovery):
    """The state holds the flag the LAST update declared, whatever this one's settings say. Production deployed with
    its (protected) standby; one update sets protect: false, removes disasterRecovery.standby and allows
    disasterRecovery.standby.clusterId: refused, or the engine would refuse to delete the standby's namespace and
    releases after deleting its ExternalSecrets (and with them, creationPolicy Owner, the Secrets they synced)."""
    deployed = production(with_recovery)
    config = with_setting(with_setting(with_recovery, "protect", False), "disasterRecovery.standby", None)
    after = next_update(deployed, with_setting(config, "allowReplacement", ["disasterRecovery.standby.clusterId"]))
    assert after is None or left_protected(deployed, after) == []


def test_turning_recovery_off_with_protect_turned_off_after_lifting_only_the_replicas_leaves_nothing_protected(with_recovery, without_recovery):
    """The same through the lift update: it allows only disasterRecovery.region (as docs/disaster-recovery.md's
    staging tear-down says), which records `unprotected: [replicas]`; the update that turns recovery off also sets
    protect: false, which unprotects nothing it no longer declares: refused."""
    first = production(with_recovery)
    lifted = next_update(first, with_setting(with_recovery, "allowReplacement", ["disasterRecovery.region"]))
    assert lifted is not None
    config = with_setting(with_setting(without_recovery, "protect", False), "allowReplacement", ["disasterRecovery.region"])
    off = next_update(lifted, config)
    assert off is None or left_protected(lifted, off) == []




def test_the_steps_to_turn_recovery_off_name_the_authority_change_with_the_second_update(with_recovery, without_recovery):
    """Production's authority records its standby (policy/config.json standbyClusterId): the update that removes
    disasterRecovery is refused by the pack's replicas-everywhere unless that entry goes in the same reviewed change,
    and the lift update before it by the program (settings.py) if it goes earlier: the refusal's steps, the ones a
    deployer follows, say so."""
    deployed = as_the_engine_hands_them(production(with_recovery))
    with pytest.raises(SettingsError) as refused:
        production(without_recovery, deployed=deployed)
    assert "standbyClusterId" in str(refused.value)
