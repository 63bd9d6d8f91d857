"""The pairs index (`db.pairs`): a phrase of common words, alone or with other words, ranks exactly as
FTS5 ranks it, to the last bit: after the build, while stories are added, edited and deleted, and
after those are patched in; a phrase it cannot answer goes to FTS5 (SQLite only).

The archive here is small, so the threshold is lowered to make its words "common".
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from db import pairs, textrank
from db.fts import ranked_matches
from db.rawsql import fetch_all
from service.indexer import index_directory

pytestmark = pytest.mark.sqlite_only

SENTENCES = (
    "The library was quiet after dark.",
    "Giles sorted the books by the window while the rain kept on.",
    "Willow read aloud from a heavy volume, and Xander made the coffee too strong again.",
    "She held the stake tight and waited by the gate.",
    "Don't stop, don't stop: the stake, the stake, the stake!",
    "You're a long way from the library, Buffy said \u2014 you\u2019re a long way from home.",
    "Caf\u00e9 au lait at the Bronze, na\u00efve as ever.",
    "She sat by the window\U0001f970 all night, by the \uf0b7window.",
)
PHRASES = (
    "the library",
    "the stake",
    "the stake the",
    "stake the stake",
    "don't stop",
    "you're a",
    "a long way from",
    "by the window",
    "the rain kept on",
    "read aloud from",
    "the gate",
    "books by the",
    "cafe au",
    "xander made the coffee",
)
SHAPES = ('"{p}"', '"{p}" {w}', '"{p}" OR {w}', '{w} -"{p}"', '"{p}" AND {w} NOT {x}', '"{p}" "{q}"', "{p}")


def _write(stories: Path, n: int, rng: random.Random, first: int = 0) -> None:
    for i in range(first, first + n):
        body = " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(3, 40)))
        (stories / f"night-{i:03}.txt").write_text(
            f"Title: The Library {i}\nAuthor: Writer {i % 4}\nRating: Mature\n\nNight {i}. {body}\n",
            encoding="utf-8",
        )


@pytest.fixture
def small_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textrank, "MIN_STORIES", 10)
    monkeypatch.setattr(textrank, "MIN_REBUILD", 10_000)  # these tests change stories without a rebuild


async def _check(lib: Any, rng: random.Random) -> tuple[int, int]:
    """Every phrase in every shape: where the impacts answer, the same stories as FTS5 finds, each
    with FTS5's own rank to the last bit. Returns (answered, asked)."""
    answered = asked = 0
    words = ["library", "stake", "gate", "window", "coffee", "rain"]
    async with lib.sessions() as session:
        for p in PHRASES:
            for shape in SHAPES:
                w, x = rng.sample(words, 2)
                query = shape.format(p=p, w=w, x=x, q=rng.choice(PHRASES))
                mine = await textrank.ranked_matches(session, query)
                asked += 1
                if mine is None:
                    continue
                answered += 1
                theirs = sorted(await ranked_matches(session, query))
                assert mine[0].tolist() == [i for i, _ in theirs], query
                assert mine[1].tolist() == [r for _, r in theirs], query
    return answered, asked


async def _fresh(lib: Any) -> int:
    async with lib.sessions() as session:
        return int(
            (
                await session.execute(text(f"SELECT count(DISTINCT story_id) FROM {textrank.FRESH_TABLE}"))
            ).scalar()
            or 0
        )


async def test_phrases_rank_as_fts5_does_after_changes_and_a_patch(
    library: Any, small_pairs: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pairs, "POOL_FROM", 0)  # split in a worker process, as big archives are
    rng = random.Random(7)
    stories = library.settings.stories_dir
    _write(stories, 30, rng)
    await index_directory(library)
    async with library.sessions() as session:
        state = await fetch_all(session, f"SELECT dead FROM {pairs.PAIRS_STATE}")
        common_pairs = await fetch_all(
            session, f"SELECT term FROM {textrank.IMPACTS_TABLE} WHERE term LIKE '% %'"
        )
    assert state == [(0,)] and len(common_pairs) > 10
    assert {"the stake the", "by the window"} <= {term for (term,) in common_pairs}, (
        "sampled three-word phrases"
    )
    answered, asked = await _check(library, rng)
    assert answered == asked, "every query of common words and phrases is answered right after a build"

    # changes without a patch: the changed stories are counted at search time
    due = textrank.due
    monkeypatch.setattr(textrank, "due", lambda conn: None)
    for path in sorted(stories.glob("*.txt"))[:2]:
        path.write_text(path.read_text(encoding="utf-8") + "\nThe stake by the window.\n", encoding="utf-8")
    _write(stories, 2, rng, first=30)
    await index_directory(library)
    async with library.transaction() as session:
        await session.execute(text("DELETE FROM story_texts WHERE story_id = 3"))
    assert await _fresh(library) == 5
    answered, asked = await _check(library, rng)
    assert answered > 0

    # the patch brings them in: new rows in the pairs index, the old ones dead
    monkeypatch.setattr(textrank, "due", due)
    await index_directory(library)
    assert await _fresh(library) == 0
    async with library.sessions() as session:
        state = await fetch_all(session, f"SELECT dead, next_row FROM {pairs.PAIRS_STATE}")
    assert state[0][0] == 3 and state[0][1] > 32
    answered, asked = await _check(library, rng)
    assert answered == asked


async def test_a_phrase_with_a_word_that_is_not_paired_is_left_to_fts5(
    library: Any, small_pairs: None
) -> None:
    rng = random.Random(2)
    _write(library.settings.stories_dir, 20, rng)
    (library.settings.stories_dir / "odd.txt").write_text(
        "Title: Odd\nAuthor: Someone\n\nThe quokka sat by the window.\n", encoding="utf-8"
    )
    await index_directory(library)
    async with library.sessions() as session:
        assert await textrank.ranked_matches(session, '"by the window"') is not None
        assert await textrank.ranked_matches(session, '"quokka sat"') is None  # one story: not paired
        assert await textrank.ranked_matches(session, '"the window"*') is None  # a prefix


def test_story_words_read_without_fts5_match_its_tokenizer() -> None:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE story_fts USING fts5(title, author, summary, tags, body, "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    pairs.one_row_table(conn)
    odd = (
        "\u0130stanbul \u017fo \u00f8re",
        "cafe\u0301 au lait",
        "x\u00b2y \u00bd",
        "a\ue000b",
        "I love you\U0001f970 so much",
        "\uf0b7By the window",
        "1\u20bf of the",
        "the ab\u0301cd of the \U0001f970 door",
        "the \u19b0 of caf\u00e9\u19b0na\u00efve",
    )
    for body in (
        *SENTENCES,
        *odd,
        "\u201cNo\u201d\u2014she said\u2026 3rd time's_the charm",
        "",
        "A\u00a0B \u2022 c",
    ):
        row = ("T", "A", None, "t1, t2", body)
        exact = pairs.exact_tokens(conn, row)
        quick = [pairs.quick_tokens(c) for c in row]
        if all(q is not None for q in quick):
            assert quick == exact, body
        assert pairs.story_tokens(conn, row, [len(c) for c in exact]) == exact, body
        assert body not in SENTENCES[:-1] or exact[4] == [
            w.lower() for w in re.findall(r"[^\W_]+", body.replace("\u00e9", "e").replace("\u00ef", "i"))
        ]


def test_pair_text_marks_every_gap() -> None:
    common = frozenset({"the", "stake", "by", "gate"})
    assert (
        " ".join(pairs.pair_tokens(["the", "stake", "by", "the", "gate"], common))
        == "the_stake stake_by by_the the_gate"
    )
    assert (
        " ".join(pairs.pair_tokens(["the", "stake", "quokka", "by", "the"], common)) == "the_stake _ by_the"
    )
    assert " ".join(pairs.pair_tokens(["quokka", "the"], common)) == ""


async def test_a_worker_that_dies_leaves_the_build_whole(
    library: Any, small_pairs: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker process splitting stories for the pairs index fails to start (here: its word list
    cannot be read); the writer splits the rest itself and the phrases rank as FTS5 ranks them."""
    monkeypatch.setattr(pairs, "POOL_FROM", 0)
    packed = pairs.pack_words
    calls: list[int] = []

    def broken_once(words: frozenset[str]) -> bytes:
        calls.append(1)
        return b"not zlib" if len(calls) == 1 else packed(words)

    monkeypatch.setattr(pairs, "pack_words", broken_once)
    rng = random.Random(5)
    _write(library.settings.stories_dir, 20, rng)
    await index_directory(library)
    assert len(calls) >= 2, "the worker was started with the broken list, then the state saved"
    async with library.sessions() as session:
        assert await fetch_all(session, f"SELECT dead FROM {pairs.PAIRS_STATE}") == [(0,)]
    answered, asked = await _check(library, rng)
    assert answered == asked


async def test_a_patch_counted_against_the_last_build_is_not_written_over_a_new_one(
    library: Any, small_pairs: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bot's patch reads its snapshot while an index run's build starts, and is slow; the build
    finishes first. The patch was counted against the last build (its pairable words, its rows), so
    it must not be written over the new one (found by review: it was, when no story was added)."""
    import sqlite3
    import threading

    from sqlalchemy.engine import make_url

    from db.engine import sync_sqlite_url

    stories = library.settings.stories_dir
    for i in range(24):
        extra = " She saw the quokka by the gate." if i < 10 else ""
        (stories / f"q-{i:02}.txt").write_text(
            f"Title: Quokka {i}\nAuthor: W\n\nThe rain fell on the town by the window. {extra}\n",
            encoding="utf-8",
        )
    await index_directory(library)  # "quokka" in 10 stories: pairable
    monkeypatch.setattr(textrank, "due", lambda conn: None)
    path = make_url(sync_sqlite_url(library.settings.database_url)).database or ""
    writer = sqlite3.connect(path, isolation_level=None, timeout=30)
    held = [r[0] for r in writer.execute("SELECT story_id FROM story_texts WHERE body LIKE '%quokka%'")]
    writer.execute("DELETE FROM story_texts WHERE story_id = ?", (held[0],))  # 9 now: not pairable after
    indexed, read_state = textrank._indexed, textrank.read_state
    counted, go, started, result = threading.Event(), threading.Event(), [], {}

    def slow_read_state(conn: sqlite3.Connection) -> Any:
        out = read_state(conn)
        counted.set()
        go.wait(30)
        return out

    def run_patch() -> None:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        result["patch"] = textrank.patch(conn)
        conn.close()

    def indexed_then_edit(conn: sqlite3.Connection) -> Any:
        if not started:  # the build has read where it starts; a story is edited; the patch starts
            writer.execute(
                "UPDATE story_texts SET body = body || ' The quokka again.' WHERE story_id = ?", (held[1],)
            )
            started.append(threading.Thread(target=run_patch))
            started[0].start()
            counted.wait(30)
        return indexed(conn)

    monkeypatch.setattr(textrank, "_indexed", indexed_then_edit)
    monkeypatch.setattr(textrank, "read_state", slow_read_state)
    textrank.build(sqlite3.connect(path, isolation_level=None, timeout=30))
    go.set()
    started[0].join()
    writer.close()
    assert result["patch"].patched == 0, "the patch must see the build it was counted against is gone"
    async with library.sessions() as session:
        for query in ('"the quokka"', '"quokka by the"', "quokka", '"by the window"'):
            mine = await textrank.ranked_matches(session, query)
            theirs = sorted(await ranked_matches(session, query))
            assert mine is None or (
                mine[0].tolist() == [i for i, _ in theirs] and mine[1].tolist() == [r for _, r in theirs]
            ), query
