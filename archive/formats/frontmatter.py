"""Markdown (or HTML-bodied) story files that open with a YAML front-matter block (`yaml-markdown`):
`title`, `author`, `published`, `series`, `summary`, `notes`, `rating`, `pairing`, `warnings`, and
a `tags` list whose prefixes mean something (`c:` character, `p:` pairing, `f:` fandom, `s:` series,
`season:`); other tags are kept as written. A file without front matter is read as `markdown`.

Owns front-matter splitting, a tolerant line-by-line fallback for blocks YAML rejects (an unquoted
colon, a block closed with `--`), and Markdown -> plain text. It must not normalise against the
roster or touch the database.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from typing import Any

import yaml

from archive.formats.html import SCENE_BREAK, html_to_text, parse_html
from archive.formats.textheaders import SMALL_WORDS
from archive.model import RawStory
from archive.safeyaml import YAMLBudgetError, load_bounded

log = logging.getLogger(__name__)

_MAX_BLOCK = 64_000
"""Characters of front matter read at most (a real one is well under 4 KB)."""
_HTML_BODY = re.compile(r"<(?:p|br|div|blockquote)\b", re.IGNORECASE)
_KEY_LINE = re.compile(r"^([A-Za-z_][\w-]*)\s*:(?:\s+(.*))?$")
_RULE = re.compile(r"^\s*([-*_])(?:\s*\1){2,}\s*$")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)[ \t]*#*[ \t]*$")
_HEADINGS = re.compile(_HEADING.pattern, re.MULTILINE)


def _emphasis(match: re.Match[str]) -> str:
    """`*x*` -> `x`, unless the marker sits inside a word (`snake_case_name`, `5*3*2`)."""
    start = match.start()
    if start and (match.string[start - 1].isalnum() or match.string[start - 1] in "*_"):
        return match.group(0)
    inner = match.group(1)
    return match.group(0)[1:-1] if inner is None else inner


_INLINE: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # image -> its alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # link -> its text
    (re.compile(r"</?[A-Za-z][^>]*>"), ""),  # inline HTML tags
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # strong
    (re.compile(r"\*(?=[^\s*])([^*\n]*?[^\s*])?\*(?![\w*])"), _emphasis),  # *x*
    (re.compile(r"_(?=[^\s_])([^_\n]*?[^\s_])?_(?![\w_])"), _emphasis),  # _x_ (not snake_case)
    (re.compile(r"`([^`]+)`"), r"\1"),  # code
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!])"), r"\1"),  # backslash escapes
]


def split_front_matter(text: str) -> tuple[str | None, str, list[str]]:
    """(front-matter block or None, body, problems). Accepts a block closed by `--` with a problem."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        return None, text, []
    for closers, problem in ((("---", "..."), None), (("--",), "front matter closed with '--', not '---'")):
        for i in range(1, len(lines)):
            if lines[i].strip() in closers:
                block, body = "\n".join(lines[1:i]), "\n".join(lines[i + 1 :])
                return block, body, [f"{problem} (line {i + 1})"] if problem else []
    return None, text, ["front matter opened with '---' is never closed"]


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def read_loose_yaml(block: str) -> dict[str, Any]:
    """`key: value` lines, `- item` lists and indented continuations, for blocks YAML rejects."""
    data: dict[str, Any] = {}
    key: str | None = None
    for line in block.split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _KEY_LINE.match(line)
        if match and not line[0].isspace():
            key, value = match.group(1), (match.group(2) or "").strip()
            data[key] = "" if value in (">", "|", ">-", "|-") else _unquote(value)
        elif key is not None and stripped.startswith("- "):
            if not isinstance(data.get(key), list):
                data[key] = []
            data[key].append(_unquote(stripped[2:]))
        elif key is not None and isinstance(data.get(key), str):
            data[key] = f"{data[key]} {stripped}".strip()
    return data


def markdown_to_text(text: str) -> str:
    """Markdown as plain text: paragraphs joined by blank lines, markup and entities removed."""
    text = text.replace("\r\n", "\n")
    if ">" in text:
        text = re.sub(r"(?m)^[ \t]{0,3}>[ \t]?", "", text)
    if "#" in text:
        text = _HEADINGS.sub(r"\1", text)
    paragraphs: list[str] = []
    for block in re.split(r"\n[ \t]*\n", text):
        if _RULE.match(block):
            paragraphs.append(SCENE_BREAK)
        elif block.strip():
            lines = block.split("\n")
            joined = [ln.strip().rstrip("\\") + ("\n" if ln.endswith(("  ", "\\")) else " ") for ln in lines]
            paragraphs.append("".join(joined).strip())
    text = "\n\n".join(paragraphs)
    for pattern, repl in _INLINE:
        text = pattern.sub(repl, text)
    return html.unescape(text)


def _text_value(value: Any) -> str | None:
    """A scalar field as one plain-text string (HTML in it turned to text)."""
    if value is None or isinstance(value, dict):
        return None
    if isinstance(value, list):  # a list where one value belongs: its plain items, bounded
        value = ", ".join(str(v) for v in value[:20] if isinstance(v, str | int | float))
    text = str(value)[:_MAX_BLOCK]
    if re.search(r"</?[A-Za-z][^>]*>|&#?\w+;", text):
        return html_to_text(parse_html(text)) or None
    return " ".join(text.split()) or None


def _date_value(value: Any) -> str | None:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    match = re.match(r"\s*['\"]?(\d{4}-\d{2}-\d{2})", str(value or ""))
    return match.group(1) if match else None


def from_slug(slug: str, *, acronyms: bool = False) -> str:
    """`clara-oswald` -> `Clara Oswald` (`btvs` -> `BTVS` with `acronyms`); capitals kept as written.
    Small words inside stay small (`the-thick-of-it` -> `The Thick of It`), and `Mc` names are
    capitalised after it (`ace-mcshane` -> `Ace McShane`)."""
    words = slug.replace("_", " ").replace("-", " ").split()
    if slug != slug.lower():
        return " ".join(words)
    if acronyms and len(words) == 1 and len(words[0]) <= 4:
        return words[0].upper()
    return " ".join(w if i and w in SMALL_WORDS else _capital(w) for i, w in enumerate(words))


def _capital(word: str) -> str:
    if len(word) > 3 and word.startswith("mc") and word[2].isalpha():
        return "Mc" + word[2].upper() + word[3:]
    return word[:1].upper() + word[1:]


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, dict):
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    scalars = [v for v in items[:200] if isinstance(v, str | int | float)]  # never str() a nested list
    return [str(v).strip() for v in scalars if str(v).strip()]


def _read_tags(tags: list[str], raw: RawStory) -> None:
    for tag in tags:
        prefix, sep, value = tag.partition(":")
        prefix = prefix.strip().lower() if sep else ""
        value = value.strip()
        if prefix == "c" and value:
            raw.characters.append(from_slug(value.rsplit("!", 1)[-1]))
            if "!" in value:
                raw.tags.append(value)
        elif prefix == "p" and value:
            if value.lower() not in (p.lower() for p in raw.pairings):
                raw.pairings.append(value)
        elif prefix == "f" and value:
            raw.fandoms.append(from_slug(value, acronyms=True))
        elif prefix == "season" and value:
            raw.season = raw.season or (value.lstrip("0") or value)
        elif prefix == "s" and value:
            raw.series_name = raw.series_name or from_slug(value)
        else:
            raw.tags.append(tag.strip())


_SELF_LABEL = re.compile(r"^\s*(?:title|name)\s*[=:]\s*[\"'“]?(?P<value>.*?)[\"'”]?\s*$", re.IGNORECASE)


def _unlabelled(value: str | None) -> str | None:
    """`title="Tea and Sympathy"` (an exporter's bug: the value repeats its key) -> `Tea and Sympathy`."""
    match = _SELF_LABEL.match(value or "")
    return (match.group("value").strip() or None) if match else value


def _fill(data: dict[str, Any], raw: RawStory) -> None:
    raw.title = _unlabelled(_text_value(data.get("title")))
    raw.author = _text_value(data.get("author"))
    raw.published = _date_value(data.get("published") or data.get("date"))
    raw.summary = _text_value(data.get("summary"))
    raw.rating = _text_value(data.get("rating"))
    notes = _text_value(data.get("notes"))
    raw.notes = [notes] if notes else []
    raw.warnings = _list(data.get("warnings"))
    raw.fandoms = [from_slug(f, acronyms=True) for f in _list(data.get("fandoms") or data.get("fandom"))]
    raw.pairings = _list(data.get("pairing") or data.get("pairings"))
    series = data.get("series") or data.get("collection")
    if isinstance(series, str | int) and str(series).strip():
        raw.series_name = from_slug(str(series))
    raw.spoilers = _text_value(data.get("spoilers"))
    _read_tags(_list(data.get("tags")), raw)


def _strip_top(body: str, raw: RawStory) -> str:
    """Headings and a `By X` line above the story (the title and by-line repeated under the front
    matter) are not story: the by-line is the author when none was given, a part heading the part."""
    from archive.formats.textheaders import by_line
    from archive.series import part_from_heading

    lines = body.split("\n")
    index, headings, authors = 0, 0, 0
    while index < len(lines) and index < 12:
        stripped = lines[index].strip()
        heading = _HEADING.match(lines[index])
        author = by_line(stripped.strip("*_")) if stripped else None
        if not stripped:
            pass
        elif heading and headings < 3:
            headings += 1
            text = heading.group(1).strip()
            raw.title = raw.title or text
            raw.part = raw.part if raw.part is not None else part_from_heading(text)
        elif author is not None:
            authors += 1
            raw.author = raw.author or author
        else:
            break
        index += 1
    if index >= len(lines) or not authors:
        return body  # headings alone stay: a chapter heading in the text is the author's
    return "\n".join(lines[index:])


def read_frontmatter(text: str, name: str) -> RawStory:
    """Read a Markdown/HTML story with YAML front matter into a `RawStory` (`yaml-markdown`)."""
    block, body, problems = split_front_matter(text)
    raw = RawStory(format="yaml-markdown" if block is not None else "markdown", problems=problems)
    if block is not None:
        try:
            data = load_bounded(block[:_MAX_BLOCK]) or {}  # safe tags only, aliases on a budget
            if not isinstance(data, dict):
                raise yaml.YAMLError(f"expected key: value pairs, got {type(data).__name__}")
        except YAMLBudgetError as exc:
            raw.problems.append(f"front matter refused ({exc}); read it line by line without aliases")
            data = read_loose_yaml(block[:_MAX_BLOCK])
        except yaml.YAMLError as exc:
            first_line = str(exc).strip().split("\n")[0]
            raw.problems.append(f"front matter is not valid YAML ({first_line}); read it line by line")
            data = read_loose_yaml(block)
        _fill(data, raw)
    if not _HTML_BODY.search(body):
        body = _strip_top(body, raw)
    raw.body = (
        html_to_text(parse_html(body, raw.problems)) if _HTML_BODY.search(body) else markdown_to_text(body)
    )
    if raw.title is None:
        heading = next((m.group(1) for m in map(_HEADING.match, body.split("\n")[:5]) if m), None)
        raw.title = heading
    if not raw.body:
        raw.problems.append(f"{name}: no story text found")
    log.debug("read %s as %s: %r", name, raw.format, raw.title)
    return raw
