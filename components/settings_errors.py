"""How a stack file's mistakes are reported: one line per problem, naming the key, the value
(redacted where it could be a credential), what is allowed and the command that fixes it.

`SettingsError` is a `pulumi.RunError`, so the Pulumi CLI prints it as a plain message, not a
traceback; every message is built before any resource is registered.
"""

import difflib
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


def _fix(stack: str, key: str, kind: str, section: bool = False, directory: str = "") -> str:
    """The command that fixes `key`, run from the repository root; `directory`: the Pulumi project's, if not the root."""
    path = re.sub(r"\.([0-9]+)", r"[\1]", key)  # Pulumi's path syntax for list items: services[1]
    pulumi = f"pulumi -C {directory}" if directory else "pulumi"
    stack_file = f"{directory + '/' if directory else ''}Pulumi.{stack}.yaml"
    if kind == "extra_forbidden":
        return f"remove it: {pulumi} config rm --path '{path}' --stack {stack}"
    if section:
        return (f"fix: {pulumi} config set --path '{path}.<key>' <value> --stack {stack} for each key it needs "
                f"(or edit {stack_file})")
    return f"fix: {pulumi} config set --path '{path}' <value> --stack {stack} (or edit {stack_file})"


def shown(value: Any) -> str:
    """A setting's value as a message shows it: JSON, short, never a credential."""
    text = json.dumps(value, default=str)
    # A misplaced connection string must not end up in a log.
    if re.search(r"://[^/\s]*@", text):
        return "[redacted: looks like a credential]"
    return text if len(text) <= 80 else text[:77] + "..."


def _model_at(loc: tuple[str, ...], model: Any = StackSettings) -> Any:
    """The settings model found at `loc` (None where the key holds a plain value or is unknown)."""
    for part in loc:
        field = {to_camel(n): f for n, f in getattr(model, "model_fields", {}).items()}.get(part)
        if field is None:
            return None
        model = field.annotation
    return model if hasattr(model, "model_fields") else None


def _fields_at(loc: tuple[str, ...], model: Any = StackSettings) -> dict[str, Any]:
    """The settings fields (by camelCase key) of the model found at `loc`; {} where there is none."""
    return {to_camel(n): f for n, f in getattr(_model_at(loc, model), "model_fields", {}).items()}


def _section_keys(loc: tuple[str, ...], model: Any) -> str:
    """The keys a section takes, the ones it cannot do without first."""
    fields = _fields_at(loc, model)
    required = [k for k, f in fields.items() if f.is_required()]
    optional = [k for k, f in fields.items() if not f.is_required()]
    return "; ".join(
        part for part in (f"needs {', '.join(required)}" if required else "",
                          f"may have {', '.join(optional)}" if optional else "") if part
    )


def _description(loc: tuple[str, ...], model: Any) -> str | None:
    # An item of a list (`services.3`) is described by its list.
    while loc and loc[-1].isdigit():
        loc = loc[:-1]
    field = _fields_at(loc[:-1], model).get(loc[-1]) if loc else None
    return field.description if field is not None else None


SECRET_SHOWN = "[secret]"


# pydantic's words for "not a map here"; its own message would name the internal model class.
_NOT_A_SECTION = frozenset({"model_type", "model_attributes_type", "dict_type"})
# pydantic's Python words ("a valid tuple") in the stack file's own terms.
_IN_YAML_TERMS = {
    "tuple_type": "must be a list, one '- item' per line below the key",
    "list_type": "must be a list, one '- item' per line below the key",
    "dict_type": "must be a map, one 'key: value' per line below the key",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
}


def _is_empty(value: Any) -> bool:
    # `keyRotation:` with nothing under it reaches the program as null (or as empty text).
    return value is None or value in ("", "null")


def describe_errors(
    error: ValidationError, stack: str, secret_keys: frozenset[str] = frozenset(), other_keys: tuple[str, ...] = (),
    model: Any = StackSettings, project: str = PROJECT, directory: str = "",
) -> list[str]:
    """One line per problem; the value of a key Pulumi holds as a secret shows as [secret].

    `other_keys` are top-level keys read apart from the model (the credentials), valid all the same.
    `model` is the settings model of `project`, whose Pulumi project is in `directory` of the
    repository ("" for its root).
    """
    problems = []
    for detail in error.errors():
        ctx = detail.get("ctx") or {}
        loc = tuple(str(p) for p in detail["loc"])
        key = ctx.get("key") or ".".join(loc)
        value = ctx["value"] if "key" in ctx else detail.get("input")
        message = detail["msg"]
        section = "key" not in ctx and _model_at(loc, model) is not None
        if detail["type"] == "extra_forbidden":
            allowed = sorted(_fields_at(loc[:-1], model)) + (sorted(other_keys) if len(loc) == 1 else [])
            closest = difflib.get_close_matches(loc[-1], allowed, n=1, cutoff=0.6)
            meant = f"did you mean {closest[0]}? " if closest else ""
            message = f"unknown key (a typo?); {meant}allowed here: {', '.join(allowed)}"
        elif detail["type"] == "missing" and section:
            message = f"is required: a section that {_section_keys(loc, model)}"
        elif detail["type"] == "missing":
            message = "is required"
        elif detail["type"] in _NOT_A_SECTION and section:
            what = "is empty" if _is_empty(value) else "is not a section of keys"
            message = (
                f"{what}: write the keys you set, each on its own line indented below '{loc[-1]}:', or delete "
                f"the line (this section {_section_keys(loc, model)}; the preset fills what a stack leaves out)"
            )
        elif detail["type"] in _IN_YAML_TERMS:
            message = _IN_YAML_TERMS[detail["type"]]
        description = _description(loc, model) if "key" not in ctx and not section else None
        allowed_part = f" (allowed: {description})" if description and detail["type"] != "extra_forbidden" else ""
        secret = key.split(".")[0] in secret_keys
        value_part = "" if detail["type"] == "missing" else f" = {SECRET_SHOWN if secret else shown(value)}"
        problems.append(
            f"{project}:{key}{value_part}: {message}{allowed_part}; {_fix(stack, key, detail['type'], section, directory)}"
        )
    return problems
