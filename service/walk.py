"""Which files of the archive folder the indexer reads, and which it refuses (with the reason).

Owns the walk: regular files with a story suffix, inside the archive folder after every symlink is
resolved. Named pipes, devices and sockets, symlinks that point outside the folder (or at nothing,
or at themselves), files over the size cap and other file types are refused and listed, never read;
folders that cannot be listed are reported, so no file under them counts as gone. Reading a file
(`read_capped`) opens it without blocking and stops at the cap, so a file swapped for a pipe
between the walk and the read still cannot hang a run. It must not parse, touch the database or
import Discord.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from archive.model import STORY_SUFFIXES

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 64 * 1024 * 1024
"""The largest story file the indexer reads (a whole novel as EPUB is a few MB)."""


@dataclass(frozen=True, slots=True)
class Found:
    """A story file to index: `path` relative to the archive folder ('/' separated), `file` the real
    file it resolves to."""

    path: str
    file: str
    size: int
    mtime: float


@dataclass(slots=True)
class Walk:
    """What the walk saw: story files, refused entries (path, reason), folders it could not list."""

    files: list[Found] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)  # relative folder prefixes ('' = the folder itself)
    absent: list[str] = field(default_factory=list)
    """Folder prefixes expected but missing (the uploads folder before anything was uploaded, or not
    mounted): their stories are kept as under `unlisted`, and only said when there are some."""


class FileRefused(OSError):
    """A file the indexer will not read (not a regular file, too big); the message says why."""


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _check(entry: os.DirEntry[str], root: Path) -> tuple[str, os.stat_result] | str:
    """(real file, its stat) for a readable story file, else the reason it is refused."""
    real = entry.path
    if entry.is_symlink():
        try:
            target = Path(entry.path).resolve(strict=True)
        except FileNotFoundError:
            return "a symlink to nothing (dangling)"
        except (RuntimeError, OSError) as exc:
            if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
                return "a symlink that loops"
            return f"a symlink that cannot be followed ({exc})"
        if not target.is_relative_to(root):
            return "a symlink to a file outside the archive folder"
        real = str(target)
    info = os.stat(real, follow_symlinks=False)
    if stat.S_ISDIR(info.st_mode):
        return "a symlink to a folder (not followed)"
    if not stat.S_ISREG(info.st_mode):
        return f"{_kind(info.st_mode)}, not a story file"
    if info.st_size > MAX_FILE_BYTES:
        return f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB ({info.st_size:,} bytes)"
    return real, info


def walk(directory: Path, base: Path, skip: Path | None = None) -> Walk:
    """The story files under `directory`, with paths relative to `base` (the archive folder).

    Hidden files and folders and the removed-stories folder `skip` are left out silently; symlinked
    folders are not followed (reported); everything else that is not a readable story file is
    refused with a reason.
    """
    root = base.resolve()
    result = Walk()
    start = "" if directory.resolve() == root else directory.resolve().relative_to(root).as_posix() + "/"
    todo = [(str(directory), start)]
    while todo:
        folder, prefix = todo.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            log.warning("cannot list %s: %s", folder, exc)
            result.unlisted.append(prefix)
            result.refused.append((prefix or "./", f"the folder cannot be read ({exc.strerror or exc})"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = prefix + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if skip is None or Path(entry.path).resolve() != skip:
                        todo.append((entry.path, f"{path}/"))
                    continue
                if os.path.splitext(entry.name)[1].lower() not in STORY_SUFFIXES:
                    if entry.is_symlink():
                        if os.path.isdir(entry.path):
                            result.refused.append((path, "a symlink to a folder (not followed)"))
                    elif entry.is_file(follow_symlinks=False):
                        suffix = os.path.splitext(entry.name)[1].lower() or "no extension"
                        result.refused.append((path, f"not a story format ({suffix})"))
                    continue
                checked = _check(entry, root)
            except OSError as exc:  # vanished or unreadable while we walked
                result.refused.append((path, f"could not be looked at ({exc.strerror or exc})"))
                continue
            if isinstance(checked, str):
                result.refused.append((path, checked))
            else:
                real, info = checked
                result.files.append(Found(path, real, info.st_size, info.st_mtime))
    result.files.sort(key=lambda f: f.path)
    return result


def read_capped(file: str, cap: int | None = None) -> bytes:
    """The bytes of a regular file, at most `cap` of them (FileRefused beyond, or for anything else).

    Opened without blocking and checked after opening, so a pipe or device put in the file's place
    after the walk is refused instead of read forever.
    """
    cap = MAX_FILE_BYTES if cap is None else cap
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(file, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"{_kind(info.st_mode)}, not a story file")
        if info.st_size > cap:
            raise FileRefused(f"larger than {cap // (1024 * 1024)} MB ({info.st_size:,} bytes)")
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, min(1 << 20, cap + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > cap:
                raise FileRefused(f"larger than {cap // (1024 * 1024)} MB (it grew while read)")
        return b"".join(chunks)
    finally:
        os.close(fd)
