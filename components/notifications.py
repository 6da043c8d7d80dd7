"""What people are told, as pure functions: the OCI Events rule that feeds the environment's
Notifications topic.

The rule lives in the environment's own compartment, so it sees only that compartment's events
(OCI: "rules apply to events in the compartment in which you create them and any child
compartments", oci SDK `CreateRuleDetails.condition`); the condition names the compartment once
more so that a child compartment added later does not leak its events into this topic.
"""

import json
from dataclasses import dataclass
from typing import Final, Literal

Confidence = Literal["oracle-docs", "third-party-list", "unconfirmed"]


@dataclass(frozen=True)
class EventType:
    name: str
    what: str
    # Where the name comes from: docs/deployment.md lists these, and says which to check in the console.
    source: Confidence


EVENT_TYPES: Final = (
    # docs.oracle.com/iaas/Content/KeyManagement/Tasks/event_notification.htm, "Vault Event Types".
    EventType("com.oraclecloud.keymanagementservice.schedulevaultdeletion.end", "vault scheduled for deletion", "oracle-docs"),
    EventType("com.oraclecloud.keymanagementservice.cancelvaultdeletion.end", "vault deletion cancelled", "oracle-docs"),
    # The same page's "Key Event Types", read only through a third-party copy of its table.
    EventType("com.oraclecloud.keymanagementservice.createkeyversion.end", "new key version (a rotation)", "third-party-list"),
    EventType("com.oraclecloud.keymanagementservice.schedulekeydeletion.end", "key scheduled for deletion", "third-party-list"),
    EventType("com.oraclecloud.keymanagementservice.cancelkeydeletion.end", "key deletion cancelled", "third-party-list"),
    # No Oracle page listing the secret service's event types was found; these follow the names
    # the Audit service uses for the same operations.
    EventType("com.oraclecloud.vaultsecret.createsecret", "new secret (a JWT secret generation)", "unconfirmed"),
    EventType("com.oraclecloud.vaultsecret.createsecretversion", "new secret version (a changed database URL)", "unconfirmed"),
    EventType("com.oraclecloud.vaultsecret.schedulesecretdeletion", "secret scheduled for deletion", "unconfirmed"),
    EventType("com.oraclecloud.vaultsecret.cancelsecretdeletion", "secret deletion cancelled", "unconfirmed"),
)


def rule_condition(compartment_id: str) -> str:
    """The Events rule's filter: these event types, from this compartment only."""
    return json.dumps(
        {"eventType": [event.name for event in EVENT_TYPES], "data": {"compartmentId": compartment_id}},
        separators=(",", ":"),
    )


def delivery_statements(compartment_id: str) -> list[str]:
    """The Events service may publish to the environment's topics (OCI Events IAM policy reference)."""
    return [f"Allow service cloudEvents to use ons-topics in compartment id {compartment_id}"]
