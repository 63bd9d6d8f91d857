"""The roster: name resolution, suggestions, ship names, pairing fields and mention counting, on the
shipped Buffyverse roster and on small made-up rosters (the code must not know any fandom)."""

from __future__ import annotations

import random
import re

import pytest

from archive.model import Relationship
from archive.roster import Roster, RosterError, normalise
from tests.conftest import ROSTER_FILE


@pytest.fixture(scope="module")
def roster() -> Roster:
    return Roster.load(ROSTER_FILE)


def rels(roster: Roster, text: str) -> list[tuple[tuple[str, ...], str, bool]]:
    return [(r.characters, r.kind, r.past) for r in roster.parse_relationships(text)]


# -- resolve --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Willow Rosenberg", "Willow Rosenberg"),
        ("willow", "Willow Rosenberg"),
        ("  WILLOW  ", "Willow Rosenberg"),
        ("Wills", "Willow Rosenberg"),
        ("Will", "Willow Rosenberg"),  # header-only alias still resolves in headers
        ("Rosenberg", "Willow Rosenberg"),  # unique last name
        ("Lehane", "Faith Lehane"),
        ("Buffster", "Buffy Summers"),
        ("William the Bloody", "Spike"),
        ("Angelus", "Angel"),
        ("Liam", "Angel"),
        ("G-Man", "Rupert Giles"),
        ("Mr Giles", "Rupert Giles"),
        ("Winifred “Fred” Burkle", "Winifred Burkle"),
        ('Winifred "Fred" Burkle', "Winifred Burkle"),
        ("Spike (Buffy the Vampire Slayer)", "Spike"),  # AO3 disambiguation in brackets
        ("Wyndam-Pryce", "Wesley Wyndam-Pryce"),
        ("wyndam pryce", "Wesley Wyndam-Pryce"),
        ("B", "Buffy Summers"),
        ("A", "Angel"),
        ("An", "Anya Jenkins"),
        ("X", "Xander Harris"),
    ],
)
def test_resolve_known_names(roster: Roster, written: str, canonical: str) -> None:
    assert roster.resolve(written) == canonical


@pytest.mark.parametrize("written", ["Summers", "Sherlock Holmes", "", "   ", "the", "Q"])
def test_resolve_unknown_or_ambiguous_is_none(roster: Roster, written: str) -> None:
    assert roster.resolve(written) is None


def test_resolve_ignores_accents_and_punctuation() -> None:
    r = Roster.from_dict({"name": "T", "characters": {"Zoë Washburne": ["Zoe"], "Malcolm Reynolds": ["Mal"]}})
    assert r.resolve("ZOË WASHBURNE") == "Zoë Washburne"
    assert r.resolve("zoe washburne") == "Zoë Washburne"
    assert r.resolve("Mal.") == "Malcolm Reynolds"
    assert normalise("O’Brien-Smith") == "obrien smith"


def test_names_and_fandom(roster: Roster) -> None:
    assert roster.fandom == "Buffyverse"
    assert len(roster.names) >= 60
    assert len(set(roster.names)) == len(roster.names)
    for name in ["Buffy Summers", "Spike", "Angel", "Winifred Burkle", "Buffybot", "Richard Wilkins"]:
        assert name in roster.names


@pytest.mark.parametrize(
    ("label", "fandom"),
    [("BtVS", "Buffy the Vampire Slayer"), ("btvs", "Buffy the Vampire Slayer"),
     ("Buffy the Vampire Slayer (TV)", "Buffy the Vampire Slayer"), ("AtS", "Angel"),
     ("Angel: the Series", "Angel"), ("Sherlock (TV)", None)],
)  # fmt: skip
def test_fandom_of(roster: Roster, label: str, fandom: str | None) -> None:
    assert roster.fandom_of(label) == fandom
    assert roster.covers([label]) is (fandom is not None)


def test_covers_mixed_and_missing_fandoms(roster: Roster) -> None:
    assert roster.covers([])
    assert roster.covers(["Sherlock (TV)", "BtVS"])
    assert not roster.covers(["Sherlock (TV)", "Doctor Who"])


# -- suggest -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typo", "canonical"),
    [("wilow", "Willow Rosenberg"), ("Xandr", "Xander Harris"), ("giels", "Rupert Giles"),
     ("cordeila", "Cordelia Chase"), ("Drusila", "Drusilla"), ("wesly", "Wesley Wyndam-Pryce")],
)  # fmt: skip
def test_suggest_puts_the_meant_character_first(roster: Roster, typo: str, canonical: str) -> None:
    hits = roster.suggest(typo)
    assert hits and hits[0][0] == canonical
    assert roster.resolve_fuzzy(typo, cutoff=75) == canonical


def test_suggest_shape(roster: Roster) -> None:
    hits = roster.suggest("buffy", limit=3)
    assert 1 <= len(hits) <= 3
    assert hits[0] == ("Buffy Summers", 100.0)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert len({n for n, _ in hits}) == len(hits)
    assert roster.suggest("") == []
    assert roster.suggest("zzzzqqqq") == []
    assert roster.resolve_fuzzy("zzzzqqqq") is None


# -- ships ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ship", "members"),
    [("Spuffy", ("Buffy Summers", "Spike")), ("spuffy", ("Buffy Summers", "Spike")),
     ("Bangel", ("Angel", "Buffy Summers")), ("Willara", ("Tara Maclay", "Willow Rosenberg")),
     ("Xanya", ("Anya Jenkins", "Xander Harris")), ("Spander", ("Spike", "Xander Harris"))],
)  # fmt: skip
def test_ship_names(roster: Roster, ship: str, members: tuple[str, ...]) -> None:
    assert roster.ship(ship) == members


def test_unknown_ship_is_none(roster: Roster) -> None:
    assert roster.ship("Johnlock") is None
    assert roster.ship("Buffy") is None


# -- parse_relationships ---------------------------------------------------------------------------------

SPIKE_WILLOW = ("Spike", "Willow Rosenberg")
BUFFY_SPIKE = ("Buffy Summers", "Spike")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Willow/Spike", [(SPIKE_WILLOW, "romantic", False)]),
        ("W/S", [(SPIKE_WILLOW, "romantic", False)]),
        ("Spike x Willow", [(SPIKE_WILLOW, "romantic", False)]),
        ("Spike X Willow", [(SPIKE_WILLOW, "romantic", False)]),
        ("Buffy & Dawn", [(("Buffy Summers", "Dawn Summers"), "platonic", False)]),
        ("B/A/S", [(("Angel", "Buffy Summers", "Spike"), "romantic", False)]),
        ("Spuffy", [(BUFFY_SPIKE, "romantic", False)]),
        ("past Buffy/Angel", [(("Angel", "Buffy Summers"), "romantic", True)]),
        ("Buffy/Angel (past)", [(("Angel", "Buffy Summers"), "romantic", True)]),
        (
            "Willow/Tara, Buffy/Spike",
            [(("Tara Maclay", "Willow Rosenberg"), "romantic", False), (BUFFY_SPIKE, "romantic", False)],
        ),
        (
            "Buffy/Spike; Willow/Oz",
            [(BUFFY_SPIKE, "romantic", False), (("Oz", "Willow Rosenberg"), "romantic", False)],
        ),
        (
            "Willow/Tara and Buffy/Spike",
            [(("Tara Maclay", "Willow Rosenberg"), "romantic", False), (BUFFY_SPIKE, "romantic", False)],
        ),
        ("Giles/Joyce (implied)", [(("Joyce Summers", "Rupert Giles"), "romantic", False)]),
        ("Angel/Buffy friendship", [(("Angel", "Buffy Summers"), "platonic", False)]),
        ("Rupert Giles/Buffy Summers", [(("Buffy Summers", "Rupert Giles"), "romantic", False)]),
        (
            "giles/buffy/willow/xander",
            [(("Buffy Summers", "Rupert Giles", "Willow Rosenberg", "Xander Harris"), "romantic", False)],
        ),
        ("Spuffy/Angel", [(("Angel", "Buffy Summers", "Spike"), "romantic", False)]),
        ("B/B", []),
        ("gen", []),
        ("none", []),
        ("", []),
        ("Buffy", []),  # one person is not a relationship
    ],
)
def test_parse_relationships_forms(roster: Roster, text: str, expected: list[tuple]) -> None:
    assert rels(roster, text) == expected


def test_parse_relationships_keeps_raw_and_dedupes(roster: Roster) -> None:
    found = roster.parse_relationships("Spuffy, Buffy/Spike, S/B, past Willow/Oz")
    assert [r.raw for r in found] == ["Spuffy", "past Willow/Oz"]
    assert found[0] == Relationship(BUFFY_SPIKE, "romantic", "Spuffy", False)
    assert found[0].key == "Buffy Summers/Spike"


def test_parse_relationships_keeps_other_fandoms_as_written(roster: Roster) -> None:
    assert rels(roster, "Sherlock Holmes/John Watson") == [
        (("John Watson", "Sherlock Holmes"), "romantic", False)
    ]
    assert rels(roster, "twelve/clara") == [(("Clara", "Twelve"), "romantic", False)]
    assert rels(roster, "Honoroit Banlardois/Emmanellain de Fortemps")[0][0] == (
        "Emmanellain de Fortemps",
        "Honoroit Banlardois",
    )


def test_overlong_names_are_not_names(roster: Roster) -> None:
    assert rels(roster, "x" * 150 + "/Buffy") == []
    assert rels(roster, "x" * 150 + "/Buffy/Spike") == [(BUFFY_SPIKE, "romantic", False)]


def test_platonic_and_romantic_of_same_people_are_different(roster: Roster) -> None:
    found = rels(roster, "Buffy/Faith, Buffy & Faith")
    assert [kind for _, kind, _ in found] == ["romantic", "platonic"]


# -- count_mentions ------------------------------------------------------------------------------------


def test_count_mentions_counts_names_and_aliases(roster: Roster) -> None:
    text = (
        "Buffy staked it. Buffy's stake broke. The Buffster sighed. BUFFY! "
        "William the Bloody laughed; Spike always laughed. Angelus watched, and Angel frowned. "
        "Mr. Giles cleaned his glasses and Giles sighed. Willow and Wills."
    )
    counts = roster.count_mentions(text)
    assert counts["Buffy Summers"] == 4
    assert counts["Spike"] == 2
    assert counts["Angel"] == 2
    assert counts["Rupert Giles"] == 2
    assert counts["Willow Rosenberg"] == 2
    assert all(n >= 1 for n in counts.values())


def test_count_mentions_ignores_common_words_and_header_only_aliases(roster: Roster) -> None:
    text = (
        "Will you come? I will. The willow tree by the river was red, and Red sky at night. "
        "Have faith, at dawn, in glory; an angel cake. The mayor's master plan was to harmonize."
        " Xanderish buffyness."
    )
    assert roster.count_mentions(text) == {}


def test_canonical_name_can_be_header_only(roster: Roster) -> None:
    assert roster.count_mentions("On Christmas Eve, Eve and Lilah talked.") == {"Lilah Morgan": 1}
    assert roster.resolve("Eve") == "Eve"
    assert roster.parse_relationships("Eve/Lindsey")[0].characters == ("Eve", "Lindsey McDonald")


def test_count_mentions_longest_alias_wins(roster: Roster) -> None:
    counts = roster.count_mentions("The Buffybot bowed. Winifred Burkle smiled. Fred laughed.")
    assert counts == {"Buffybot": 1, "Winifred Burkle": 2}


def test_count_mentions_on_a_megabyte_agrees_with_a_plain_count(roster: Roster) -> None:
    """A megabyte of prose-like text: every name counted exactly (speed is measured in bench/)."""
    rng = random.Random(7)
    common = "the of and she he said to a in that was it her his you not on with as at but"
    words = [*common.split(" "), "Buffy", "Willow", "Giles"]  # prose-like: a name in eight words
    text = " ".join(rng.choice(words) for _ in range(300_000))[:1_000_000]
    counts = roster.count_mentions(text)
    for written, canonical in (
        ("Buffy", "Buffy Summers"),
        ("Willow", "Willow Rosenberg"),
        ("Giles", "Rupert Giles"),
    ):
        assert counts[canonical] == len(re.findall(rf"\b{written}\b", text))


# -- made-up rosters: nothing fandom-specific in code -------------------------------------------------


def test_other_fandom_roster_works() -> None:
    r = Roster.from_dict(
        {
            "name": "Firefly",
            "fandoms": {"Firefly": ["Serenity"]},
            "initials": {"M": "Malcolm Reynolds", "I": "Inara Serra"},
            "characters": {
                "Malcolm Reynolds": {"aliases": ["Mal", "Captain Reynolds"], "header_only": ["Captain"]},
                "Inara Serra": ["Inara"],
                "River Tam": {"header_only": ["River"]},
                "Simon Tam": ["Simon"],
            },
            "ships": {"Maranara": ["Malcolm Reynolds", "Inara Serra"]},
        }
    )
    assert r.resolve("Tam") is None  # shared last name
    assert r.resolve("River") == "River Tam"
    assert rels(r, "M/I") == [(("Inara Serra", "Malcolm Reynolds"), "romantic", False)]
    assert rels(r, "Maranara") == rels(r, "Mal/Inara")
    assert r.count_mentions("Mal looked at the river. The Captain shrugged. River smiled.") == {
        "Malcolm Reynolds": 1
    }
    assert r.fandom_of("serenity") == "Firefly"


def test_bad_roster_lists_every_problem() -> None:
    with pytest.raises(RosterError) as err:
        Roster.from_dict(
            {
                "name": "Bad",
                "colour": "blue",
                "characters": {
                    "Ann Smith": ["Annie", "Red"],
                    "Bob Jones": {"aliases": ["Red"], "nickname": ["Bobby"]},
                },
                "initials": {"Z": "Zed"},
                "ships": {"Annob": ["Ann Smith", "Carl"]},
            },
            source="bad.yaml",
        )
    message = str(err.value)
    assert message.startswith("bad.yaml: ")
    problems = err.value.problems
    assert any("colour" in p for p in problems)
    assert any("'Red'" in p and "Ann Smith" in p for p in problems)
    assert any("nickname" in p for p in problems)
    assert any("initials.Z" in p for p in problems)
    assert any("Carl" in p for p in problems)


def test_load_names_the_file(tmp_path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(RosterError, match=r"broken\.yaml"):
        Roster.load(bad)
    missing = tmp_path / "missing.yaml"
    with pytest.raises(RosterError, match=r"missing\.yaml"):
        Roster.load(missing)


def test_ships_are_listed_as_written(roster: Roster) -> None:
    ships = roster.ships
    assert ships["Spuffy"] == ("Buffy Summers", "Spike")
    assert ships["Tillow"] == ships["Willara"] == ("Tara Maclay", "Willow Rosenberg")
    assert all(roster.ship(name) == members for name, members in ships.items())
