"""Runs the policy pack's own rules on offline runs, with the pack's committed config.

The rules live in the pack (`policy/ecommerce_rules.py`), which CrossGuard runs in its own
environment with `policy/` as its import root; here the same file is loaded by path, so the
plan and the pack share one implementation. The config, `policy/config.json`, is the guardrail
authority (`components/guardrails.py`): read as committed, never written here.
"""

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from offline.harness import PROJECT_DIR, ProgramRun

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
    # A provider reference is "<provider URN>::<provider ID>"; the engine hands rules the provider's inputs.
    providers = {r.urn: r.plain_inputs for r in run.registrations if r.type.startswith("pulumi:providers:")}
    return [
        rules.Resource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            props=r.plain_inputs,
            protect=r.protect,
            property_dependencies={k: list(v) for k, v in r.property_dependencies.items()},
            provider=providers.get(r.provider.rsplit("::", 1)[0], {}),
        )
        for r in run.resources
    ]


def pack_config(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The pack's config as committed in `project_dir`: the guardrail authority, never derived from the stack files."""
    return json.loads((project_dir / PACK_CONFIG.relative_to(PROJECT_DIR)).read_text())


def check(run: ProgramRun, config: dict[str, Any]) -> list[tuple[Any, str]]:
    return rules.violations(resources_of(run), config)
