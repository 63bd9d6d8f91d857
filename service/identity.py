"""What makes two files the same work, and which of them is read best: pure functions over bytes
and parsed metadata.

Owns `work_key` (the AO3 work or FanFiction.net story a download came from, when the file says
so), `fingerprint` (a hash of the story's text with case, punctuation, spacing and markup folded
away, so a `.txt` beside its `.html` matches) and `read_score` (how much the parser read from a
file: the best-read file of a work is the one its story is made from). `db.identity` uses the keys
to find the story; this module never touches the database, files or Discord.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile

from archive.model import StoryMeta
from archive.wordscan import FOLDED_WORD_BYTES, plain_punctuation

MIN_FINGERPRINT_WORDS = 40
"""Texts shorter than this get no fingerprint (two different drabbles must not become one)."""
_SCAN_BYTES = 256 * 1024
_AO3_POSTED = re.compile(
    rb"Posted originally on the\s.{0,300}?archiveofourown\.org/works/(\d+)", re.IGNORECASE | re.DOTALL
)
_LABELLED = re.compile(
    rb"(?:^|[\n>])\s*(?:url|source|link|story url|original)\s*:\s*(?:<[^>]*>\s*)?"
    rb"https?://(?:www\.)?(archiveofourown\.org/works|fanfiction\.net/s)/(\d+)",
    re.IGNORECASE,
)
_DC_SOURCE = re.compile(
    rb"<dc:(?:source|identifier)[^>]*>\s*https?://(?:www\.)?(archiveofourown\.org/works|fanfiction\.net/s)/(\d+)",
    re.IGNORECASE,
)
_SITES = {b"archiveofourown.org/works": "ao3", b"fanfiction.net/s": "ffn"}
_WORD = re.compile(r"[^\W_]+")
_PARAGRAPH = re.compile(r"\n\s*\n")
PROSE_WORDS = 12
"""A paragraph of fewer words is not counted in the fingerprint (headers, by-lines, headings)."""


_SITE_NAMES = (b"archiveofourown.org/works", b"fanfiction.net/s")
"""Every pattern above needs one of these (lower-cased): a text holding neither is not searched."""


def _key_in(text: bytes) -> str | None:
    lowered = text.lower()
    if not any(site in lowered for site in _SITE_NAMES):
        return None
    found = _AO3_POSTED.search(text)
    if found:
        return f"ao3:{int(found.group(1))}"
    for pattern in (_DC_SOURCE, _LABELLED):
        found = pattern.search(text)
        if found:
            return f"{_SITES[found.group(1).lower()]}:{int(found.group(2))}"
    return None


def work_key(data: bytes) -> str | None:
    """`ao3:334557` / `ffn:1234` when the file names the work it was downloaded from, else None.

    Looks at the AO3 preface line ("Posted originally on the Archive of Our Own at …"), an EPUB's
    `dc:source`/`dc:identifier`, or a labelled `URL:`/`Source:` header line; links to other works
    (series, translations, inspirations) are not the file's own work and are not read.
    """
    if data[:4] != b"PK\x03\x04":
        return _key_in(data[:_SCAN_BYTES])
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            names = [n for n in book.namelist() if n.lower().endswith((".opf", ".xhtml", ".html", ".htm"))]
            names.sort(key=lambda n: (not n.lower().endswith(".opf"), n))
            for name in names[:8]:
                with book.open(name) as member:
                    key = _key_in(member.read(_SCAN_BYTES))
                if key:
                    return key
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError):
        return None
    return None


def fingerprint(text: str) -> str | None:
    """sha256 of the words of the text's prose paragraphs (NFKC, case-folded, punctuation, spacing
    and markup dropped), or None for a text too short to tell works apart.

    Short paragraphs (by-lines, header lines a reader left in the body, chapter headings, scene
    breaks) are left out, so the same story read from a `.txt` and from an `.html` matches.
    """
    if plain_punctuation(text):  # NFKC and case folding change no word here: read bytes, a third of the cost
        byte_words: list[bytes] = []
        for paragraph in _PARAGRAPH.split(text):
            found = paragraph.encode("utf-8").translate(FOLDED_WORD_BYTES).split()
            if len(found) >= PROSE_WORDS:
                byte_words += found
        if len(byte_words) < MIN_FINGERPRINT_WORDS:
            return None
        return hashlib.sha256(b" ".join(byte_words)).hexdigest()
    words: list[str] = []
    for paragraph in _PARAGRAPH.split(unicodedata.normalize("NFKC", text).casefold()):
        found = _WORD.findall(paragraph)
        if len(found) >= PROSE_WORDS:
            words += found
    if len(words) < MIN_FINGERPRINT_WORDS:
        return None
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


def read_score(meta: StoryMeta) -> int:
    """How much the parser read from a file (fields found, minus problems): higher is better."""
    found = [
        meta.author,
        meta.rating.raw,
        meta.summary,
        meta.relationships,
        [c for c in meta.characters if c.source == "header"],
        meta.tags,
        meta.fandoms,
        meta.warnings,
        meta.published,
        meta.status,
        meta.series.name,
        meta.language,
    ]
    return 10 * sum(1 for value in found if value) - 5 * len(meta.problems) + (1 if meta.words else 0)
