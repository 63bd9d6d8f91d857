"""Issue 14's cases over a real SQLite index: negation in the text box, names that are never guessed,
tags that match their namespaced forms and synonyms, and the CLI taking text that starts with `-`.

Owns `fill_answers`, a small archive whose words, names and tags were chosen for these cases.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from db.store import save_story
from service.names import AmbiguousName
from service.query import QueryError, SearchQuery
from service.search import search
from settings import ROOT
from tests.test_search import H, Mini, T, _meta

STORIES: dict[str, Any] = {
    "tea": dict(title="Morning Cup", body="She drank her tea slowly. " * 20, tags=["genre:angst"]),
    "both": dict(title="Two Pots", body="Tea for him, and not coffee. Coffee for her. " * 10, tags=["Angst"]),
    "coffee": dict(title="Espresso", body="The coffee was bitter and black. " * 20, tags=["angst!"]),
    "demon": dict(title="Mixed Blood", body="Clem was a half-demon with kind eyes. " * 20, tags=["h/c"]),
    "loose": dict(
        title="Sleepy", body="A demon lay half asleep on the rug. " * 20, tags=["genre:hurt/comfort"]
    ),
    "roses": dict(title="Roses", body="Nothing grew in the garden that spring. " * 20, tags=["fluff"]),
}
CAST: dict[str, list[tuple[str, str, int]]] = {
    "tea": [("Twelfth Doctor", H, 9), ("Spike", H, 4)],
    "both": [("Twelfth Doctor", H, 9)],
    "coffee": [("Twelfth Doctor", H, 9), ("Larry Blaisdell", H, 3)],
    "demon": [("Second Doctor", H, 5), ("Rupert Giles", H, 6)],
    "loose": [("Rupert Giles", H, 6), ("Spike", T, 3)],
    "roses": [("Willow Rosenberg", H, 6)],
}
AUTHORS = {"tea": "Penelope Quill", "both": "Penelope Quill", "roses": "Marigold", "demon": "Marigold"}


async def fill_answers(lib: Any) -> Mini:
    ids: dict[str, int] = {}
    async with lib.transaction() as session:
        for key, spec in STORIES.items():
            spec = dict(spec)
            meta = _meta(spec.pop("title"), AUTHORS.get(key, "Orrin"), "PG-13", [], CAST[key], **spec)
            meta.path = f"answers/{key}.txt"
            digest = hashlib.sha256(key.encode()).hexdigest()
            story = await save_story(
                session, meta, path=meta.path, size=len(meta.body), mtime=0.0, sha256=digest
            )
            ids[key] = story.id
    return Mini(lib, ids)


@pytest.fixture
async def answers(library: Any) -> Mini:
    return await fill_answers(library)


async def found(m: Mini, **kw: Any) -> set[str]:
    result = await search(m.lib, SearchQuery(per_page=50, **kw))
    assert result.total == len(result.hits)
    return m.letters([h.id for h in result.hits])


# --- negation and what the text box understands ------------------------------------------------


async def test_not_alone_means_every_story_without_the_word(answers: Mini) -> None:
    assert await found(answers, text="tea") == {"tea", "both"}
    assert await found(answers, text="NOT tea") == {"coffee", "demon", "loose", "roses"}
    assert await found(answers, text="-tea") == {"coffee", "demon", "loose", "roses"}


@pytest.mark.parametrize("text", ["tea -coffee", "tea NOT coffee", "-coffee tea", "tea AND NOT coffee"])
async def test_minus_and_not_leave_the_word_out(answers: Mini, text: str) -> None:
    assert await found(answers, text=text) == {"tea"}


async def test_lowercase_not_and_or_are_words_unless_the_query_is_boolean(answers: Mini) -> None:
    assert await found(answers, text="tea not coffee") == {"both"}  # all three words
    assert await found(answers, text="(tea OR coffee) and not bitter") == {"tea", "both"}


async def test_a_hyphen_inside_a_word_stays_a_word(answers: Mini) -> None:
    assert await found(answers, text="half-demon") == {"demon"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title:Roses", {"roses"}),
        ("author:Quill", {"tea", "both"}),
        ('author:"Penelope Quill" -coffee', {"tea"}),
        ("tag:fluff", {"roses"}),
        ("genre:angst", {"tea", "both", "coffee"}),
        ("-title:roses garden", set()),
        ("colour:black", {"coffee"}),  # not a column: the plain word
    ],
)
async def test_column_filters_work_or_are_plain_words(answers: Mini, text: str, expected: set[str]) -> None:
    assert await found(answers, text=text) == expected


async def test_only_leaving_out_ranks_without_crashing(answers: Mini) -> None:
    result = await search(answers.lib, SearchQuery(text="NOT coffee", sort="best", per_page=2))
    assert result.total == 4 and len(result.hits) == 2


def test_the_cli_takes_text_starting_with_a_minus(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "--db", str(tmp_path / "x.db"), "search", "--text", "-coffee"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "expected one argument" not in proc.stderr


# --- names are resolved only when clearly right ------------------------------------------------


@pytest.mark.parametrize("typed", ["The Doctor", "Doctor", "doctor"])
async def test_a_name_several_characters_share_asks_which(answers: Mini, typed: str) -> None:
    with pytest.raises(AmbiguousName) as err:
        await search(answers.lib, SearchQuery(characters=[typed]))
    assert err.value.suggestions[:2] == ["Twelfth Doctor", "Second Doctor"]  # most used first
    assert "Sineya" not in err.value.suggestions


async def test_a_unique_prefix_and_a_close_typo_resolve_and_say_so(answers: Mini) -> None:
    result = await search(answers.lib, SearchQuery(characters=["Twelfth Doc"], per_page=50))
    assert answers.letters([h.id for h in result.hits]) == {"tea", "both", "coffee"}
    assert "Twelfth Doc → Twelfth Doctor" in result.resolved
    result = await search(answers.lib, SearchQuery(characters=["Gilse"], per_page=50))
    assert answers.letters([h.id for h in result.hits]) == {"demon", "loose"}
    assert "Gilse → Rupert Giles" in result.resolved


async def test_a_weak_match_is_unknown_never_substituted(answers: Mini) -> None:
    with pytest.raises(QueryError) as err:
        await search(answers.lib, SearchQuery(characters=["Harry Potter"]))
    assert "don't know" in err.value.message and "Harry Potter" in err.value.message
    assert "Larry Blaisdell" not in err.value.suggestions


async def test_pairing_members_follow_the_same_rule(answers: Mini) -> None:
    with pytest.raises(AmbiguousName):
        await search(answers.lib, SearchQuery(pairings=["Doctor/Spike"]))
    with pytest.raises(QueryError):
        await search(answers.lib, SearchQuery(pairings=["Harry Potter/Spike"]))


async def test_authors_follow_the_same_rule(answers: Mini) -> None:
    assert await found(answers, authors=["Penelope"]) == {"tea", "both"}  # a unique prefix
    assert await found(answers, authors=["Marigodl"]) == {"roses", "demon"}  # a close typo
    with pytest.raises(QueryError) as err:
        await search(answers.lib, SearchQuery(authors=["Pen Marigold Quill Orrin"]))
    assert "don't know an author" in err.value.message


# --- tags --------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["angst", "Angst", "genre:angst", "angst!", "ANGST"])
async def test_a_tag_matches_its_namespaced_forms(answers: Mini, typed: str) -> None:
    assert await found(answers, tags=[typed]) == {"tea", "both", "coffee"}


@pytest.mark.parametrize("typed", ["h/c", "hurt/comfort", "Hurt Comfort", "genre:hurt/comfort"])
async def test_tag_synonyms_come_from_the_data_file(answers: Mini, typed: str) -> None:
    assert await found(answers, tags=[typed]) == {"demon", "loose"}
    assert await found(answers, exclude_tags=[typed]) == {"tea", "both", "coffee", "roses"}


async def test_a_tag_nobody_used_is_an_error_with_suggestions(answers: Mini) -> None:
    with pytest.raises(QueryError) as err:
        await search(answers.lib, SearchQuery(tags=["flufff and more"]))
    assert "flufff" in err.value.message
