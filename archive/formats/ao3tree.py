"""AO3 HTML downloads read straight from lxml's tree: the common case of `html.read_html`, at a
fraction of BeautifulSoup's cost (building bs4's tree from lxml's parser events was 40 % of an
index run's parse time).

Owns `read_ao3_tree(text)`: the same markup taming, the same parser (lxml's HTML parser, fed as
bs4 feeds it a string), the same rules as `html.read_ao3` + `html.html_to_text` on bs4's tree, applied to
lxml elements: text is an element's `.text` and each child's `.tail`; comments and processing
instructions are not text (their tails are); `get_text` leaves out strings inside `rt`, `rp`,
`style`, `script` and `template`, as bs4's string containers do. It returns None for any page that
is not an AO3 download (the bs4 path reads those). Pure text in, `RawStory` out: no I/O, no
database, no Discord. `tests/test_parse_html.py` checks both paths agree on every HTML file the
tests and the corpus hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from lxml import etree

from archive.formats.htmlguard import tame_markup
from archive.formats.htmltext import BLOCKS, SKIP, join_text, read_stats
from archive.model import RawStory

SCENE_BREAK = "* * *"
BR, PARA = "\x01", "\x02"
_STRING_CONTAINERS = frozenset({"rt", "rp", "style", "script", "template"})
"""Tags whose strings bs4 gives their own type, which `get_text` leaves out."""

Element = etree._Element


def parse_tree(markup: str, problems: list[str]) -> Element | None:
    """lxml's HTML tree of `markup` after `tame_markup`, parsed as bs4 parses a string (a leading
    byte-order mark dropped, the whole text fed at once); None for a page with no element."""
    markup, problem = tame_markup(markup)  # type: ignore[assignment]
    if problem and problem not in problems:
        problems.append(problem)
    if markup[:1] == "\ufeff":
        markup = markup[1:]
    parser = etree.HTMLParser(recover=True, huge_tree=False)
    try:
        parser.feed(markup)
        return parser.close()
    except (etree.XMLSyntaxError, etree.ParserError, UnicodeDecodeError, LookupError):
        return None


def _is_element(node: object) -> bool:
    return isinstance(getattr(node, "tag", None), str)


def html_to_text(node: Element | None) -> str:
    """`html.html_to_text` over an lxml element."""
    if node is None or node.tag in SKIP:
        return ""
    out: list[str] = []
    stack: list[object] = [node]
    while stack:
        el = stack.pop()
        if isinstance(el, str):
            out.append(el)  # a marker or a tail pushed below
            continue
        assert isinstance(el, Element)
        name = el.tag
        if name == "br":
            out.append(BR)
            continue
        if name == "hr":
            out.append(f"{PARA}{SCENE_BREAK}{PARA}")
            continue
        block = name in BLOCKS
        if block:
            out.append(PARA)
            stack.append(PARA)
        pushed: list[object] = []
        if el.text:
            pushed.append(el.text)
        for child in el:
            if _is_element(child) and child.tag not in SKIP:
                pushed.append(child)
            if child.tail:
                pushed.append(child.tail)
        stack.extend(reversed(pushed))
    return join_text(out)


def _contained(el: Element) -> bool:
    """Whether strings directly in `el` sit inside one of bs4's string containers."""
    return any(a.tag in _STRING_CONTAINERS for a in (el, *el.iterancestors()))


def _strings(node: Element) -> Iterator[str]:
    """The strings `get_text` joins: text and tails under `node`, containers left out."""
    if node.text and not _contained(node):
        yield node.text
    for el in node.iterdescendants():
        if _is_element(el) and el.text and not _contained(el):
            yield el.text
        if el.tail and not _contained(el.getparent()):
            yield el.tail


def _text(node: Element | None) -> str:
    return " ".join(word for s in _strings(node) for word in s.split()) if node is not None else ""


def _classes(el: Element) -> list[str]:
    return (el.get("class") or "").split()


def _tags(node: Element, names: Iterable[str] | None = None) -> Iterator[Element]:
    """The elements under `node` (not `node` itself) in document order."""
    wanted = frozenset(names) if names is not None else None
    for el in node.iterdescendants():
        if _is_element(el) and (wanted is None or el.tag in wanted):
            yield el


def _find(root: Element, name: str) -> Element | None:
    """bs4's `soup.find(name)`: the first such element of the document."""
    return next(root.iter(name), None)


def _next_sibling(el: Element, name: str) -> Element | None:
    return next(el.itersiblings(name), None)


def _tags_list(root: Element) -> Element | None:
    return next((dl for dl in root.iter("dl") if "tags" in _classes(dl)), None)


def _label(dt: Element) -> str:
    return _text(dt).rstrip(":").strip().lower()


def _values(dd: Element) -> list[str]:
    links = [_text(a) for a in _tags(dd, ("a",))]
    return [v for v in links if v] or [v.strip() for v in _text(dd).split(",") if v.strip()]


def _read_tags(dl: Element, raw: RawStory) -> None:
    for dt in _tags(dl, ("dt",)):
        dd = _next_sibling(dt, "dd")
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


def _read_series(dd: Element, raw: RawStory) -> None:
    raw.series = _text(dd) or None
    match = re.search(r"Part\s+(\d+)\s+of\s+(.+?)(?:,\s*Part\s+\d+\s+of|$)", raw.series or "")
    if match:
        raw.series_part = int(match.group(1))
        link = next(_tags(dd, ("a",)), None)
        raw.series_name = _text(link) if link is not None else match.group(2).strip()


def _blockquote_after(scopes: list[Element], label: str) -> str | None:
    for scope in scopes:
        for p in _tags(scope, ("p",)):
            if _text(p).lower() == label.lower():
                quote = _next_sibling(p, "blockquote")
                if quote is not None:
                    return html_to_text(quote) or None
    return None


def _inside_notes(el: Element, stop: Element) -> bool:
    for node in (el, *el.iterancestors()):
        if node is stop:
            return False
        ident = str(node.get("id") or "")
        if ident.startswith("endnotes") or "endnote-link" in _classes(node):
            return True
    return False


def _chapter_text(containers: list[Element]) -> str:
    parts: list[str] = []
    for container in containers:
        taken: set[Element] = set()  # the elements themselves: lxml keeps one proxy per live node
        for el in _tags(container, ("h2", "h3", "div")):
            if any(parent in taken for parent in el.iterancestors()) or _inside_notes(el, container):
                continue
            classes = _classes(el)
            if el.tag != "div" and "heading" in classes:
                parts.append(_text(el))
                taken.add(el)
            elif el.tag == "div" and any(c.startswith("userstuff") for c in classes):
                text = html_to_text(el)
                if text:
                    parts.append(text)
                taken.add(el)
    return "\n\n".join(p for p in parts if p)


def _read(root: Element, dl: Element) -> RawStory:
    """`html.read_ao3` on lxml's tree of an AO3 page (`dl`: its tags list)."""
    raw = RawStory(format="ao3-html")
    _read_tags(dl, raw)
    raw.title = _text(_find(root, "h1")) or None
    byline = next((el for el in root.iter() if _is_element(el) and "byline" in _classes(el)), None)
    if byline is not None:
        authors = [_text(a) for a in _tags(byline, ("a",)) if "author" in (a.get("rel") or "").split()]
        raw.author = ", ".join(a for a in authors if a) or re.sub(r"^by\s+", "", _text(byline)) or None
    ids: dict[str, list[Element]] = {"preface": [], "endnotes": [], "chapters": []}
    for el in root.iter():
        ident = el.get("id") if _is_element(el) else None
        if ident in ids:
            ids[ident].append(el)
    preface = ids["preface"] or [root]
    raw.summary = _blockquote_after(preface, "Summary")
    notes = [_blockquote_after(preface, "Notes"), _blockquote_after(ids["endnotes"], "End Notes")]
    raw.notes = [n for n in notes if n]
    raw.body = _chapter_text(ids["chapters"])
    if not raw.body:
        raw.problems.append("no chapter text found in #chapters; used the whole page")
        body = _find(root, "body")
        raw.body = html_to_text(body if body is not None else root)
    if raw.title is None:
        head = _text(_find(root, "title"))
        raw.title = head.split(" - ")[0].strip() or None if head else None
    return raw


def read_ao3_tree(text: str) -> tuple[RawStory, list[str]] | None:
    """An AO3 HTML download read from lxml's tree, with the taming problems; None when `text` is
    not an AO3 download (or lxml finds no element), so the caller reads it with bs4."""
    problems: list[str] = []
    root = parse_tree(text, problems)
    if root is None:
        return None
    dl = _tags_list(root)
    if dl is None:
        return None
    return _read(root, dl), problems
