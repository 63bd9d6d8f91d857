"""`bot.py add|remove|restore|history` as the host runs them: real subprocesses, real files, one SQLite
database per test, then the archive read back through the service."""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from service import curate
from service.library import Library
from service.stories import find_title, story_card
from settings import ROOT
from tests.conftest import SAMPLES_DIR, make_settings

STORY = (
    "Title: Candles for the Magic Box\nAuthor: Host Person\nRating: PG\n\n~*~\n\n"
    + "Willow and Tara walked to the Magic Box and bought candles for the evening. " * 20
)


def bot(tmp: Path, *args: str | Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATA_DIR": str(tmp),
        "REMOVED_DIR": str(tmp / "removed"),
        "UPLOAD_MAX_BYTES": "200000",
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "--db", tmp / "librarian.db", "--stories", tmp / "stories"]
        + [str(a) for a in args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


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


async def test_bulk_add_with_yes_summarises_added_and_refused(tmp_path: Path, incoming: Path) -> None:
    run = bot(tmp_path, "add", incoming, "--yes")
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


async def test_add_asks_before_saving(tmp_path: Path, incoming: Path) -> None:
    story = incoming / "c-candles.txt"
    declined = bot(tmp_path, "add", story, stdin="n\n")
    assert declined.returncode == 1 and "Candles for the Magic Box" in declined.stdout
    assert "not confirmed" in declined.stdout and not (tmp_path / "uploads" / "c-candles.txt").exists()
    accepted = bot(tmp_path, "add", story, stdin="y\n")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "added: 1" in accepted.stdout and (tmp_path / "uploads" / "c-candles.txt").exists()


async def test_add_options_are_kept_through_a_reindex(tmp_path: Path, incoming: Path) -> None:
    story = incoming / "c-candles.txt"
    run = bot(
        tmp_path, "add", story, "--yes", "--title", "Wax and Wicks", "--author", "Someone Else",
        "--rating", "NC-17", "--pairing", "Willow/Tara",
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    stored = tmp_path / "uploads" / "c-candles.txt"
    stored.write_text(STORY + "\nA new last line.\n", encoding="utf-8")
    index = bot(tmp_path, "index", "--quiet")
    assert index.returncode == 0 and "updated: 1" in index.stdout, index.stdout
    lib = await _open(tmp_path)
    try:
        [hit] = await find_title(lib, "Wax and Wicks", limit=1)
        card = await story_card(lib, hit.id)
        assert (card.title, card.author, card.rating.level) == ("Wax and Wicks", "Someone Else", "explicit")
        assert card.relationships == ["Tara Maclay/Willow Rosenberg"]
    finally:
        await lib.close()


async def test_too_big_and_wrong_kind_are_refused_with_reasons(tmp_path: Path, incoming: Path) -> None:
    big = incoming / "big.txt"
    big.write_text(STORY * 200, encoding="utf-8")
    wrong = incoming / "notes.docx"
    wrong.write_text(STORY, encoding="utf-8")
    run = bot(tmp_path, "add", big, wrong, incoming / "missing.txt", "--yes")
    assert run.returncode == 1 and "added: 0" in run.stdout and "refused: 3" in run.stdout
    assert "stories may be at most 200,000 bytes" in run.stdout
    assert "notes.docx is not a story file" in run.stdout
    assert "missing.txt: could not read it" in run.stdout


async def test_remove_restore_and_history(tmp_path: Path, incoming: Path) -> None:
    assert bot(tmp_path, "add", incoming / "c-candles.txt", "--yes").returncode == 0
    file = tmp_path / "uploads" / "c-candles.txt"

    kept = bot(tmp_path, "remove", "candles magic box", stdin="no\n")
    assert kept.returncode == 1 and "nothing was removed" in kept.stdout and file.exists()
    removed = bot(tmp_path, "remove", "candles magic box", "--yes")
    assert removed.returncode == 0, removed.stderr
    assert not file.exists() and (tmp_path / "removed" / "uploads" / "c-candles.txt").exists()
    search = bot(tmp_path, "search", "--text", "candles", "--json")
    assert search.returncode == 0 and "Candles for the Magic Box" not in search.stdout

    missing = bot(tmp_path, "remove", "candles magic box", "--yes")
    assert missing.returncode == 1 and missing.stderr.strip()

    restored = bot(tmp_path, "restore", "Candles for the Magic")
    assert restored.returncode == 0, restored.stderr
    assert file.exists() and "restored" in restored.stdout
    search = bot(tmp_path, "search", "--text", "candles", "--json")
    assert "Candles for the Magic Box" in search.stdout

    history = bot(tmp_path, "history", "Candles for the Magic Box")
    lines = history.stdout.splitlines()
    assert [line.split("  ")[2].split()[0] for line in lines] == ["restored", "removed", "added"]
    assert all(f"cli:{getpass.getuser()}" in line for line in lines)
