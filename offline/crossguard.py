"""Drives the policy pack the way the Pulumi CLI does, over the analyzer gRPC protocol.

The CLI does not import a Python pack: its language host starts the pack's own interpreter and
talks to it over gRPC. This harness does the same, so a test that passes here has exercised what
`pulumi preview --policy-pack policy` runs (facts from pulumi/pulumi at commit 1b59498):

- Environment: the CLI's uv toolchain runs `uv sync` in the pack directory into the virtualenv
  PulumiPolicy.yaml names (`sdk/python/toolchain/uv.go`, `Command`); here `uv sync --locked`,
  so a lock that no longer matches `policy/pyproject.toml` fails instead of drifting.
- Launch: `<venv>/bin/python -u -m pulumi.policy <engine address> <pack dir>`, working directory
  the pack, the venv activated (`sdk/python/cmd/pulumi-language-python/main.go`, `RunPlugin`),
  with `PULUMI_PROJECT`, `PULUMI_STACK`, `PULUMI_DRY_RUN`, `PULUMI_ORGANIZATION` and
  `PULUMI_CONFIG` (the stack's decrypted config, secrets included) set by the host's policy proxy
  (`sdk/policy_proxy.go`); the pack prints its port as the first line of stdout.
- RPCs: ConfigureStack (the proxy forwards it; it answers Handshake itself), GetAnalyzerInfo, the
  config reconciled as `pkg/resource/analyzer/config.go` does it (`engine_policy_config`), then
  Configure; per registration Remediate then Analyze, with the inputs marshalled as
  `pkg/resource/plugin/analyzer_plugin.go` does (unknowns as the unknown sentinel, secrets as
  signature objects, top-level `__` keys dropped for Analyze); finally one AnalyzeStack with every
  resource's outputs, parent, dependencies and non-empty property dependencies
  (`pkg/resource/deploy/step_generator.go`, `AnalyzeResources`).

What cannot be reproduced without the CLI and the providers: the provider's Check (the engine
analyzes checked inputs; here the inputs as registered) and the provider's own outputs (here the
project's mocks, `offline/harness.py`). Resource options the harness does not record
(ignoreChanges, aliases, custom timeouts) are sent empty, and reads (the replacement guard's
StackReference) are not sent to AnalyzeStack; no rule reads any of them.
"""

import json
import os
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import grpc
import jsonschema
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import MockResourceArgs, rpc
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from components.naming import PROJECT
from offline.harness import PROJECT_DIR, PlaceholderMocks, ProgramRun, Registration, engine_config
from offline.policy_checks import rules
from offline.uv import uv_executable

PACK_DIR: Final = PROJECT_DIR / "policy"
# pulumi.policy parses the engine address and never dials it (pulumi/policy/__main__.py).
ENGINE_ADDRESS: Final = "127.0.0.1:0"
LEVELS: Final = {"advisory": analyzer_pb2.ADVISORY, "mandatory": analyzer_pb2.MANDATORY,
                 "remediate": analyzer_pb2.REMEDIATE, "disabled": analyzer_pb2.DISABLED}
LEVEL_NAMES: Final = {number: name for name, number in LEVELS.items()}
STARTUP_SECONDS: Final = 60


class ConfigRefused(Exception):
    """The engine or the pack refused the pack's config: the CLI stops before any resource."""


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    level: str
    message: str
    urn: str


def pack_virtualenv() -> Path:
    """The virtualenv PulumiPolicy.yaml names, which only the uv toolchain creates by itself."""
    options = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())["runtime"]["options"]
    if options.get("toolchain") != "uv":
        raise RuntimeError("policy/PulumiPolicy.yaml must use `toolchain: uv`: with pip the CLI never creates the pack's virtualenv")
    return PACK_DIR / options["virtualenv"]


def sync_pack_environment() -> Path:
    """The pack's virtualenv as the CLI's uv toolchain builds it, but `--locked`; a no-op when up to date."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    result = subprocess.run(
        [uv_executable(), "sync", "--locked", "--quiet"],
        cwd=PACK_DIR, env={**env, "UV_PROJECT_ENVIRONMENT": str(pack_virtualenv())},
        capture_output=True, text=True, timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"`uv sync --locked` in {PACK_DIR} failed:\n{result.stderr}")
    return pack_virtualenv() / "bin" / "python"


def wire(value: Any) -> Any:
    """A registered value in the engine's wire form: unknowns as the sentinel; secrets stay signature objects."""
    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [wire(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"a {type(value).__name__} cannot cross the analyzer protocol in this harness")


def properties(values: Mapping[str, Any], skip_internal: bool) -> struct_pb2.Struct:
    """MarshalProperties(KeepUnknowns, KeepSecrets, SkipInternalKeys=skip_internal) of analyzer_plugin.go."""
    struct = struct_pb2.Struct()
    struct.update({k: wire(v) for k, v in values.items() if not (skip_internal and k.startswith("__"))})
    return struct


def engine_policy_config(info: Any, config_text: str | None) -> dict[str, analyzer_pb2.PolicyConfig]:
    """What the engine sends to Configure for a `--policy-pack-config` file, or refuses.

    pkg/resource/analyzer/config.go: parsePolicyPackConfig (a top-level "environments" is reserved
    for ESC environment names; each other key is a policy name, or "all", given an enforcement
    level or an object), ReconcilePolicyPackConfig (defaults from each schema, then the pack's
    initial config, then the file; "all" sets every level), validatePolicyPackConfig (each
    policy's properties against {type: object, properties, required} of its schema, to which
    GetAnalyzerInfo adds `enforcementLevel`); then analyzer_plugin.go's Configure refuses any
    entry whose level is not valid.
    """
    given: dict[str, tuple[str, dict[str, Any]]] = {}
    if config_text and config_text.strip():
        raw = json.loads(config_text)
        if not isinstance(raw, dict):
            raise ConfigRefused(f"json: cannot unmarshal {type(raw).__name__} into a policy pack config object")
        environments = raw.pop("environments", [])
        if not isinstance(environments, list) or not all(isinstance(e, str) for e in environments):
            raise ConfigRefused(f'"environments" must be an array of strings, got {type(environments).__name__}')
        for name, value in raw.items():
            if isinstance(value, str):
                if value not in LEVELS:
                    raise ConfigRefused(f"parsing enforcement level for {name!r}: {value!r} is not a valid enforcement level")
                given[name] = (value, {})
            elif isinstance(value, dict):
                level = value.pop("enforcementLevel", "")
                if level and level not in LEVELS:
                    raise ConfigRefused(f"parsing enforcement level for {name!r}: {level!r} is not a valid enforcement level")
                if level or value:
                    given[name] = (level, value)
            else:
                raise ConfigRefused(f"parsing {name!r}: {value!r} is not a valid value; must be a string or object")

    # Struct numbers are floats; schemas and messages read better with whole numbers as integers.
    schemas = {p.name: rules.plain(json_format.MessageToDict(p.configSchema)) for p in info.policies}
    result: dict[str, tuple[str, dict[str, Any]]] = {
        p.name: (LEVEL_NAMES[p.enforcementLevel],
                 {k: v["default"] for k, v in schemas[p.name].get("properties", {}).items() if "default" in v})
        for p in info.policies
    }
    initial = {k: (LEVEL_NAMES[c.enforcementLevel], json_format.MessageToDict(c.properties))
               for k, c in info.initialConfig.items()}
    for layer in (initial, given):
        if "all" in layer and layer["all"][0]:
            result = {k: (layer["all"][0], props) for k, (_, props) in result.items()}
        for name, (level, props) in layer.items():
            old_level, old_props = result.get(name, ("", {}))
            result[name] = (level or old_level, {**old_props, **props})

    errors = []
    for name, schema in schemas.items():
        checked = {"type": "object", "properties": {**schema.get("properties", {}),
                   "enforcementLevel": {"type": "string", "enum": list(LEVELS)}}}
        if schema.get("required"):
            checked["required"] = schema["required"]
        for error in jsonschema.Draft7Validator(checked).iter_errors(result[name][1]):
            where = ".".join(map(str, error.absolute_path))
            errors.append(f"{name}: {where + ': ' if where else ''}{error.message}")
    if errors:
        raise ConfigRefused(f"validating policy config for {info.name!r}: " + "; ".join(sorted(errors)))
    for name, (level, _) in result.items():
        if level not in LEVELS:
            raise ConfigRefused(f"configuring policy pack {info.name!r}: invalid enforcement level {level!r} for {name!r}")
    return {name: analyzer_pb2.PolicyConfig(enforcementLevel=LEVELS[level], properties=properties(props, False))
            for name, (level, props) in result.items()}


def _options(r: Registration) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=r.protect, additionalSecretOutputs=list(r.additional_secret_outputs), parent=r.parent,
        # The harness records the flag, not whether the program set it: defined when true.
        deleteBeforeReplace=r.delete_before_replace, deleteBeforeReplaceDefined=r.delete_before_replace,
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(),
    )


def _without_internal_keys(values: struct_pb2.Struct) -> struct_pb2.Struct:
    kept = struct_pb2.Struct()
    for key, value in values.fields.items():
        if not key.startswith("__"):
            kept.fields[key].CopyFrom(value)
    return kept


@dataclass
class PackSession:
    """One launch of the pack for one stack, as one `pulumi preview --stack <stack>` makes it.

    `database_urls` are the stack's secret config, which the engine hands the pack decrypted.
    With the mocks' placeholders the registrations are those of a preview of a deployed stack
    (IDs known from the state); with `first_preview`, those of a stack never deployed.
    """

    run: ProgramRun
    database_urls: Mapping[str, str] | None = None
    # The Pulumi project of the run: the main program's, or the IAM program's.
    project: str = PROJECT
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        python = sync_pack_environment()
        config, secret_keys = engine_config(self.run.config, self.database_urls)
        environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "VIRTUAL_ENV")}
        environ.update(
            PATH=f"{python.parent}{os.pathsep}{environ.get('PATH', '')}",
            VIRTUAL_ENV=str(python.parent.parent),
            PULUMI_ORGANIZATION="organization",
            PULUMI_PROJECT=self.project,
            PULUMI_STACK=self.run.stack,
            PULUMI_DRY_RUN="true",
            PULUMI_CONFIG=json.dumps(config),
        )
        self.process = subprocess.Popen(
            [str(python), "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, str(PACK_DIR)],
            cwd=PACK_DIR, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self._port()}")
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        self.stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=self.run.stack, project=self.project, organization="organization", dry_run=True,
            config=config, config_secret_keys=secret_keys,
        ))
        self.info = self.stub.GetAnalyzerInfo(empty_pb2.Empty())

    def _port(self) -> str:
        out, err = self.process.stdout, self.process.stderr
        assert out is not None and err is not None
        first: list[str] = []
        reader = threading.Thread(target=lambda: first.append(out.readline()), daemon=True)
        reader.start()
        reader.join(STARTUP_SECONDS)
        self._drains = [threading.Thread(target=sink.extend, args=(stream,), daemon=True)
                        for stream, sink in ((out, self.stdout), (err, self.stderr))]
        for drain in self._drains:
            drain.start()
        if not first or not first[0].strip().isdigit():
            self.close()
            raise RuntimeError(f"the pack did not print its port; it wrote:\n{''.join(first + self.stdout + self.stderr)}")
        return first[0].strip()

    def configure(self, config_text: str | None) -> None:
        """`--policy-pack-config` with this file content (None: no flag); ConfigRefused where the CLI stops."""
        self._configure(engine_policy_config(self.info, config_text))

    def _configure(self, policy_config: Mapping[str, analyzer_pb2.PolicyConfig]) -> None:
        try:
            self.stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=dict(policy_config)))
        except grpc.RpcError as error:
            raise ConfigRefused(error.details()) from None  # type: ignore[attr-defined]

    @staticmethod
    def _diagnostics(found: Sequence[Any]) -> list[Diagnostic]:
        # pulumi_policy sends "<policy description>\n<message>"; keep the rule's message.
        return [
            Diagnostic(d.policyName, LEVEL_NAMES[d.enforcementLevel], d.message.removeprefix(f"{d.description}\n"), d.urn)
            for d in found
        ]

    def analyze(self, registrations: Sequence[Registration], first_preview: bool = False) -> list[Diagnostic]:
        """Remediate and Analyze each registration, then AnalyzeStack over all: every diagnostic, in order.

        `first_preview`: nothing exists yet, so resources' computed outputs are unknown (the
        registrations must come from a run with the same flag).
        """
        by_urn = {r.urn: r for r in registrations}

        def provider(r: Registration) -> analyzer_pb2.AnalyzerProviderResource | None:
            # A provider reference is "<provider URN>::<provider ID>"; the engine sends the provider's inputs.
            given = by_urn.get(r.provider.rsplit("::", 1)[0]) if r.provider else None
            if given is None:
                return None
            return analyzer_pb2.AnalyzerProviderResource(
                urn=given.urn, type=given.type, name=given.name, properties=properties(given.inputs, skip_internal=True)
            )

        found: list[Diagnostic] = []
        for r in registrations:
            request = analyzer_pb2.AnalyzeRequest(
                urn=r.urn, type=r.type, name=r.name, options=_options(r), provider=provider(r),
                properties=properties(r.inputs, skip_internal=False),
            )
            for remediation in self.stub.Remediate(request).remediations:
                if remediation.diagnostic:
                    found.append(Diagnostic(remediation.policyName, "advisory", remediation.diagnostic, r.urn))
                elif remediation.HasField("properties"):
                    request.properties.CopyFrom(remediation.properties)
            request.properties.CopyFrom(_without_internal_keys(request.properties))
            found += self._diagnostics(self.stub.Analyze(request).diagnostics)

        mocks = PlaceholderMocks(first_preview=first_preview)

        def outputs(r: Registration) -> Mapping[str, Any]:
            # Components' and the stack's registered outputs are not recorded; no rule reads them.
            if not r.custom:
                return {}
            return mocks.new_resource(MockResourceArgs(r.type, r.name, dict(r.inputs), r.provider, None, True))[1]

        stack = analyzer_pb2.AnalyzeStackRequest(resources=[
            analyzer_pb2.AnalyzerResource(
                urn=r.urn, type=r.type, name=r.name, options=_options(r), provider=provider(r), parent=r.parent,
                properties=properties(outputs(r), skip_internal=True), dependencies=list(r.depends_on),
                propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(urns))
                                      for k, urns in r.property_dependencies.items() if urns},
            )
            for r in registrations
        ])
        return found + self._diagnostics(self.stub.AnalyzeStack(stack).diagnostics)

    def close(self) -> None:
        if getattr(self, "channel", None):
            self.channel.close()
        self.process.kill()
        self.process.wait(timeout=30)
        for drain in self._drains:
            drain.join(STARTUP_SECONDS)
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()
