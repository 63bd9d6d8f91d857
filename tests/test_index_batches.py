"""The indexer commits stories in batches, a savepoint each: a story that cannot be stored fails
alone (nothing of it is left behind) and the rest of its batch is stored with a consistent FTS index.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from archive.model import StoryMeta
from archive.parse import parse_story
from db.fts import check_index, match_ids
from db.models import Story
from db.store import write_story
from db.writer import Writer
from tests.sample_archive import TRIO


async def test_a_story_that_fails_inside_a_batch_fails_alone(library: Any) -> None:
    seeds = sorted(TRIO.iterdir())
    metas = [parse_story(p.read_bytes(), p.name, library.roster) for p in seeds]

    def store(session: Session, meta: StoryMeta, fail: bool) -> int:
        story_id = write_story(
            session, meta, path=meta.path, size=1, mtime=0.0, sha256="0" * 64, roster=library.roster
        ).story_id
        if fail:  # after its rows (and FTS entries) were written: they must all be rolled back
            raise RuntimeError("disk on fire")
        return story_id

    async with Writer(library.settings.database_url, library.sessions) as writer:
        results = await writer.run_batch(store, [(meta, i == 1) for i, meta in enumerate(metas)])

    assert isinstance(results[1], RuntimeError)
    assert all(isinstance(r, int) for i, r in enumerate(results) if i != 1)
    async with library.transaction() as session:
        paths = set(await session.scalars(select(Story.path)))
        await check_index(session)
        body_word = re.findall(r"[A-Za-z]{4,}", metas[0].body)[0]  # a plain word, no quote marks
        hits = len(await match_ids(session, f'"{body_word}"'))
    assert paths == {m.path for i, m in enumerate(metas) if i != 1}
    assert hits >= 1


def _texts(session: Session, story_id: int, body: str) -> None:
    """A story and its text written straight to the tables (the triggers' view of a writer)."""
    conn = session.connection()
    conn.exec_driver_sql(
        "INSERT INTO stories (id, path, file_size, file_mtime, file_hash, format, title, title_key, "
        "rating_level, rating_rank, words, meta, problems, added_at, indexed_at) VALUES "
        f"({story_id}, 's{story_id}.txt', 0, 0, '', 'txt', 'T', 't', 'general', 0, 1, '{{}}', '[]', "
        "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
    conn.exec_driver_sql(
        "INSERT INTO story_texts (story_id, title, author, summary, tags, body) VALUES (?, 'T', '', '', '', ?)",
        (story_id, body),
    )


def _edit(session: Session, story_id: int, body: str) -> None:
    session.connection().exec_driver_sql(
        "UPDATE story_texts SET body = ? WHERE story_id = ?", (body, story_id)
    )


def _drop(session: Session, story_id: int, _body: str = "") -> None:
    session.connection().exec_driver_sql("DELETE FROM stories WHERE id = ?", (story_id,))


async def test_a_batch_adds_full_text_rows_once_and_keeps_them_exact(library: Any) -> None:
    """Inside a batch new texts wait in `story_fts_pending` and go into FTS5 in one statement before
    the commit; a pending story edited, deleted or rolled back in the same batch still leaves an
    index that matches the texts exactly, and nothing stays pending."""
    if not library.settings.database_url.startswith("sqlite"):
        pytest.skip("FTS5 is SQLite's; PostgreSQL's tsvector is a generated column")

    def step(session: Session, kind: str, story_id: int, body: str) -> None:
        {"add": _texts, "edit": _edit, "drop": _drop}[kind](session, story_id, body)
        if body == "fail":
            raise RuntimeError("rolled back")

    async with Writer(library.settings.database_url, library.sessions) as writer:
        await writer.run(_texts, 1, "stored before the batch: willow")  # triggers, no batch
        results = await writer.run_batch(
            step,
            [
                ("add", 2, "a new story about tara"),
                ("add", 3, "first words about anya"),
                ("edit", 3, "second words about xander"),  # edited while pending
                ("add", 4, "doomed to go"),
                ("drop", 4, ""),  # deleted while pending
                ("add", 5, "fail"),  # its savepoint rolls back
                ("edit", 1, "the old story now names giles"),  # indexed before: trigger path
            ],
        )
    assert [type(r).__name__ for r in results] == ["NoneType"] * 5 + ["RuntimeError", "NoneType"]
    async with library.transaction() as session:
        await check_index(session)
        pending = (await session.execute(text("SELECT count(*) FROM story_fts_pending"))).scalar()
        found = {
            w: sorted(await match_ids(session, w))
            for w in ("tara", "anya", "xander", "doomed", "willow", "giles")
        }
    assert pending == 0
    assert found == {"tara": [2], "anya": [], "xander": [3], "doomed": [], "willow": [], "giles": [1]}
