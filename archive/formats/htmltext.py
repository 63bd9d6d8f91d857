"""The HTML readers' shared text rules, free of any parser: which elements are blocks and which hold
no story text, how collected pieces become Librarian's plain text (`join_text`), and AO3's stats line.

Owns what `archive/formats/html.py` (BeautifulSoup) and `archive/formats/ao3tree.py` (lxml) both
need, so neither imports the other. It must not parse markup or touch the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from archive.model import RawStory

SCENE_BREAK = "* * *"
BR, PARA = "\x01", "\x02"  # line and paragraph markers inside collected text
BLOCKS = frozenset(
    {
        "p", "div", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt",
        "dd", "table", "tr", "td", "th", "section", "article", "header", "footer", "pre", "center",
        "body", "figure", "figcaption", "aside", "nav", "main", "address", "form", "fieldset",
    }
)  # fmt: skip
SKIP = frozenset({"script", "style", "head", "title", "noscript", "template", "svg"})


_SPACES = re.compile(r"[^\S \x01\x02][^\S\x01\x02]*| [^\S\x01\x02]+")
"""A run of whitespace other than one plain space (a lone space is already what a run becomes)."""


def join_text(pieces: Iterable[str]) -> str:
    """Collapse HTML whitespace and turn paragraph/line markers into blank lines and newlines."""
    text = _SPACES.sub(" ", "".join(pieces))
    paragraphs: list[str] = []
    for block in text.split(PARA):
        current: list[str] = []
        for line in (part.strip() for part in block.split(BR)):
            if line:
                current.append(line)
            elif current:
                paragraphs.append("\n".join(current))
                current = []
        if current:
            paragraphs.append("\n".join(current))
    while paragraphs and paragraphs[0] == SCENE_BREAK:
        paragraphs.pop(0)
    while paragraphs and paragraphs[-1] == SCENE_BREAK:
        paragraphs.pop()
    return "\n\n".join(paragraphs)


def read_stats(stats: str, raw: RawStory) -> None:
    """Published date, words, chapters and completion from AO3's stats line."""
    found = dict(re.findall(r"(Published|Updated|Completed|Words|Chapters):\s*(\S+)", stats))
    raw.published = found.get("Published")
    if "Words" in found:
        digits = re.sub(r"[^\d]", "", found["Words"])
        raw.words = int(digits) if digits else None
    chapters = re.match(r"(\d+)/(\d+|\?)", found.get("Chapters", ""))
    if chapters:
        done, total = chapters.groups()
        raw.status = "complete" if total.isdigit() and int(done) >= int(total) else "in progress"
    elif "Completed" in found:
        raw.status = "complete"
