"""`bot.py add|remove|restore|history` as the host runs them: `cli.main` (what bot.py calls) in this
process, real files, one SQLite database per test, then the archive read back through the service."""

from __future__ import annotations

import asyncio
import getpass
import io
import json
import shutil
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import cli
from service import curate
from service.library import Library
from service.stories import find_title, story_card
from tests.conftest import SAMPLES_DIR, make_settings

STORY = (
    "Title: Candles for the Magic Box\nAuthor: Host Person\nRating: PG\n\n~*~\n\n"
    + "Willow and Tara walked to the Magic Box and bought candles for the evening. " * 20
)


@dataclass
class Done:
    """What a command did: its exit code and what it printed."""

    returncode: int
    stdout: str
    stderr: str


Bot = Callable[..., Awaitable[Done]]


@pytest.fixture
def bot(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Bot:
    """`bot.py --db … --stories … ARGS` with `stdin` typed in, run by `cli.main` in this process."""

    async def run(tmp: Path, *args: str | Path, stdin: str = "") -> Done:
        monkeypatch.setenv("DATA_DIR", str(tmp))
        monkeypatch.setenv("REMOVED_DIR", str(tmp / "removed"))
        monkeypatch.setenv("UPLOAD_MAX_BYTES", "200000")
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        argv = ["--db", tmp / "librarian.db", "--stories", tmp / "stories", *args]
        code = await asyncio.to_thread(cli.main, [str(a) for a in argv])  # it runs its own event loop
        out, err = capsys.readouterr()
        return Done(code, out, err)

    return run


@pytest.fixture
def incoming(tmp_path: Path) -> Path:
    """Files to add: two bundled samples renamed, a hand-made story, an unreadable one, a duplicate."""
    folder = tmp_path / "incoming"
    folder.mkdir()
    shutil.copy(SAMPLES_DIR / "ao3" / "late_shift.epub", folder / "a-book.epub")
    shutil.copy(SAMPLES_DIR / "yaml" / "the_key_and_the_kitchen.md", folder / "b-kitchen.md")
    (folder / "c-candles.txt").write_text(STORY, encoding="utf-8")
    (folder / "d-broken.epub").write_text("not a zip at all", encoding="utf-8")
    (folder / "e-candles-again.txt").write_text(STORY, encoding="utf-8")
    (tmp_path / "stories").mkdir()
    return folder


async def _open(tmp: Path) -> Library:
    return await Library.open(make_settings(tmp))


async def test_bulk_add_with_yes_summarises_added_and_refused(
    tmp_path: Path, incoming: Path, bot: Bot
) -> None:
    run = await bot(tmp_path, "add", incoming, "--yes")
    assert run.returncode == 1, run.stderr  # something was refused
    out = run.stdout
    assert "added: 3" in out and "refused: 2" in out
    assert "d-broken.epub: I could not read d-broken.epub as a story: not an EPUB" in out
    assert "e-candles-again.txt: That is the same file as “Candles for the Magic Box”" in out
    uploads = sorted(p.name for p in (tmp_path / "uploads").iterdir())
    assert uploads == ["a-book.epub", "b-kitchen.md", "c-candles.txt"]
    lib = await _open(tmp_path)
    try:
        [hit] = await find_title(lib, "Candles for the Magic Box", limit=1)
        assert hit.author == "Host Person"
        trail = await curate.history(lib)
        assert len(trail) == 3 and {r.actor_name for r in trail} == {f"cli:{getpass.getuser()}"}
        assert {r.actor_id for r in trail} == {None}
    finally:
        await lib.close()


async def test_add_asks_before_saving(tmp_path: Path, incoming: Path, bot: Bot) -> None:
    story = incoming / "c-candles.txt"
    declined = await bot(tmp_path, "add", story, stdin="n\n")
    assert declined.returncode == 1 and "Candles for the Magic Box" in declined.stdout
    assert "not confirmed" in declined.stdout and not (tmp_path / "uploads" / "c-candles.txt").exists()
    accepted = await bot(tmp_path, "add", story, stdin="y\n")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "added: 1" in accepted.stdout and (tmp_path / "uploads" / "c-candles.txt").exists()


async def test_add_options_are_kept_through_a_reindex(tmp_path: Path, incoming: Path, bot: Bot) -> None:
    story = incoming / "c-candles.txt"
    run = await bot(tmp_path, "add", story, "--yes", "--title", "Wax and Wicks", "--author", "Someone Else",
        "--rating", "NC-17", "--pairing", "Willow/Tara",
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    stored = tmp_path / "uploads" / "c-candles.txt"
    stored.write_text(STORY + "\nA new last line.\n", encoding="utf-8")
    index = await bot(tmp_path, "index", "--quiet")
    assert index.returncode == 0 and "updated: 1" in index.stdout, index.stdout
    lib = await _open(tmp_path)
    try:
        [hit] = await find_title(lib, "Wax and Wicks", limit=1)
        card = await story_card(lib, hit.id)
        assert (card.title, card.author, card.rating.level) == ("Wax and Wicks", "Someone Else", "explicit")
        assert card.relationships == ["Tara Maclay/Willow Rosenberg"]
    finally:
        await lib.close()


async def test_too_big_and_wrong_kind_are_refused_with_reasons(
    tmp_path: Path, incoming: Path, bot: Bot
) -> None:
    big = incoming / "big.txt"
    big.write_text(STORY * 200, encoding="utf-8")
    wrong = incoming / "notes.docx"
    wrong.write_text(STORY, encoding="utf-8")
    run = await bot(tmp_path, "add", big, wrong, incoming / "missing.txt", "--yes")
    assert run.returncode == 1 and "added: 0" in run.stdout and "refused: 3" in run.stdout
    assert "stories may be at most 200,000 bytes" in run.stdout
    assert "notes.docx is not a story file" in run.stdout
    assert "missing.txt: could not read it" in run.stdout


async def test_remove_restore_and_history(tmp_path: Path, incoming: Path, bot: Bot) -> None:
    assert (await bot(tmp_path, "add", incoming / "c-candles.txt", "--yes")).returncode == 0
    file = tmp_path / "uploads" / "c-candles.txt"

    kept = await bot(tmp_path, "remove", "candles magic box", stdin="no\n")
    assert kept.returncode == 1 and "nothing was removed" in kept.stdout and file.exists()
    removed = await bot(tmp_path, "remove", "candles magic box", "--yes")
    assert removed.returncode == 0, removed.stderr
    assert not file.exists() and (tmp_path / "removed" / "uploads" / "c-candles.txt").exists()
    search = await bot(tmp_path, "search", "--text", "candles", "--json")
    assert search.returncode == 0 and "Candles for the Magic Box" not in search.stdout

    missing = await bot(tmp_path, "remove", "candles magic box", "--yes")
    assert missing.returncode == 1 and missing.stderr.strip()

    restored = await bot(tmp_path, "restore", "Candles for the Magic")
    assert restored.returncode == 0, restored.stderr
    assert file.exists() and "restored" in restored.stdout
    search = await bot(tmp_path, "search", "--text", "candles", "--json")
    assert "Candles for the Magic Box" in search.stdout

    history = await bot(tmp_path, "history", "Candles for the Magic Box")
    lines = history.stdout.splitlines()
    assert [line.split("  ")[2].split()[0] for line in lines] == ["restored", "removed", "added"]
    assert all(f"cli:{getpass.getuser()}" in line for line in lines)


async def test_add_remove_restore_speak_json(tmp_path: Path, incoming: Path, bot: Bot) -> None:
    run = await bot(
        tmp_path, "add", incoming / "c-candles.txt", incoming / "d-broken.epub", "--yes", "--json"
    )
    assert run.returncode == 1  # one file was refused
    data = json.loads(run.stdout)
    [added] = data["added"]
    assert added["title"] == "Candles for the Magic Box" and added["file"].endswith("c-candles.txt")
    assert added["path"] == "uploads/c-candles.txt" and isinstance(added["id"], int)
    [refused] = data["refused"]
    assert refused["file"].endswith("d-broken.epub") and "not an EPUB" in refused["reason"]

    asked = await bot(tmp_path, "remove", str(added["id"]), "--json", stdin="n\n")
    assert asked.returncode == 1 and asked.stdout == ""  # the preview and the question go to stderr
    assert "Remove it?" in asked.stderr and "nothing was removed" in asked.stderr

    removed = await bot(tmp_path, "remove", str(added["id"]), "--yes", "--json")
    card = json.loads(removed.stdout)
    assert removed.returncode == 0 and card["id"] == added["id"] and card["removed"] is True
    assert card["removed_dir"] == str(tmp_path / "removed")

    restored = await bot(tmp_path, "restore", str(added["id"]), "--json")
    card = json.loads(restored.stdout)
    assert restored.returncode == 0 and card["id"] == added["id"] and card["removed"] is False
    assert card["path"] == "uploads/c-candles.txt"
