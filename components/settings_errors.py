"""How a stack file's mistakes are reported: one line per problem, naming the key, the value
(redacted where it could be a credential), what is allowed and the command that fixes it.

`SettingsError` is a `pulumi.RunError`, so the Pulumi CLI prints it as a plain message, not a
traceback; every message is built before any resource is registered.
"""

import json
import re
from typing import Any

import pulumi
from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from components.naming import PROJECT
from components.settings import StackSettings


class SettingsError(pulumi.RunError):
    """A stack file mistake, reported by Pulumi as a plain message, not a traceback."""

    def __init__(self, stack: str, problems: list[str], file: str | None = None):
        self.problems = problems
        lines = [f"{file or f'Pulumi.{stack}.yaml'} has {len(problems)} problem(s); nothing was created:"]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


def _fix(stack: str, key: str, kind: str, directory: str = "") -> str:
    """The command that fixes `key`, run from the repository root; `directory`: the Pulumi project's, if not the root."""
    path = re.sub(r"\.([0-9]+)", r"[\1]", key)  # Pulumi's path syntax for list items: services[1]
    pulumi = f"pulumi -C {directory}" if directory else "pulumi"
    if kind == "extra_forbidden":
        return f"remove it: {pulumi} config rm --path '{path}' --stack {stack}"
    return f"fix: {pulumi} config set --path '{path}' <value> --stack {stack} (or edit {directory + '/' if directory else ''}Pulumi.{stack}.yaml)"


def shown(value: Any) -> str:
    """A setting's value as a message shows it: JSON, short, never a credential."""
    text = json.dumps(value, default=str)
    # A misplaced connection string must not end up in a log.
    if re.search(r"://[^/\s]*@", text):
        return "[redacted: looks like a credential]"
    return text if len(text) <= 80 else text[:77] + "..."


def _fields_at(loc: tuple[str, ...], model: Any = StackSettings) -> dict[str, Any]:
    """The settings fields (by camelCase key) of the model found at `loc`; {} where there is none."""
    for part in loc:
        field = {to_camel(n): f for n, f in getattr(model, "model_fields", {}).items()}.get(part)
        if field is None:
            return {}
        model = field.annotation
    return {to_camel(n): f for n, f in getattr(model, "model_fields", {}).items()}


def _description(loc: tuple[str, ...], model: Any) -> str | None:
    # An item of a list (`services.3`) is described by its list.
    while loc and loc[-1].isdigit():
        loc = loc[:-1]
    field = _fields_at(loc[:-1], model).get(loc[-1]) if loc else None
    return field.description if field is not None else None


SECRET_SHOWN = "[secret]"


def describe_errors(
    error: ValidationError, stack: str, secret_keys: frozenset[str] = frozenset(), model: Any = StackSettings,
    project: str = PROJECT, directory: str = "",
) -> list[str]:
    """One line per problem (keys of `model`, in `project`'s namespace, whose Pulumi project is in `directory`
    of the repository, "" for its root); the value of a key Pulumi holds as a secret shows as [secret]."""
    problems = []
    for detail in error.errors():
        ctx = detail.get("ctx") or {}
        loc = tuple(str(p) for p in detail["loc"])
        key = ctx.get("key") or ".".join(loc)
        value = ctx["value"] if "key" in ctx else detail.get("input")
        message = detail["msg"]
        if detail["type"] == "extra_forbidden":
            message = f"unknown key (a typo?); allowed here: {', '.join(sorted(_fields_at(loc[:-1], model)))}"
        elif detail["type"] == "missing":
            message = "is required"
        description = _description(loc, model) if "key" not in ctx else None
        allowed = f" (allowed: {description})" if description and detail["type"] != "extra_forbidden" else ""
        secret = key.split(".")[0] in secret_keys
        value_part = "" if detail["type"] == "missing" else f" = {SECRET_SHOWN if secret else shown(value)}"
        problems.append(f"{project}:{key}{value_part}: {message}{allowed}; {_fix(stack, key, detail['type'], directory)}")
    return problems
