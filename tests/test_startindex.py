"""The bot's start-up index runs in a process of its own (issue 12, item 3): the bot's process never
parses or writes a story while it indexes, so its event loop is free for commands; the views still
learn every story; a bot that stops mid-index leaves no index process behind."""

from __future__ import annotations

import asyncio
import multiprocessing
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

import archive.parse
from service.library import Library
from tests.conftest import make_bot
from tests.test_index_identity import live, write_stories


@pytest.fixture
def in_this_process(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts of stories parsed and story rows inserted by THIS process (any engine, any thread)."""
    counts = {"parsed": 0, "inserted": 0}
    parse = archive.parse.parse_story

    def counting_parse(*args: Any, **kwargs: Any) -> Any:
        counts["parsed"] += 1
        return parse(*args, **kwargs)

    def statement(_conn: Any, _cursor: Any, sql: str, *_rest: Any) -> None:
        if sql.lstrip().upper().startswith("INSERT INTO STORIES"):
            counts["inserted"] += 1

    monkeypatch.setattr(archive.parse, "parse_story", counting_parse)
    event.listen(Engine, "before_cursor_execute", statement)
    yield counts
    event.remove(Engine, "before_cursor_execute", statement)


async def test_the_start_up_index_parses_and_writes_in_another_process(
    library: Library, in_this_process: dict[str, int]
) -> None:
    write_stories(library.settings.stories_dir, 40)
    bot: Any = make_bot(library)
    await bot._index_on_start()
    assert bot.index_done.is_set()
    assert len(await live(library)) == 40, "the child stored every story"
    assert in_this_process == {"parsed": 0, "inserted": 0}, "the bot's own process did index work"
    assert len(library.titles) == 40, "the bot's views learned what the child stored"
    assert not any(p.name == "librarian-start-up-index" for p in multiprocessing.active_children())


async def test_a_bot_stopping_mid_index_leaves_no_index_process(library: Library) -> None:
    write_stories(library.settings.stories_dir, 400)
    bot: Any = make_bot(library)
    task = asyncio.create_task(bot._index_on_start())
    for _ in range(600):  # the child is spawned from a thread: wait until it is there
        if any(p.name == "librarian-start-up-index" for p in multiprocessing.active_children()):
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("no start-up index process appeared")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert not any(p.name == "librarian-start-up-index" for p in multiprocessing.active_children())
    assert bot.index_done.is_set()
