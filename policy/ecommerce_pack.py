"""Turns the plain rules of `ecommerce_rules` into CrossGuard policies.

Kept apart from `__main__.py` because constructing a `PolicyPack` starts the analyzer's gRPC
server and never returns: this module can be imported (and tested) without that.
"""

from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from ecommerce_rules import RULES, Resource, Rule, context_from

# Every rule reads the same config, generated from the stack files: `python -m offline.policy_config`.
CONFIG_SCHEMA = PolicyConfigSchema(
    properties={
        "environments": {"type": "object", "description": "environment → compartmentId, namespace, clusterId"},
        "maxRotationDays": {"type": "object", "description": "environment → longest allowed key rotation interval"},
    }
)


def _resource(type_: str, name: str, urn: str, props: Mapping[str, Any], protect: bool,
              property_dependencies: Mapping[str, list[PolicyResource]] | None = None) -> Resource:
    return Resource(
        type=type_,
        name=name,
        urn=urn,
        props=props,
        protect=protect,
        property_dependencies={k: [d.urn for d in deps] for k, deps in (property_dependencies or {}).items()},
    )


def resource_validator(rule: Rule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    check = rule.resource_check
    assert check is not None

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = _resource(args.resource_type, args.name, args.urn, args.props, args.opts.protect)
        for message in check(resource, context_from(args.get_config())):
            report_violation(message, args.urn)

    return validate


def stack_validator(rule: Rule) -> Callable[[StackValidationArgs, ReportViolation], None]:
    check = rule.stack_check
    assert check is not None

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            _resource(r.resource_type, r.name, r.urn, r.props, r.opts.protect, r.property_dependencies)
            for r in args.resources
        ]
        for message in check(resources, context_from(args.get_config())):
            report_violation(message, None)

    return validate


def policies() -> list[Policy]:
    common: dict[str, Any] = {"config_schema": CONFIG_SCHEMA}
    return [
        ResourceValidationPolicy(
            name=rule.name, description=rule.description, validate=resource_validator(rule),
            enforcement_level=EnforcementLevel(rule.level), **common,
        )
        if rule.resource_check
        else StackValidationPolicy(
            name=rule.name, description=rule.description, validate=stack_validator(rule),
            enforcement_level=EnforcementLevel(rule.level), **common,
        )
        for rule in RULES
    ]
