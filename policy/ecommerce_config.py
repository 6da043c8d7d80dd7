"""The schema of the pack's config, `policy/config.json`: the guardrail authority.

Every policy that reads config (`Rule.configured`) declares `SCHEMA`'s properties and required
keys; the engine validates each policy's config against them before it calls Configure
(pulumi/pulumi `pkg/resource/analyzer/config.go`, `validatePolicyPackConfig`). The file is kept by
the security/platform team (`.github/CODEOWNERS`) and changed in its own reviewed commit: it is
never generated from the stack files, whose limits it sets (docs/isolation.md).
"""

from typing import Any

from ecommerce_rules import ENVIRONMENTS, ROTATING_ENVIRONMENTS

# Draft 4 keywords only, which both gojsonschema (the engine) and jsonschema (the tests) read alike.
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
    "required": ["compartmentId", "namespace", "clusterId", "installsOperators"],
    "properties": {
        "compartmentId": _ocid("compartment"),
        "namespace": {"type": "string", "pattern": _DNS_LABEL, "maxLength": 63,
                      "description": "the environment's Kubernetes namespace (a DNS label)"},
        "clusterId": _ocid("cluster"),
        "standbyClusterId": {**_ocid("cluster"), "description": "OCID of the environment's standby cluster in its "
                             "disaster-recovery region (disasterRecovery.standby), if it has one"},
        "installsOperators": {"type": "boolean",
                              "description": "whether this environment installs ESO and Reloader on its cluster; "
                                             "on a cluster several environments share, exactly one does"},
    },
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["environments", "maxRotationDays"],
    "properties": {
        "environments": {
            "type": "object",
            "description": "environment → the identifiers only it may use (compartmentId, namespace, clusterId; a cluster "
                           "listed for several is shared on purpose) and whether it installs the cluster's operators",
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
