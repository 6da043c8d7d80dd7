"""Reads the running stack's Pulumi config into validated inputs: the only module that does.

Everything is checked synchronously, before the program registers its first resource, so a
mistake never leaves a stack half-created. The sibling stack files are read too (only their
non-secret identifiers) so that one environment cannot be pointed at another's compartment
or namespace by a copy-paste.
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
from components.settings import ENVIRONMENTS, StackSettings
from components.settings_errors import SettingsError, describe_errors

# Pins the day key rotation is computed for (YYYY-MM-DD); unset means today, in UTC.
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


def stack_file_config(project_dir: Path, stack: str) -> dict[str, Any]:
    """The `config:` block of `Pulumi.<stack>.yaml`, as written (encrypted `secure:` values left out)."""
    # libyaml where PyYAML has it: the pure-Python parser costs more than the rest of the settings.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    config = (yaml.load(stack_file_path(project_dir, stack).read_text(), Loader=loader) or {}).get("config") or {}
    return {k: v for k, v in config.items() if not (isinstance(v, dict) and "secure" in v)}


def _project_config() -> dict[str, Any]:
    """Every `ecommerce-kms-vault:` key the engine passed, so that unknown keys can be refused.

    pulumi.Config only answers for keys one asks about; the full set lives in the runtime's
    config map (and PULUMI_CONFIG, where older engines put it).
    """
    return project_keys({**runtime_config.get_config_env(), **runtime_config.CONFIG.get()})


def sibling_identifiers(project_dir: Path, stack: str) -> dict[str, dict[str, str]]:
    """Compartment, namespace and cluster of the other environments' stack files, where they say them."""
    found: dict[str, dict[str, str]] = {}
    for other in ENVIRONMENTS:
        if other == stack or not stack_file_path(project_dir, other).exists():
            continue
        config = project_keys(stack_file_config(project_dir, other))
        kubernetes = config.get("kubernetes") or {}
        found[other] = {
            key: value
            for key, value in (
                ("compartmentId", config.get("compartmentId")),
                ("namespace", kubernetes.get("namespace") if isinstance(kubernetes, dict) else None),
                ("clusterId", kubernetes.get("clusterId") if isinstance(kubernetes, dict) else None),
            )
            if isinstance(value, str)
        }
    return found


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
    if isinstance(raw, str) and raw[:1] in "{[":
        return json.loads(raw)
    return raw


def load_stack_settings(
    config: Mapping[str, Any], stack: str, siblings: Mapping[str, Mapping[str, str]] | None = None
) -> StackSettings:
    """Validate a stack's project config (keys without the `ecommerce-kms-vault:` prefix)."""
    data = {key: parse_config_value(value) for key, value in config.items() if key not in SECRET_KEYS}
    try:
        return StackSettings.model_validate(data, context={"stack": stack, "siblings": siblings or {}})
    except ValidationError as error:
        raise SettingsError(stack, describe_errors(error, stack)) from None


def load_database_urls(
    raw: str | None, is_secret: bool, services: tuple[str, ...], stack: str
) -> dict[str, pulumi.Output[str]]:
    """Each service's database URL as a secret Output; which services have one is checked now.

    The check runs on the plain config text so that a missing URL stops the program before any
    resource is registered (an Output's contents are only known after registration starts).
    """
    key = f"{PROJECT}:{DATABASE_URLS_KEY}"

    def set_command(service: str) -> str:
        return f"pulumi config set --secret --path '{DATABASE_URLS_KEY}[\"{service}\"]' '<url>' --stack {stack}"

    if raw is not None and not is_secret:
        raise SettingsError(
            stack,
            [f"{key} is stored in plain text; remove it (pulumi config rm {DATABASE_URLS_KEY} --stack {stack}) "
             f"and set each URL again with --secret, e.g. {set_command(services[0])}"],
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
    unknown = sorted(set(urls) - set(services))
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
    settings = load_stack_settings(config, stack, sibling_identifiers(project_dir, stack))
    database_urls = load_database_urls(
        config.get(DATABASE_URLS_KEY),
        runtime_config.is_config_secret(f"{PROJECT}:{DATABASE_URLS_KEY}"),
        settings.services,
        stack,
    )
    kubeconfig = config.get(KUBECONFIG_KEY)
    if kubeconfig is None and settings.kubernetes.context is None:
        raise SettingsError(
            stack,
            [
                f"{PROJECT}:kubernetes.context is not set and there is no secret {PROJECT}:{KUBECONFIG_KEY}: "
                "the program never uses whatever kubectl context is current; fix: pulumi config set --path "
                f"'{PROJECT}:kubernetes.context' <context> --stack {stack}"
            ],
        )
    if kubeconfig is not None and not runtime_config.is_config_secret(f"{PROJECT}:{KUBECONFIG_KEY}"):
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
