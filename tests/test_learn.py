"""Learning a fandom's people from the archive (issue 13): `archive.learn` and `bot.py roster suggest`.

The draft must load as a roster, and with it full and short forms find the same person."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from archive.learn import Sighting, roster_yaml, suggest_roster
from archive.parse import parse_story
from archive.roster import Roster
from settings import ROOT

SHERLOCK = [
    Sighting(("Sherlock (TV)",), ("John Watson", "Sherlock Holmes"), ("John/Sherlock",)),
    Sighting(("Sherlock (TV)",), ("John Watson", "Sherlock Holmes", "Molly Hooper"), ("Johnlock",)),
    Sighting(("Sherlock (TV)",), ("Sherlock Holmes", "Molly Hooper"), ("Sherlock/Molly",)),
    Sighting(("Sherlock",), ("John Watson", "Mycroft Holmes"), ("John Watson/Sherlock Holmes",)),
    Sighting(("Supernatural",), ("Dean Winchester", "Castiel"), ("DeanxCas",)),
    Sighting(("Doctor Who",), ("Clara Oswald", "Twelfth Doctor"), ("Twelve/Clara",)),
    Sighting(("Doctor Who",), ("Clara Oswald",), ("Clara/Twelfth Doctor",)),
]


def test_people_get_one_name_and_their_short_forms() -> None:
    draft = suggest_roster(SHERLOCK, "sherlock")
    assert draft["name"] == "Sherlock (TV)"
    chars = draft["characters"]
    assert "John" in chars["John Watson"] and "Sherlock" in chars["Sherlock Holmes"]
    assert "Molly" in chars["Molly Hooper"]
    assert "Clara Oswald" not in chars  # another fandom's people stay out
    assert draft["ships"] == {"Johnlock": ["John Watson", "Sherlock Holmes"]}
    who = suggest_roster(SHERLOCK, "Doctor Who")["characters"]
    assert who["Twelfth Doctor"] == ["Twelve"] and who["Clara Oswald"] == ["Clara"]


def test_the_draft_loads_and_full_and_short_forms_meet() -> None:
    roster = Roster.from_dict(yaml.safe_load(roster_yaml(suggest_roster(SHERLOCK, "Doctor Who"))))
    story = "Title: T\nFandom: Doctor Who\nPairing: {}\n\nThe TARDIS hummed for a long while.\n"
    keys = {
        pairing: [r.key for r in parse_story(story.format(pairing).encode(), "t.txt", roster).relationships]
        for pairing in ("Twelve/Clara", "Clara/Twelfth Doctor", "Clara Oswald/Twelve")
    }
    assert set(map(tuple, keys.values())) == {("Clara Oswald/Twelfth Doctor",)}, keys


def test_cli_roster_suggest_prints_a_loadable_draft(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"s{i}.txt").write_text(
            f"Title: Case {i}\nFandom: Sherlock (TV)\nPairing: John Watson/Sherlock Holmes\n"
            f"Characters: John Watson, Sherlock Holmes, Molly Hooper\n\n"
            "John looked at Sherlock for a long time and said nothing at all.\n",
            encoding="utf-8",
        )
    (tmp_path / "t.txt").write_text("Title: Other\nFandom: Sherlock (TV)\nPairing: John/Sherlock\n\nText.\n")
    done = subprocess.run(
        [sys.executable, "bot.py", "roster", "suggest", "--fandom", "sherlock", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    roster = Roster.from_dict(yaml.safe_load(done.stdout))
    assert roster.resolve("John") == roster.resolve("John Watson") == "John Watson"
    assert "drafted" in done.stderr
