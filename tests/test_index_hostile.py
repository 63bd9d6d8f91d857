"""Hostile and special files in the archive folder never hang, exhaust or fail an index run, and
nothing outside the folder is read (issue 12, items 2 and 6; uploads parsed under limits).

The hostile files are made by the tests (named pipes, symlinks to /dev/zero and out of the folder,
dangling and looping links), never committed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import service.walk
from db.models import Story, StoryText
from service.indexer import index_directory
from service.parsing import ParseLimit, parse_untrusted
from settings import ROOT
from tests.test_index_identity import story_text

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a POSIX file system")


async def test_special_files_are_refused_with_reasons_and_the_good_file_is_indexed(
    library: Any, tmp_path: Path
) -> None:
    stories = library.settings.stories_dir
    (stories / "good.txt").write_text(story_text("The Good One", 1), encoding="utf-8")
    os.mkfifo(stories / "fifo.txt")  # reading it would block forever
    (stories / "zero.txt").symlink_to("/dev/zero")  # reading it would never end
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(story_text("Private Diary", 2), encoding="utf-8")
    (stories / "secret.txt").symlink_to(outside / "secret.txt")
    (stories / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    (stories / "loop.txt").symlink_to(stories / "loop.txt")
    (stories / "inside-link.txt").symlink_to(stories / "good.txt")  # a link inside the folder is fine

    report = await asyncio.wait_for(index_directory(library), timeout=120)

    reasons = dict(report.skipped)
    assert "named pipe" in reasons["fifo.txt"]
    assert "outside the archive folder" in reasons["zero.txt"]
    assert "outside the archive folder" in reasons["secret.txt"]
    assert "dangling" in reasons["dangling.txt"]
    assert "loops" in reasons["loop.txt"]
    assert report.failed == []
    assert "good.txt" in report.added
    async with library.sessions() as s:
        bodies = " ".join(await s.scalars(select(StoryText.body)))
        titles = set(await s.scalars(select(Story.title)))
    assert "The Good One" in titles and "Private Diary" not in titles
    assert "diary" not in bodies.casefold()
    summary = report.summary()
    assert "fifo.txt: a named pipe" in summary and "dangling.txt" in summary


async def test_a_file_over_the_size_cap_is_refused_not_read(
    library: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stories = library.settings.stories_dir
    (stories / "small.txt").write_text(story_text("Small", 3), encoding="utf-8")
    (stories / "huge.txt").write_text(story_text("Huge", 4, words=3000), encoding="utf-8")
    monkeypatch.setattr(service.walk, "MAX_FILE_BYTES", 8_000)
    report = await index_directory(library)
    assert report.added == ["small.txt"]
    assert "larger than" in dict(report.skipped)["huge.txt"]


def test_a_pipe_swapped_in_after_the_walk_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "late.txt"
    os.mkfifo(fifo)
    with pytest.raises(service.walk.FileRefused, match="named pipe"):
        service.walk.read_capped(str(fifo))


async def test_an_upload_that_takes_too_long_or_too_much_memory_is_stopped() -> None:
    data = story_text("Upload", 5).encode()
    meta = await parse_untrusted(data, "uploads/upload.txt", None)
    assert meta.title == "Upload"
    with pytest.raises(ParseLimit, match="longer than"):
        await parse_untrusted(data * 400, "uploads/slow.txt", None, seconds=0.01)
    with pytest.raises(ParseLimit, match="memory"):
        await parse_untrusted(data * 4000, "uploads/big.txt", None, memory=64 * 1024 * 1024)


WORKERS_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    sys.path.insert(0, {root!r})
    from service.parsing import _process_pool

    if __name__ == "__main__":
        pool, _work = _process_pool(None, 2)
        pids = {{pool.submit(os.getpid).result() for _ in range(8)}}
        print(" ".join(map(str, sorted(pids))), flush=True)
        time.sleep(600)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def test_parse_workers_exit_when_the_indexer_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "workers.py"
    script.write_text(WORKERS_SCRIPT.format(root=str(ROOT)), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        workers = [int(pid) for pid in proc.stdout.readline().split()]
        assert workers and all(_alive(pid) for pid in workers)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.2)
        assert not [pid for pid in workers if _alive(pid)], "parse workers outlived the killed indexer"
    finally:
        if proc.poll() is None:
            proc.kill()
