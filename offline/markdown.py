"""GitHub-flavoured Markdown that shows every value as written.

GitHub strips the HTML tags it does not allow, so `<ecommerce-staging-vault-id>` outside code is
invisible (FACTS: GitHub); inside a code span or block it is text. A table cell ends at `|` even
inside a code span unless escaped (GFM spec, tables extension).
"""

import re

GITHUB_COMMENT_LIMIT = 65_536  # characters of an issue or pull-request comment body


def github_length(text: str) -> int:
    """Length as GitHub counts it: in UTF-16 code units, as JavaScript's `String.length` (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def code(text: str, limit: int = 160) -> str:
    """`text` as an inline code span, shortened to `limit` characters, whatever backticks it holds."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def cell(text: str) -> str:
    """Markdown for a table cell: a `|` would end the cell, even inside a code span."""
    return text.replace("|", "\\|")
