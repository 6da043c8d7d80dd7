"""Turns the plain rules of `ecommerce_rules` into CrossGuard policies, through pulumi_policy's public API.

Kept apart from `__main__.py` so that it can be imported (and type-checked) without starting
the analyzer's gRPC server (`PolicyPack` serves from its constructor and never returns).

The config (`policy/config.json`, the guardrail authority) is validated by the engine before
Configure: each configured policy's properties against `{type: object, properties, required}` of
its schema (pulumi/pulumi `pkg/resource/analyzer/config.go`: `validatePolicyPackConfig`,
`convertSchema`), and a config entry for a name that is no policy is refused for its missing
enforcement level (`ReconcilePolicyPackConfig`, then `analyzer_plugin.go` Configure). Nested
objects keep their whole schema, so a misspelt identifier key is refused there; only an unknown
top-level key passes, which no rule reads (every key a rule reads is required).
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyPack,
    PolicyConfigSchema,
    PolicyProviderResource,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

import ecommerce_config
from ecommerce_rules import RULES, Resource, Rule, context_from

NAME = "ecommerce-kms-vault-guardrails"
CONFIG_SCHEMA = PolicyConfigSchema(
    properties=ecommerce_config.SCHEMA["properties"], required=ecommerce_config.SCHEMA["required"]
)


def _resource(type_: str, name: str, urn: str, props: Mapping[str, Any], protect: bool,
              provider: PolicyProviderResource | None,
              property_dependencies: Mapping[str, Sequence[PolicyResource]] | None = None) -> Resource:
    return Resource(
        type=type_,
        name=name,
        urn=urn,
        props=props,
        protect=protect,
        property_dependencies={k: [d.urn for d in deps] for k, deps in (property_dependencies or {}).items()},
        provider=provider.props if provider is not None else {},
    )


def resource_validator(rule: Rule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    check = rule.resource_check
    assert check is not None

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = _resource(args.resource_type, args.name, args.urn, args.props, args.opts.protect, args.provider)
        for message in check(resource, context_from(args.get_config())):
            report_violation(message, args.urn)

    return validate


def stack_validator(rule: Rule) -> Callable[[StackValidationArgs, ReportViolation], None]:
    check = rule.stack_check
    assert check is not None

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            _resource(r.resource_type, r.name, r.urn, r.props, r.opts.protect, r.provider, r.property_dependencies)
            for r in args.resources
        ]
        for message in check(resources, context_from(args.get_config())):
            report_violation(message, None)

    return validate


def policies() -> list[Policy]:
    def common(rule: Rule) -> dict[str, Any]:
        return {
            "name": rule.name,
            "description": rule.description,
            "enforcement_level": EnforcementLevel(rule.level),
            "config_schema": CONFIG_SCHEMA if rule.configured else None,
        }

    return [
        ResourceValidationPolicy(validate=resource_validator(rule), **common(rule))
        if rule.resource_check
        else StackValidationPolicy(validate=stack_validator(rule), **common(rule))
        for rule in RULES
    ]


def serve() -> None:
    """Serve the pack as the engine expects (the port on stdout's first line); the CLI takes the
    version from PulumiPolicy.yaml."""
    PolicyPack(NAME, policies(), EnforcementLevel.MANDATORY)
