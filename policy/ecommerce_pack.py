"""Turns the plain rules of `ecommerce_rules` into CrossGuard policies, and serves them.

Kept apart from `__main__.py` so that it can be imported (and type-checked) without starting
the analyzer's gRPC server, which never returns.
"""

from collections.abc import Callable, Mapping, Sequence
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2_grpc
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
from pulumi_policy.policy import _PolicyAnalyzerServicer  # noqa: PLC2701 - see StrictConfigAnalyzer

import ecommerce_config
from ecommerce_rules import RULES, Resource, Rule, context_from

NAME = "ecommerce-kms-vault-guardrails"
CONFIG_SCHEMA = PolicyConfigSchema(
    properties=ecommerce_config.SCHEMA["properties"], required=ecommerce_config.SCHEMA["required"]
)


def _resource(type_: str, name: str, urn: str, props: Mapping[str, Any], protect: bool,
              property_dependencies: Mapping[str, Sequence[PolicyResource]] | None = None) -> Resource:
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


class StrictConfigAnalyzer(_PolicyAnalyzerServicer):
    """pulumi_policy's analyzer, refusing at Configure a config that `ecommerce_config` finds wrong.

    pulumi_policy 1.21 has no hook for this: its `PolicyPack` builds the servicer itself, so the
    pack builds and serves this subclass the way `PolicyPack.__init__` does (`serve`).
    """

    def Configure(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802 - gRPC method name
        given = {name: json_format.MessageToDict(c.properties) for name, c in request.policyConfig.items()}
        found = ecommerce_config.problems(given)
        if found:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{len(found)} problem(s) in the policy pack config; {ecommerce_config.FIX}:\n  - " + "\n  - ".join(found),
            )
        return super().Configure(request, context)


def serve(version: str) -> None:
    """Listen on a free local port and print it as the first line of stdout, as the engine expects."""
    analyzer = StrictConfigAnalyzer(NAME, version, policies(), EnforcementLevel.MANDATORY)
    # As PolicyPack does: AnalyzeStack carries the whole stack in one message, beyond gRPC's 4 MB default.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)])
    analyzer_pb2_grpc.add_AnalyzerServicer_to_server(analyzer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    server.wait_for_termination()
