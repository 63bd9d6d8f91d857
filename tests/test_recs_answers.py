"""Issue 14's rec cases over a real SQLite index: a character filter on recs needs more than a passing
mention (scaled to the story's length), the rec says why it was picked, and "more like this" orders
stories sharing the same features by real likeness, never by id, and never offers the story's copy."""

from __future__ import annotations

import hashlib
import random
from typing import Any

import pytest

from db.store import save_story
from service.hits import mentions_needed
from service.query import SearchQuery
from service.recs import rec
from service.search import search
from service.similar import similar
from tests.test_search import H, Mini, T, _meta


async def _fill(lib: Any, specs: dict[str, dict[str, Any]]) -> Mini:
    ids: dict[str, int] = {}
    async with lib.transaction() as session:
        for key, spec in specs.items():
            spec = dict(spec)
            meta = _meta(
                spec.pop("title"), spec.pop("author", "Orrin"), "PG-13", [], spec.pop("cast"), **spec
            )
            meta.path = f"recs/{key}.txt"
            digest = hashlib.sha256(key.encode()).hexdigest()
            story = await save_story(
                session, meta, path=meta.path, size=len(meta.body), mtime=0.0, sha256=digest
            )
            ids[key] = story.id
    return Mini(lib, ids)


MENTIONS = {
    "passing": dict(title="Long Road", cast=[("Spike", T, 2), ("Buffy Summers", H, 40)], words=19_649),
    "header": dict(title="Bleached", cast=[("Spike", H, 30)], words=3_000),
    "often": dict(title="Crypt Keeping", cast=[("Spike", T, 14), ("Dawn Summers", H, 9)], words=12_000),
    "short": dict(title="Drabble", cast=[("Spike", T, 2), ("Xander Harris", H, 3)], words=300),
}


@pytest.fixture
async def mentions(library: Any) -> Mini:
    return await _fill(library, MENTIONS)


def test_mentions_needed_scale_with_length() -> None:
    assert mentions_needed(300) == 2 and mentions_needed(4_000) == 2
    assert mentions_needed(19_649) == 10 and mentions_needed(100_000) == 50


async def test_a_passing_mention_in_a_long_story_is_not_featuring(mentions: Mini) -> None:
    result = await search(mentions.lib, SearchQuery(characters=["Spike"], per_page=50))
    assert mentions.letters([h.id for h in result.hits]) == {"header", "often", "short"}
    picks = {
        (
            await rec(mentions.lib, SearchQuery(characters=["Spike"]), place=f"p{i}", rng=random.Random(i))
        ).hit.id
        for i in range(40)
    }
    assert mentions.ids["passing"] not in picks
    [long_road] = (await search(mentions.lib, SearchQuery(text="title:Long", per_page=5))).hits
    assert "Spike" not in long_road.characters  # nor on its card


async def test_the_rec_says_why_it_was_picked(mentions: Mini) -> None:
    reasons = {}
    for i in range(40):
        result = await rec(
            mentions.lib, SearchQuery(characters=["Spike"]), place=f"w{i}", rng=random.Random(i)
        )
        reasons[mentions.letters([result.hit.id]).pop()] = result.reason
        assert result.to_json()["reason"] == result.reason
    assert reasons["header"] == "Spike is in its header"
    assert reasons["often"] == "Spike is named 14 times in 12,000 words"
    result = await rec(mentions.lib, SearchQuery(characters=["Spike"], max_rating="teen"), place="x")
    assert result.reason.endswith("; rating at most teen")


LIKE = {
    "daleks": dict(
        title="Explosion of the Daleks",
        author="Quill",
        cast=[("Twelfth Doctor", H, 9), ("Clara Oswald", H, 6)],
        tags=["action"],
        summary="The Daleks come to Sunnydale and something explodes.",
        words=4000,
    ),
    "plain": dict(title="Tea Time", cast=[("Twelfth Doctor", H, 9)], tags=["fluff", "domestic", "cooking"]),
    "plain2": dict(title="Scones", cast=[("Twelfth Doctor", H, 9)], tags=["fluff", "baking", "humor"]),
    "close": dict(
        title="Dalek Weather",
        cast=[("Twelfth Doctor", H, 9)],
        summary="Daleks over Sunnydale; something explodes again.",
        words=3800,
    ),
    "copy": dict(
        title="Explosion of the Daleks",
        author="Quill",
        cast=[("Twelfth Doctor", H, 9), ("Clara Oswald", H, 6)],
        tags=["action"],
        summary="The Daleks come to Sunnydale and something explodes.",
        words=4000,
        body="The same story, found twice in the archive. " * 30,
    ),
    "other": dict(title="Slayer Business", cast=[("Angel", H, 9)], tags=["angst"], fandoms=["Angel"]),
}


async def test_more_like_this_ranks_ties_by_likeness_never_id_or_itself(library: Any) -> None:
    m = await _fill(library, LIKE)
    found = await similar(library, m.ids["daleks"], limit=5)
    order = [m.letters([s.hit.id]).pop() for s in found]
    assert "daleks" not in order and "copy" not in order and "other" not in order
    assert order[0] == "close"  # same features as the others, but its words and length are alike
    assert order[1:] == ["plain", "plain2"] or order[1:] == ["plain2", "plain"]
    assert found[0].score > found[1].score


def test_likeness_words_are_the_rarest_within_a_budget() -> None:
    """A likeness matches a story's rarest words first, never a common one, and stops adding words
    once the stories naming them would pass `LIKENESS_ROWS` (its cost stays bounded)."""
    from db.about import AboutWords
    from service.similar import LIKENESS_ROWS, _distinctive_words, _Subject

    about = AboutWords(100_000, {"vampire": 30_000, "crossroads": 40, "moonlit": LIKENESS_ROWS, "tower": 900})
    story = _Subject("Moonlit Crossroads", "A vampire, a tower and a zeppelin at dawn.", 0, None, None, [])
    assert _distinctive_words(story, about) == ["zeppelin", "dawn", "crossroads", "tower"]
    assert _distinctive_words(story) == ["crossroads", "zeppelin", "moonlit", "vampire", "tower", "dawn"]
