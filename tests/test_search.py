"""Search over a small hand-made archive (every filter, exclusion, sort and alias, checked against
stories whose metadata we wrote) and over the real indexed archive (samples, seeds, corpus).

Owns `fill_mini` / the `mini` fixture the other service test files reuse.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from archive.model import CharacterCount, Relationship, Series, StoryMeta
from archive.ratings import parse_rating
from db.models import Story
from db.store import save_story
from service.archive_stats import top_characters, top_pairings
from service.hits import HIT_KEYS
from service.query import QueryError, SearchQuery
from service.search import search

H, T = "header", "text"


@dataclass
class Mini:
    """A library holding the mini archive, and the ids of its stories by short letter."""

    lib: Any
    ids: dict[str, int]

    def letters(self, ids: list[int]) -> set[str]:
        back = {v: k for k, v in self.ids.items()}
        return {back[i] for i in ids}


def _meta(
    title: str, author: str | None, rating: str | None, rels: list[tuple], chars: list[tuple], **kw: Any
) -> StoryMeta:
    relationships = [
        Relationship(tuple(sorted(m)), kind, raw="/".join(m), past=past) for m, kind, past in rels
    ]
    body = kw.pop("body", f"{title}. " + " ".join(f"{n} " * (m or 1) for n, _s, m in chars))
    return StoryMeta(
        path="",
        format="mailing-list",
        title=title,
        author=author,
        rating=parse_rating(rating)[0],
        relationships=relationships,
        characters=[CharacterCount(n, src, m) for n, src, m in chars],
        tags=kw.pop("tags", []),
        summary=kw.pop("summary", f"A story called {title}."),
        warnings=[],
        fandoms=kw.pop("fandoms", ["Buffy the Vampire Slayer"]),
        series=kw.pop("series", Series()),
        season=None,
        spoilers=None,
        words=kw.pop("words", 1000),
        status=kw.pop("status", "complete"),
        published=kw.pop("published", None),
        language="en",
        notes=kw.pop("notes", []),
        body=body,
    )


SW = (("Spike", "Willow Rosenberg"), "romantic", False)
WT = (("Tara Maclay", "Willow Rosenberg"), "romantic", False)
SPIKE, WILLOW = ("Spike", H, 12), ("Willow Rosenberg", H, 15)

MINI: dict[str, StoryMeta] = {
    "A": _meta(
        "Red Thread",
        "Penelope Quill",
        "PG-13, angst",
        [SW],
        [SPIKE, WILLOW],
        tags=["angst", "hurt/comfort"],
        words=1200,
        published="2003-05-01",
        body="Spike waited. A sunflower grew where Willow Rosenberg sat. " * 40,
    ),
    "B": _meta(
        "Quiet Hours",
        "Penelope Quill",
        "NC-17",
        [SW],
        [SPIKE, WILLOW],
        tags=["smut"],
        words=5000,
        status="in-progress",
        published="2004-01-01",
    ),
    "C": _meta(
        "Wilted",
        "Penelope Quill",
        "PG-13",
        [SW],
        [SPIKE, WILLOW],
        tags=["angst"],
        words=800,
        published="2001-02-02",
    ),
    "D": _meta(
        "Library Dust",
        "Marigold",
        "G",
        [WT],
        [("Tara Maclay", H, 9), WILLOW],
        tags=["fluff", "post-Tabula Rasa"],
        words=2000,
        published="2002-06-06",
        series=Series("Dust", 1),
    ),
    "E": _meta(
        "Witchy Women",
        "Marigold",
        "Teen And Up Audiences",
        [WT],
        [("Tara Maclay", H, 9), WILLOW],
        tags=["angst", "post-Tabula Rasa"],
        words=3000,
        published="2005-01-01",
        series=Series("Dust", 2),
    ),
    "F": _meta(
        "Slayer Sisters",
        "Dana K",
        "General Audiences",
        [(("Buffy Summers", "Faith Lehane"), "platonic", False)],
        [("Buffy Summers", H, 20), ("Faith Lehane", H, 10)],
        tags=["friendship"],
        words=1500,
        published="2006-01-01",
    ),
    "G": _meta(
        "Three's Company",
        "Dana K",
        "R",
        [(("Angel", "Buffy Summers", "Spike"), "romantic", False)],
        [("Angel", H, 5), ("Buffy Summers", H, 5), SPIKE],
        tags=["angst"],
        words=4200,
        status="in-progress",
    ),
    "H": _meta(
        "Past Tense",
        "Orrin",
        "T",
        [(("Angel", "Buffy Summers"), "romantic", True)],
        [("Buffy Summers", H, 8), ("Angel", H, 8), ("Spike", T, 1)],
        tags=["angst"],
        words=2500,
        published="2007-01-01",
    ),
    "I": _meta(
        "Mentions Only",
        "Orrin",
        "G",
        [],
        [("Xander Harris", T, 5), ("Spike", T, 3), ("Willow Rosenberg", T, 1)],
        tags=["humor"],
        words=600,
        status=None,
        published="2008-01-01",
    ),
    "J": _meta(
        "Unrated Thing", None, None, [], [("Willow Rosenberg", H, 2)], words=300, summary=None, status=None
    ),
    "K": _meta(
        "Angel Investigations",
        "Orrin",
        "PG-13",
        [(("Angel", "Cordelia Chase"), "romantic", False)],
        [("Angel", H, 9), ("Cordelia Chase", H, 7)],
        tags=["case fic"],
        words=7000,
        fandoms=["Angel"],
        published="2009-01-01",
    ),
    "L": _meta("Gone Girl", "Penelope Quill", "PG-13", [SW], [SPIKE, WILLOW], tags=["angst"], words=900),
}


async def fill_mini(lib: Any) -> Mini:
    """Store the MINI stories (L then removed by a mod) and load the title index."""
    ids: dict[str, int] = {}
    async with lib.transaction() as session:
        for letter, meta in MINI.items():
            meta.path = f"mini/{letter}.txt"
            digest = hashlib.sha256(meta.title.encode()).hexdigest()
            story = await save_story(
                session, meta, path=meta.path, size=len(meta.body), mtime=0.0, sha256=digest
            )
            ids[letter] = story.id
        await session.execute(update(Story).where(Story.id == ids["L"]).values(removed_at=datetime.now(UTC)))
    await lib.refresh()
    return Mini(lib, ids)


@pytest.fixture
async def mini(library: Any) -> Mini:
    return await fill_mini(library)


async def _letters(m: Mini, **kw: Any) -> set[str]:
    result = await search(m.lib, SearchQuery(per_page=50, **kw))
    assert result.total == len(result.hits)
    return m.letters([h.id for h in result.hits])


# --- characters ------------------------------------------------------------------------------------


async def test_character_needs_header_or_two_mentions(mini: Mini) -> None:
    assert await _letters(mini, characters=["Willow"]) == {"A", "B", "C", "D", "E", "J"}  # not I: one mention
    assert await _letters(mini, characters=["Xander"]) == {"I"}  # inferred from the text, five mentions
    assert await _letters(mini, characters=["Spike", "Willow Rosenberg"]) == {"A", "B", "C"}


async def test_misspelt_character_is_corrected_and_noted(mini: Mini) -> None:
    result = await search(mini.lib, SearchQuery(characters=["wilow"], per_page=50))
    assert "wilow → Willow Rosenberg" in result.resolved
    assert result.total == 6


async def test_unknown_character_is_an_error_with_suggestions(mini: Mini) -> None:
    with pytest.raises(QueryError) as err:
        await search(mini.lib, SearchQuery(characters=["Gilez Rupurt"]))
    assert "Gilez Rupurt" in err.value.message
    assert "Rupert Giles" in err.value.suggestions


async def test_excluded_character(mini: Mini) -> None:
    assert await _letters(mini, characters=["Willow"], exclude_characters=["Spike"]) == {"D", "E", "J"}


# --- pairings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["Spike/Willow", "Willow/Spike", "W/S", "Spillow", "willow rosenberg x spike", "Spike and Willow"],
)
async def test_pairing_spellings_agree(mini: Mini, typed: str) -> None:
    assert await _letters(mini, pairings=[typed]) == {"A", "B", "C"}  # L is removed


async def test_platonic_and_romantic_differ(mini: Mini) -> None:
    assert await _letters(mini, pairings=["Buffy & Faith"]) == {"F"}
    result = await search(mini.lib, SearchQuery(pairings=["Buffy/Faith"]))
    assert result.total == 0 and result.empty_reason
    assert await _letters(mini, pairings=["Buffy and Faith"]) == {"F"}  # `and`: either kind


async def test_threesome_is_not_a_pair_but_wildcard_finds_all(mini: Mini) -> None:
    assert await _letters(mini, pairings=["Buffy/Angel"]) == {"H"}  # past counts; the threesome does not
    assert await _letters(mini, pairings=["Angel/Buffy/Spike"]) == {"G"}
    assert await _letters(mini, pairings=["Spike/*"]) == {"A", "B", "C", "G"}
    assert await _letters(mini, pairings=["Spike/"]) == {"A", "B", "C", "G"}


async def test_excluded_pairing(mini: Mini) -> None:
    assert await _letters(mini, characters=["Willow"], exclude_pairings=["Spillow"]) == {"D", "E", "J"}


# --- ratings, authors, words, status, fandoms, tags ------------------------------------------------


@pytest.mark.parametrize("label", ["PG-13", "T", "Teen And Up Audiences", "teen"])
async def test_rating_systems(mini: Mini, label: str) -> None:
    assert await _letters(mini, ratings=[label]) == {"A", "C", "E", "H", "K"}


async def test_rating_ceiling_and_exclusion(mini: Mini) -> None:
    assert await _letters(mini, ratings=["NC17"]) == {"B"}
    assert await _letters(mini, ratings=["E"]) == await _letters(mini, ratings=["e"]) == {"B"}  # AO3's letter
    at_most = await _letters(mini, max_rating="teen")
    assert (
        at_most == await _letters(mini, ratings=["at most teen"]) == {"A", "C", "D", "E", "F", "H", "I", "K"}
    )
    assert "B" not in await _letters(mini, exclude_ratings=["explicit"])
    with pytest.raises(QueryError):
        await search(mini.lib, SearchQuery(ratings=["purple"]))


async def test_a_name_of_no_letters_is_told_plainly(mini: Mini) -> None:
    for field, what in (("authors", "author"), ("tags", "tag")):
        with pytest.raises(QueryError) as told:
            await search(mini.lib, SearchQuery(**{field: ["🔥"]}))
        assert str(told.value).startswith(f"'🔥' has no letters or digits, so it cannot be a {what}'s name")


async def test_age_gating_hides_and_counts(mini: Mini) -> None:
    result = await search(
        mini.lib,
        SearchQuery(pairings=["Spike/Willow"], allowed_levels=frozenset({"general", "teen"}), per_page=50),
    )
    assert mini.letters([h.id for h in result.hits]) == {"A", "C"}
    assert result.hidden == 1
    only_hidden = await search(mini.lib, SearchQuery(ratings=["NC17"], allowed_levels=frozenset({"general"})))
    assert only_hidden.total == 0 and only_hidden.hidden == 1
    assert "age-restricted" in (only_hidden.empty_reason or "")


async def test_author_exact_and_fuzzy(mini: Mini) -> None:
    assert await _letters(mini, authors=["PENELOPE QUILL"]) == {"A", "B", "C"}
    result = await search(mini.lib, SearchQuery(authors=["penelope quil"], per_page=50))
    assert result.total == 3 and any("Penelope Quill" in r for r in result.resolved)
    with pytest.raises(QueryError) as err:
        await search(mini.lib, SearchQuery(authors=["Marigol Q"]))
    assert "Marigold" in err.value.suggestions or err.value.suggestions == []


async def test_a_status_filter_says_how_many_stories_did_not_say(mini: Mini) -> None:
    unknown = [m for m in MINI.values() if m.status is None]
    finished = await search(mini.lib, SearchQuery(complete=True, per_page=50))
    note = f"left out: {len(unknown)} stories that do not say whether they are finished"
    assert len(unknown) == 2 and note in finished.resolved
    wip = await search(mini.lib, SearchQuery(complete=False, per_page=50))
    assert note in wip.resolved
    assert not any(
        "whether finished" in r for r in (await search(mini.lib, SearchQuery(per_page=50))).resolved
    )


async def test_words_status_fandom_tags(mini: Mini) -> None:
    assert await _letters(mini, words_min=4000) == {"B", "G", "K"}
    assert await _letters(mini, words_max=800) == {"C", "I", "J"}
    assert await _letters(mini, complete=False) == {"B", "G"}
    assert "I" not in await _letters(mini, complete=True)
    assert await _letters(mini, fandoms=["AtS"]) == {"K"}
    assert len(await _letters(mini, fandoms=["btvs"])) == 10  # the roster's alias for the label
    assert "K" not in await _letters(mini, exclude_fandoms=["Angel"])
    assert await _letters(mini, tags=["Angst"]) == {"A", "C", "E", "G", "H"}
    assert await _letters(mini, tags=["angst"], exclude_tags=["post-tabula rasa"]) == {"A", "C", "G", "H"}
    with pytest.raises(QueryError):
        await search(mini.lib, SearchQuery(tags=["no such tag at all"]))


# --- text ------------------------------------------------------------------------------------------

HOSTILE = [
    '"unbalanced',
    "AND OR NOT",
    '"',
    "*",
    "title:",
    "NEAR(",
    "sunflower)",
    "((((",
    "🧛‍♀️ 🌻",
    "x" * 5000,
    "spike " * 900,
    "'; DROP TABLE stories; --",
    "\x00",
    "",
]


async def test_full_text_finds_words(mini: Mini) -> None:
    result = await search(mini.lib, SearchQuery(text="sunflower"))
    assert mini.letters([h.id for h in result.hits]) == {"A"}
    assert result.hits[0].score is not None


async def test_text_best_order_follows_bm25_within_filters(mini: Mini) -> None:
    from db.fts import fts_search

    async with mini.lib.sessions() as session:
        ranked = [i for i, _rank in await fts_search(session, "Willow")]
    allowed = {h.id for h in (await search(mini.lib, SearchQuery(max_rating="teen", per_page=50))).hits}
    for per_page in (1, 2, 50):
        pages = []
        for page in (1, 2, 3):
            result = await search(
                mini.lib, SearchQuery(text="Willow", max_rating="teen", page=page, per_page=per_page)
            )
            pages += [h.id for h in result.hits]
        assert pages == [i for i in ranked if i in allowed][: len(pages)]
        assert result.total == len([i for i in ranked if i in allowed])


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_text_never_crashes(mini: Mini, text: str) -> None:
    try:
        result = await search(mini.lib, SearchQuery(text=text))
    except QueryError as err:
        assert err.message
    else:
        assert result.total >= 0


# --- sorts, paging, removal, empty reasons, JSON ---------------------------------------------------


async def _order(m: Mini, sort: str, **kw: Any) -> list[str]:
    result = await search(m.lib, SearchQuery(sort=sort, per_page=50, **kw))  # type: ignore[arg-type]
    back = {v: k for k, v in m.ids.items()}
    return [back[h.id] for h in result.hits]


async def test_sorts(mini: Mini) -> None:
    newest = await _order(mini, "newest")
    assert newest[:3] == ["K", "I", "H"] and set(newest[-2:]) == {"G", "J"}  # no date sorts last
    longest = await _order(mini, "longest")
    words = [MINI[x].words for x in longest]
    assert words == sorted(words, reverse=True)
    assert await _order(mini, "shortest") == list(reversed(longest)) or [
        MINI[x].words for x in await _order(mini, "shortest")
    ] == sorted(words)
    titles = [MINI[x].title for x in await _order(mini, "title")]
    assert titles[0] == "Angel Investigations" and titles[-1] == "Witchy Women"


async def test_best_ranks_header_characters_above_inferred(mini: Mini) -> None:
    order = await _order(mini, "best", characters=["Spike"])
    assert set(order) == {"A", "B", "C", "G", "I"}
    assert order[-1] == "I"  # named three times in the text, never in a header


async def test_random_sort_is_a_repeatable_permutation(mini: Mini) -> None:
    first = await _order(mini, "random", seed=7)
    assert first == await _order(mini, "random", seed=7)
    assert sorted(first) == sorted(await _order(mini, "title"))
    orders = {tuple(await _order(mini, "random", seed=s)) for s in range(6)}
    assert len(orders) > 1


async def test_paging_covers_everything_once(mini: Mini) -> None:
    seen: list[int] = []
    for page in itertools.count(1):
        result = await search(mini.lib, SearchQuery(sort="title", page=page, per_page=3))
        assert result.total == 11 and result.pages == 4
        seen += [h.id for h in result.hits]
        if page == result.pages:
            break
    assert len(seen) == len(set(seen)) == 11
    assert mini.ids["L"] not in seen  # mod-removed


async def test_mod_removal_shows_at_once_and_counts_after_refresh(mini: Mini) -> None:
    q = SearchQuery(pairings=["Spillow"], per_page=50)
    assert (await search(mini.lib, q)).total == 3
    async with mini.lib.transaction() as session:
        await session.execute(
            update(Story).where(Story.id == mini.ids["A"]).values(removed_at=datetime.now(UTC))
        )
    stale = await search(mini.lib, q)  # the snapshot may still count it, but it is never shown
    assert mini.ids["A"] not in [h.id for h in stale.hits]
    await mini.lib.refresh()  # what service.curate does after a removal
    fresh = await search(mini.lib, q)
    assert fresh.total == 2 and mini.ids["A"] not in [h.id for h in fresh.hits]


async def test_empty_reason_names_the_filter(mini: Mini) -> None:
    result = await search(mini.lib, SearchQuery(pairings=["Spike/Willow"], ratings=["general"]))
    assert result.total == 0
    reason = result.empty_reason or ""
    assert "pairing Spike/Willow Rosenberg" in reason and "rating general" in reason
    assert "3 match without the rating filter" in reason


async def test_hit_json_has_exactly_the_interface_keys(mini: Mini) -> None:
    result = await search(mini.lib, SearchQuery(pairings=["Spillow"], sort="title"))
    data = next(h for h in result.hits if h.id == mini.ids["A"]).to_json()
    assert tuple(data) == HIT_KEYS
    assert data["rating"] == {"raw": "PG-13", "level": "teen"}
    assert data["relationships"] == ["Spike/Willow Rosenberg"]
    assert data["characters"][:2] == ["Willow Rosenberg", "Spike"]


async def _statements(lib: Any, run: Any) -> list[str]:
    """The SQL statements SQLite ran on one session's connection while `run(session)` was awaited."""
    seen: list[str] = []
    async with lib.sessions() as session:
        if (await session.connection()).dialect.name != "sqlite":
            pytest.skip("counts statements with SQLite's trace callback")
        raw = await (await session.connection()).get_raw_connection()
        driver = raw.driver_connection
        await driver._execute(driver._conn.set_trace_callback, seen.append)
        try:
            await run(session)
        finally:
            await driver._execute(driver._conn.set_trace_callback, None)
    return seen


async def test_a_page_of_hits_is_read_in_one_statement(mini: Mini) -> None:
    from service.hits import load_hits

    ids = [mini.ids["A"], mini.ids["B"], mini.ids["C"]]
    got: list[Any] = []

    async def run(session: Any) -> None:
        got.extend(await load_hits(session, ids))

    ran = await _statements(mini.lib, run)
    assert [h.id for h in got] == ids
    assert len([s for s in ran if s.lstrip().upper().startswith("SELECT")]) == 1, ran
    assert got[0].relationships == ["Spike/Willow Rosenberg"]
    assert got[0].characters[:2] == ["Willow Rosenberg", "Spike"]


async def test_a_text_search_matches_once_and_its_later_pages_not_again(
    mini: Mini, monkeypatch: pytest.MonkeyPatch
) -> None:
    import service.textfilter as search_module

    calls: list[str] = []
    for name in ("ranked_matches", "match_ids"):
        real = getattr(search_module, name)

        async def counted(session: Any, text: str, _real: Any = real, _name: str = name) -> Any:
            calls.append(_name)
            return await _real(session, text)

        monkeypatch.setattr(search_module, name, counted)
    first = await search(mini.lib, SearchQuery(text="Willow", per_page=2))
    assert calls == ["ranked_matches"]  # the ids and their bm25 ranks from one MATCH
    second = await search(mini.lib, SearchQuery(text="Willow", per_page=2, page=2))
    newest = await search(mini.lib, SearchQuery(text="Willow", sort="newest"))
    assert calls == ["ranked_matches"]  # later pages and other orders reuse that answer
    assert first.total == second.total == newest.total >= 3
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}
    await search(mini.lib, SearchQuery(text="Willow -Spike", sort="newest"))
    assert calls == ["ranked_matches", "match_ids"]  # unranked when the order needs no rank


# --- the real archive (samples, seeds, corpus) -----------------------------------------------------


async def test_real_archive_counts_agree_with_filters(any_archive: Any) -> None:
    lib = any_archive
    everything = await search(lib, SearchQuery(per_page=50))
    assert everything.total > 0
    for name, n in await top_characters(lib, 5):
        assert (await search(lib, SearchQuery(characters=[name]))).total == n
    for key, n in await top_pairings(lib, 5):
        assert (await search(lib, SearchQuery(pairings=[key]))).total == n
    for rating in ("PG-13", "T", "Teen And Up Audiences", "NC17", "at most teen"):
        result = await search(lib, SearchQuery(ratings=[rating], per_page=50))
        assert result.total <= everything.total
        assert all(h.rating.level in {"general", "teen", "explicit"} for h in result.hits)


@pytest.mark.parametrize("text", HOSTILE)
async def test_real_archive_hostile_text(any_archive: Any, text: str) -> None:
    try:
        result = await search(any_archive, SearchQuery(text=text))
    except QueryError as err:
        assert err.message
    else:
        assert result.total >= 0


async def test_real_archive_long_misspelling_is_not_read_as_a_short_name(any_archive: Any) -> None:
    """'Wilow Rosenbreg Xyzzy' once resolved to the crossover character "Rose" (a fragment match)."""
    with pytest.raises(QueryError) as err:
        await search(any_archive, SearchQuery(characters=["Wilow Rosenbreg Xyzzy"]))
    assert "Willow Rosenberg" in err.value.suggestions
    assert (await search(any_archive, SearchQuery(characters=["wilow rosenberg"]))).total > 0


async def test_real_archive_spellings_sorts_exclusions_and_gating(any_archive: Any) -> None:
    lib = any_archive
    totals = {
        label: (await search(lib, SearchQuery(ratings=[label]))).total
        for label in ("PG-13", "T", "Teen And Up Audiences", "teen")
    }
    assert len(set(totals.values())) == 1
    spike_willow = [
        await search(lib, SearchQuery(pairings=[p]))
        for p in ("Spike/Willow", "Willow/Spike", "W/S", "Spillow")
    ]
    assert len({r.total for r in spike_willow}) == 1
    assert spike_willow[0].total or spike_willow[0].empty_reason
    for key, n in await top_pairings(lib, 5):
        if "/" in key and key.count("/") == 1:
            a, b = key.split("/")
            assert (await search(lib, SearchQuery(pairings=[f"{b}/{a}"]))).total == n
    newest = (await search(lib, SearchQuery(sort="newest", per_page=50))).hits
    dates = [h.published for h in newest]
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True) and dates[: len(dated)] == dated  # undated last
    longest = [h.words for h in (await search(lib, SearchQuery(sort="longest", per_page=50))).hits]
    assert longest == sorted(longest, reverse=True)
    name, _n = (await top_characters(lib, 1))[0]
    without = await search(lib, SearchQuery(exclude_characters=[name], per_page=50))
    assert all(name not in h.characters for h in without.hits)
    assert (
        without.total + (await search(lib, SearchQuery(characters=[name]))).total
        == (await search(lib, SearchQuery())).total
    )
    sfw = frozenset({"general", "teen"})
    gated = await search(lib, SearchQuery(allowed_levels=sfw, per_page=50))
    assert all(h.rating.level in sfw for h in gated.hits)
    assert gated.total + gated.hidden == (await search(lib, SearchQuery())).total


def test_a_typo_keeps_the_first_letter() -> None:
    from service.names import _typos

    keys = {
        "larry blaisdell": "Larry Blaisdell",
        "rupert giles": "Rupert Giles",
        "willow": "Willow Rosenberg",
    }
    assert _typos("harry", keys) == set()  # a name of its own, not a slip for Larry
    assert _typos("gilse", keys) == {"Rupert Giles"}
    assert _typos("wilow", keys) == {"Willow Rosenberg"}
    assert _typos("larey", keys) == {"Larry Blaisdell"}


async def test_gen_as_a_pairing_means_no_romance(mini: Mini) -> None:
    gen = {k for k, m in MINI.items() if not any(r.kind == "romantic" for r in m.relationships)}
    assert gen and gen != set(MINI)
    result = await search(mini.lib, SearchQuery(pairings=["gen"], per_page=50))
    assert mini.letters([h.id for h in result.hits]) == gen and "gen → no romantic pairing" in result.resolved
    live = await _letters(mini)
    assert await _letters(mini, exclude_pairings=["No Pairing"]) == live - gen
