"""HTML and EPUB readers: the three real AO3 downloads (HTML and EPUB), an old archive page with bold
`Title:` labels, any other page, and broken EPUBs, through `parse_story` as the indexer sees them."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.formats.epub import read_epub
from archive.formats.html import html_to_text, parse_html, read_html
from archive.parse import count_words, is_unreadable, parse_story
from archive.roster import Roster
from tests.conftest import CORPUS_DIR, ROSTER_FILE, SAMPLES_DIR
from tests.make_sample_epub import DOCUMENTS, build_epub

AO3 = CORPUS_DIR / "ao3-downloads"


@pytest.fixture(scope="module")
def roster() -> Roster:
    return Roster.load(ROSTER_FILE)


@dataclass(frozen=True)
class Work:
    folder: str
    title: str
    author: str
    level: str
    fandoms: list[str]
    relationships: list[tuple[str, ...]]
    characters: list[str]
    warnings: list[str]
    series: tuple[str | None, int | None]
    words: int
    status: str
    published: str
    first_heading: str | None  # the first chapter heading the HTML shows, if any
    not_in_body: tuple[str, ...]  # preface, chapter notes and end notes text


WORKS = [
    Work("218676", "Fire and Feather", "nianeyna", "general", ["Valdemar Series - Mercedes Lackey"], [],
         ["Original Characters"], ["No Archive Warnings Apply"], (None, None), 7526, "in-progress",
         "2006-07-09", "Chapter 1: Festival",
         ("Only one more chapter of this", "oh bb!Nia", "longest published work", "In a small village")),
    Work("23009290", "My Aim Is Steady And True", "nianeyna", "teen", ["Final Fantasy XIV"],
         [("Emmanellain de Fortemps", "Honoroit Banlardois")], ["Honoroit Banlardois", "Emmanellain de Fortemps"],
         ["Graphic Depictions Of Violence"], (None, None), 4559, "complete", "2020-03-04", None,
         ("Beta'd by the inimitable", "100 percent all-natural")),
    Work("334557", "The World on His Wrist", "bendingsignpost", "teen", ["Sherlock (TV)"],
         [("John Watson", "Sarah Sawyer"), ("John Watson", "Sherlock Holmes")],
         ["Sherlock Holmes", "John Watson", "Jim Moriarty", "Sarah Sawyer"],  # "Sherlock Holmes (again)": Sherlock
         ["Creator Chose Not To Use Archive Warnings"], ("Watches 'Verse", 1), 31623, "complete",
         "2012-02-07", "Chapter 1: Prologue", ("Works inspired by this one", "Translation into")),
]  # fmt: skip


def work_file(work: Work, ext: str) -> Path:
    folder = AO3 / work.folder
    return next(folder.glob(f"*.{ext}"))


@pytest.mark.corpus
@pytest.mark.parametrize("ext", ["html", "epub"])
@pytest.mark.parametrize("work", WORKS, ids=[w.folder for w in WORKS])
def test_ao3_download(work: Work, ext: str, roster: Roster) -> None:
    path = work_file(work, ext)
    meta = parse_story(path.read_bytes(), str(path), roster)
    assert meta.format == f"ao3-{ext}"
    assert not meta.problems
    assert meta.title == work.title
    assert meta.author == work.author
    assert meta.rating.level == work.level
    assert meta.fandoms == work.fandoms
    assert [r.characters for r in meta.relationships] == work.relationships
    assert [c.name for c in meta.characters if c.source == "header"][
        : len(work.characters)
    ] == work.characters
    assert meta.warnings == work.warnings
    assert (meta.series.name, meta.series.part) == work.series
    assert meta.words == work.words
    assert meta.status == work.status
    assert meta.published == work.published
    assert meta.language == "English"
    if work.folder == "218676":  # preface notes and the work's end notes, not the chapter notes
        assert [n[:27] for n in meta.notes] == ["This is my first fanfic eve", "I think this is my longest "]
    assert meta.summary and meta.summary not in meta.body
    for text in work.not_in_body:
        assert text not in meta.body, f"{text!r} leaked into the story text"
    # AO3 counts words a little differently; the chapter text must be about the stated size.
    assert abs(count_words(meta.body) - work.words) <= 0.03 * work.words


@pytest.mark.corpus
@pytest.mark.parametrize("work", WORKS, ids=[w.folder for w in WORKS])
def test_ao3_html_and_epub_agree(work: Work) -> None:
    html = read_html(work_file(work, "html").read_text(encoding="utf-8"), "work.html")
    epub = read_epub(work_file(work, "epub").read_bytes(), "work.epub")
    for field in (
        "title",
        "author",
        "rating",
        "pairings",
        "characters",
        "tags",
        "warnings",
        "fandoms",
        "words",
    ):
        assert getattr(html, field) == getattr(epub, field), field
    assert html.summary == epub.summary
    # The two downloads of a work carry the same paragraphs (headings may be worded differently).
    html_paragraphs = set(html.body.split("\n\n"))
    epub_paragraphs = set(epub.body.split("\n\n"))
    assert len(html_paragraphs & epub_paragraphs) >= 0.97 * len(html_paragraphs)
    if work.first_heading:
        assert html.body.startswith(work.first_heading)


@pytest.mark.corpus
def test_ao3_paragraphs_and_line_breaks() -> None:
    raw = read_html(work_file(WORKS[2], "html").read_text(encoding="utf-8"), "w.html")
    # `<br/> <br/>` inside one <p> is a paragraph break; a single <br/> is a line break.
    assert "he only wears the one.\n\nA careful observer would be wrong." in raw.body
    assert "\n\n\n" not in raw.body
    assert not re.search(r"</?(?:p|br|div|em|a)\b", raw.body) and "&amp;" not in raw.body


# -- the bundled samples -------------------------------------------------------------------------------


def test_sample_ao3_html(roster: Roster) -> None:
    path = SAMPLES_DIR / "ao3" / "the_frost_spell.html"
    meta = parse_story(path.read_bytes(), str(path), roster)
    assert (meta.format, meta.title, meta.author) == ("ao3-html", "The Frost Spell", "librarian_samples")
    assert [r.key for r in meta.relationships] == [
        "Tara Maclay/Willow Rosenberg",
        "Willow Rosenberg & Xander Harris",
    ]
    assert (meta.series.name, meta.series.part, meta.status) == ("Sunnydale Winters", 2, "complete")
    assert meta.body.startswith("Chapter 1: The Recipe\n\nThe recipe called for")
    assert "Chapter 2: The Yard" in meta.body
    assert "chapter notes are not part" not in meta.body and "Thanks for reading" not in meta.body
    assert "“You grew up here,”" in meta.body  # entities decoded
    assert "and meant it, mostly.\nShe tipped" in meta.body  # <br /> is a line break
    assert meta.words == count_words(meta.body) - 6  # the stated count leaves out the two headings
    assert meta.notes == [
        "An original sample for the Librarian test archive.",
        "Written for the Librarian sample archive; free to use in its tests.",
    ]


def test_sample_ao3_epub(roster: Roster) -> None:
    path = SAMPLES_DIR / "ao3" / "late_shift.epub"
    data = path.read_bytes()
    assert data == build_epub(), "stories/ao3/late_shift.epub is stale: run python -m tests.make_sample_epub"
    with zipfile.ZipFile(path) as book:
        first = book.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
    meta = parse_story(data, str(path), roster)
    assert (meta.format, meta.title, meta.author, meta.rating.level) == (
        "ao3-epub",
        "Late Shift",
        "librarian_samples",
        "teen",
    )
    assert [r.key for r in meta.relationships] == ["Angel & Cordelia Chase"]
    assert [c.name for c in meta.characters] == ["Angel", "Cordelia Chase", "Wesley Wyndam-Pryce"]
    assert meta.status == "in-progress"
    assert meta.words == count_words(meta.body) - 3
    assert meta.notes == ["Chapter two is still being written."]


# -- old archive pages and any other page --------------------------------------------------------------

ARCHIVE_PAGE = """<html><head><title>Fanfic Archive: Stake Out</title></head><body>
<h2>The Hellmouth Archive</h2>
<p><strong>Title:</strong> Stake Out<br>
<strong>Author:</strong> Nightwatch<br>
<b>Rating</b>: NC-17<br>
<b>Pairing:</b> S/X, past Spike/Dru<br>
<b>Summary:</b> A long night in a cold car.
The heater is broken.<br>
<b>Disclaimer:</b> Not mine.</p>
<hr>
<p>Xander had been sitting in the car for three hours &amp; his feet had gone numb.</p>
<p>Spike lit another cigarette.<br>&#8220;Cold?&#8221;</p>
</body></html>"""


def test_archive_page_headers_and_body(roster: Roster) -> None:
    raw = read_html(ARCHIVE_PAGE, "stake_out.html")
    assert raw.format == "archive-html"
    assert (raw.title, raw.author, raw.rating) == ("Stake Out", "Nightwatch", "NC-17")
    assert raw.summary == "A long night in a cold car. The heater is broken."
    assert raw.body.startswith("Xander had been sitting in the car for three hours & his feet")
    assert "Spike lit another cigarette.\n“Cold?”" in raw.body
    meta = parse_story(ARCHIVE_PAGE.encode(), "stake_out.html", roster)
    assert meta.rating.level == "explicit"
    assert [(r.key, r.past) for r in meta.relationships] == [
        ("Spike/Xander Harris", False),
        ("Drusilla/Spike", True),
    ]
    assert "Disclaimer" not in meta.body and "Hellmouth Archive" not in meta.body


def test_sample_archive_page(roster: Roster) -> None:
    path = SAMPLES_DIR / "archive-html" / "second_cup.html"
    meta = parse_story(path.read_bytes(), str(path), roster)
    assert (meta.format, meta.title, meta.author, meta.rating.level) == (
        "archive-html",
        "Second Cup",
        "librarian_samples",
        "teen",
    )
    assert meta.spoilers == "Band Candy"
    assert meta.body.startswith("The coat had been hanging")


GENERIC_PAGE = """<!DOCTYPE html><html><head><title>Sunrise</title>
<script>var x = "<p>not text</p>";</script><style>p { color: red }</style></head>
<body><h1>Sunrise</h1><p>Buffy watched the sky go pink.&nbsp;It was <em>almost</em> pretty.</p>
<p>&nbsp;</p><p>Dawn slept.</p><!-- a comment --></body></html>"""


def test_generic_page() -> None:
    raw = read_html(GENERIC_PAGE, "sunrise.html")
    assert (raw.format, raw.title) == ("html", "Sunrise")
    assert raw.body == "Buffy watched the sky go pink. It was almost pretty.\n\nDawn slept."


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>a</p><p>b</p>", "a\n\nb"),
        ("<p>a<br>b</p>", "a\nb"),
        ("<p>a<br><br>b</p>", "a\n\nb"),
        ("<p>a</p><hr><p>b</p>", "a\n\n* * *\n\nb"),
        ("<div>a <i>b</i>\n  c</div>", "a b c"),
        ("<p>caf&eacute; &lt;3 &#8217;</p>", "café <3 ’"),
        ("<blockquote><p>q</p></blockquote>tail", "q\n\ntail"),
    ],
)
def test_html_to_text(markup: str, text: str) -> None:
    assert html_to_text(parse_html(markup)) == text


# -- broken EPUBs --------------------------------------------------------------------------------------


def test_not_a_zip_is_a_clear_error(roster: Roster) -> None:
    with pytest.raises(ValueError, match="not a readable EPUB"):
        read_epub(b"this is not a zip file", "fake.epub")
    meta = parse_story(b"this is not a zip file", "fake.epub", roster)
    assert is_unreadable(meta)


def test_epub_without_container_finds_the_package() -> None:
    raw = read_epub(build_epub(container=False), "nocontainer.epub")
    assert (raw.format, raw.title) == ("ao3-epub", "Late Shift")


def test_epub_with_missing_spine_document_reports_it() -> None:
    data = build_epub()
    broken = _without_member(data, "OEBPS/ch1.xhtml")
    raw = read_epub(broken, "broken.epub")
    assert any("ch1.xhtml" in p for p in raw.problems)


def test_plain_epub_uses_opf_metadata() -> None:
    plain = {"one.xhtml": "<h1>Late Shift</h1><p>Just a story, no AO3 preface.</p>"}
    raw = read_epub(build_epub(plain), "plain.epub")
    assert (raw.format, raw.title, raw.author) == ("epub", "Late Shift", "librarian_samples")
    assert "Just a story, no AO3 preface." in raw.body
    assert "Teen And Up Audiences" in raw.tags
    assert set(DOCUMENTS) - set(plain)  # the variant really left the AO3 documents out


def _without_member(data: bytes, name: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info, src.read(info))
    return out.getvalue()
