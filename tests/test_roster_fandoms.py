"""Several rosters loaded at once (issue 13): a folder or a comma list in `ROSTER_FILE`, each roster's
initials, short names and ship names used only for stories of its own fandom."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.parse import parse_story
from archive.roster import Roster, RosterError
from settings import ROOT

FANDOMS = ROOT / "fandoms"
HP = FANDOMS / "harrypotter.yaml"


@pytest.fixture(scope="module")
def rosters() -> Roster:
    return Roster.load(FANDOMS)


def _rels(text: str, roster: Roster, name: str = "x.txt") -> list[tuple[str, ...]]:
    return [r.characters for r in parse_story(text.encode(), name, roster).relationships]


def test_a_folder_loads_every_roster_and_a_single_file_still_works(rosters: Roster) -> None:
    assert rosters.fandom == "Buffyverse"
    assert {r.fandom for r in rosters.companions} >= {"Harry Potter"}
    alone = Roster.load(FANDOMS / "buffyverse.yaml")
    assert alone.companions == []
    both = Roster.load(f"{FANDOMS / 'buffyverse.yaml'},{HP}")
    assert [r.fandom for r in both.companions] == ["Harry Potter"]
    with pytest.raises(RosterError):
        Roster.load(Path("/nonexistent/rosters"))


def test_each_roster_resolves_its_own_fandom(rosters: Roster) -> None:
    hp = "Title: T\nFandom: Harry Potter\nPairing: {}\n\nThe story goes on for a while here.\n"
    assert _rels(hp.format("Dramione"), rosters) == [("Draco Malfoy", "Hermione Granger")]
    assert _rels(hp.format("SS/RL"), rosters) == [("Remus Lupin", "Severus Snape")]
    assert _rels(hp.format("Harry/Draco"), rosters) == [("Draco Malfoy", "Harry Potter")]
    btvs = "Title: T\nFandom: BtVS\nPairing: {}\n\nThe story goes on for a while here.\n"
    assert _rels(btvs.format("Spillow"), rosters) == [("Spike", "Willow Rosenberg")]
    # Buffy's initials in a Harry Potter story are not Buffy
    assert _rels(hp.format("W/S"), rosters) == [("S", "W")]


def test_a_story_with_no_fandom_is_read_with_the_roster_whose_people_it_names(rosters: Roster) -> None:
    text = "Part 7\n\n" + "Hermione looked at Draco. Draco looked at Hermione, and then at Harry.\n\n" * 4
    meta = parse_story(text.encode(), "ch07.txt", rosters)
    assert meta.fandoms == ["Harry Potter"]
    assert {"Hermione Granger", "Draco Malfoy"} <= {c.name for c in meta.characters}
