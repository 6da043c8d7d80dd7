"""The README and docs/ read on GitHub as written: rendered with cmark-gfm, GitHub's own Markdown
engine (PyPI `cmarkgfm`), no text is swallowed as an HTML tag GitHub drops (a `<placeholder>`
outside a code span), every table is a table, and the README's one Mermaid picture reaches
GitHub's Mermaid renderer as a `mermaid` code block."""

import re
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from offline.doc_commands import doc_files
from offline.harness import PROJECT_DIR
from tests.test_diff import GITHUB_TAGS

_FENCE = re.compile(r"^```.*?^```[ \t]*$", re.M | re.S)
_DELIMITER_ROW = re.compile(r"^[ \t]*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$", re.M)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def rendered(markdown: str) -> tuple[str, list[tuple[str, dict[str, str | None]]]]:
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    parser = Tags()
    parser.feed(html)
    return html, parser.tags


@pytest.mark.parametrize("path", doc_files(PROJECT_DIR), ids=lambda p: p.name)
def test_no_text_is_swallowed_and_every_table_renders(path: Path):
    """A `<service>` outside code is an unknown HTML tag GitHub removes with its name; a table whose
    rows do not line up renders as a paragraph of pipes."""
    text = path.read_text(encoding="utf-8")
    html, tags = rendered(text)
    dropped = sorted({tag for tag, _ in tags} - GITHUB_TAGS)
    assert not dropped, f"{path.name}: GitHub would drop these as HTML tags (put them in backticks): {dropped}"
    tables = len(_DELIMITER_ROW.findall(_FENCE.sub("", text)))
    assert html.count("<table>") == tables, f"{path.name}: {tables} tables written, {html.count('<table>')} rendered"


def test_the_readme_picture_reaches_githubs_mermaid_renderer():
    """GitHub draws a code block marked `mermaid`; inside it only `<br/>` is markup (placeholders use #lt; #gt;)."""
    text = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    _, tags = rendered(text)
    assert [attrs.get("lang") for tag, attrs in tags if tag == "pre"].count("mermaid") == 1
    [picture] = re.findall(r"^```mermaid\n(.*?)^```", text, re.M | re.S)
    assert not re.findall(r"<(?!br/>)", picture), "a raw '<' in a Mermaid label: write #lt; and #gt;"


def test_the_check_finds_a_swallowed_placeholder_and_a_broken_table():
    """The check can fail: a bare placeholder is a dropped tag, a table without its delimiter row is text."""
    _, tags = rendered("Each Secret <service>-secrets holds keys.\n")
    assert "service" in {tag for tag, _ in tags} - GITHUB_TAGS
    html, _ = rendered("| a | b |\n| c | d |\n")
    assert "<table>" not in html
