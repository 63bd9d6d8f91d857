"""EPUB story files: AO3 EPUB downloads (`ao3-epub`, read with the AO3 preface parser shared with the
HTML reader) and any other EPUB (`epub`, from the OPF metadata and the spine's documents).

Owns the zip -> container.xml -> OPF -> spine walk. It must not normalise against the roster or touch
the database. A file that is not a readable EPUB raises `ValueError` with a plain message; the
dispatcher turns that into a failed parse.
"""

from __future__ import annotations

import html
import io
import logging
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote

from bs4 import BeautifulSoup
from lxml import etree

from archive.decode import decode
from archive.formats.ao3tree import Element, parse_tree, read_ao3_tree
from archive.formats.html import html_to_text, is_ao3, parse_html, read_ao3
from archive.model import RawStory

log = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
FAST = True
"""AO3 EPUBs are read from lxml's trees (`tests/test_parse_html_tree.py` compares with bs4's reading)."""


@dataclass(slots=True)
class _Package:
    """What the OPF says: Dublin Core metadata and the spine's documents, in reading order."""

    title: str | None = None
    creators: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    description: str | None = None
    language: str | None = None
    date: str | None = None
    documents: list[str] = field(default_factory=list)  # paths inside the zip


def _opf_path(book: zipfile.ZipFile) -> str:
    try:
        container = BeautifulSoup(book.read("META-INF/container.xml"), "xml")
        rootfile = container.find("rootfile")
        if rootfile is not None and rootfile.get("full-path"):
            return str(rootfile["full-path"])
    except KeyError:
        pass
    for member in book.namelist():
        if member.lower().endswith(".opf"):
            return member
    raise ValueError("not a readable EPUB: no META-INF/container.xml and no .opf package file")


def _dc(opf: BeautifulSoup, tag: str) -> list[str]:
    return [" ".join(el.get_text(" ").split()) for el in opf.find_all(tag) if el.get_text(strip=True)]


def _read_package(book: zipfile.ZipFile) -> _Package:
    path = _opf_path(book)
    try:
        opf = BeautifulSoup(book.read(path), "xml")
    except KeyError as exc:
        raise ValueError(f"not a readable EPUB: its package file {path!r} is missing") from exc
    pkg = _Package()
    pkg.title = next(iter(_dc(opf, "title")), None)
    pkg.creators = _dc(opf, "creator")
    pkg.subjects = _dc(opf, "subject")
    pkg.language = next(iter(_dc(opf, "language")), None)
    pkg.date = next(iter(_dc(opf, "date")), None)
    description = next(iter(_dc(opf, "description")), None)
    if description:
        pkg.description = html_to_text(parse_html(description)) or None
    base = posixpath.dirname(path)
    manifest = {
        str(item.get("id")): posixpath.normpath(posixpath.join(base, unquote(str(item.get("href")))))
        for item in opf.find_all("item")
        if item.get("id") and item.get("href")
    }
    for ref in opf.find_all("itemref"):
        target = manifest.get(str(ref.get("idref")))
        if target is not None:
            pkg.documents.append(target)
    if not pkg.documents:
        raise ValueError(f"not a readable EPUB: the package {path!r} lists no documents in its spine")
    return pkg


def _spine_texts(book: zipfile.ZipFile, pkg: _Package, problems: list[str]) -> Iterator[str]:
    """Every readable spine document's text, in order; a missing, oversized or badly encoded one is
    named in `problems` as it is reached (so they read in spine order whatever the caller adds)."""
    for doc in pkg.documents:
        try:
            info = book.getinfo(doc)
        except KeyError:
            problems.append(f"spine document {doc!r} is missing from the EPUB")
            continue
        if info.file_size > MAX_DOCUMENT_BYTES:
            problems.append(f"spine document {doc!r} is too large to read ({info.file_size} bytes)")
            continue
        text, decoded = decode(book.read(info))  # invalid bytes are reported, never silently dropped
        problems.extend(f"{doc}: {problem}" for problem in decoded)
        yield text


def _joined_documents(book: zipfile.ZipFile, pkg: _Package, problems: list[str]) -> BeautifulSoup:
    """Every spine document's <body> content, in order, as one HTML soup."""
    parts: list[str] = []
    for text in _spine_texts(book, pkg, problems):
        soup = parse_html(text, problems)
        body = soup.body or soup
        parts.append("".join(str(child) for child in body.contents))
    return parse_html("<html><body>" + "".join(parts) + "</body></html>", problems)


def _inner_markup(node: Element) -> str:
    """An lxml element's content as markup (its text, then each child with its tail)."""
    head = html.escape(node.text or "", quote=False)
    return head + "".join(etree.tostring(child, method="html", encoding="unicode") for child in node)


def _read_ao3_fast(book: zipfile.ZipFile, pkg: _Package) -> RawStory | None:
    """An AO3 EPUB read from lxml's trees (the spine joined as `_joined_documents` joins it), at a
    fraction of bs4's cost; None when the book is not an AO3 download or a document has no element
    (the bs4 path reads those)."""
    problems: list[str] = []
    parts: list[str] = []
    for text in _spine_texts(book, pkg, problems):
        root = parse_tree(text, problems)
        if root is None:
            return None
        body = next(root.iter("body"), None)
        parts.append(_inner_markup(body if body is not None else root))
    read = read_ao3_tree("<html><body>" + "".join(parts) + "</body></html>")
    if read is None:
        return None
    raw, taming = read
    raw.format = "ao3-epub"
    raw.problems.extend(problems + [p for p in taming if p not in problems])
    return raw


def _fill_from_package(raw: RawStory, pkg: _Package) -> None:
    """Use the OPF metadata for whatever the documents did not say."""
    raw.title = raw.title or pkg.title
    raw.author = raw.author or (", ".join(pkg.creators) or None)
    raw.summary = raw.summary or pkg.description
    raw.language = raw.language or pkg.language
    raw.published = raw.published or (pkg.date[:10] if pkg.date else None)
    if raw.format == "epub":
        raw.tags.extend(s for s in pkg.subjects if s not in raw.tags)


def read_epub(data: bytes, name: str) -> RawStory:
    """Read one EPUB file into a `RawStory`; `ValueError` when it is not a readable EPUB."""
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ValueError(
            f"{' '.join(name.split())} is not a readable EPUB: not a zip archive ({exc})"
        ) from exc
    with book:
        try:
            pkg = _read_package(book)
            raw = _read_ao3_fast(book, pkg) if FAST else None
            if raw is None:
                problems: list[str] = []
                soup = _joined_documents(book, pkg, problems)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ValueError(f"{name} is not a readable EPUB: {exc}") from exc
    if raw is None:
        if is_ao3(soup):
            raw = read_ao3(soup, "ao3-epub")
        else:
            raw = RawStory(format="epub", body=html_to_text(soup.body))
        raw.problems.extend(problems)
    _fill_from_package(raw, pkg)
    if not raw.body:
        raw.problems.append(f"{name}: no story text found")
    log.debug("read %s as %s: %r", name, raw.format, raw.title)
    return raw
