"""The three reference stories the project was designed from, field by field.

Reads the seeds from the shared folder by path (marked `seeds`: skipped when absent) and the real roster.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.model import JSON_KEYS, StoryMeta
from archive.parse import is_unreadable, parse_story
from archive.roster import Roster
from tests.conftest import ROSTER_FILE, SEEDS_DIR

pytestmark = pytest.mark.seeds


@pytest.fixture(scope="module")
def roster() -> Roster:
    return Roster.load(ROSTER_FILE)


def _seed(prefix: str) -> Path:
    found = sorted(SEEDS_DIR.glob(f"{prefix}_*.txt"))
    if not found:
        pytest.skip(f"seed {prefix}_*.txt is absent")
    return found[0]


def _parse(prefix: str, roster: Roster) -> StoryMeta:
    path = _seed(prefix)
    meta = parse_story(path.read_bytes(), f"stories/seeds/{path.name}", roster)
    assert not is_unreadable(meta)
    assert tuple(meta.to_json()) == JSON_KEYS
    return meta


def _names(meta: StoryMeta, source: str | None = None) -> set[str]:
    return {c.name for c in meta.characters if source is None or c.source == source}


def test_seed_000_mailing_list_header(roster: Roster) -> None:
    meta = _parse("000", roster)
    assert meta.format == "mailing-list"
    assert meta.title == "One Step Forward"
    assert meta.author == "Lucinda"
    assert [(r.characters, r.kind, r.past) for r in meta.relationships] == [
        (("Spike", "Willow Rosenberg"), "romantic", False)
    ]
    assert meta.relationships[0].raw == "Willow/Spike"
    assert (meta.rating.raw, meta.rating.level) == ("PG 13", "teen")
    assert {"angst", "heartache"} <= set(meta.tags)
    assert (meta.series.name, meta.series.part) == ("Second Best", 12)
    assert meta.season == "AU season 6" or any("AU season 6" in n for n in meta.notes)
    assert any(n.startswith("Disclaimer:") for n in meta.notes)
    assert any(n.startswith("Distribution:") and "Bite Me" in n for n in meta.notes)
    assert meta.body.startswith("Willow couldn't settle into a single mood")
    assert meta.opening.startswith("Willow couldn't settle into a single mood")
    # header lines never reach the body
    for header_text in ("Author: Lucinda", "pairing:", "rating:", "Disclaimer:", "~*~*~", "twelth in"):
        assert header_text not in meta.body
    # both partners are header characters and are counted in the text
    header = {c.name: c.mentions for c in meta.characters if c.source == "header"}
    assert set(header) == {"Spike", "Willow Rosenberg"}
    assert header["Willow Rosenberg"] > 5 and header["Spike"] > 5
    assert 2000 < meta.words < 3000
    assert meta.problems == []


def test_seed_001_headerless_chapter(roster: Roster) -> None:
    path = _seed("001")
    meta = _parse("001", roster)
    assert meta.format == "headerless"
    assert meta.part == 14
    assert meta.to_json()["part"] == 14  # `parse --json` carries it
    assert {"Buffy Summers", "Spike"} <= _names(meta, "text")
    assert meta.title == f"Untitled ({path.stem})"
    assert meta.author is None
    assert meta.rating.level == "not_rated" and meta.rating.raw is None
    assert meta.body.startswith('"So what exactly are we gonna do, luv?" Spike asked')
    # the body keeps every story line: the last line and every paragraph are there
    original = path.read_text(encoding="utf-8")
    story_lines = [line.strip() for line in original.splitlines()[1:] if line.strip()]
    body_lines = {line.strip() for line in meta.body.splitlines()}
    assert all(line in body_lines for line in story_lines)
    assert meta.problems == []


def test_seed_002_remix_with_by_line(roster: Roster) -> None:
    meta = _parse("002", roster)
    assert meta.format == "mailing-list"
    assert meta.title == "Otherwise a Perfect Sky"
    assert meta.author == "Aadler"
    assert (meta.rating.raw, meta.rating.level) == (None, "not_rated")
    assert meta.season is not None and meta.season.startswith("AU Season 6")
    assert meta.spoilers is not None and "the Gift" in meta.spoilers
    assert 'Remix of "Come Crashing Down" by Deird1' in meta.notes
    assert any("Copyright April 2010" in n for n in meta.notes)
    assert any(n.startswith("Disclaimer:") and "Mutant Enemy" in n for n in meta.notes)
    assert {"Tara Maclay", "Xander Harris", "Willow Rosenberg", "Buffy Summers", "Spike"} <= _names(meta)
    assert meta.body.startswith("There were no good days")
    for header_text in (
        "(the Crashing Down Remix)",
        "by Aadler",
        "Copyright April 2010",
        "Disclaimer:",
        "remix (done for Remix Redux 8)",
        "Season:",
        "Spoiler(s):",
    ):
        assert header_text not in meta.body, header_text
    # the scene separator inside the story stays in the story
    assert "The day Buffy died, that was a bad day." in meta.body
    assert meta.problems == []


@pytest.mark.parametrize("prefix", ["000", "001", "002"])
def test_every_seed_knows_its_fandom(prefix: str, roster: Roster) -> None:
    """000 says it in its disclaimer, 002 names Buffy and Angel: the Series, 001 (no header at
    all) is known by its people: Buffy and Spike on every page."""
    meta = _parse(prefix, roster)
    assert "Buffy the Vampire Slayer" in meta.fandoms, meta.fandoms
    if prefix == "002":
        assert "Angel" in meta.fandoms
    assert meta.language == "English"
