"""Every command the README and docs/ show works as written, from the repository root after the
README's first command (the convention that marks commands: offline/doc_commands.py).

- Offline commands run for real, in a copy of the repository (sharing its .venv and .tools), with
  the PATH a reader has after the first command (no uv, no project venv on it). Each file's shell
  blocks run in order in one bash session (`set -euo pipefail`), as a reader pastes them.
- Commands that need a cloud are caught on their way out (in shell blocks `pulumi`, `oci` and
  `kubectl` are shell functions that record their arguments; inline spans are split into words)
  and each is proved to parse against its own CLI:
  * `pulumi`: no Pulumi CLI installs here, so against the cobra definitions read from its source
    (tests/cli_facts/pulumi-cli.json, written by extract_pulumi_cli.py, each fact with its file
    and line): command path or alias, every flag on the command or inherited from a parent's
    persistent flags, flag values, and the number of positional arguments;
  * `oci`: the real OCI CLI from the workflows' locked project (.github/oci-cli), `--help`
    appended (tests/cli_facts/oci_parse.py);
  * `kubectl`: the real kubectl with `--help` appended (cobra parses every flag and resolves the
    subcommand before it answers help; nothing reaches a cluster).
- The suite itself (`pytest`, `.ci/run`) is not run from inside the suite: CI runs it verbatim
  (tests/test_dependencies.py).
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench.benchmark import parser as benchmark_parser
from offline.doc_commands import DocCommand, commands, doc_files, indented_commands
from offline.harness import PROJECT_DIR
from offline.uv import uv_executable

FACTS = Path(__file__).parent / "cli_facts"
CLOUD_CLIS = ("pulumi", "oci", "kubectl")
PLACEHOLDER = re.compile(r"<[^\s<>][^<>]*>")
SUBSTITUTION = re.compile(r"\$\([^()]*\)")
CONTROL = {"&&", "||", "|", ";", "&", "(", ")"}
REDIRECT = {"<", ">", ">>", "<<", "<<<", ">&", "<&"}
FIELD, RECORD = "\x1f", "\x1e"
# Records each call of a cloud CLI instead of running it (bash parses the quoting, loops and
# substitutions exactly as it would for the reader).
RECORDERS = "DOC_BLOCK=0\n" + "".join(
    f'{cli}() {{ printf "%s{FIELD}" "$DOC_BLOCK" {cli} "$@" >> "$DOC_CLOUD_CALLS"; printf "{RECORD}" >> "$DOC_CLOUD_CALLS"; }}\n'
    for cli in CLOUD_CLIS
)


def runs_the_suite(text: str) -> bool:
    return "pytest" in text or ".ci/run" in text


def all_commands() -> list[DocCommand]:
    return [c for path in doc_files(PROJECT_DIR) for c in commands(path, PROJECT_DIR)]


def reader_environment() -> dict[str, str]:
    """A reader's shell after the first command: nothing of the project's venv or .tools on PATH."""
    hidden = {str(PROJECT_DIR / ".venv" / "bin"), str(PROJECT_DIR / ".tools" / "bin"), str(Path(sys.executable).parent)}
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p not in hidden)
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_PROJECT", "PYTHONPATH"))}
    schemas = os.environ.get("ECOMMERCE_SCHEMAS_DIR", str(PROJECT_DIR.parent / "shared" / "schemas"))
    return keep | {"PATH": path, "ECOMMERCE_SCHEMAS_DIR": str(Path(schemas).resolve())}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A copy of the repository as a reader has it after the first command (.venv and .tools shared)."""
    if not (PROJECT_DIR / ".tools" / "bin" / "uv").exists():
        pytest.fail("run the README's first command once: it installs uv into .tools/, which the documented commands use")
    copy = tmp_path_factory.mktemp("docs") / "repo"
    shutil.copytree(
        PROJECT_DIR, copy,
        ignore=shutil.ignore_patterns(".git", ".venv", ".tools", "__pycache__", ".pytest_cache", "plan-out", ".mypy_cache"),
    )
    for shared in (".venv", ".tools", "policy/.venv", ".github/oci-cli/.venv"):
        if (PROJECT_DIR / shared).exists():
            (copy / shared).symlink_to(PROJECT_DIR / shared)
    return copy


def words(line: str) -> Iterator[list[str]]:
    """The simple commands of one inline command line, split as the shell splits words;
    `<placeholder>`s and `$(…)` stand for one word each."""
    lexer = shlex.shlex(SUBSTITUTION.sub("X", PLACEHOLDER.sub("X", line)), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    current: list[str] = []
    tokens = list(lexer)
    skip = False
    for token in tokens:
        if skip:
            skip = False
        elif token in REDIRECT:
            skip = True
        elif token in CONTROL:
            if current:
                yield current
            current = []
        else:
            current.append(token)
    if current:
        yield current


def run_shell(script: str, cwd: Path, calls: Path) -> subprocess.CompletedProcess[str]:
    env = reader_environment() | {"DOC_CLOUD_CALLS": str(calls)}
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + RECORDERS + script],
        cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
    )


def recorded(calls: Path) -> list[list[str]]:
    if not calls.exists():
        return []
    return [r.split(FIELD)[:-1] for r in calls.read_text().split(RECORD) if r]


def run_blocks(blocks: list[DocCommand], checkout: Path) -> tuple[list[str], list[tuple[DocCommand, list[str]]]]:
    """One file's shell blocks in one bash session, in order, as a reader pastes them."""
    name = blocks[0].file.replace("/", "-")
    calls, at = checkout.parent / f"calls-{name}", checkout.parent / f"at-{name}"
    script = "".join(f'DOC_BLOCK={i}; echo {i} > "{at}"\n{block.text}\n' for i, block in enumerate(blocks))
    result = run_shell(script, checkout, calls)
    failures = []
    if result.returncode:
        block = blocks[int(at.read_text())]
        failures.append(f"{block.where}: exit {result.returncode}\n{block.text}\n{(result.stdout + result.stderr)[-1500:]}")
    return failures, [(blocks[int(argv[0])], argv[1:]) for argv in recorded(calls)]


def run_inline(span: DocCommand, checkout: Path) -> list[str]:
    if PLACEHOLDER.search(span.text):
        return [f"{span.where}: an offline command must be runnable as shown, without <placeholder>: {span.text}"]
    result = run_shell(span.text, checkout, checkout.parent / f"calls-inline-{abs(hash(span.text))}")
    return [f"{span.where}: exit {result.returncode}: {span.text}\n{(result.stdout + result.stderr)[-1500:]}"] if result.returncode else []


def run_documented(paths: list[Path], project_dir: Path, checkout: Path) -> tuple[list[str], list[tuple[DocCommand, list[str]]]]:
    """Runs every offline command these files show; returns the failures, and every cloud command
    with the doc line that shows it."""
    found: list[tuple[DocCommand, list[str]]] = []
    failures: list[str] = []
    inline: dict[str, DocCommand] = {}
    sessions: list[list[DocCommand]] = []
    for path in paths:
        shown = [c for c in commands(path, project_dir) if not runs_the_suite(c.text)]
        if blocks := [c for c in shown if c.fenced]:
            sessions.append(blocks)
        for span in (c for c in shown if not c.fenced):
            simple = list(words(span.text))
            if any(w[0] in CLOUD_CLIS for w in simple):
                found += [(span, w) for w in simple if w[0] in CLOUD_CLIS]
            elif "bench/benchmark.py" in span.text:
                # The benchmark runs for minutes: its documented arguments are checked against its parser.
                argv = next(w for w in simple if "bench/benchmark.py" in w)
                try:
                    benchmark_parser().parse_args(argv[argv.index("bench/benchmark.py") + 1:])
                except SystemExit:
                    failures.append(f"{span.where}: the benchmark refuses these arguments: {span.text}")
            else:
                inline.setdefault(span.text, span)
    # An inline command that is also a line of a shell block runs there already.
    in_blocks = {line.strip() for blocks in sessions for block in blocks for line in block.text.splitlines()}
    inline = {text: span for text, span in inline.items() if text not in in_blocks}
    # Independent sessions (each file's blocks; each inline command) run side by side.
    with ThreadPoolExecutor(max_workers=3) as pool:
        ran_sessions = [pool.submit(run_blocks, blocks, checkout) for blocks in sessions]
        ran_inline = [pool.submit(run_inline, span, checkout) for span in inline.values()]
        for session in ran_sessions:
            failed, calls = session.result()
            failures += failed
            found += calls
        for command in ran_inline:
            failures += command.result()
    return failures, found


@pytest.fixture(scope="module")
def cloud_calls(checkout) -> list[tuple[DocCommand, list[str]]]:
    failures, found = run_documented(doc_files(PROJECT_DIR), PROJECT_DIR, checkout)
    assert not failures, "documented commands that fail as written:\n\n" + "\n\n".join(failures)
    return found


# --- pulumi: the CLI's cobra definitions, read from its source ------------------------------------

def pulumi_facts() -> dict:
    return json.loads((FACTS / "pulumi-cli.json").read_text())


def pulumi_problem(argv: list[str], facts: dict) -> str | None:
    """Why cobra/pflag would refuse this `pulumi …` command line, or None."""
    specs = facts["commands"]
    children: dict[str, dict[str, str]] = {}
    for path, spec in specs.items():
        if path:
            parent, _, word = path.rpartition(" ")
            for name in (word, *spec["aliases"]):
                children.setdefault(parent, {})[name] = path

    def flags(path: str) -> dict[str, dict]:
        found = dict(specs[path]["flags"])
        parts = path.split(" ") if path else []
        for depth in range(len(parts)):
            ancestor = " ".join(parts[:depth])
            found |= {k: v for k, v in specs[ancestor]["flags"].items() if v["persistent"] and k not in found}
        return found

    path, positional, args, i = "", [], argv[1:], 0
    while i < len(args):
        token = args[i]
        known = flags(path)
        if token == "--":
            positional += args[i + 1:]
            break
        if token.startswith("--"):
            name, has_value, _ = token[2:].partition("=")
            if name not in known:
                return f"unknown flag --{name} for `pulumi {path}` ({specs[path]['source']})"
            if known[name]["value"] and not has_value:
                i += 1
                if i >= len(args):
                    return f"flag --{name} needs a value"
        elif token.startswith("-") and len(token) > 1:
            shorts = {v["short"]: (k, v) for k, v in known.items() if v["short"]}
            for j, letter in enumerate(token[1:]):
                if letter not in shorts:
                    return f"unknown shorthand flag -{letter} for `pulumi {path}` ({specs[path]['source']})"
                if shorts[letter][1]["value"]:
                    if j == len(token) - 2:
                        i += 1
                        if i >= len(args):
                            return f"flag -{letter} needs a value"
                    break
        elif not positional and token in children.get(path, {}):
            path = children[path][token]
        else:
            positional.append(token)
        i += 1
    if not path:
        return "no pulumi command"
    low, high = specs[path]["args"]["min"], specs[path]["args"]["max"]
    if len(positional) < low or (high is not None and len(positional) > high):
        return f"`pulumi {path}` takes {low}–{high if high is not None else '…'} arguments, got {positional} ({specs[path]['source']})"
    return None


def oci_problems(argvs: list[list[str]]) -> list[str | None]:
    project = PROJECT_DIR / ".github" / "oci-cli"
    subprocess.run(
        [uv_executable(), "sync", "--locked", "--quiet", "--project", str(project)],
        check=True, capture_output=True, text=True,
    )
    result = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), str(FACTS / "oci_parse.py")],
        input=json.dumps([a[1:] for a in argvs]), capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout)


def kubectl_problem(argv: list[str]) -> str | None:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return "kubectl is not installed (the machine image ships it: apt package kubectl)"
    result = subprocess.run([kubectl, *argv[1:], "--help"], capture_output=True, text=True, env={"PATH": os.environ["PATH"], "HOME": "/nonexistent"})
    return None if result.returncode == 0 else (result.stderr or result.stdout)[-600:]


# --- the tests -----------------------------------------------------------------------------------

def test_the_docs_show_commands_in_the_places_this_test_reads():
    """A command in indented code would escape this test: commands go in ```sh blocks or inline spans."""
    hidden = {path.name: indented_commands(path) for path in doc_files(PROJECT_DIR)}
    assert not any(hidden.values()), hidden
    assert any(c.fenced for c in all_commands()) and any(not c.fenced for c in all_commands())


def test_no_doc_runs_python_outside_the_projects_environment():
    """A bare `python -m …` fails with ModuleNotFoundError outside .venv: the docs say `uv run python -m …`."""
    bare = re.compile(r"(^|`| )python3? -m [a-z]")
    found = [
        f"{path.name}:{number}: {line}"
        for path in doc_files(PROJECT_DIR)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if bare.search(line) and not re.search(r"uv run|\.venv/bin/python|pip install", line)
    ]
    assert not found, found


def test_every_offline_command_runs_and_every_cloud_command_parses(cloud_calls):
    """Each documented `pulumi`, `oci` and `kubectl` command line is one its CLI accepts."""
    facts = pulumi_facts()
    problems = [f"{shown.where}: {shlex.join(argv)}\n  {p}" for shown, argv in cloud_calls if argv[0] == "pulumi" and (p := pulumi_problem(argv, facts))]
    oci = [(shown, argv) for shown, argv in cloud_calls if argv[0] == "oci"]
    problems += [f"{shown.where}: {shlex.join(argv)}\n  {p}" for (shown, argv), p in zip(oci, oci_problems([a for _, a in oci])) if p]
    problems += [f"{shown.where}: {shlex.join(argv)}\n  {p}" for shown, argv in cloud_calls if argv[0] == "kubectl" and (p := kubectl_problem(argv))]
    assert not problems, "documented cloud commands their CLI would refuse:\n" + "\n".join(problems)
    assert {argv[0] for _, argv in cloud_calls} == set(CLOUD_CLIS)


@pytest.mark.parametrize(
    ("argv", "refusal"),
    [
        ("pulumi up --stack staging --yes", None),
        ("pulumi config set --secret --path databaseUrls[\"a\"] --stack production", None),
        ("pulumi stack init production", None),
        ("pulumi state unprotect --all --stack staging", None),
        ("pulumi preview -s staging --refresh --expect-no-changes", None),
        ("pulumi --cwd iam up --stack production", None),
        ("pulumi up --stack staging --replace-all", "unknown flag --replace-all"),
        ("pulumi config set --stack staging", "takes 1–2 arguments"),
        ("pulumi stack outputs", "takes 0–0 arguments"),
        ("pulumi preview --policy-pack", "needs a value"),
        ("pulumi deploy", "no pulumi command"),
    ],
)
def test_the_pulumi_check_refuses_what_the_cli_refuses(argv, refusal):
    """The parse check can fail: misspelled commands and flags, missing values, extra arguments."""
    problem = pulumi_problem(shlex.split(argv), pulumi_facts())
    assert (problem is None) if refusal is None else (problem is not None and refusal in problem), problem


def test_the_oci_and_kubectl_checks_refuse_what_their_cli_refuses():
    """The real CLIs refuse a command that does not exist and an option misspelled."""
    missing, fine, misspelled = oci_problems([
        ["oci", "kms", "management", "key", "rotate", "--key-id", "X"],
        ["oci", "vault", "secret", "cancel-secret-deletion", "--secret-id", "X"],
        ["oci", "vault", "secret", "cancel-secret-deletion", "--secret-ids", "X"],
    ])
    assert "No such command 'rotate'" in (missing or "") and fine is None and "No such option" in (misspelled or "")
    assert kubectl_problem(["kubectl", "-n", "x", "describe", "externalsecret", "y"]) is None
    assert "unknown flag" in (kubectl_problem(["kubectl", "-n", "x", "describe", "externalsecret", "y", "--colour"]) or "")


def test_a_doc_showing_broken_commands_is_reported_line_by_line(checkout):
    """A new docs file is read like the others: its failing block, its failing inline command and its
    misspelled cloud command are each reported with file and line."""
    broken = checkout / "docs" / "zz-broken.md"
    broken.write_text(
        "# Broken\n\n```sh\n.tools/bin/uv run python -m offline.plan nowhere\n```\n\n"
        "Then `.tools/bin/uv run python -m offline.plann all`, and `pulumi up --stak staging`.\n"
    )
    try:
        assert broken in doc_files(checkout)
        failures, found = run_documented([broken], checkout, checkout)
    finally:
        broken.unlink()
    assert [f.split(":")[0:2] for f in failures] == [["docs/zz-broken.md", "4"], ["docs/zz-broken.md", "7"]], failures
    assert [pulumi_problem(argv, pulumi_facts()) for shown, argv in found if shown.file == "docs/zz-broken.md"] == [
        "unknown flag --stak for `pulumi up` (pkg/cmd/pulumi/operations/up.go:586)"
    ]


def test_the_runner_records_cloud_calls_and_hides_uv(checkout):
    """The runner reports a shell block that fails, and records cloud calls inside loops and quotes."""
    calls = checkout.parent / "calls-self-test"
    assert run_shell(".tools/bin/uv run python -m offline.plan nowhere", checkout, calls).returncode != 0
    assert run_shell("uv --version", checkout, calls).returncode != 0, "uv must not be on a reader's PATH"
    ok = run_shell("for s in a b; do pulumi config set --secret --path \"databaseUrls[\\\"$s\\\"]\" --stack p; done", checkout, calls)
    assert ok.returncode == 0 and recorded(calls)[-1] == ["0", "pulumi", "config", "set", "--secret", "--path", 'databaseUrls["b"]', "--stack", "p"]
    assert list(words("pulumi destroy --stack <env> && kubectl -n ns annotate es x f=$(date +%s) --overwrite < in.txt")) == [
        ["pulumi", "destroy", "--stack", "X"], ["kubectl", "-n", "ns", "annotate", "es", "x", "f=X", "--overwrite"],
    ]


def test_the_readme_is_a_page_a_deployer_reads():
    """At most about 250 lines, one picture GitHub renders, the two first commands before anything else."""
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    head = readme.split("\n## ")[0]
    assert len(readme.splitlines()) <= 250
    assert readme.count("```mermaid") == 1
    assert [c.text for c in commands(PROJECT_DIR / "README.md", PROJECT_DIR) if c.fenced][:2] == [
        c.text for c in commands(PROJECT_DIR / "README.md", PROJECT_DIR) if c.fenced and c.text in head
    ]
