"""AO3 downloads are read from lxml's tree (`archive.formats.ao3tree`) instead of BeautifulSoup's:
both readers must give the same `RawStory` for every AO3 page, including markup that tells their
text rules apart (comments, ruby text, scripts, notes inside chapters, headings inside userstuff)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from archive.decode import decode
from archive.formats import html
from archive.formats.ao3tree import read_ao3_tree
from tests.conftest import CORPUS_DIR, SAMPLES_DIR

TRICKY = """\ufeff<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html><html><head><title>Tricky &amp; Odd - Chapter 1 - Archive</title>
<style>p { color: red }</style></head><body>
<div id="preface"><p class="message">Posted originally on the Archive of Our Own</p>
<div class="meta"><dl class="tags">
<dt>Rating:</dt><dd><a href="x">Teen And Up Audiences</a></dd>
<dt>Archive Warning:</dt><dd><a>No Archive Warnings Apply</a><!-- hidden --></dd>
<dt>Relationship<script>var x = "Xander/Cordelia";</script>:</dt>
<dd><a href="r">Buffy Summers/Spike</a>, <a> Willow Rosenberg &amp; Tara Maclay </a></dd>
<dt>Characters:</dt><dd>Dawn Summers, <ruby>Anya<rt>an-ya</rt></ruby> Jenkins , Giles</dd>
<dt>Additional Tags:</dt><dd><a>Angst</a><a></a><a>Hurt/Comfort</a></dd>
<dt>Series:</dt><dd>Part 2 of <a href="s">The Long Way Home</a>, Part 1 of Other</dd>
<dt>Stats:</dt><dd>Published: 2019-03-04 Completed: 2019-05-01 Words: 1,234 Chapters: 2/2</dd>
<dt>Language:</dt><dd>English</dd><dt>Orphan:</dt>
</dl></div>
<h1>Tricky <em>&amp;</em> Odd</h1>
<div class="byline">by <a rel="author" href="a">quill</a> and <a rel="nofollow author">ink</a></div>
<p>Summary</p><blockquote><p>One line.<br>Another<br><br>New para.</p><!-- c --></blockquote>
<p>Notes</p><blockquote>See <i>end</i>.</blockquote></div>
<div id="chapters" class="userstuff">
<h2 class="toc-heading heading">Chapter 1: <b>Start</b></h2>
<div class="userstuff"><p>It was   a dark<!-- x --> night.</p><hr><p>Then   &mdash; <span>dawn</span>.</p>
<div class="userstuff"><p>Nested text.</p></div><template><p>never</p></template>
<div id="endnotes1"><div class="userstuff"><p>An endnote inside.</p></div></div>
<pre>  keep
  lines  </pre></div>
<h3 class="heading">Chapter 2</h3><div class="userstuff module"><p>Second chapter.</p></div>
</div>
<div id="endnotes"><p>End Notes</p><blockquote><p>Thanks!</p></blockquote></div>
</body></html>"""


def _bs4(text: str) -> html.RawStory | None:
    problems: list[str] = []
    soup = html.parse_html(text, problems)
    if not html.is_ao3(soup):
        return None
    raw = html.read_ao3(soup, "ao3-html")
    raw.problems[:0] = problems
    return raw


def _tree(text: str) -> html.RawStory | None:
    got = read_ao3_tree(text)
    if got is None:
        return None
    raw, problems = got
    raw.problems[:0] = problems
    return raw


def _pages() -> list[tuple[str, str]]:
    pages = [("tricky", TRICKY), ("tricky-deep", "<b>" * 300 + TRICKY), ("not-ao3", "<p>Just a page</p>")]
    for folder in (SAMPLES_DIR, Path(__file__).parent / "archive", CORPUS_DIR):
        if folder.is_dir():
            for path in sorted(folder.rglob("*.htm*")):
                pages.append((path.name, decode(path.read_bytes())[0]))
    return pages


@pytest.mark.parametrize(("name", "text"), _pages(), ids=[name for name, _ in _pages()])
def test_lxml_tree_reads_ao3_pages_as_beautifulsoup_does(name: str, text: str) -> None:
    slow, fast = _bs4(text), _tree(text)
    assert (slow is None) == (fast is None), name
    if slow is not None and fast is not None:
        assert dataclasses.asdict(fast) == dataclasses.asdict(slow)


def test_the_tricky_page_is_read_whole() -> None:
    raw = _tree(TRICKY)
    assert raw is not None
    assert raw.title == "Tricky & Odd"
    assert raw.author == "quill, ink"
    assert raw.characters == ["Dawn Summers", "Anya Jenkins", "Giles"]  # ruby text is not a name
    assert raw.pairings == ["Buffy Summers/Spike", "Willow Rosenberg & Tara Maclay"]
    assert raw.series_name == "The Long Way Home" and raw.series_part == 2
    assert "never" not in raw.body and "Second chapter." in raw.body
    assert raw.body.startswith("Chapter 1: Start\n\nIt was a dark night.\n\n* * *\n\nThen — dawn.")
    assert raw.notes == ["See end.", "Thanks!"]


def _epubs() -> list[tuple[str, bytes]]:
    from tests.make_sample_epub import build_epub
    from tests.sample_archive import epub_from_ao3_html

    preface, chapters = TRICKY.split('<div id="chapters"', 1)
    books = [
        (
            "tricky-split",
            build_epub({"a.xhtml": preface + "</body></html>", "b.xhtml": '<div id="chapters"' + chapters}),
        ),
        ("plain-book", build_epub({"a.xhtml": "<p>Only a <b>plain</b> book &amp; its text.</p>"})),
        ("sample", build_epub()),
    ]
    for folder in (SAMPLES_DIR, Path(__file__).parent / "archive", CORPUS_DIR):
        if folder.is_dir():
            books += [(path.name, path.read_bytes()) for path in sorted(folder.rglob("*.epub"))]
            for path in sorted(folder.rglob("*.htm*"))[:40]:
                page = decode(path.read_bytes())[0]
                if 'class="tags"' in page and 'id="chapters"' in page:
                    books.append((f"{path.name}.epub", epub_from_ao3_html(page)))
    return books


@pytest.mark.parametrize(("name", "data"), _epubs(), ids=[name for name, _ in _epubs()])
def test_lxml_reads_ao3_epubs_as_beautifulsoup_does(
    name: str, data: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An AO3 EPUB's spine is joined and read from lxml's trees; a book that is not AO3's falls back
    to bs4. Both must give the same story as bs4's reading of the joined documents."""
    from archive.formats import epub

    monkeypatch.setattr(epub, "FAST", False)
    slow = dataclasses.asdict(epub.read_epub(data, name))
    monkeypatch.setattr(epub, "FAST", True)
    fast = dataclasses.asdict(epub.read_epub(data, name))
    assert fast == slow
    assert slow["body"]
