"""Where a story's file lives: the archive is the story folder plus the uploads folder.

Owns the mapping between a story's `path` (its key in the index, '/' separated) and a file on disk.
Paths under `uploads/` name files in `UPLOADS_DIR` (in the data folder git ignores, so `/story add`
never writes into the tracked `stories/`); every other path is relative to `STORIES_DIR`. An older
install kept its uploads in `stories/uploads/`: such a file is still found there when the uploads
folder has no file of that name. It must not read or parse files, and never imports Discord.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from settings import Settings

UPLOAD_FOLDER = "uploads"
"""The path prefix of stories added with `/story add` or `bot.py add` (their files are in UPLOADS_DIR)."""
UPLOAD_PREFIX = UPLOAD_FOLDER + "/"


@dataclass(frozen=True, slots=True)
class Root:
    """A folder the indexer walks: files below `folder` get paths starting with `prefix`."""

    folder: Path
    prefix: str  # "" for the story folder, "uploads/" for the uploads folder


def archive_roots(settings: Settings) -> list[Root]:
    """The folders that make up the archive, the story folder first (the uploads folder wins when
    both hold the same path)."""
    roots = [Root(settings.stories_dir, "")]
    if settings.uploads_dir.resolve() != (settings.stories_dir / UPLOAD_FOLDER).resolve():
        roots.append(Root(settings.uploads_dir, UPLOAD_PREFIX))
    return roots


def is_upload(path: str) -> bool:
    """Whether a story path names an upload (a file in the uploads folder)."""
    return path.startswith(UPLOAD_PREFIX)


def home_of(settings: Settings, path: str) -> Path:
    """Where the file of `path` belongs (where an upload is saved or a restored story goes back)."""
    if is_upload(path):
        return settings.uploads_dir / PurePosixPath(path[len(UPLOAD_PREFIX) :])
    return settings.stories_dir / PurePosixPath(path)


def story_file(settings: Settings, path: str) -> Path:
    """The file of `path` as it is on disk now: its home, or for an upload of an older install,
    `stories/uploads/` when only that one exists."""
    home = home_of(settings, path)
    if is_upload(path) and not home.exists():
        legacy = settings.stories_dir / PurePosixPath(path)
        if legacy.exists():
            return legacy
    return home


def path_of(settings: Settings, file: Path) -> str | None:
    """The story path of a file inside the archive (resolved), or None when it is outside both folders."""
    file = file.resolve()
    uploads = settings.uploads_dir.resolve()
    if file.is_relative_to(uploads):
        return UPLOAD_PREFIX + file.relative_to(uploads).as_posix()
    stories = settings.stories_dir.resolve()
    if file.is_relative_to(stories):
        return file.relative_to(stories).as_posix()
    return None


def free_story_path(settings: Settings, wanted: str, taken: set[str]) -> str:
    """`wanted`, or `name-2`, `name-3`… : a story path no story holds (`taken`) and no file occupies."""
    pure = PurePosixPath(wanted)
    for n in range(1, 10_000):
        name = pure.name if n == 1 else f"{pure.stem}-{n}{pure.suffix}"
        path = (pure.parent / name).as_posix() if str(pure.parent) != "." else name
        if (
            path not in taken
            and not home_of(settings, path).exists()
            and not story_file(settings, path).exists()
        ):
            return path
    raise FileExistsError(f"too many files are called {pure.name!r} already")
