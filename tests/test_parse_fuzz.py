"""Property tests: `parse_story` never raises, whatever bytes and whatever file name it is given,
and always returns a StoryMeta whose JSON form has exactly the interface's keys."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.model import JSON_KEYS, RATING_LEVELS, StoryMeta
from archive.parse import is_unreadable, parse_story, unreadable_reason
from archive.roster import Roster
from tests.conftest import ROSTER_FILE

EXTENSIONS = [".txt", ".html", ".htm", ".md", ".epub", ".TXT", "", ".zip", ".markdown"]
HEADER_BITS = [
    "Title: ", "Author: ", "Pairing: W/S", "Rating: PG 13, angst", "Summary: ", "~~~", "***",
    "by ", "Copyright 2004", "Part XIV", "Chapter Three", "---", "title: x", "# ", "<html>",
    "<p>", "Rated: T - English - Romance - [Buffy S., Spike] - Words: 1,000", "Spoiler(s): ",
    "twelth in X story-line.", "\r\n", "\n\n", "&amp;", "\x00", "\ufeff", "“", "—",
]  # fmt: skip

_ROSTER: list[Roster] = []


def _roster() -> Roster:
    if not _ROSTER:
        _ROSTER.append(Roster.load(ROSTER_FILE))
    return _ROSTER[0]


names = st.builds(
    lambda folder, stem, ext: f"{folder}/{stem}{ext}",
    st.sampled_from(["stories", "stories/Hearts of Winter", "a/b c", ".", "ünï/cödé"]),
    st.text(min_size=0, max_size=30),
    st.sampled_from(EXTENSIONS),
)
texts = st.lists(st.one_of(st.sampled_from(HEADER_BITS), st.text(max_size=80)), max_size=25).map("\n".join)
encodings = st.sampled_from(["utf-8", "utf-16", "cp1252", "latin-1", "utf-8-sig"])


def check(meta: StoryMeta, name: str) -> None:
    assert isinstance(meta, StoryMeta)
    data = meta.to_json()
    assert tuple(data) == JSON_KEYS
    assert data["path"] == name
    assert isinstance(meta.title, str) and meta.title
    assert meta.rating.level in RATING_LEVELS
    assert isinstance(meta.words, int) and meta.words >= 0
    assert all(isinstance(p, str) for p in meta.problems)
    if is_unreadable(meta):  # a failed file says why, in words a host can act on
        reason = unreadable_reason(meta) or ""
        assert len(re.findall(r"[A-Za-z]{2,}", reason)) >= 2, f"no reason in words: {meta.problems}"
        assert "Traceback" not in reason and "\n" not in reason


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(data=st.binary(max_size=3000), name=names)
def test_arbitrary_bytes_never_raise(data: bytes, name: str) -> None:
    check(parse_story(data, name, None), name)


@FUZZ
@given(text=texts, name=names, encoding=encodings, with_roster=st.booleans())
def test_header_like_text_never_raises(text: str, name: str, encoding: str, with_roster: bool) -> None:
    data = text.encode(encoding, errors="replace")
    check(parse_story(data, name, _roster() if with_roster else None), name)


@pytest.mark.parametrize(
    "prefix", [b"PK\x03\x04", b"%PDF-1.4\n", b"\x89PNG\r\n\x1a\n", b"\xff\xfe", b"\xef\xbb\xbf"]
)
@pytest.mark.parametrize("name", ["x.epub", "x.txt", "x.html", "x.md"])
def test_magic_numbers_with_junk(prefix: bytes, name: str) -> None:
    check(parse_story(prefix + bytes(range(256)), name, None), name)
