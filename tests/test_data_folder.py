"""Writable data lives outside the code: the database, uploads and removed files default to a data
folder git ignores (DATA_DIR moves it all), the story folder is never written to, and uploads are
still indexed and found (a full or start-up index walks both folders and never drops an upload)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from db.files import archive_roots, story_file
from db.models import Story
from service import curate
from service.curate import Actor
from service.indexer import index_directory
from service.library import Library
from service.stories import find_title
from settings import ROOT, Settings
from tests.conftest import SAMPLES_DIR, make_settings

MOD = Actor(7001, "Mod Mia", 42)
STORY = (
    "Title: Shelved in the Data Folder\nAuthor: Keeper\nRating: PG\n\n~*~\n\n"
    + "Giles filed the new story where the host keeps everything people made. " * 30
)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its sha256 (what "never written to" is checked against)."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


async def _archive(tmp: Path) -> Library:
    settings = make_settings(tmp)
    shutil.copytree(SAMPLES_DIR, settings.stories_dir / "samples")
    lib = await Library.open(settings)
    await index_directory(lib)
    return lib


async def _add(lib: Library, text: str = STORY, name: str = "shelved.txt") -> int:
    upload = await curate.prepare_add(lib, name, text.encode(), {})
    return (await curate.commit_add(lib, upload, MOD)).id


async def _paths(lib: Library) -> dict[str, bool]:
    async with lib.sessions() as session:
        rows = (await session.execute(select(Story.path, Story.removed_at))).all()
    return {path: removed is None for path, removed in rows}


def test_data_dir_moves_the_database_uploads_and_removed_files(tmp_path: Path) -> None:
    settings = Settings.from_env({"DATA_DIR": str(tmp_path / "elsewhere")}, dotenv=False)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'elsewhere' / 'librarian.db'}"
    assert settings.uploads_dir == tmp_path / "elsewhere" / "uploads"
    assert settings.removed_dir == tmp_path / "elsewhere" / "removed"
    assert settings.stories_dir == ROOT / "stories"

    default = Settings.from_env({}, dotenv=False)
    assert default.data_dir == ROOT / "data" and default.uploads_dir == ROOT / "data" / "uploads"
    wanted = ["data/uploads/x.txt", "data/removed/x.txt", "data/librarian.db"]
    ignored = subprocess.run(
        ["git", "check-ignore", *wanted], cwd=ROOT, check=False, capture_output=True, text=True
    )
    if ignored.returncode == 128:
        pytest.skip("not a git checkout")
    assert ignored.stdout.split() == wanted, "the default data folder must be ignored by git"

    pinned = Settings.from_env(
        {
            "DATA_DIR": str(tmp_path / "d"),
            "REMOVED_DIR": str(tmp_path / "attic"),
            "DATABASE_URL": "sqlite+aiosqlite:///db/x.db",
        },
        dotenv=False,
    )
    assert pinned.removed_dir == tmp_path / "attic" and pinned.uploads_dir == tmp_path / "d" / "uploads"
    assert pinned.database_url == f"sqlite+aiosqlite:///{ROOT / 'db' / 'x.db'}"


async def test_an_upload_never_writes_into_the_story_folder(tmp_path: Path) -> None:
    lib = await _archive(tmp_path)
    try:
        before = snapshot(lib.settings.stories_dir)
        story_id = await _add(lib)
        assert snapshot(lib.settings.stories_dir) == before  # was: stories/uploads/shelved.txt
        assert (lib.settings.uploads_dir / "shelved.txt").read_text(encoding="utf-8") == STORY
        assert [h.id for h in await find_title(lib, "Shelved in the Data Folder")] == [story_id]

        await curate.remove_story(lib, story_id, MOD)
        assert not (lib.settings.uploads_dir / "shelved.txt").exists()
        assert (lib.settings.removed_dir / "uploads" / "shelved.txt").exists()
        card = await curate.restore_story(lib, story_id, MOD)
        assert card.path == "uploads/shelved.txt"
        assert (lib.settings.uploads_dir / "shelved.txt").read_text(encoding="utf-8") == STORY
        assert snapshot(lib.settings.stories_dir) == before
    finally:
        await lib.close()


async def test_a_full_index_walks_both_folders_and_keeps_uploads(tmp_path: Path) -> None:
    lib = await _archive(tmp_path)
    try:
        story_id = await _add(lib)
        again = await index_directory(lib)  # what the bot's start-up index runs
        assert again.removed == [] and again.added == []
        assert (await _paths(lib))["uploads/shelved.txt"] is True

        # An upload dropped into the uploads folder by hand is indexed like any story.
        (lib.settings.uploads_dir / "by-hand.txt").write_text(
            "Title: Dropped by Hand\nAuthor: Host\nRating: G\n\n~*~\n\n"
            + "Dawn slid a different story into the uploads folder without asking anyone. " * 30,
            encoding="utf-8",
        )
        report = await index_directory(lib)
        assert report.added == ["uploads/by-hand.txt"] and report.removed == []

        # The data folder is not mounted: the uploads are not taken for deleted, and the report says so.
        shutil.move(lib.settings.uploads_dir, tmp_path / "unmounted")
        report = await index_directory(lib)
        assert report.removed == [], report.summary()
        assert (await _paths(lib))["uploads/shelved.txt"] is True
        assert report.notes == ["stories under folders that are missing (not mounted?) were kept: uploads/"]
        shutil.move(tmp_path / "unmounted", lib.settings.uploads_dir)

        # A file deleted from the uploads folder leaves the index as any deleted story does.
        (lib.settings.uploads_dir / "by-hand.txt").unlink()
        assert (await index_directory(lib)).removed == ["uploads/by-hand.txt"]
        assert [h.id for h in await find_title(lib, "Shelved in the Data Folder")] == [story_id]
    finally:
        await lib.close()


async def test_no_uploads_folder_yet_is_nothing_to_report(tmp_path: Path) -> None:
    """A fresh install has no uploads folder until a mod uploads: an index run says nothing of it
    (it used to report the folder as one that could not be read)."""
    lib = await _archive(tmp_path)
    try:
        assert not lib.settings.uploads_dir.exists()
        report = await index_directory(lib)
        assert report.unchanged and report.notes == [], report.summary()
    finally:
        await lib.close()


async def test_uploads_of_an_older_install_in_stories_uploads_are_still_found(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    legacy = settings.stories_dir / "uploads" / "old.txt"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(STORY, encoding="utf-8")
    lib = await Library.open(settings)
    try:
        report = await index_directory(lib)
        assert report.added == ["uploads/old.txt"]
        assert story_file(lib.settings, "uploads/old.txt") == legacy
        assert (await index_directory(lib)).removed == []
        hit = (await find_title(lib, "Shelved in the Data Folder"))[0]
        card = await curate.edit_story(lib, hit.id, "author", "Corrected", MOD)  # reads the old file
        assert card.author == "Corrected"
    finally:
        await lib.close()


def test_uploads_inside_the_story_folder_are_walked_once(tmp_path: Path) -> None:
    inside = make_settings(tmp_path, uploads_dir=tmp_path / "stories" / "uploads")
    assert [r.prefix for r in archive_roots(inside)] == [""]
    apart = make_settings(tmp_path)
    assert [r.prefix for r in archive_roots(apart)] == ["", "uploads/"]
