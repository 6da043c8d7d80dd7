"""The pack's config: one JSON schema, enforced twice, so that a bad config never runs weaker.

Every policy that reads config (`Rule.configured`) declares `SCHEMA`'s properties and required
keys. The engine validates each policy's config against that before it calls Configure
(pulumi/pulumi `pkg/resource/analyzer/config.go`, `ReconcilePolicyPackConfig`), but it keeps only
`properties` and `required` of the schema (`convertSchema`), so it would let an unknown top-level
key through; and it passes config for names that are no policy of the pack. `problems` checks the
whole schema, unknown keys included, and the pack refuses such a config at Configure.

    policy/config.json is generated from the stack files: `python -m offline.policy_checks`.
"""

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft7Validator

from ecommerce_rules import ENVIRONMENTS, ROTATING_ENVIRONMENTS, RULES, plain

# Draft 4 keywords only, which both gojsonschema (the engine) and jsonschema (here) read alike.
_DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


def _ocid(kind: str) -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": rf"^ocid1\.{kind}\.oc[0-9]+\.[a-z0-9-]*\.[a-z0-9]+$",
        "description": f"OCID of a {kind}, shaped like ocid1.{kind}.oc1.<region or empty>.<unique id>",
    }


_ENVIRONMENT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["compartmentId", "namespace", "clusterId"],
    "properties": {
        "compartmentId": _ocid("compartment"),
        "namespace": {"type": "string", "pattern": _DNS_LABEL, "maxLength": 63,
                      "description": "the environment's Kubernetes namespace (a DNS label)"},
        "clusterId": _ocid("cluster"),
    },
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["environments", "maxRotationDays"],
    "properties": {
        "environments": {
            "type": "object",
            "description": "environment → the identifiers only it may name: compartmentId, namespace, clusterId",
            "required": list(ENVIRONMENTS),
            "patternProperties": {_DNS_LABEL: _ENVIRONMENT},
            "additionalProperties": False,
        },
        "maxRotationDays": {
            "type": "object",
            "description": "rotating environment → longest allowed key rotation interval, in days (1-365)",
            "required": list(ROTATING_ENVIRONMENTS),
            "patternProperties": {_DNS_LABEL: {"type": "integer", "minimum": 1, "maximum": 365}},
            "additionalProperties": False,
        },
    },
}

_VALIDATOR = Draft7Validator(SCHEMA)
CONFIGURED = frozenset(rule.name for rule in RULES if rule.configured)
POLICIES = frozenset(rule.name for rule in RULES)
FIX = "regenerate policy/config.json with `python -m offline.policy_checks`"


def _where(path: Any) -> str:
    return ".".join(str(part) for part in path) or "(the policy's config)"


def problems(config_by_policy: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What is wrong with the config the pack is given, per policy, naming each bad key."""
    # "all" is the engine's key for every policy's enforcement level; it carries no properties.
    found = [f"{name}: no such policy in this pack (policies: {', '.join(sorted(POLICIES))})"
             for name in sorted(set(config_by_policy) - POLICIES - {"all"})]
    for name in sorted(CONFIGURED):
        # The engine's numbers arrive as floats: 400 is reported as 400, not 400.0.
        config = plain(config_by_policy.get(name) or {})
        for error in sorted(_VALIDATOR.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
            found.append(f"{name}: {_where(error.absolute_path)}: {error.message}")
    for name in sorted(POLICIES - CONFIGURED | {"all"}):
        if config_by_policy.get(name):
            found.append(f"{name}: takes no config (keys {', '.join(sorted(config_by_policy[name]))})")
    return found
