"""Decoding story bytes: charset-normalizer before any Western guess, BOMs, UTF-16 (issue 13)."""

from __future__ import annotations

import codecs

import pytest

from archive.decode import decode
from archive.parse import parse_story

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
