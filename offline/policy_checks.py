"""Runs the policy pack's own rules on offline runs, and generates the pack's config.

The rules live in the pack (`policy/ecommerce_rules.py`), which CrossGuard runs in its own
environment with `policy/` as its import root; here the same file is loaded by path, so the
plan and the pack share one implementation.

    python -m offline.policy_checks    rewrites policy/config.json (a test fails while it is stale)
"""

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from components.stack_config import load_stack_settings, project_keys
from offline.harness import PROJECT_DIR, STACKS, ProgramRun, stack_file_config

POLICY_DIR = PROJECT_DIR / "policy"
PACK_CONFIG = POLICY_DIR / "config.json"


def load_pack_module(module: str) -> Any:
    if module not in sys.modules:
        spec = importlib.util.spec_from_file_location(module, POLICY_DIR / f"{module}.py")
        assert spec is not None and spec.loader is not None
        sys.modules[module] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[module])
    return sys.modules[module]


rules = load_pack_module("ecommerce_rules")


def resources_of(run: ProgramRun) -> list[Any]:
    return [
        rules.Resource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            props=r.plain_inputs,
            protect=r.protect,
            property_dependencies={k: list(v) for k, v in r.property_dependencies.items()},
        )
        for r in run.resources
    ]


def pack_config(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """What each environment alone may name, and its rotation ceiling, from the stack files."""
    environments: dict[str, dict[str, str]] = {}
    ceilings: dict[str, int] = {}
    for stack in STACKS:
        settings = load_stack_settings(project_keys(stack_file_config(stack, project_dir)), stack)
        environments[stack] = {
            "compartmentId": settings.compartment_id,
            "namespace": settings.kubernetes.namespace,
            "clusterId": settings.kubernetes.cluster_id,
        }
        if settings.key_rotation.automatic and settings.key_rotation.interval_days:
            ceilings[stack] = settings.key_rotation.interval_days
    shared = {"environments": environments, "maxRotationDays": ceilings}
    return {rule.name: shared for rule in rules.RULES if rule.configured}


def check(run: ProgramRun, config: dict[str, Any]) -> list[tuple[Any, str]]:
    return rules.violations(resources_of(run), config)


def main() -> int:
    PACK_CONFIG.write_text(json.dumps(pack_config(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {PACK_CONFIG}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
