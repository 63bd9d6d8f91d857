"""Plain-text and header-only Markdown stories: mailing-list headers, FanFiction.net info lines,
FanFicFare TXT exports and headerless chapters.

Owns reading a decoded text file into a `RawStory`: choosing FanFicFare's layout or the general
header scan (`headerscan.py`, which decides where the header ends), splitting labels a page ran
together, and undoing hard wraps. It does not normalise against the roster, decode bytes, or
touch the database or Discord.
"""

from __future__ import annotations

import html
import logging
import re

from archive.formats import textheaders as th
from archive.formats.headerscan import HeaderScan, join_body
from archive.model import RawStory

log = logging.getLogger(__name__)

_HEADER_LINES = 80  # as far as run-together header labels are split
_ENTITY = re.compile(r"&(?:#\d{2,6}|#x[0-9a-fA-F]{2,5}|[a-zA-Z]{2,8});")
_FFF_LABELS = {"packaged", "story url", "author url", "publisher", "updated", "chapters"}


def read_text(text: str, name: str) -> RawStory:
    """Read a decoded text story; `name` (its path) chooses Markdown handling and title fallbacks."""
    if _ENTITY.search(text):
        text = html.unescape(text)
    lines = [line.rstrip() for line in text.split("\n")]
    lines = [part for line in lines[:_HEADER_LINES] for part in th.split_labels(line)] + lines[_HEADER_LINES:]
    markdown = name.lower().endswith((".md", ".markdown"))
    if _is_fanficfare(lines):
        return _read_fanficfare(lines)
    scan = HeaderScan(lines, markdown=markdown)
    raw = scan.run()
    raw.body = unwrap_hard_wrapped(raw.body)
    if markdown:
        raw.format = "markdown"
    if raw.title is None and raw.format in ("headerless", "markdown"):
        raw.title = th.title_from_name(name) or scan.heading_title
    return raw


def _is_fanficfare(lines: list[str]) -> bool:
    seen = set()
    for line in lines[:60]:
        label = th.label_of(line)
        if label:
            seen.add(label[1].lower())
    return len(seen & _FFF_LABELS) >= 2


def _read_fanficfare(lines: list[str]) -> RawStory:
    """FanFicFare TXT: title, `by` author, a block of `Label: value` lines, TOC, tabbed chapter titles."""
    raw = RawStory(format="fanficfare-txt")
    index, blanks, field = 0, 0, None
    while index < len(lines) and not lines[index].strip():
        index += 1
    if index < len(lines) and not th.label_of(lines[index]):
        raw.title = lines[index].strip()
        index += 1
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped:
            blanks += 1
            index += 1
            continue
        label = th.label_of(stripped)
        if raw.author is None and (author := th.by_line(stripped)) and not label:
            raw.author = author
        elif label is not None:
            field = _store_fff(raw, *label)
        elif field == "summary" and blanks <= 1:
            raw.summary = f"{raw.summary}{' ' if blanks == 0 else chr(10)}{stripped}".strip()
        elif field is not None and blanks == 0:
            _store_fff(raw, field, field, stripped, wrapped=True)
        else:
            break
        blanks = 0
        index += 1
    body = lines[index:]
    if body and body[0].strip().upper() == "TABLE OF CONTENTS":
        body = _skip_toc(body[1:])
    while body and not body[-1].strip():
        body.pop()
    if body and body[-1].strip() == "End file.":
        body.pop()
    raw.body = join_body(_unwrap([line.strip() if line[:1] in " \t" else line for line in body], 79))
    return raw


def _store_fff(raw: RawStory, field: str, label: str, value: str, *, wrapped: bool = False) -> str:
    """FanFicFare label meanings: Category is the fandom, Relationships the pairings."""
    key = label.lower()
    if wrapped:
        if field == "summary":
            raw.summary = f"{raw.summary or ''} {value}".strip()
        elif field in ("fandoms", "tags", "characters", "pairings", "warnings"):
            getattr(raw, field).extend(th.split_list(value))
        return field
    if key in ("category", "categories"):
        field = "fandoms"
        raw.fandoms.extend(th.split_list(value))
    elif key in ("relationships", "pairing", "pairings"):
        field = "pairings"
        raw.pairings.extend(th.split_list(value))
    elif key in ("status",):
        th.store(raw, "status", label, value)
    else:
        th.store(raw, field, label, value)
    return field


def _skip_toc(lines: list[str]) -> list[str]:
    """Drop a TABLE OF CONTENTS: entries until the first indented chapter title."""
    entries: set[str] = set()
    for index, line in enumerate(lines):
        if line[:1] in " \t" and line.strip() in entries:
            return lines[index:]
        if line.strip():
            entries.add(line.strip())
    return lines


def _unwrap(lines: list[str], width: int = 78) -> list[str]:
    """Join lines of a paragraph hard-wrapped at `width` columns back into one line each."""
    out: list[str] = []
    previous_long = False
    for line in lines:
        if out and line.strip() and out[-1].strip() and previous_long:
            out[-1] = f"{out[-1]} {line.strip()}"
        else:
            out.append(line)
        previous_long = len(line) >= width - 20
    return out


def unwrap_hard_wrapped(body: str) -> str:
    """Undo an email-style hard wrap (every paragraph broken at ~70-80 columns) so excerpts read
    as paragraphs. Text that is not clearly wrapped that way (poetry, one line per paragraph) is
    returned unchanged."""
    lines = body.split("\n")
    lengths = sorted(len(line) for line in lines if line.strip())
    if len(lengths) < 12:
        return body
    width = lengths[int(len(lengths) * 0.9)]
    near = sum(1 for n in lengths if width - 20 <= n <= width)
    paragraphs = len(re.findall(r"\n[ \t]*\n", body)) + 1
    if not 55 <= width <= 100 or lengths[-1] > width + 10 or near < 0.5 * len(lengths):
        return body
    if len(lengths) < 2 * paragraphs:  # most paragraphs are one line: nothing was wrapped
        return body
    return "\n".join(_unwrap(lines, width + 1))
