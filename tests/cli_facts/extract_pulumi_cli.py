"""Writes pulumi-cli.json: the Pulumi CLI's commands, aliases, flags and argument counts, read from
the cobra definitions in a pulumi/pulumi checkout (`pkg/cmd/pulumi`).

No Pulumi CLI can be installed where the suite runs, so tests/test_docs_commands.py checks every
documented `pulumi …` command against these facts instead of against a binary. Regenerate them
after moving to another CLI version (argument: a pulumi/pulumi checkout at that version's tag):

    .tools/bin/uv run python tests/cli_facts/extract_pulumi_cli.py ../pulumi > tests/cli_facts/pulumi-cli.json

What is read, per Go function that builds a `cobra.Command` (each fact keeps its file and line):
`Use:` and `Aliases:`; every `Flags()`/`PersistentFlags()` definition (name, shorthand, whether it
takes a value: pflag's Bool* flags and flags given a `NoOptDefVal` do not); the arguments from
`constrictor.AttachArguments` (pulumi's own structured form: names, `Required`, `Variadic`) or
`Args: cmdutil.…`; and the tree from `AddCommand(newX…)` calls and the root's command groups.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

FUNC = re.compile(r"^func (?:\([^)]*\)\s*)?(\w+)\(", re.M)
USE = re.compile(r'\bUse:\s+"([^" ]+)')
ALIASES = re.compile(r"Aliases:\s+\[\]string\{([^}]*)\}")
FLAG = re.compile(r'(Persistent)?Flags\(\)\.(\w+)\(\s*(?:&?[\w.\[\]]+,\s*)?"([\w-]+)"(?:,\s*"(\w?)")?', re.S)
NO_OPT = re.compile(r'Lookup\("([\w-]+)"\)\.NoOptDefVal')
CONSTRICTOR = re.compile(r"constrictor\.AttachArguments\(\w+,\s*(constrictor\.NoArgs|&constrictor\.Arguments\{(.*?)\n\t\}\))", re.S)
COBRA_ARGS = re.compile(r"Args:\s+cmdutil\.(\w+)(?:\((\d+)(?:,\s*(\d+))?\))?")
CALL = re.compile(r"\b(?:\w+\.)?([Nn]ew\w+)\(")
NOT_FLAG_DEFINITIONS = {"Lookup", "MarkHidden", "MarkDeprecated", "VisitAll", "FlagUsages", "MarkFlagRequired", "Set", "Parse", "SetInterspersed"}


def functions(root: Path):
    for path in sorted(root.rglob("*.go")):
        if path.name.endswith("_test.go"):
            continue
        text = path.read_text()
        starts = [(m.start(), m.group(1)) for m in FUNC.finditer(text)]
        for (start, name), (end, _) in zip(starts, [*starts[1:], (len(text), "")]):
            yield path, text, start, name, text[start:end]


def arguments(body: str) -> dict:
    if found := CONSTRICTOR.search(body):
        if found.group(1) == "constrictor.NoArgs":
            return {"min": 0, "max": 0}
        spec = found.group(2)
        count = len(re.findall(r"\{\s*Name:", spec))
        required = int(m.group(1)) if (m := re.search(r"Required:\s*(\d+)", spec)) else 0
        variadic = bool(re.search(r"Variadic:\s*true", spec))
        return {"min": required, "max": None if variadic else count}
    if found := COBRA_ARGS.search(body):
        kind, a, b = found.group(1), found.group(2), found.group(3)
        return {
            "NoArgs": {"min": 0, "max": 0},
            "ExactArgs": {"min": int(a or 0), "max": int(a or 0)},
            "MaximumNArgs": {"min": 0, "max": int(a or 0)},
            "MinimumNArgs": {"min": int(a or 0), "max": None},
            "RangeArgs": {"min": int(a or 0), "max": int(b or 0)},
        }.get(kind, {"min": 0, "max": None})
    return {"min": 0, "max": None}


def main(checkout: Path) -> dict:
    root = checkout / "pkg" / "cmd" / "pulumi"
    commands: dict[str, dict] = {}
    for path, text, start, name, body in functions(root):
        use = USE.search(body)
        if not use:
            continue
        line = text[: start + use.start()].count("\n") + 1
        no_opt = set(NO_OPT.findall(body))
        flags = {}
        for m in FLAG.finditer(body):
            persistent, kind, flag, short = m.groups()
            if kind in NOT_FLAG_DEFINITIONS:
                continue
            flags[flag] = {
                "short": short or None,
                "value": not kind.startswith("Bool") and flag not in no_opt,
                "persistent": bool(persistent),
                "line": text[: start + m.start()].count("\n") + 1,
            }
        aliases = re.findall(r'"([^"]+)"', ALIASES.search(body).group(1)) if ALIASES.search(body) else []
        children = sorted({c for c in CALL.findall(body) if c != name})
        commands[name] = {
            "use": use.group(1),
            "aliases": aliases,
            "source": f"{path.relative_to(checkout).as_posix()}:{line}",
            "flags": flags,
            "args": arguments(body),
            "children": children,
        }
    tree: dict[str, dict] = {}

    def walk(function: str, words: list[str]) -> None:
        command = commands[function]
        path = " ".join(words)
        if path in tree:
            return
        tree[path] = {k: command[k] for k in ("source", "aliases", "flags", "args")}
        for child in command["children"]:
            if child in commands and commands[child]["use"] != "pulumi":
                walk(child, [*words, commands[child]["use"]])

    walk("NewPulumiCmd", [])
    commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {"source": f"pulumi/pulumi@{commit or 'unknown'}", "commands": tree}


def render(facts: dict) -> str:
    """One command a line, so a CLI upgrade shows as a readable diff."""
    rows = [f"  {json.dumps(path)}: {json.dumps(spec, sort_keys=True, separators=(',', ':'))}" for path, spec in sorted(facts["commands"].items())]
    return "{\n" + f' "source": {json.dumps(facts["source"])},\n "commands": {{\n' + ",\n".join(rows) + "\n }\n}\n"


if __name__ == "__main__":
    sys.stdout.write(render(main(Path(sys.argv[1]))))
