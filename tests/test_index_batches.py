"""The indexer commits stories in batches, a savepoint each: a story that cannot be stored fails
alone (nothing of it is left behind) and the rest of its batch is stored with a consistent FTS index.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
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
