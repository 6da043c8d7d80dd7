"""CrossGuard entry point: `pulumi preview --policy-pack policy --policy-pack-config policy/config.json`."""

from pulumi_policy import EnforcementLevel, PolicyPack

from ecommerce_pack import policies

PolicyPack(
    name="ecommerce-kms-vault-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=policies(),
)
