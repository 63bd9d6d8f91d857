"""Excerpts: a story's clean body cut into Discord-message-sized chunks, and made inert to post.

Owns `Chunk`, `chunk_text`, `chunk_from`, `neutralise` and `render_chunk`. It must not import
Discord or the database: it works on plain strings.

Invariants (for any body that is not whitespace-only; a whitespace-only body gives `[]`):

* raw text: `"".join(c.text for c in chunks) == body` exactly; every `c.text` is non-empty;
  `c.start` is the offset of `c.text` in `body`; `c.index` runs 0..total-1 and `c.total ==
  len(chunks)`; `len(c.text) <= limit`.
* rendered text: `len(render_chunk(c)) <= limit`. `neutralise` only ever inserts characters, at
  most one per `@`, `<`, `#`, `[`, and `-` followed by `#`; chunks are cut with those insertions
  counted, so the raw text of a chunk is often shorter than `limit` when it holds such characters.
* cuts fall, by preference, at a paragraph end (blank line), a line end, a sentence end, then any
  space, taking the best kind found in the second half of the room (else the last break at all);
  a break inside a Markdown span (`*…*`, `**…**`, `_…_`, `__…__`, `~~…~~`, `` `…` ``, ``` ```…``` ```,
  `||…||`) is used only when there is no other. Whitespace at a cut stays at the end of the
  earlier chunk (it leads the next one only when the room ends exactly where it begins). A word is
  split only when it (with the whitespace before it) is longer than the room, and then never before
  a combining mark, inside a surrogate pair or CR LF, around a zero-width joiner, before a variation
  selector, skin-tone modifier or tag character, or between the two halves of a flag. A chunk is
  whitespace-only only when the body holds a run of whitespace too long to share a chunk with text.
* Discord trims a message's leading and trailing whitespace: a chunk's edges may look trimmed.
* `chunk_from(body, c.start, limit)` gives the same texts and starts as the chunks of
  `chunk_text(body, limit)` from `c` on (numbered from 0): continuing is stable. (The one exception:
  a start forced through a grapheme longer than `limit`, which `chunk_from` moves back.)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

DISCORD_LIMIT = 2000
ZWSP = "\u200b"
ZWJ = "\u200d"

_PARAGRAPH, _LINE, _SENTENCE, _SPACE = range(4)
_WHITESPACE = re.compile(r"\s+")
_TIERS = (
    re.compile(r"\n[^\S\n]*\n\s*"),  # a paragraph end: a blank line
    re.compile(r"\n\s*"),  # a line end
    re.compile(r"[.!?…][\"'”’»)\]*_~|`]{0,3}\s+"),  # a sentence end
    _WHITESPACE,  # any space
)
"""Breaks by preference (the index is the tier); a cut goes after the whitespace."""
_TEXT = re.compile(r"\S")
_SENTENCE_END = ".!?…"
_CLOSERS = "\"'”’»)]*_~|`"

_INERT = re.compile(
    r"(?P<heading>^[ \t]*(?:>{1,3}[ \t]+)?(?=#{1,3}[ \t]|-#[ \t]))"  # a heading/subtext line (quoted too)
    r"|(?P<link>\\*\[(?=[^\]\n]*\]\())"  # a masked link [text](url), unless its [ is escaped already
    r"|(?P<angle><(?=[@#/:]|a:|t:|id:))"  # <@user> <@!user> <@&role> <#channel> </cmd:id> <t:..>
    r"|(?P<at>@(?=everyone|here))",  # @everyone / @here
    re.MULTILINE,
)
_GROW = frozenset("@<#[")
"""Characters `neutralise` may add one character for (plus `-` when followed by `#`)."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """One excerpt: its place (`index` of `total`), where it starts in the body, and its text."""

    index: int
    total: int
    start: int
    text: str

    @property
    def end(self) -> int:
        """Offset just past this chunk in the body: where the next chunk starts ("continue")."""
        return self.start + len(self.text)


def _make_inert(match: re.Match[str]) -> str:
    kind = match.lastgroup
    if kind == "heading":
        return match.group(0) + "\\"
    if kind == "link":
        slashes = match.group(0)[:-1]
        return match.group(0) if len(slashes) % 2 else slashes + "\\["
    return match.group(0) + ZWSP


def neutralise(text: str) -> str:
    """`text` with everything Discord would act on made inert, for posting as a message.

    Mentions (`@everyone`, `@here`, `<@1>`, `<@!1>`, `<@&1>`, `<#1>`, `</cmd:1>`) get a zero-width
    space after `@`/`<`; heading and subtext lines (`# `, `## `, `### `, `-# `) and masked links
    (`[x](url)`) get a backslash escape. Only insertions: at most one per `@`, `<`, `#`, `[` and per
    `-` followed by `#`, so `len(neutralise(t)) <= len(t) + growth(t)` for every `t`.
    """
    return _INERT.sub(_make_inert, text)


def render_chunk(chunk: Chunk) -> str:
    """The text to post for `chunk`: neutralised; never longer than the `limit` it was cut with."""
    return neutralise(chunk.text)


def chunk_text(body: str, limit: int = DISCORD_LIMIT) -> list[Chunk]:
    """Cut `body` into chunks whose rendered text fits in `limit` characters (see module doc)."""
    return _chunks(body, 0, limit)


def chunk_from(body: str, start: int, limit: int = DISCORD_LIMIT) -> list[Chunk]:
    """The chunks of `body` from offset `start` on (numbered from 0), for "continue reading".

    `start` is clamped into the body and moved back to a character boundary if it falls inside a
    grapheme (a base and its combining marks, a surrogate pair, CR LF, an emoji sequence).
    """
    start = max(0, min(start, len(body)))
    while 0 < start < len(body) and not safe_cut(body, start):
        start -= 1
    return _chunks(body, start, limit)


_GROWS = re.compile(f"[{re.escape(''.join(sorted(_GROW)))}]|-(?=#)")


def _cost(body: str) -> np.ndarray:
    """cost[i]: the rendered length of body[:i], counting one more character for each that
    `neutralise` may add to (`_GROW`, and `-` before `#`). Int32 and built without a per-character
    copy of the body: a 370,000-character story peaked at 10 MB of temporaries before."""
    n = len(body)
    cost = np.arange(n + 1, dtype=np.int32)
    grows = np.fromiter((m.start() for m in _GROWS.finditer(body)), dtype=np.int64)
    if grows.size:
        extra = np.zeros(n + 1, dtype=np.int32)
        extra[grows + 1] = 1
        np.cumsum(extra, out=extra)
        cost += extra
    return cost


@lru_cache(maxsize=8)
def _span_pattern(limit: int) -> re.Pattern[str]:
    """Markdown spans no longer than `limit` (longer ones cannot be kept whole anyway)."""
    inner = f"[\\s\\S]{{1,{max(1, limit - 4)}}}?"
    line = f"[^\\n]{{0,{max(1, limit - 2)}}}?"
    return re.compile(
        rf"```{inner}```|`[^`\n]{{1,{limit}}}`|\|\|{inner}\|\||\*\*{inner}\*\*|__{inner}__|~~{inner}~~"
        rf"|\*[^*\s](?:{line}[^*\s])?\*|_[^_\s](?:{line}[^_\s])?_"
    )


def _inside_spans(body: str, limit: int) -> np.ndarray:
    """inside[b] is True when a cut at b would fall strictly inside a Markdown span."""
    depth = np.zeros(len(body) + 2, dtype=np.int32)
    for m in _span_pattern(limit).finditer(body):
        depth[m.start() + 1] += 1
        depth[m.end()] -= 1
    np.cumsum(depth, out=depth)  # in place: no int64 copy of a whole story
    return depth[:-1] > 0


def _is_regional(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def safe_cut(body: str, b: int) -> bool:
    """May a chunk end just before body[b] without breaking a user-perceived character?"""
    if b <= 0 or b >= len(body):
        return True
    before, ch = body[b - 1], body[b]
    code = ord(ch)
    if (before == "\r" and ch == "\n") or ZWJ in (before, ch):
        return False
    if "\ud800" <= before <= "\udbff" and "\udc00" <= ch <= "\udfff":
        return False
    if unicodedata.category(ch) in ("Mn", "Mc", "Me"):
        return False
    if 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:
        return False
    if _is_regional(ch) and _is_regional(before):
        run = 0
        while b - run - 1 >= 0 and _is_regional(body[b - run - 1]):
            run += 1
        return run % 2 == 0
    return True


def _tier(body: str, run_start: int, run_end: int) -> int:
    """How good a cut after the whitespace body[run_start:run_end] is (lower is better)."""
    run = body[run_start:run_end]
    newlines = run.count("\n") or run.count("\r")
    if newlines >= 2:
        return _PARAGRAPH
    if newlines == 1:
        return _LINE
    i = run_start - 1
    while i > max(run_start - 4, 0) and body[i] in _CLOSERS:
        i -= 1
    return _SENTENCE if i >= 0 and body[i] in _SENTENCE_END else _SPACE


def _last_cut(pattern: re.Pattern[str], body: str, lo: int, hi: int, ok: Callable[[int], bool]) -> int | None:
    """The end of the last match of `pattern` in body[lo:hi] that `ok` accepts as a cut."""
    for m in reversed(list(pattern.finditer(body, lo, hi))):
        if ok(m.end()):
            return m.end()
    return None


def _best_cut(body: str, pos: int, room_end: int, text_end: int, inside: np.ndarray) -> int:
    """Where the chunk starting at `pos` should end, given it may run to `room_end` at most."""
    first = _TEXT.search(body, pos)
    start = first.start() if first else pos
    half = max(start, pos + (room_end - pos) // 2)
    edge = _WHITESPACE.match(body, room_end)  # the room may end just where a space begins
    edge_tier = _tier(body, room_end, edge.end()) if edge else None
    for strict in (True, False):  # first avoiding Markdown spans, then not

        def ok(cut: int, strict: bool = strict) -> bool:
            return start < cut < text_end and not (strict and inside[cut]) and safe_cut(body, cut)

        for tier, pattern in enumerate(_TIERS):  # the best kind of break in the second half
            if edge_tier == tier and ok(room_end):
                return room_end
            cut = _last_cut(pattern, body, half, room_end, ok)
            if cut is not None:
                return cut
        cut = _last_cut(_WHITESPACE, body, start, half, ok)  # else the latest break at all
        if cut is not None:
            return cut
    cut = _last_cut(_WHITESPACE, body, start, room_end, lambda c: start < c and safe_cut(body, c))
    if cut is not None:  # only whitespace follows: it cannot all fit with the text
        return cut
    cut = room_end  # one "word" longer than the room: hard split at a character boundary
    while cut > pos + 1 and not safe_cut(body, cut):
        cut -= 1
    return cut if safe_cut(body, cut) else room_end


def _chunks(body: str, start: int, limit: int) -> list[Chunk]:
    if limit < 2:
        raise ValueError("a chunk limit must be at least 2 characters")
    n = len(body)
    if start >= n or not _TEXT.search(body):
        return []
    cost = _cost(body)
    inside = _inside_spans(body, limit)
    text_end = len(body.rstrip())
    texts: list[tuple[int, str]] = []
    pos = start
    while pos < n:
        room_end = int(np.searchsorted(cost, cost[pos] + limit, side="right")) - 1
        cut = n if room_end >= n else _best_cut(body, pos, room_end, text_end, inside)
        texts.append((pos, body[pos:cut]))
        pos = cut
    total = len(texts)
    return [Chunk(i, total, at, text) for i, (at, text) in enumerate(texts)]
