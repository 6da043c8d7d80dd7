"""Reads the running stack's Pulumi config into validated inputs: the only module that does.

Everything is checked synchronously, before the program registers its first resource, so a
mistake never leaves a stack half-created. No other stack's file is read: what each environment
owns comes from the guardrail authority (`components/guardrails.py`), so one environment cannot be
pointed at another's compartment, cluster or namespace, whichever stack is deployed.
Settings come only from the engine's config map (`pulumi.runtime.config`: the stack file, an
ESC environment the stack imports and `pulumi config set` all arrive there alike), and which keys
are secret from `is_config_secret`. The engine tells secrecy per key, never per leaf: a structured
key counts as secret when any one leaf is (pulumi/runtime/config.py, `_SECRET_KEYS`; FACTS:
Pulumi secret config). So the stack's own file, where there is one, is read as an extra, only to
find a database URL committed in plain text beside encrypted ones (the leak the check exists for
is in that file) and to name the encrypted leaves in a fix; without the file both are empty and
the settings, the checks and the plan are exactly the engine's.
"""

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Final

import pulumi
import yaml
from pulumi.runtime import config as runtime_config
from pydantic import ValidationError

from components.naming import PROJECT
from components import guardrails
from components.guardrails import Guardrails
from components.settings import StackSettings
from components.settings_errors import SettingsError, describe_errors

# Pins the day rotation is decided for (YYYY-MM-DD); unset means today, in UTC. The workflows set it
# once per run, so that a preview and the update approved after it decide the same rotation.
CLOCK_VARIABLE: Final = "ECOMMERCE_KMS_VAULT_TODAY"

# Config keys that hold secrets: read apart from the model, never echoed in a message.
DATABASE_URLS_KEY: Final = "databaseUrls"
KUBECONFIG_KEY: Final = "kubeconfig"
SECRET_KEYS: Final = (DATABASE_URLS_KEY, KUBECONFIG_KEY)


@dataclass(frozen=True)
class StackInputs:
    settings: StackSettings
    database_urls: dict[str, pulumi.Output[str]]
    kubeconfig: pulumi.Output[str] | None
    today: date


def project_keys(config: Mapping[str, Any]) -> dict[str, Any]:
    """The `ecommerce-kms-vault:` keys of a config map, without that prefix."""
    prefix = f"{PROJECT}:"
    return {key[len(prefix):]: value for key, value in config.items() if key.startswith(prefix)}


def stack_file_path(project_dir: Path, stack: str) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def _is_encrypted(value: Any) -> bool:
    return isinstance(value, dict) and "secure" in value


def stack_file_raw_config(project_dir: Path, stack: str) -> dict[str, Any]:
    """The `config:` block of `Pulumi.<stack>.yaml` exactly as written, `secure:` entries included.

    A file YAML cannot read is a SettingsError naming its line and column, never a traceback. The
    Pulumi CLI parses the file itself before `pulumi up` runs the program, and reports its own
    syntax errors there; this parse serves the offline plan, the docs and the tests.
    """
    path = stack_file_path(project_dir, stack)
    # libyaml where PyYAML has it: the pure-Python parser costs more than the rest of the settings.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(path.read_text(), Loader=loader) or {}
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        what = " ".join(part for part in (error.context, error.problem) if part)
        raise SettingsError(
            stack, [f"{path.name}, {where}: not valid YAML ({what}); check the indentation and quoting there"]
        ) from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(document, dict) or not isinstance(config, (dict, type(None))):
        raise SettingsError(stack, [f"{path.name}: needs a top-level 'config:' section of '{PROJECT}:<key>: <value>' lines"])
    return config or {}


def stack_file_config(project_dir: Path, stack: str) -> dict[str, Any]:
    """The `config:` block of `Pulumi.<stack>.yaml`, as written (encrypted `secure:` values left out)."""
    return {k: v for k, v in stack_file_raw_config(project_dir, stack).items() if not _is_encrypted(v)}


def _stack_file_value(project_dir: Path, stack: str, key: str) -> Any:
    """`key` as the stack file writes it (None without a stack file)."""
    path = stack_file_path(project_dir, stack)
    return stack_file_raw_config(project_dir, stack).get(f"{PROJECT}:{key}") if path.exists() else None


def plain_text_leaves(project_dir: Path, stack: str, key: str) -> list[str]:
    """The entries of a structured secret key that the stack file holds in plain text."""
    value = _stack_file_value(project_dir, stack, key)
    if not isinstance(value, dict) or _is_encrypted(value):
        return []
    return sorted(str(entry) for entry, leaf in value.items() if not _is_encrypted(leaf))


def encrypted_paths(project_dir: Path, stack: str, key: str) -> list[str]:
    """Where the stack file holds `key` encrypted, in `pulumi config set --path` syntax."""

    def walk(value: Any, path: str) -> list[str]:
        if _is_encrypted(value):
            return [path]
        if isinstance(value, dict):
            return [found for name, item in value.items() for found in walk(item, f"{path}.{name}")]
        if isinstance(value, list):
            return [found for index, item in enumerate(value) for found in walk(item, f"{path}[{index}]")]
        return []

    return walk(_stack_file_value(project_dir, stack, key), key)


def _secret_setting_problem(project_dir: Path, stack: str, key: str) -> str:
    # Pulumi holds a whole structured key as a secret when one leaf is: name the leaves, so that
    # the fix never drops the plain rest of the key.
    paths = encrypted_paths(project_dir, stack, key)
    fix = (
        "; ".join(f"pulumi config set --path '{path}' <value> --stack {stack}" for path in paths)
        if paths
        else f"it is not encrypted in Pulumi.{stack}.yaml, so it comes from elsewhere (a Pulumi ESC environment): "
        "make it a plain value there"
    )
    return (
        f"{PROJECT}:{key} = [secret]: a setting, not a credential (only {DATABASE_URLS_KEY} and {KUBECONFIG_KEY} are "
        f"secrets); it reaches resources in plain text. Set it again without --secret: {fix}"
    )


def _project_config() -> dict[str, Any]:
    """Every `ecommerce-kms-vault:` key the engine passed, so that unknown keys can be refused.

    pulumi.Config only answers for keys one asks about; the full set lives in the runtime's
    config map (and PULUMI_CONFIG, where older engines put it).
    """
    return project_keys({**runtime_config.get_config_env(), **runtime_config.CONFIG.get()})


def today_from(environ: dict[str, str]) -> date:
    pinned = environ.get(CLOCK_VARIABLE)
    if not pinned:
        return datetime.now(timezone.utc).date()
    try:
        return date.fromisoformat(pinned)
    except ValueError:
        raise pulumi.RunError(f"{CLOCK_VARIABLE}={pinned!r} is not a date; use YYYY-MM-DD or unset it") from None


def parse_config_value(raw: Any) -> Any:
    """Pulumi hands structured config to programs as JSON text and scalars as plain text."""
    if isinstance(raw, str) and raw[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw  # a plain text that happens to start with a bracket: validated as text
    return raw


def load_stack_settings(
    config: Mapping[str, Any],
    stack: str,
    guardrails: Guardrails | None = None,
    secret_keys: frozenset[str] = frozenset(),
) -> StackSettings:
    """Validate a stack's project config (keys without the `ecommerce-kms-vault:` prefix).

    `guardrails`: the authority the program checks against (None only for offline readers of stack
    files). `secret_keys` are the keys Pulumi holds as secrets: a message about one never shows its value.
    """
    data = {key: parse_config_value(value) for key, value in config.items() if key not in SECRET_KEYS}
    try:
        return StackSettings.model_validate(data, context={"stack": stack, "guardrails": guardrails})
    except ValidationError as error:
        raise SettingsError(stack, describe_errors(error, stack, secret_keys, SECRET_KEYS)) from None


def set_secret_command(path: str, stack: str) -> str:
    """How to store one secret value: the CLI prompts for it without echo (or reads standard input)."""
    return (
        f"pulumi config set --secret --path '{path}' --stack {stack} "
        "(it prompts for the value without echoing it, or reads it from standard input)"
    )


def load_database_urls(
    raw: str | None, is_secret: bool, plain_leaves: list[str], services: tuple[str, ...], stack: str,
    adopted: frozenset[str] = frozenset(),
) -> dict[str, pulumi.Output[str]]:
    """Each service's database URL as a secret Output; which services have one is checked now.

    The check runs on the plain config text so that a missing URL stops the program before any
    resource is registered (an Output's contents are only known after registration starts).
    `plain_leaves` are the services whose URL the stack file holds unencrypted; `adopted` those whose
    existing secret is adopted with its current value, so that no URL is set for them here.
    """
    services = tuple(s for s in services if s not in adopted)
    key = f"{PROJECT}:{DATABASE_URLS_KEY}"

    def set_command(service: str) -> str:
        return set_secret_command(f'{DATABASE_URLS_KEY}["{service}"]', stack)

    if raw is not None and not is_secret:
        raise SettingsError(
            stack,
            [f"{key} is stored in plain text; remove it (pulumi config rm {DATABASE_URLS_KEY} --stack {stack}) "
             f"and set each URL again with --secret, e.g. {set_command(services[0])}"],
        )
    if plain_leaves:
        raise SettingsError(
            stack,
            [f"{key}[\"{service}\"] is stored in plain text in Pulumi.{stack}.yaml (set without --secret); "
             f"remove it (pulumi config rm --path '{DATABASE_URLS_KEY}[\"{service}\"]' --stack {stack}) and set it "
             f"again: {set_command(service)}" for service in plain_leaves],
        )
    try:
        urls = json.loads(raw) if raw is not None else {}
    except json.JSONDecodeError:
        urls = None
    if not isinstance(urls, dict) or not all(isinstance(v, str) and v for v in urls.values()):
        raise SettingsError(
            stack, [f"{key} must be a map of service name to a non-empty URL string; set each with {set_command(services[0])}"]
        )
    problems = [f"{key} has no URL for {service}; set it: {set_command(service)}" for service in services if service not in urls]
    problems += [
        f"{key}[\"{service}\"] is set, but adopt.databaseUrlSecrets adopts that secret with the value it holds in OCI: "
        f"remove one of them (pulumi config rm --path '{DATABASE_URLS_KEY}[\"{service}\"]' --stack {stack})"
        for service in sorted(adopted & set(urls))
    ]
    unknown = sorted(set(urls) - set(services) - adopted)
    if unknown:
        problems.append(
            f"{key} has URLs for services that are not in {PROJECT}:services: {', '.join(unknown)}; "
            f"remove them (pulumi config rm --path '{DATABASE_URLS_KEY}[\"{unknown[0]}\"]' --stack {stack}) or add the service"
        )
    if problems:
        raise SettingsError(stack, problems)
    return {service: pulumi.Output.secret(urls[service]) for service in services}


def read_stack_inputs(project_dir: Path) -> StackInputs:
    stack = pulumi.get_stack()
    config = _project_config()
    secret_keys = frozenset(key for key in config if runtime_config.is_config_secret(f"{PROJECT}:{key}"))
    try:
        authority = guardrails.load()
    except guardrails.AuthorityError as error:
        raise SettingsError(stack, [str(error)]) from None
    settings = load_stack_settings(config, stack, authority, secret_keys)
    # Settings reach resource inputs in plain text (plan, state, OCI): held as secrets, they would
    # only look protected, and every message about them would have to hide them.
    secret_settings = sorted(secret_keys - {DATABASE_URLS_KEY, KUBECONFIG_KEY})
    if secret_settings:
        raise SettingsError(stack, [_secret_setting_problem(project_dir, stack, key) for key in secret_settings])
    database_urls = load_database_urls(
        config.get(DATABASE_URLS_KEY),
        DATABASE_URLS_KEY in secret_keys,
        plain_text_leaves(project_dir, stack, DATABASE_URLS_KEY),
        settings.services,
        stack,
        frozenset(settings.adopt.database_url_secrets),
    )
    kubeconfig = config.get(KUBECONFIG_KEY)
    if kubeconfig is None and settings.kubernetes.context is None:
        raise SettingsError(
            stack,
            [
                f"{PROJECT}:kubernetes.context is not set and there is no secret {PROJECT}:{KUBECONFIG_KEY}: "
                "the program never uses whatever kubectl context is current; fix: pulumi config set --path "
                f"'kubernetes.context' <context> --stack {stack}"
            ],
        )
    if kubeconfig is not None and KUBECONFIG_KEY not in secret_keys:
        raise SettingsError(
            stack,
            [f"{PROJECT}:{KUBECONFIG_KEY} holds credentials in plain text; set it again with "
             f"pulumi config set --secret {KUBECONFIG_KEY} --stack {stack} < kubeconfig"],
        )
    return StackInputs(
        settings=settings,
        database_urls=database_urls,
        kubeconfig=pulumi.Output.secret(kubeconfig) if kubeconfig is not None else None,
        today=today_from(dict(os.environ)),
    )
