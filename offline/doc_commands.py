"""The commands the README and docs/ show, found the way a reader finds them.

Read by tests/test_docs_commands.py (which runs them, or checks them against their CLI),
tests/test_dependencies.py (CI runs the README's test command verbatim) and the benchmark (which
times the README's first command). The convention the docs follow:

- a fenced block marked `sh` or `bash` is shell to paste as it is, from the repository root after
  the README's first command; it holds no `<placeholder>` (the shell would read one as a
  redirection): values the reader chooses are shell variables the text sets first;
- an inline code span that starts with one of COMMAND_WORDS and a space is one command line, in
  which `<placeholder>` stands for a value the reader fills in;
- anything else shown in a code block (output, YAML, policy statements) goes in a block marked
  `text`, `yaml`, … and is not a command.
"""

import re
from dataclasses import dataclass
from pathlib import Path

COMMAND_WORDS = (".tools/bin/uv", "uv", "pulumi", "oci", "kubectl", "bash", "python3.11")
SHELL_FENCES = ("sh", "bash")
_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
_INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


@dataclass(frozen=True)
class DocCommand:
    file: str
    line: int
    text: str
    fenced: bool

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def doc_files(project_dir: Path) -> list[Path]:
    """The README and every topic file in docs/, whoever wrote it."""
    return [project_dir / "README.md", *sorted((project_dir / "docs").glob("*.md"))]


def is_command(span: str) -> bool:
    return any(span.startswith(word + " ") for word in COMMAND_WORDS)


def commands(path: Path, project_dir: Path) -> list[DocCommand]:
    """Fenced shell blocks, then inline command spans outside any fenced block, in file order."""
    text = path.read_text(encoding="utf-8")
    name = path.relative_to(project_dir).as_posix()
    found: list[DocCommand] = []
    outside = text
    for block in _FENCE.finditer(text):
        if block.group(1) in SHELL_FENCES:
            found.append(DocCommand(name, text.count("\n", 0, block.start()) + 2, block.group(2), True))
        # Blank the block out (keeping its line breaks) so its contents are not read as inline spans.
        outside = outside[: block.start()] + re.sub(r"[^\n]", " ", block.group(0)) + outside[block.end():]
    for span in _INLINE.finditer(outside):
        if is_command(span.group(1).strip()):
            found.append(DocCommand(name, outside.count("\n", 0, span.start()) + 1, span.group(1).strip(), False))
    return sorted(found, key=lambda c: c.line)


def indented_commands(path: Path) -> list[str]:
    """Commands hidden in indented (4-space) code, where no test would find them."""
    outside = _FENCE.sub("", path.read_text(encoding="utf-8"))
    return [line for line in outside.splitlines() if line.startswith("    ") and is_command(line.strip())]


def readme_commands(project_dir: Path) -> tuple[str, str]:
    """The README's two first commands: its first two shell blocks (the plan, then the tests)."""
    blocks = [c.text.strip() for c in commands(project_dir / "README.md", project_dir) if c.fenced]
    return blocks[0], blocks[1]
