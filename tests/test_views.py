"""The archive's in-memory views (`service.views`) follow every change, whichever process makes it:
a real `bot.py add` / `bot.py index` subprocess writes to the same SQLite file while a Library in
this process answers title lookups, autocomplete and searches."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from service.choices import author_choices, title_choices
from service.library import Library
from service.search import SearchQuery, search
from service.stories import find_title
from settings import ROOT, Settings
from tests.conftest import make_settings

SETTLE_SECONDS = 15.0
"""How long a view may take to show another process's change (RECHECK_SECONDS in practice)."""


def story(title: str, author: str = "Quill Person") -> str:
    return (
        f"Title: {title}\nAuthor: {author}\nRating: G\nPairing: Willow/Tara\n\n~*~\n\n"
        + "Willow and Tara shelved the books at the Magic Box until the moon rose. " * 20
    )


def distinct(title: str) -> str:
    """A story whose text is its own (the same text twice is one story in two copies)."""
    return story(title) + f"\n\nThe last page of {title} was never shelved with the others.\n"


async def shelf_library(tmp: Path, title: str) -> tuple[Settings, Library]:
    """Three stories titled `title 0..2` written to a fresh archive folder, and a Library on it
    that has not indexed them or loaded its titles yet."""
    settings = make_settings(tmp)
    for i in range(3):
        (settings.stories_dir / f"shelf-{i}.txt").write_text(distinct(f"{title} {i}"), encoding="utf-8")
    return settings, await Library.open(settings, load_titles=False)


async def cli(tmp: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """`bot.py ARGS` in another process, against the same database and story folder."""
    env = {**os.environ, "REMOVED_DIR": str(tmp / "removed")}
    argv = [sys.executable, str(ROOT / "bot.py"), "--db", str(tmp / "librarian.db")]
    argv += ["--stories", str(tmp / "stories"), *map(str, args)]
    done = await asyncio.to_thread(
        subprocess.run, argv, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr
    return done


async def eventually(check: Callable[[], Awaitable[bool]]) -> float:
    """Ask `check` until it holds; the seconds it took (fails after SETTLE_SECONDS)."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < SETTLE_SECONDS, "the change never reached the view"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def titles_found(lib: Library, title: str) -> list[str]:
    return [hit.title for hit in await find_title(lib, title, limit=3)]


async def test_a_story_added_by_another_process_reaches_every_view(tmp_path: Path) -> None:
    lib = await Library.open(make_settings(tmp_path))
    try:
        assert await titles_found(lib, "The Moonlit Stacks") == []
        assert await author_choices(lib, "quill") == []
        upload = tmp_path / "moonlit.txt"
        upload.write_text(story("The Moonlit Stacks"), encoding="utf-8")
        await cli(tmp_path, "add", upload, "--yes")

        async def found() -> bool:
            return "The Moonlit Stacks" in await titles_found(lib, "moonlit stacks")

        await eventually(found)
        assert [n for n, _v in await title_choices(lib, "moonl")] == ["The Moonlit Stacks"]
        assert await author_choices(lib, "quill") == [("Quill Person", "Quill Person")]
        assert (await search(lib, SearchQuery(authors=["Quill Person"]))).total == 1
    finally:
        await lib.close()


async def test_a_story_reindexed_in_place_by_another_process_is_renamed_everywhere(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    file = settings.stories_dir / "shelf.txt"
    file.write_text(story("Dust on the Shelves"), encoding="utf-8")
    await cli(tmp_path, "index")
    lib = await Library.open(settings)
    try:
        assert await titles_found(lib, "Dust on the Shelves") == ["Dust on the Shelves"]
        before = lib.views.signature
        # same path, same id, same number of stories: only the change counter can tell
        file.write_text(story("Ink in the Margins", author="Margin Writer"), encoding="utf-8")
        await cli(tmp_path, "index")

        async def renamed() -> bool:
            return await titles_found(lib, "Ink in the Margins") == ["Ink in the Margins"]

        await eventually(renamed)
        assert lib.views.signature > before
        assert "Dust on the Shelves" not in await titles_found(lib, "Dust on the Shelves")
        assert await author_choices(lib, "margin") == [("Margin Writer", "Margin Writer")]
    finally:
        await lib.close()


async def test_views_are_not_rebuilt_while_nothing_changes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    (settings.stories_dir / "a.txt").write_text(story("Quiet Archive"), encoding="utf-8")
    await cli(tmp_path, "index")
    lib = await Library.open(settings)
    try:
        first = await lib.views.facets()
        vocab = await lib.views.vocabulary()
        assert not await lib.views.refresh(force=True)  # nothing changed since
        assert await lib.views.facets() is first and await lib.views.vocabulary() is vocab
        await cli(tmp_path, "index")  # nothing to do: the counter stays put
        assert not await lib.views.refresh(force=True)
        assert await lib.views.facets() is first
    finally:
        await lib.close()


async def test_whole_title_indexes_are_built_in_a_worker_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first load, and a base that hundreds of new titles made due, are built aside in a worker
    thread and swapped in: no query, and nothing on the event loop, pays for the rebuild."""
    from service.indexer import index_directory
    from service.titles import TitleIndex

    builders: list[int] = []
    rebuild = TitleIndex._rebuild

    def watched(self: TitleIndex) -> None:
        builders.append(threading.get_ident())
        rebuild(self)

    monkeypatch.setattr(TitleIndex, "_rebuild", watched)
    settings, lib = await shelf_library(tmp_path, "First Shelf")
    try:
        builders.clear()
        await index_directory(lib)  # which brings the views in step at its end
        await lib.views.refresh(force=True)
        assert builders and threading.get_ident() not in builders
        assert len(lib.titles) == 3
        for i in range(700):
            (settings.stories_dir / f"more-{i}.txt").write_text(
                distinct(f"Lantern Row {i}"), encoding="utf-8"
            )
        first = lib.titles
        builders.clear()
        await index_directory(lib)
        await lib.views.refresh(force=True)
        assert lib.titles is not first and len(lib.titles) == 703
        assert builders and threading.get_ident() not in builders
        assert not lib.titles.rebuild_due
        builders.clear()
        assert (await titles_found(lib, "Lantern Row 699"))[0] == "Lantern Row 699"
        assert (await titles_found(lib, "First Shelf 2"))[0] == "First Shelf 2"
        assert builders == []  # the query found the base already built
    finally:
        await lib.close()


async def test_warming_counts_the_about_words_so_the_first_similar_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`warm()` (what the bot runs before it is ready) builds every view `similar` reads, the about
    index's word counts included (0.3 s at 50,000 stories, paid by the first /similar before)."""
    import service.views as views_module
    from service.indexer import index_directory
    from service.similar import similar

    counted: list[int] = []
    real = views_module.about_words

    async def counting(session: Any) -> Any:
        counted.append(1)
        return await real(session)

    monkeypatch.setattr(views_module, "about_words", counting)
    _settings, lib = await shelf_library(tmp_path, "Moon Shelf")
    try:
        await index_directory(lib)
        await lib.views.warm()
        assert counted == [1]
        found = await find_title(lib, "Moon Shelf 1", limit=1)
        assert [like.hit.title for like in await similar(lib, found[0].id)]  # its two neighbours
        assert counted == [1]  # nothing changed since: the warmed count is used
    finally:
        await lib.close()
