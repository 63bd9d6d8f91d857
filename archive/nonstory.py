"""Recognising files in an archive folder that are not stories: licences, READMEs and other
project documents, CSV/TSV and JSON data, notes and to-do lists, source code.

Owns `non_story_reason(data, name)`: the plain-words reason a file is not a story, or None. It
reads the content first (a licence called `terms.txt` is still a licence; a story called
`README.txt` that reads as a story is still a story), the name only as supporting evidence. It is
a pure function over the bytes given: no I/O, no database, no Discord. The indexer decides what
to do with the answer (skip the file and list why).
"""

from __future__ import annotations

import json
import re
from pathlib import PurePath

from archive.decode import decode
from archive.wordscan import LETTER_BYTES, plain_punctuation

_SAMPLE = 64_000
"""Bytes looked at: enough for any licence or README to show what it is."""

_DOC_NAMES = {"readme", "license", "licence", "copying", "notice", "authors", "contributors",
              "contributing", "changelog", "changes", "history", "todo", "notes", "install",
              "manifest", "code_of_conduct", "security", "index", "toc", "contents"}  # fmt: skip
_DATA_EXTS = {".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".yaml", ".yml", ".toml", ".ini", ".cfg",
              ".xml", ".py", ".js", ".css", ".sh", ".bat", ".sql", ".log"}  # fmt: skip

_LICENCE_MARKERS = re.compile(
    r"permission is hereby granted|creative\s+commons|gnu (?:general|lesser|affero) public licen[cs]e|"
    r"the software is provided \"?as is|licensed under the|attribution-(?:noncommercial|sharealike|noderivs)|"
    r"this (?:work|license|licence) is licensed|terms and conditions for (?:use|copying)|"
    r"mit licen[cs]e|apache licen[cs]e|bsd licen[cs]e|mozilla public licen[cs]e|"
    r"public domain dedication|cc0 1\.0|you are free to:|under the following terms|"
    r"without warranty of any kind|in no event shall",
    re.IGNORECASE,
)
_LEGAL_WORDS = re.compile(
    r"\b(?:licen[cs](?:e|es|ed|or|ee)|warrant(?:y|ies)|liabilit(?:y|ies)|redistribut\w*|herein|"
    r"hereby|notwithstanding|pursuant|thereof|shall|sublicense|infringement|copyright|licensor|"
    r"attribution|merchantability|indemnif\w*|jurisdiction|provisions?)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_WORDS_NEEDED = 3500
"""The checks only ask whether a text has more than 300, under 1,500, or up to 3,500 words."""
_WORDS_HEAD = 30_000
"""Characters counted first: prose holds well over 3,500 words in this many, so the rest is skipped."""
_LICENCE_HINTS = ("permission is hereby", "creative", "gnu ", "provided", "licen", "attribution-",
                  "terms and conditions", "public domain", "cc0", "you are free", "under the following",
                  "warranty", "in no event")  # fmt: skip
"""Every `_LICENCE_MARKERS` match holds one of these (case-folded): without any, no marker is looked for."""
_LICENCE_NAME = re.compile(r"licen[cs]e|copyright|gpl|\bmit\b|creative commons", re.IGNORECASE)
_DIALOGUE = re.compile(r"[\"“”«»„]|(?:^|\s)['‘][A-Z]")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?\s*$", re.MULTILINE)
_FENCE = re.compile(r"^\s*```", re.MULTILINE)
_DOC_HEADINGS = re.compile(
    r"^\s{0,3}#{1,4}\s*(?:install(?:ation|ing)?|usage|getting started|requirements|contributing|"
    r"license|licence|build(?:ing)?|set-?up|configuration|examples?|api|changelog|credits|"
    r"how to (?:use|run|build)|development|tests?|faq)\b",
    re.IGNORECASE | re.MULTILINE,
)
_DOC_PHRASES = re.compile(
    r"\b(?:this (?:repository|repo|project|folder|directory)|pull requests?|pip install|npm install|"
    r"git clone|command line|see (?:the )?(?:docs|documentation)|installation|dependencies|"
    r"read-?only|file format|the following files)\b",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)]|\[[ xX]\])\s+\S")
_CODE_LINE = re.compile(
    r"^\s*(?:def |class |import |from \S+ import |function\b|var |let |const |#include|public |"
    r"private |return\b|if\s*\(|for\s*\(|}\s*$|{\s*$|\w+\s*=\s*[\[{(\"'\d])"
)


def non_story_reason(data: bytes, name: str) -> str | None:
    """Why the file `name` with these bytes is not a story (e.g. "a licence (MIT terms)"), or None.

    Never raises; None on anything it cannot judge, so a story is never skipped by accident."""
    try:
        if data[:4] == b"PK\x03\x04":
            return None  # an EPUB or other zip: the parser decides
        text, _ = decode(bytes(data[:_SAMPLE]))
        return text_reason(text, name)
    except Exception:  # a classifier must not stop an index run
        return None


def text_reason(text: str, name: str) -> str | None:
    """`non_story_reason` on already decoded text (the first ~64 KB is enough)."""
    text = text[:_SAMPLE]
    path = PurePath(str(name).replace("\\", "/"))
    stem, ext = path.stem.lower().strip(), path.suffix.lower()
    doc_name = stem.split(".")[0].replace("-", "_") in _DOC_NAMES
    stripped = text.strip()
    if not stripped:
        return None
    words = word_count(stripped)
    storyish = words > 300 and _dialogue_at_least(stripped, 6)
    for check in (_licence, _data, _document, _code, _notes):
        reason = check(stripped, words, ext=ext, doc_name=doc_name, storyish=storyish)
        if reason:
            return reason
    return None


def word_count(text: str) -> int:
    """The text's words, counted exactly up to `_WORDS_NEEDED` (a longer text may say more)."""
    head = _count(text[:_WORDS_HEAD])
    if head >= _WORDS_NEEDED or len(text) <= _WORDS_HEAD:
        return head
    return _count(text)


def _count(text: str) -> int:
    """`_WORD`'s matches (runs of letters), from the bytes when `archive.wordscan` allows."""
    if plain_punctuation(text):
        return len(text.encode("utf-8").translate(LETTER_BYTES).split())
    return len(_WORD.findall(text))


def _dialogue_at_least(text: str, count: int) -> bool:
    """Whether the text holds `count` quotation marks or quoted openings (found in order, stopping early)."""
    for _ in zip(range(count), _DIALOGUE.finditer(text), strict=False):
        count -= 1
    return count <= 0


def _licence(text: str, words: int, *, doc_name: bool, storyish: bool, **_: object) -> str | None:
    head = text[:20_000]
    folded = head.casefold()
    markers: set[str] = set()
    if any(hint in folded for hint in _LICENCE_HINTS):
        markers = {m.group(0).lower() for m in _LICENCE_MARKERS.finditer(head)}
    if not markers and not doc_name:
        return None  # every verdict below needs a licence phrase or a document's name
    legal = len(_LEGAL_WORDS.findall(head))
    density = legal / max(1, min(words, _WORDS_NEEDED))
    if (markers and density >= 0.02 and not storyish) or (len(markers) >= 3 and density >= 0.01):
        kind = _licence_kind(text)
        return f"a licence{f' ({kind})' if kind else ''}, not a story"
    if doc_name and (markers or density >= 0.03) and not storyish and _LICENCE_NAME.search(text[:200] + " "):
        return "a licence, not a story"
    if doc_name and markers and not storyish:
        return "a licence, not a story"
    return None


def _licence_kind(text: str) -> str | None:
    for pattern, kind in (
        (r"creative\s+commons|attribution-", "Creative Commons terms"),
        (r"permission is hereby granted", "MIT terms"),
        (r"gnu (?:general|lesser|affero) public", "GNU terms"),
        (r"apache licen[cs]e", "Apache terms"),
    ):
        if re.search(pattern, text[:20_000], re.IGNORECASE):
            return kind
    return None


def _data(text: str, words: int, *, ext: str, **_: object) -> str | None:
    if text.lstrip()[:1] in ("[", "{") and _is_json(text):
        return "JSON data, not a story"
    lines = [line for line in text.split("\n")[:60] if line.strip()]
    if len(lines) >= 4:
        for delimiter, kind in (("\t", "TSV"), (",", "CSV"), (";", "CSV"), ("|", "table")):
            counts = [line.count(delimiter) for line in lines]
            mode = max(set(counts), key=counts.count)
            share = counts.count(mode) / len(counts)
            if mode >= 2 and share >= 0.8 and _short_cells(lines, delimiter):
                return f"{kind} data, not a story"
    if ext in (".yaml", ".yml", ".toml", ".ini", ".cfg", ".xml", ".log", ".sql"):
        keyed = sum(
            1 for line in lines if re.match(r"^\s*[\w.-]+\s*[:=]", line) or line.lstrip()[:1] in "<[#-"
        )
        if lines and keyed >= 0.7 * len(lines):
            return f"a {ext[1:].upper()} data file, not a story"
    return None


def _is_json(text: str) -> bool:
    if len(text) < _SAMPLE:
        try:
            json.loads(text)
            return True
        except ValueError:
            pass
    lines = [line for line in text.split("\n") if line.strip()][:20]
    ok = 0
    for line in lines:  # JSON lines, or a long document cut at the sample size
        if re.match(r'^\s*(?:[\[{]|"[^"]*"\s*:|[\]}],?$|-?\d+(?:\.\d+)?,?$|true|false|null)', line):
            ok += 1
    return bool(lines) and ok >= 0.9 * len(lines)


def _short_cells(lines: list[str], delimiter: str) -> bool:
    """Table rows hold short cells; prose that happens to use commas has long runs between them."""
    cells = [cell for line in lines for cell in line.split(delimiter)]
    long_cells = sum(1 for cell in cells if len(cell.split()) > 25)
    return long_cells <= 0.1 * len(cells)


def _document(text: str, words: int, *, ext: str, doc_name: bool, storyish: bool, **_: object) -> str | None:
    if not doc_name and "#" not in text and "---" not in text and "```" not in text:
        return None  # without headings, tables or code fences, phrases alone (at most 3) cannot reach 5
    score = 0
    score += 2 * min(2, len(_TABLE_RULE.findall(text)))
    score += 2 * min(2, len(_FENCE.findall(text)) // 2)
    score += 2 * min(3, len(_DOC_HEADINGS.findall(text)))
    score += 3 if doc_name else 0
    score -= 4 if storyish else 0
    if score + 3 < 5:
        return None  # the phrases (at most 3) cannot lift it: the costliest pattern is not run
    score += min(3, len(_DOC_PHRASES.findall(text)))
    if score >= 5:
        return "a project document (README or similar), not a story"
    return None


def _code(text: str, words: int, *, ext: str, storyish: bool, **_: object) -> str | None:
    lines = [line for line in text.split("\n")[:200] if line.strip()]
    if len(lines) < 5 or storyish:
        return None
    code = sum(1 for line in lines if _CODE_LINE.match(line))
    if code >= 0.5 * len(lines) or (ext in _DATA_EXTS and code >= 0.3 * len(lines)):
        return "source code, not a story"
    return None


def _notes(text: str, words: int, *, doc_name: bool, storyish: bool, **_: object) -> str | None:
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines or storyish:
        return None
    bullets = sum(1 for line in lines if _BULLET.match(line))
    short = words < 1500
    if short and len(lines) >= 3 and bullets >= 0.6 * len(lines):
        return "a list or notes, not a story"
    if doc_name and short and dialogue_free(text):
        return "notes or a project file (by its name and content), not a story"
    return None


def dialogue_free(text: str) -> bool:
    """No quoted speech at all: true of notes and documents, rare in a story of any length."""
    return not _DIALOGUE.search(text)
