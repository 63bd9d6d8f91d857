"""Full-text search: user text is escaped into safe MATCH expressions (SQLite) and tsqueries
(PostgreSQL) that mean the same, ranking favours titles, and the index follows story_texts through
inserts, updates and deletes. The async tests run once per backend."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from db.fts import FTS_V1_DDL, check_index, fts_search, match_ids
from db.ftsquery import MatchQuery, parse_text, to_match_query, to_tsquery_sql
from db.models import Story, StoryText, utcnow

SYNTAX = [
    *list("\"()*:^-+{}., '"),
    "-x",
    "title:",
    "tag:",
    "not",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "and",
    "or",
    "title",
    "body",
    "x",
    "y",
    "é",
    "💀",
    "\x00",
]


ROWS = [
    (
        1,
        "Sunnydale Nights",
        "Anya",
        "A slayer story",
        "angst, Buffy Summers",
        "Buffy walked to the crypt alone.",
    ),
    (2, "Magic Box", "Tara", "", "fluff, Willow Rosenberg", "Willow and Tara opened the magic shop."),
    (3, "Crypt Talk", "Spike", "", "Spike", "Not tonight, said Spike, and not tomorrow either."),
    (4, "Café Noir", "Zoë", "", "", "The slayer's coffee was cold."),
]

MEANINGS = [
    ('"magic shop"', {2}),
    ('"shop magic"', set()),
    ("crypt", {1, 3}),
    ("crypt NOT spike", {1}),
    ("tara OR spike", {2, 3}),
    ("(tara OR spike) crypt", {3}),
    ("slay*", {1, 4}),
    ("not tonight", {3}),  # lowercase "not" is a word, not an operator
    ("cafe zoe", {4}),  # diacritics fold away
    ("title:crypt", {3}),  # a column filter searches that column
    ("crypt -spike", {1}),
    ('-"magic shop" tara OR spike', {3}),
    ("author:tara", {2}),
    ("tag:willow", {2}),
    ("text:willow", {2}),
    ("title:mag*", {2}),
    ("tara OR spike NOT crypt", {2}),  # NOT binds tighter than OR
    ("willow OR tara AND crypt", {2}),  # AND binds tighter than OR
    ('"magic sh"*', {2}),  # a phrase whose last word is a prefix
    ("slayer's", {4}),
]


@pytest.fixture(scope="module")
def fts_db() -> Iterator[sqlite3.Connection]:
    """A plain SQLite connection holding story_texts and the real FTS DDL from the migration."""
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE story_texts (story_id INTEGER PRIMARY KEY, title, author, summary, tags, body)"
    )
    for statement in FTS_V1_DDL:
        conn.execute(statement)
    conn.executemany("INSERT INTO story_texts VALUES (?, ?, ?, ?, ?, ?)", ROWS)
    yield conn
    conn.close()


def _ids(conn: sqlite3.Connection, user_text: str) -> set[int]:
    query = to_match_query(user_text)
    assert query is not None
    return {r[0] for r in conn.execute("SELECT rowid FROM story_fts WHERE story_fts MATCH ?", (query,))}


@pytest.mark.parametrize(
    ("user_text", "expected"),
    [
        ("buffy", '"buffy"'),
        ("Buffy crypt", '"Buffy" AND "crypt"'),
        ('"magic shop" OR crypt', '"magic shop" OR "crypt"'),
        ("spi*", '"spi"*'),
        ("(willow OR tara) NOT spike", '("willow" OR "tara") NOT "spike"'),
        ("willow and tara", '"willow" AND "and" AND "tara"'),
        ("title:buffy", 'title : "buffy"'),
        ("genre:angst", 'tags : "angst"'),
        ("fandom:buffy", '"buffy"'),
        ("half-demon", '"half-demon"'),
        ("tea -coffee", '("tea") NOT ("coffee")'),
        ("tea NOT coffee", '"tea" NOT "coffee"'),
        ("tea not coffee", '"tea" AND "not" AND "coffee"'),
        ("(tea or coffee) and not milk", '("tea" OR "coffee") NOT "milk"'),
        ("(unbalanced OR paren", '"unbalanced" OR "paren"'),
        ('"unbalanced quote', '"unbalanced" AND "quote"'),
        ("NOT alone", None),  # only leaves out: see parse_text
        ("OR", '"OR"'),
        ("crypt AND NOT spike", '"crypt" NOT "spike"'),
        ("-x ^y NEAR(a b)", '("^y" AND "NEAR" AND ("a" AND "b")) NOT ("x")'),
        ("- --x", '"--x"'),
        ("*", None),
        ("", None),
        ("  ?!. 💀 ()", None),
    ],
)
def test_to_match_query(user_text: str, expected: str | None) -> None:
    assert to_match_query(user_text) == expected


def test_escaped_queries_mean_what_the_user_typed(fts_db: sqlite3.Connection) -> None:
    for user_text, expected in MEANINGS:
        assert _ids(fts_db, user_text) == expected, user_text


async def _texts(library: Any) -> None:
    async with library.transaction() as s:
        for story_id, title, author, summary, tags, body in ROWS:
            await _add(s, story_id, title, body, author=author, summary=summary, tags=tags)


async def test_the_query_language_means_the_same_on_every_backend(library: Any) -> None:
    await _texts(library)
    async with library.sessions() as s:
        for user_text, expected in MEANINGS:
            assert set(await match_ids(s, user_text)) == expected, user_text
            assert {sid for sid, _ in await fts_search(s, user_text)} == expected, user_text


def test_tsquery_sql_binds_every_word() -> None:
    user_text = "(willow OR tara*) NOT \"spike's crypt\" x');DROP TABLE stories;--"
    rendered = to_tsquery_sql(user_text)
    assert rendered is not None
    sql, params = rendered
    for word in ("willow", "tara", "spike", "DROP", "TABLE", "stories", "--", ";"):
        assert word not in sql
    assert sorted(params.values()) == sorted(
        ["willow", "tara", "spike's crypt", "x'", ";DROP", "TABLE", "stories;--"]
    )
    assert to_tsquery_sql("?! ()") is None


async def test_no_user_text_makes_a_search_raise(library: Any) -> None:
    """The hypothesis test above, on whichever backend: random mixes of syntax never raise."""
    await _texts(library)
    rng = random.Random(17)
    inputs = [
        *(" ".join(rng.choices(SYNTAX, k=rng.randint(0, 20))) for _ in range(150)),
        *("".join(rng.choices(SYNTAX, k=rng.randint(0, 20))) for _ in range(150)),
        *("".join(chr(rng.randint(1, 0x2FFF)) for _ in range(rng.randint(0, 12))) for _ in range(100)),
        "\\*",
        "'*",
        "\\'x*",
        "a\\b*",
        '"\\"*',
        "x:*",
        "':*'*",
        "!!x*",
        "&|*",
    ]
    async with library.sessions() as s:
        for user_text in inputs:
            await match_ids(s, user_text)
            await fts_search(s, user_text, limit=5)


def test_leaving_out_alone_is_the_exclude_part() -> None:
    assert parse_text("NOT tea") == MatchQuery(None, '"tea"')
    assert parse_text("-tea -coffee") == MatchQuery(None, '"tea" OR "coffee"')
    assert parse_text("-title:roses") == MatchQuery(None, 'title : "roses"')
    assert parse_text("-") is None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.text(),
        st.lists(st.sampled_from(SYNTAX), max_size=20).map(" ".join),
        st.lists(st.sampled_from(SYNTAX), max_size=20).map("".join),
    )
)
def test_no_user_text_makes_match_raise(fts_db: sqlite3.Connection, user_text: str) -> None:
    parsed = parse_text(user_text)
    if parsed is None:
        assert to_match_query(user_text) is None
        return
    for query in (parsed.expression, parsed.include, parsed.exclude):
        if query is not None:
            fts_db.execute(
                "SELECT rowid, bm25(story_fts) FROM story_fts WHERE story_fts MATCH ?", (query,)
            ).fetchall()


@pytest.mark.parametrize(
    "user_text",
    [
        "(" * 3000 + "x" + ")" * 3000,
        "(" * 9 + "willow OR tara" + ")" * 9,
        " OR ".join(["crypt"] * 20000),
        " NOT ".join(["x"] * 5000),
        "(a OR (b AND (c NOT (d OR (e)))))" * 40,
    ],
)
def test_pathological_input_stays_safe_and_small(fts_db: sqlite3.Connection, user_text: str) -> None:
    query = to_match_query(user_text)
    if query is not None:
        assert len(query) < 2000
        fts_db.execute("SELECT rowid FROM story_fts WHERE story_fts MATCH ?", (query,)).fetchall()


async def _add(session: Any, story_id: int, title: str, body: str, **text_fields: str) -> None:
    session.add(
        Story(
            id=story_id,
            path=f"{story_id}.md",
            file_hash="0" * 64,
            format="markdown",
            title=title,
            title_key=title.lower(),
        )
    )
    await session.flush()
    session.add(StoryText(story_id=story_id, title=title, body=body, **text_fields))
    await session.flush()


async def _fts_ok(session: Any) -> None:
    await check_index(session)


async def test_bm25_ranks_title_above_body(library: Any) -> None:
    async with library.transaction() as s:
        await _add(s, 1, "Ordinary Day", "The vampire was hungry.")
        await _add(s, 2, "Vampire Diaries", "Nothing happened.")
        await _add(s, 3, "Another Day", "Nothing at all.", tags="vampire")
        await _add(s, 4, "Unrelated", "No match here.")
    async with library.sessions() as s:
        hits = await fts_search(s, "vampire")
        limited = await fts_search(s, "vampire", limit=1)
    assert [sid for sid, _ in hits] == [2, 3, 1]
    assert [rank for _, rank in hits] == sorted(rank for _, rank in hits)
    assert limited == hits[:1]


async def test_triggers_keep_fts_in_step(library: Any) -> None:
    async with library.transaction() as s:
        await _add(s, 1, "First", "The hellmouth opened.")
    async with library.sessions() as s:
        assert [sid for sid, _ in await fts_search(s, "hellmouth")] == [1]
    async with library.transaction() as s:
        (await s.get(StoryText, 1)).body = "The library burned."
    async with library.transaction() as s:
        assert await fts_search(s, "hellmouth") == []
        assert [sid for sid, _ in await fts_search(s, "library")] == [1]
        await _fts_ok(s)
    async with library.transaction() as s:
        await s.execute(text("DELETE FROM stories WHERE id = 1"))  # story_texts goes by cascade
    async with library.transaction() as s:
        assert await fts_search(s, "library") == []
        await _fts_ok(s)


async def test_search_leaves_out_removed_stories(library: Any) -> None:
    async with library.transaction() as s:
        await _add(s, 1, "Gone", "The mayor ascended.")
        (await s.get(Story, 1)).removed_at = utcnow()
    async with library.sessions() as s:
        assert await fts_search(s, "mayor") == []
        assert [sid for sid, _ in await fts_search(s, "mayor", include_removed=True)] == [1]
        assert await fts_search(s, "?!") == []


async def test_about_search_matches_what_a_story_says_it_is_about(library: Any) -> None:
    """The about index (what "more like this" matches words in) finds titles, authors, summaries and
    tags, never the story text, ranks a title above a tag, and follows edits and deletions."""
    from db.about import about_search

    async with library.transaction() as s:
        await _add(s, 1, "Ordinary Day", "The slayer fought all night.")
        await _add(s, 2, "Slayer Dreams", "Nothing happened.")
        await _add(s, 3, "Another Day", "Nothing at all.", tags="slayer")
        await _add(s, 4, "Quiet", "Nothing.", summary="A slayer rests; the watcher worries.")
        await _add(s, 5, "Rest", "Nothing.", author="Watcher Of Words")
    async with library.sessions() as s:
        everywhere = [sid for sid, _ in await fts_search(s, "slayer")]
        about = [sid for sid, _ in await about_search(s, "slayer", 10)]
        either = {sid for sid, _ in await about_search(s, "slayer OR watcher", 10)}
        body_only = await about_search(s, "night", 10)
        limited = await about_search(s, "slayer", 1)
    assert set(everywhere) == {1, 2, 3, 4}
    assert about[0] == 2 and set(about) == {2, 3, 4}
    assert either == {2, 3, 4, 5}
    assert body_only == [] and [sid for sid, _ in limited] == [2]
    async with library.transaction() as s:
        (await s.get(StoryText, 2)).title = "Dreams"
        await s.execute(text("DELETE FROM stories WHERE id = 3"))
    async with library.transaction() as s:
        assert {sid for sid, _ in await about_search(s, "slayer", 10)} == {4}
        assert [sid for sid, _ in await about_search(s, "dreams", 10)] == [2]
        await _fts_ok(s)


async def test_about_words_count_what_stories_say_they_are_about(library: Any) -> None:
    """`about_words` counts the stories naming each word in their title, author, summary or tags,
    folded as the index folds them; more than 2 % of the stories (and more than 25) is common:
    "more like this" leaves those out and prefers the rarest of the rest."""
    from db.about import COMMON_FLOOR, about_words

    async with library.transaction() as s:
        for i in range(1, COMMON_FLOOR + 3):
            summary = "A Vampíre story" + (" with a zeppelin" if i < 7 else "")
            await _add(s, i, f"Night {i}", "Body text.", summary=summary)
    async with library.sessions() as s:
        about = await about_words(s)
    assert about.stories == COMMON_FLOOR + 2
    assert about.is_common("vampire") and about.is_common("story") and about.is_common("night")
    assert about.stories_naming("zeppelin") == 6 and not about.is_common("zeppelin")
    assert about.stories_naming("body") == 0  # only in the text
