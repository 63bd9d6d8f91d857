"""The people the archive learns (issue 13): full and short forms find the same stories, every loaded
roster is asked, a roster's initials never leave its fandom, and a name meaning people of several
fandoms asks which one. Runs over `tests/archive_people/` (Doctor Who, Sherlock, Supernatural, Merlin,
Harry Potter; files written for these tests) with every shipped roster loaded (`ROSTER_FILE=fandoms`)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from archive.learn import learn_people
from service.names import AmbiguousName
from service.query import SearchQuery
from service.search import search
from settings import ROOT
from tests.conftest import make_settings

PEOPLE_ARCHIVE = ROOT / "tests" / "archive_people"


def _settings(tmp: Path) -> Any:
    return make_settings(tmp, roster_file=ROOT / "fandoms")


async def _index(tmp: Path) -> None:
    from service.indexer import index_directory
    from service.library import Library

    settings = _settings(tmp)
    shutil.copytree(PEOPLE_ARCHIVE, settings.stories_dir, dirs_exist_ok=True)
    lib = await Library.open(settings)
    try:
        report = await index_directory(lib)
    finally:
        await lib.close()
    assert not report.failed


@pytest.fixture(scope="module")
def built_people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("people")
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _index(tmp)).result()
    return tmp


@pytest.fixture
async def people_lib(built_people: Path, tmp_path: Path) -> AsyncIterator[Any]:
    from service.library import Library

    shutil.copytree(built_people, tmp_path, dirs_exist_ok=True)
    lib = await Library.open(_settings(tmp_path))
    try:
        yield lib
    finally:
        await lib.close()


async def _titles(lib: Any, **query: Any) -> set[str]:
    result = await search(lib, SearchQuery(per_page=50, **query))
    return {hit.title for hit in result.hits}


def test_learning_gives_one_person_one_name() -> None:
    who = learn_people(
        "Doctor Who",
        {
            "Clara Oswald": 2,
            "Clara": 3,
            "Twelve": 2,
            "Twelfth Doctor": 1,
            "12": 1,
            "The Doctor": 2,
            "Doctor": 1,
        },
    )
    assert who.names["Clara"] == who.names["Clara Oswald"] == "Clara Oswald"
    assert who.names["Twelve"] == who.names["12"] == "Twelfth Doctor"
    # `The Doctor` is a title, not the only numbered Doctor the archive knows
    assert who.names["The Doctor"] == who.names["Doctor"] == "The Doctor"
    hp = learn_people(
        "HP", {"Severus Snape": 2, "SS": 1, "Ron Weasley": 1, "Ronald Weasley": 1, "Weasley": 1}
    )
    assert hp.names["SS"] == "Severus Snape"
    assert hp.names["Weasley"] == "Weasley"  # two Weasleys: left as written, never guessed
    spn = learn_people("SPN", {"Castiel": 2, "Cas": 1, "Dean Winchester": 2, "Dean": 1})
    assert spn.names["Cas"] == "Castiel" and spn.names["Dean"] == "Dean Winchester"
    kept = learn_people("Buffyverse", {"Rose": 1, "Rose Tyler": 1}, fixed=["Rose"])
    assert kept.names["Rose"] == "Rose"  # a host roster's name is never renamed


@pytest.mark.parametrize(
    ("field", "forms"),
    [
        ("characters", ["Clara", "Clara Oswald", "clara oswald"]),
        ("characters", ["Twelve", "Twelfth Doctor", "12"]),
        ("pairings", ["Twelve/Clara", "Clara/Twelfth Doctor", "Clara Oswald/Twelve", "12/Clara"]),
        ("characters", ["Sherlock", "Sherlock Holmes"]),
        ("characters", ["John", "John Watson"]),
        ("pairings", ["John/Sherlock", "John Watson/Sherlock Holmes", "Sherlock/John Watson"]),
        ("pairings", ["DeanxCas", "Dean/Castiel", "Dean Winchester/Cas", "Castiel x Dean"]),
        ("pairings", ["Arthur/Merlin", "Arthur Pendragon/Merlin"]),
        ("pairings", ["SS/RL", "Severus Snape/Remus Lupin"]),
        ("pairings", ["Dramione", "Draco/Hermione"]),
    ],
)
async def test_full_and_short_forms_find_the_same_stories(
    people_lib: Any, field: str, forms: list[str]
) -> None:
    found = {form: await _titles(people_lib, **{field: [form]}) for form in forms}
    first = found[forms[0]]
    assert first, f"{forms[0]} finds nothing"
    assert all(titles == first for titles in found.values()), found


async def test_the_stories_each_form_finds(people_lib: Any) -> None:
    assert await _titles(people_lib, characters=["Clara"]) == {
        "The Last Biscuit", "A Lecture on Time", "Coal Hill After Dark"
    }  # fmt: skip
    assert await _titles(people_lib, pairings=["Twelve/Clara"]) == {"The Last Biscuit", "A Lecture on Time"}
    assert await _titles(people_lib, pairings=["John/Sherlock"]) == {"The Empty Flat", "A Case of Identity"}


async def test_cards_and_results_show_the_people_the_names_mean(people_lib: Any) -> None:
    """A story's `Twelve/Clara` and `Twelve, Clara` show as the people searches and counts read them
    (`Clara Oswald/Twelfth Doctor`), each person once, in search results, title finds and cards."""
    from service.stories import find_title, story_card

    result = await search(people_lib, SearchQuery(pairings=["Twelve/Clara"], per_page=50))
    assert {hit.title for hit in result.hits} == {"The Last Biscuit", "A Lecture on Time"}
    for hit in result.hits:
        assert hit.relationships == ["Clara Oswald/Twelfth Doctor"], hit
        assert sorted(hit.characters) == ["Clara Oswald", "Twelfth Doctor"], hit
    biscuit = (await find_title(people_lib, "The Last Biscuit"))[0]
    assert biscuit.relationships == ["Clara Oswald/Twelfth Doctor"]
    card = await story_card(people_lib, biscuit.id)
    assert card.relationships == ["Clara Oswald/Twelfth Doctor"]
    assert sorted(card.characters) == ["Clara Oswald", "Twelfth Doctor"]
    # `Sherlock & Molly` reads as the people; `J/B`, which no fandom renames, stays as stored
    (morgue,) = (await search(people_lib, SearchQuery(pairings=["J/B"]))).hits
    assert set(morgue.relationships) == {"Molly Hooper & Sherlock Holmes", "B/J"}, morgue.relationships
    assert {"Molly Hooper", "Sherlock Holmes"} <= set(morgue.characters)
    assert not {"Molly", "Sherlock"} & set(morgue.characters) and len(set(morgue.characters)) == len(
        morgue.characters
    )


async def test_a_made_up_characters_shorthand_is_written_out(people_lib: Any) -> None:
    """`Neville/OFC` is Neville Longbottom with an Original Female Character (never a person called
    `Ofc`), found by the shorthand and by the name."""
    for query in ({"characters": ["OFC"]}, {"characters": ["Original Female Character"]},
                  {"pairings": ["Neville/OFC"]}, {"pairings": ["ofc x neville longbottom"]}):  # fmt: skip
        result = await search(people_lib, SearchQuery(per_page=50, **query))
        assert [h.title for h in result.hits] == ["The Greenhouse Intern"], query
    (hit,) = result.hits
    assert hit.relationships == ["Neville Longbottom/Original Female Character"]
    assert "Ofc" not in hit.characters and "OFC" not in hit.characters


async def test_a_name_of_several_fandoms_asks_which_one(people_lib: Any) -> None:
    with pytest.raises(AmbiguousName) as asked:  # Merlin's Arthur Pendragon, Harry Potter's Arthur Weasley
        await search(people_lib, SearchQuery(characters=["Arthur"]))
    assert {"Arthur Pendragon", "Arthur Weasley"} <= set(asked.value.suggestions)
    # ...while a pairing's other member settles it
    assert await _titles(people_lib, pairings=["Arthur/Merlin"]) == {
        "The King's Stables",
        "A Feast in Camelot",
    }


async def test_initials_never_leave_their_fandom(people_lib: Any) -> None:
    # `J/B` in a Sherlock story is kept as written: never Buffy, never anyone of Sherlock
    assert await _titles(people_lib, pairings=["J/B"]) == {"The Morgue Shift"}
    assert await _titles(people_lib, characters=["Buffy Summers"]) == set()
    assert await _titles(people_lib, characters=["Jenny Calendar"]) == set()


async def test_the_vocabulary_lists_one_person_once(people_lib: Any) -> None:
    vocab = await people_lib.views.vocabulary()
    names = dict(vocab.characters)
    assert names["Clara Oswald"] == 3 and "Clara" not in names
    assert names["Twelfth Doctor"] == 2 and "Twelve" not in names
    pairs = dict(vocab.pairings)
    assert pairs["Clara Oswald/Twelfth Doctor"] == 2 and "Clara/Twelve" not in pairs


async def test_what_is_learned_follows_the_archive(people_lib: Any) -> None:
    """A new story's names are learned at the next refresh; a removed one's are forgotten."""
    folder = people_lib.settings.stories_dir / "doctor-who"
    (folder / "pink.txt").write_text(
        "Title: Pink\nAuthor: Test Quill\nFandom: Doctor Who\nPairing: Danny/Clara\nCharacters: Danny\n\n"
        "Danny marked the essays and Clara read them aloud.\n",
        encoding="utf-8",
    )
    from service.indexer import index_directory

    before = await _titles(people_lib, characters=["Danny Pink"])
    await index_directory(people_lib)
    await people_lib.refresh()
    after = await _titles(people_lib, characters=["Danny Pink"])
    assert after == before | {"Pink"}
    assert await _titles(people_lib, characters=["Danny"]) == after


async def test_autocomplete_offers_the_person_a_short_form_means(people_lib: Any) -> None:
    from service.choices import character_choices, pairing_choices

    first = await character_choices(people_lib, "Twelve")
    assert first[0][1] == "Twelfth Doctor"
    assert "Clara Oswald" in [value for _shown, value in await character_choices(people_lib, "Clar")]
    pairs = [value for _shown, value in await pairing_choices(people_lib, "Twelve/Clara")]
    assert pairs[0] == "Clara Oswald/Twelfth Doctor"
    assert "Draco Malfoy/Hermione Granger" in [v for _s, v in await pairing_choices(people_lib, "Dramione")]


async def test_a_chapter_with_no_header_gets_the_learned_people_its_text_names(people_lib: Any) -> None:
    """`merlin/chapter-07.txt` has no header: the names the Merlin stories taught (Arthur is Arthur
    Pendragon) are counted in its text, as a roster's would be in a Buffy chapter."""
    titles = await _titles(people_lib, characters=["Arthur Pendragon"])
    assert len(titles) == 3 and {"The King's Stables", "A Feast in Camelot"} < titles, titles
    assert await _titles(people_lib, characters=["Arthur"], fandoms=["Merlin"]) == titles
    assert len(await _titles(people_lib, characters=["Gwen"], fandoms=["Merlin"])) == 3
    # another fandom's story never gets Merlin's people from its text
    assert not {"The Empty Flat", "Impala Nights"} & await _titles(people_lib, characters=["Merlin"])


async def test_learned_names_are_counted_again_when_they_change(people_lib: Any) -> None:
    from service.indexer import index_directory
    from service.inference import infer_learned

    assert await infer_learned(people_lib) == 0  # nothing new since the index run
    folder = people_lib.settings.stories_dir / "merlin"
    (folder / "morgana.txt").write_text(
        "Title: Morgana's Garden\nAuthor: Test Quill\nFandom: Merlin (TV)\nCharacters: Morgana Pendragon\n\n"
        "Morgana walked in the garden at night.\n",
        encoding="utf-8",
    )
    (folder / "morgana-again.txt").write_text(
        "Title: Morgana Again\nAuthor: Test Quill\nFandom: Merlin (TV)\nCharacters: Morgana\n\n"
        "Morgana watched the gate.\n",
        encoding="utf-8",
    )
    (folder / "chapter-08.txt").write_text(
        "Morgana laughed at Merlin. Morgana said Arthur was a fool, and Merlin agreed with Morgana, "
        "which made Arthur sulk for the rest of the morning while Merlin polished the armour.\n",
        encoding="utf-8",
    )
    await index_directory(people_lib)
    found = await _titles(people_lib, characters=["Morgana"])
    assert len(found) == 3, found  # the two headers, and the headerless chapter's text


async def test_a_story_a_mod_adds_or_restores_gets_the_learned_people_its_text_names(people_lib: Any) -> None:
    """An added story, and a restored one, have the archive's learned people counted in their text at
    once, as an index run counts them (they used to wait for a later run that never came)."""
    from service import curate
    from service.curate import Actor

    mod = Actor(7001, "Mod Mia", 42)
    text = (
        "Title: The Round Table's Leg\nAuthor: Test Quill\nFandom: Merlin (TV)\nCharacters: Gwaine\n\n~~~\n\n"
        + "Arthur argued with Gwen about the wobbling table while Gwaine hid the wedge. " * 6
    )
    upload = await curate.prepare_add(people_lib, "leg.txt", text.encode(), {})
    added = (await curate.commit_add(people_lib, upload, mod)).id
    assert "The Round Table's Leg" in await _titles(people_lib, characters=["Arthur Pendragon"])

    before = await _titles(people_lib, characters=["Gwen"], fandoms=["Merlin"])
    await curate.remove_story(people_lib, added, mod)
    await curate.restore_story(people_lib, added, mod)
    assert await _titles(people_lib, characters=["Gwen"], fandoms=["Merlin"]) == before
    assert "The Round Table's Leg" in before
