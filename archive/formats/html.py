"""HTML story files: AO3 downloads (`ao3-html`), old archive pages with `<b>Title:</b>` headers
(`archive-html`) and any other page (`html`), read into a `RawStory`; plus `html_to_text`, the one
way every reader turns HTML into Librarian's plain text.

Owns HTML -> text rules: paragraphs separated by a blank line, `<br>` a line break (two in a row a
paragraph break), `<hr>` a `* * *` scene break, entities decoded, emphasis dropped (plain text, so
the bot's Discord escaping never has to undo markup). It must not normalise against the roster or
touch the database; the AO3 preface parser here is shared with the EPUB reader.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterable, Iterator

from bs4 import BeautifulSoup, NavigableString, Tag, XMLParsedAsHTMLWarning
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

from archive.formats.htmlguard import tame_markup
from archive.formats.htmltext import BLOCKS, BR, PARA, SCENE_BREAK, SKIP, join_text, read_stats
from archive.model import RawStory, SourceFormat

log = logging.getLogger(__name__)

_NOT_TEXT = (Comment, Declaration, Doctype, ProcessingInstruction)


def parse_html(markup: str | bytes, problems: list[str] | None = None) -> BeautifulSoup:
    """Parse HTML or XHTML with lxml (XHTML read as HTML on purpose: tolerant of broken markup).

    Deeply nested markup is tamed first (see `tame_markup`); why goes into `problems` if given."""
    markup, problem = tame_markup(markup)
    if problem and problems is not None and problem not in problems:
        problems.append(problem)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(markup, "lxml")


def html_to_text(node: Tag | BeautifulSoup | None) -> str:
    """The readable text of an HTML element: paragraphs joined by blank lines, `<br>` as newline."""
    if node is None:
        return ""
    out: list[str] = []
    stack: list[object] = [node]
    while stack:
        el = stack.pop()
        if isinstance(el, str) and not isinstance(el, NavigableString):
            out.append(el)  # a marker pushed below
        elif isinstance(el, NavigableString):
            if not isinstance(el, _NOT_TEXT):
                out.append(str(el))
        elif isinstance(el, Tag) and el.name not in SKIP:
            if el.name == "br":
                out.append(BR)
            elif el.name == "hr":
                out.append(f"{PARA}{SCENE_BREAK}{PARA}")
            else:
                block = el.name in BLOCKS
                if block:
                    out.append(PARA)
                    stack.append(PARA)
                stack.extend(reversed(el.contents))
    return join_text(out)


def _text(node: Tag | None) -> str:
    return " ".join(node.get_text(" ").split()) if node is not None else ""


def _tags(node: Tag, names: Iterable[str] | None = None) -> Iterator[Tag]:
    """The elements under `node` in document order (as `find_all`, at a fraction of its cost)."""
    wanted = frozenset(names) if names is not None else None
    for el in node.descendants:
        if isinstance(el, Tag) and (wanted is None or el.name in wanted):
            yield el


def _with_ids(node: Tag, idents: Iterable[str]) -> dict[str, list[Tag]]:
    """The elements under `node` whose `id` is one of `idents` (one pass), in document order."""
    found: dict[str, list[Tag]] = {ident: [] for ident in idents}
    for el in _tags(node):
        ident = el.get("id")
        if isinstance(ident, str) and ident in found:
            found[ident].append(el)
    return found


def _classes(el: Tag) -> list[str]:
    value = el.get("class") or []
    return value.split() if isinstance(value, str) else list(value)


# -- AO3 ----------------------------------------------------------------------------------------------


def is_ao3(soup: BeautifulSoup) -> bool:
    """True when the page carries AO3's download preface (`<dl class="tags">`)."""
    return _tags_list(soup) is not None


def _tags_list(soup: BeautifulSoup) -> Tag | None:
    """The first `<dl class="tags">`."""
    return next((dl for dl in _tags(soup, ("dl",)) if "tags" in _classes(dl)), None)


def _label(dt: Tag) -> str:
    return _text(dt).rstrip(":").strip().lower()


def _values(dd: Tag) -> list[str]:
    links = [_text(a) for a in dd.find_all("a")]
    return [v for v in links if v] or [v.strip() for v in _text(dd).split(",") if v.strip()]


def _read_tags(dl: Tag, raw: RawStory) -> None:
    for dt in dl.find_all("dt"):
        dd = dt.find_next_sibling("dd")
        if dd is None:
            continue
        label, values = _label(dt), _values(dd)
        if label == "rating":
            raw.rating = ", ".join(values) or None
        elif label.startswith("archive warning"):
            raw.warnings.extend(values)
        elif label in ("category", "categories", "additional tags", "freeform", "freeforms"):
            raw.tags.extend(values)
        elif label in ("fandom", "fandoms"):
            raw.fandoms.extend(values)
        elif label in ("relationship", "relationships"):
            raw.pairings.extend(values)
        elif label in ("character", "characters"):
            raw.characters.extend(values)
        elif label == "language":
            raw.language = _text(dd) or None
        elif label == "series":
            _read_series(dd, raw)
        elif label == "stats":
            read_stats(_text(dd), raw)


def _read_series(dd: Tag, raw: RawStory) -> None:
    raw.series = _text(dd) or None
    match = re.search(r"Part\s+(\d+)\s+of\s+(.+?)(?:,\s*Part\s+\d+\s+of|$)", raw.series or "")
    if match:
        raw.series_part = int(match.group(1))
        link = dd.find("a")
        raw.series_name = _text(link) if link is not None else match.group(2).strip()


def _blockquote_after(scopes: list[Tag], label: str) -> str | None:
    """The text of the blockquote that follows a `<p>Summary</p>`-style label inside `scopes`."""
    for scope in scopes:
        for p in _tags(scope, ("p",)):
            if _text(p).lower() == label.lower():
                quote = p.find_next_sibling("blockquote")
                if quote is not None:
                    return html_to_text(quote) or None
    return None


def _chapter_text(containers: list[Tag]) -> str:
    """Chapter headings and chapter text from the `#chapters` blocks, notes left out."""
    parts: list[str] = []
    for container in containers:
        taken: set[int] = set()
        for el in _tags(container, ("h2", "h3", "div")):
            if any(id(parent) in taken for parent in el.parents) or _inside_notes(el, container):
                continue
            classes = _classes(el)
            if el.name != "div" and "heading" in classes:
                parts.append(_text(el))
                taken.add(id(el))
            elif el.name == "div" and any(c.startswith("userstuff") for c in classes):
                text = html_to_text(el)
                if text:
                    parts.append(text)
                taken.add(id(el))
    return "\n\n".join(p for p in parts if p)


def _inside_notes(el: Tag, stop: Tag) -> bool:
    for node in [el, *el.parents]:
        if node is stop:
            return False
        ident = str(node.get("id") or "")
        if ident.startswith("endnotes") or "endnote-link" in _classes(node):
            return True
    return False


def read_ao3(soup: BeautifulSoup, fmt: SourceFormat = "ao3-html") -> RawStory:
    """An AO3 download (HTML, or an EPUB's documents joined into one soup) as a `RawStory`."""
    raw = RawStory(format=fmt)
    dl = _tags_list(soup)
    if dl is not None:
        _read_tags(dl, raw)
    raw.title = _text(soup.find("h1")) or None
    byline = soup.find(class_="byline")
    if byline is not None:
        authors = [_text(a) for a in byline.find_all("a", rel="author")]
        raw.author = ", ".join(a for a in authors if a) or re.sub(r"^by\s+", "", _text(byline)) or None
    ids = _with_ids(soup, ("preface", "endnotes", "chapters"))
    preface = ids["preface"] or [soup]  # an EPUB splits the preface in two documents
    raw.summary = _blockquote_after(preface, "Summary")
    notes = [
        _blockquote_after(preface, "Notes"),
        _blockquote_after(ids["endnotes"], "End Notes"),
    ]
    raw.notes = [n for n in notes if n]
    raw.body = _chapter_text(ids["chapters"])
    if not raw.body:
        raw.problems.append("no chapter text found in #chapters; used the whole page")
        raw.body = html_to_text(soup.body or soup)
    if raw.title is None:
        raw.title = _title_from_head(soup)
    return raw


def _title_from_head(soup: BeautifulSoup) -> str | None:
    head = _text(soup.find("title"))
    return head.split(" - ")[0].strip() or None if head else None


# -- old archive pages --------------------------------------------------------------------------------

_HEADER_FIELDS = {
    "title": "title", "story": "title", "author": "author", "by": "author", "written by": "author",
    "rating": "rating", "rated": "rating", "pairing": "pairings", "pairings": "pairings",
    "relationship": "pairings", "relationships": "pairings", "ship": "pairings",
    "character": "characters", "characters": "characters", "summary": "summary",
    "warning": "warnings", "warnings": "warnings", "category": "tags", "categories": "tags",
    "genre": "tags", "keywords": "tags", "spoilers": "spoilers", "spoiler": "spoilers",
    "season": "season", "series": "series", "fandom": "fandoms", "fandoms": "fandoms",
    "word count": "words", "words": "words", "status": "status", "date": "published",
    "notes": "notes", "note": "notes", "author's notes": "notes", "authors notes": "notes",
    "a/n": "notes", "disclaimer": "", "distribution": "", "archive": "", "feedback": "",
    "email": "", "e-mail": "", "dedication": "notes", "beta": "", "thanks": "notes",
}  # fmt: skip
_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z'’/ -]{0,24}?)\s*:\s*(.*)$")


def _header_field(line: str) -> tuple[str, str] | None:
    match = _HEADER_LINE.match(line)
    if match is None:
        return None
    label = match.group(1).strip().lower().replace("’", "'")
    return (_HEADER_FIELDS[label], match.group(2).strip()) if label in _HEADER_FIELDS else None


def _store(raw: RawStory, key: str, value: str) -> None:
    if not key or not value:
        return
    if key in ("pairings", "characters", "warnings", "fandoms"):
        getattr(raw, key).extend(v.strip() for v in re.split(r"[,;]", value) if v.strip())
    elif key == "tags":
        raw.tags.extend(v.strip() for v in value.split(",") if v.strip())
    elif key == "notes":
        raw.notes.append(value)
    elif key == "words":
        digits = re.sub(r"[^\d]", "", value)
        raw.words = int(digits) if digits else None
    elif getattr(raw, key) is None:
        setattr(raw, key, value)


_CONTINUED = frozenset({"summary", "notes", "pairings", "characters", "tags", "warnings"})


def _continue(raw: RawStory, key: str, line: str) -> None:
    """A header value that runs on to the next line."""
    if key == "summary":
        raw.summary = f"{raw.summary} {line}" if raw.summary else line
    elif key == "notes" and raw.notes:
        raw.notes[-1] = f"{raw.notes[-1]} {line}"
    else:
        _store(raw, key, line)


def read_header_text(text: str, raw: RawStory) -> None:
    """Fill `raw` from `Label: value` lines at the top of `text`; the rest becomes `raw.body`."""
    lines = text.split("\n")
    end, seen, last, blank = 0, 0, "", False
    for i, line in enumerate(lines):
        field = _header_field(line.strip())
        if field is not None:
            last, blank, end = field[0], False, i + 1
            seen += 1
            _store(raw, *field)
        elif not line.strip():
            blank = True
        elif seen and not blank and last in _CONTINUED:
            _continue(raw, last, line.strip())
            end = i + 1
        elif seen or i > 8:
            break
    body = "\n".join(lines[end:]).strip() if seen else text.strip()
    while body.startswith(SCENE_BREAK):
        body = body[len(SCENE_BREAK) :].lstrip()
    raw.body = body


def is_archive_page(soup: BeautifulSoup) -> bool:
    """True when bold labels such as `<b>Title:</b>` open the page (old archive style)."""
    for bold in soup.find_all(["b", "strong"], limit=40):
        if re.fullmatch(r"(title|author|by|pairing|rating)\s*:?", _text(bold), re.IGNORECASE):
            return True
    return False


def read_archive_page(soup: BeautifulSoup) -> RawStory:
    """An old archive page: `Title:`/`Author:` labels in bold, then the story."""
    raw = RawStory(format="archive-html")
    read_header_text(html_to_text(soup.body or soup), raw)
    if raw.title is None:
        raw.title = _title_from_head(soup) or _text(soup.find(["h1", "h2"])) or None
    return raw


# -- any page -----------------------------------------------------------------------------------------


def read_generic(soup: BeautifulSoup) -> RawStory:
    """Any other page: `<title>` or the first heading as title, the page text as body."""
    from archive.formats.plaintext import read_text
    from archive.formats.textheaders import is_clutter

    raw = RawStory(format="html")
    heading = soup.find(["h1", "h2"])
    titles = [_text(soup.find("title")), _text(heading)]
    raw.title = next((t for t in titles if t and not is_clutter(t)), None)
    body = html_to_text(soup.body or soup)
    first, _, rest = body.partition("\n\n")
    if heading is not None and first.strip() == _text(heading):
        body = rest
    raw.body = body.strip()
    scanned = read_text(body, "page.txt")  # a saved page whose header is plain `Label: value` text
    if scanned.format in ("mailing-list", "ffnet") and scanned.body:
        scanned.format = "archive-html"
        scanned.title = scanned.title or raw.title
        raw = scanned
    meta = soup.find("meta", attrs={"name": "author"})
    if meta is not None and meta.get("content"):
        raw.author = str(meta["content"]).strip() or None
    return raw


def read_html(text: str, name: str) -> RawStory:
    """Read one HTML story file (AO3 download, old archive page or any page) into a `RawStory`."""
    from archive.formats.ao3tree import read_ao3_tree

    fast = read_ao3_tree(text)  # an AO3 download (most HTML files) is read from lxml's own tree
    if fast is not None:
        raw, problems = fast
        raw.problems[:0] = problems
        if not raw.body:
            raw.problems.append(f"{name}: no story text found")
        log.debug("read %s as %s: %r", name, raw.format, raw.title)
        return raw
    problems: list[str] = []
    soup = parse_html(text, problems)
    if is_ao3(soup):
        raw = read_ao3(soup, "ao3-html")
    elif is_archive_page(soup):
        raw = read_archive_page(soup)
    else:
        raw = read_generic(soup)
    raw.problems[:0] = problems
    if not raw.body:
        raw.problems.append(f"{name}: no story text found")
    log.debug("read %s as %s: %r", name, raw.format, raw.title)
    return raw
