"""Decoding story bytes: charset-normalizer before any Western guess, BOMs, UTF-16 (issue 13)."""

from __future__ import annotations

import codecs
import io
import zipfile

import pytest

from archive.decode import decode
from archive.parse import parse_story
from tests.make_sample_epub import CONTAINER, opf, xhtml

RUSSIAN = (
    "Название: Белая ночь\nАвтор: Маша\nРейтинг: PG-13\n\n"
    "Она долго смотрела в окно, где медленно падал снег. Город спал, и только фонари горели вдоль "
    "набережной. Он подошёл к ней и тихо сказал, что пора идти, но она не ответила.\n\n"
) * 3


@pytest.mark.parametrize("encoding", ["cp1251", "koi8-r"])
def test_cyrillic_code_pages_decode_right(encoding: str) -> None:
    text, problems = decode(RUSSIAN.encode(encoding))
    assert text == RUSSIAN
    assert not any("low confidence" in p for p in problems), problems


def test_cp1252_curly_quotes_stay_cp1252() -> None:
    story = "\u201cCome in,\u201d she said. It\u2019s late, and the caf\u00e9 is closing.\n" * 5
    text, _ = decode(story.encode("cp1252"))
    assert text == story


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_boms_and_utf16(encoding: str) -> None:
    text, _ = decode(RUSSIAN.encode(encoding))
    assert text == RUSSIAN


def test_utf16_with_bom_and_cyrillic_parses() -> None:
    meta = parse_story(codecs.BOM_UTF16_LE + RUSSIAN.encode("utf-16-le"), "ru.txt")
    assert "медленно падал снег" in meta.body
    assert not any("encoding" in p for p in meta.problems)


def test_low_confidence_is_a_problem_on_the_story() -> None:
    data = bytes(range(128, 256)) * 3 + b"\nsome words here to read\n"
    meta = parse_story(data, "odd.txt")
    assert any("encoding" in p for p in meta.problems), meta.problems


# ---- invalid UTF-8 is read as UTF-8 and said (issue 12, item 7) -----------------------------------

UTF8_STORY = "Title: Broken Bytes\nAuthor: Tester\n\n" + "Willow said “café” to Tara. Naïve résumé.\n" * 40


def _broken(story: str, *bad: bytes) -> bytes:
    """`story` as UTF-8 with the `bad` bytes put in here and there."""
    data = story.encode("utf-8")
    for n, junk in enumerate(bad, start=1):
        at = data.index(b"Tara", n * len(data) // (len(bad) + 1))
        data = data[:at] + junk + data[at:]
    return data


def test_utf8_with_broken_bytes_stays_utf8_and_the_story_says_so() -> None:
    text, problems = decode(_broken(UTF8_STORY, b"\xff\xfe", b"\xc3"))
    assert "“café”" in text and "Naïve résumé" in text and "Ã" not in text  # no mojibake
    assert text.count("\ufffd") == 3
    assert any("not valid UTF-8 in 3 places" in p for p in problems), problems
    meta = parse_story(_broken(UTF8_STORY, b"\x80"), "broken.txt")
    assert meta.title == "Broken Bytes" and "“café”" in meta.body
    assert any("not valid UTF-8 in 1 place" in p for p in meta.problems)
    assert meta.to_json()["problems"] == meta.problems  # what `bot.py parse --json` shows


def test_a_file_holding_the_replacement_character_itself_is_not_broken() -> None:
    text, problems = decode(("It read \ufffd on the sign. " * 20).encode("utf-8"))
    assert text.count("\ufffd") == 20 and problems == []


def test_cp1252_accents_are_not_taken_for_broken_utf8() -> None:
    story = "The café was open; naïve Willow ordered crème brûlée. Señor Giles sighed.\n" * 10
    text, problems = decode(story.encode("cp1252"))
    assert text == story
    assert not any("UTF-8" in p for p in problems), problems


def test_broken_utf8_in_html_and_epub_is_said_too() -> None:
    html = "<html><head><meta charset='utf-8'><title>Broken</title></head><body><p>{}</p></body></html>"
    page = _broken(html.format("Tara’s café at the Bronze. " * 60), b"\xff")
    meta = parse_story(page, "broken.html")
    assert "Tara’s café" in meta.body and any("not valid UTF-8" in p for p in meta.problems)
    book = io.BytesIO()
    with zipfile.ZipFile(book, "w") as epub:
        epub.writestr("mimetype", "application/epub+zip")
        epub.writestr("META-INF/container.xml", CONTAINER)
        epub.writestr("OEBPS/content.opf", opf(["chapter.xhtml"]))
        chapter = xhtml("<p>" + "Tara’s café at the Bronze. " * 60 + "</p>", "Broken Book")
        epub.writestr("OEBPS/chapter.xhtml", _broken(chapter, b"\xfe\xfe"))
    meta = parse_story(book.getvalue(), "broken.epub")
    assert "Tara’s café" in meta.body
    assert any(p.startswith("OEBPS/chapter.xhtml: not valid UTF-8") for p in meta.problems), meta.problems
