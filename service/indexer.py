"""The incremental indexer: walk the archive folder, parse what changed, store it, retire what is gone.

Owns the run: change detection (size+mtime, then sha256: a touched file is not re-parsed), storing
in batched transactions with a savepoint per story (a killed run leaves a consistent index, one
bad story fails alone), and removal that never surprises: a story is retired (hidden, kept whole)
only when its files are gone from the configured archive folder, never because a folder is empty,
missing, unreadable or another folder was indexed, and a run that would retire more than
max(5 %, 20) stories stops and says so unless `prune`. Refreshes the Library's views once a run
changed something. Parsing is `service.parsing`, which files are read is `service.walk`,
transactions are `db.writer`, rows and identity are `db.store`/`db.identity` (the one store path
the indexer, uploads and curation share). It must not import Discord.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from db.files import UPLOAD_PREFIX, archive_roots
from db.identity import (
    GonePlan,
    drop_files,
    live_files,
    plan_gone,
    retire,
    set_fingerprints,
    stories_missing_fingerprints,
)
from db.models import IndexFailure, utcnow
from db.store import removed_paths, stored_files
from db.textrank import refresh as refresh_impacts
from db.writer import Writer
from service.identity import fingerprint
from service.indexreport import IndexReport, removal_limit
from service.parsing import Job
from service.storing import refresh_views, store_all, store_file
from service.walk import STORY_SUFFIXES, Found, Walk, walk

if TYPE_CHECKING:
    from service.library import Library

__all__ = ["STORY_SUFFIXES", "IndexReport", "index_directory", "refresh_views", "store_file"]

FINGERPRINT_BATCH = 500
BACKGROUND_SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the interpreter before the event loop gets its turn, during a
background run (Python's default is 0.005: a writer thread would make every await wait that long)."""

log = logging.getLogger(__name__)


def _record_failures(session: Session, failed: list[tuple[str, str]], forget: Any) -> None:
    """Forget the old failures matching `forget`, then record `failed`."""
    session.execute(delete(IndexFailure).where(forget))
    if failed:
        now = utcnow()
        rows = [{"path": p, "reason": r, "at": now} for p, r in dict(failed).items()]
        session.execute(insert(IndexFailure), rows)


def _plan(
    files: list[Found], stored: dict, held: set[str], report: IndexReport, *, reread: bool = False
) -> list[Job]:
    """The files to parse: new and changed ones (a touched file is hashed and skipped if the same),
    or with `reread` every file, as after an upgrade whose parser reads better."""
    jobs: list[Job] = []
    for found in files:
        if found.path in held:  # a file of a mod-removed story: left alone, and said
            report.skipped.append(
                (found.path, "its story was removed by a mod (`/story restore` brings it back)")
            )
            continue
        known = stored.get(found.path)
        if not reread and known is not None and known[0] == found.size and known[1] == found.mtime:
            report.unchanged += 1
            continue
        same_size = not reread and known is not None and known[0] == found.size
        jobs.append(
            Job(
                found.file,
                found.path,
                found.size,
                found.mtime,
                known[2] if same_size else None,
                known[3] if known else None,
            )
        )
    return jobs


async def _fingerprint_old_stories(writer: Writer) -> None:
    """Stories indexed before identity keys existed get a fingerprint from their stored text."""
    while rows := await writer.run(stories_missing_fingerprints, FINGERPRINT_BATCH):
        prints = await asyncio.to_thread(_fingerprints, rows)
        await writer.run(set_fingerprints, prints)


def _fingerprints(rows: list[tuple[str, int, str]]) -> list[tuple[str, str | None]]:
    return [(path, fingerprint(body)) for path, _story_id, body in rows]


# ---- removal that never surprises ---------------------------------------------------------------


def _gone(session: Session, walked: Walk, prefix: str, not_stories: set[str]) -> tuple[GonePlan, list[str]]:
    """What the live stories' files under `prefix` that the walk did not find mean, and which of the
    walk's absent folders hold live stories (kept, not taken for gone)."""
    on_disk = {f.path for f in walked.files} - not_stories
    unlisted = tuple(walked.unlisted + walked.absent)
    live = [path for path in live_files(session) if path.startswith(prefix)]
    gone = {path for path in live if path not in on_disk and not (unlisted and path.startswith(unlisted))}
    held = [folder for folder in walked.absent if any(path.startswith(folder) for path in live)]
    return plan_gone(session, gone), held


async def _remove_gone(
    lib: Library,
    writer: Writer,
    walked: Walk,
    base: Path,
    prefix: str,
    report: IndexReport,
    *,
    prune: bool,
    background: bool,
) -> None:
    """Retire the stories whose files all left the folder, within the limit unless `prune`."""
    if not walked.files:
        if "" in walked.unlisted or prefix in walked.unlisted:
            report.stopped = "the folder cannot be read, so nothing was removed."
        else:
            report.stopped = "the folder holds no story files (not mounted yet?), so nothing was removed."
        return
    not_stories = {p for p, _ in report.skipped}
    plan, held = await writer.run(_gone, walked, prefix, not_stories)
    if walked.unlisted:
        report.notes.append(
            "stories under folders that could not be read were kept: " + ", ".join(sorted(walked.unlisted))
        )
    if held:
        report.notes.append(
            "stories under folders that are missing (not mounted?) were kept: " + ", ".join(sorted(held))
        )
    if plan.drop:
        await writer.run(drop_files, plan.drop)
    if plan.repick:  # a story's best file went, another stays: read the story from that one now
        stored = await writer.run(live_files)
        jobs = [
            Job(str(base / path), path, stored[path][0], stored[path][1], None, sid, lead=True)
            for sid, path in plan.repick.items()
            if path in stored
        ]
        await store_all(lib, writer, jobs, IndexReport(), background=background, progress=False)
    limit = removal_limit(plan.live)
    if len(plan.retire) > limit and not prune:
        report.held_back = sorted(plan.retire.values())
        report.stopped = (
            f"{len(plan.retire)} stories' files are gone, more than a run may remove without asking "
            f"({limit}: 5 % of {plan.live} stories, at least 20). Nothing was removed. If they were "
            "deleted on purpose, run `index --prune`; if the folder is wrong or not mounted, fix that."
        )
        return
    if plan.retire:
        await writer.run(retire, list(plan.retire))
        report.removed = sorted(plan.retire.values())


# ---- the run -------------------------------------------------------------------------------------


def _add_uploads(lib: Library, walked: Walk) -> None:
    """A full run reads the uploads folder too (UPLOADS_DIR, in the data folder; its stories' paths
    start `uploads/`, and a file there wins over `stories/uploads/` of an older install). When the
    uploads folder cannot be read (not mounted), its stories are kept, never taken for gone."""
    if len(archive_roots(lib.settings)) == 1:  # UPLOADS_DIR is the story folder's uploads/
        return
    folder = lib.settings.uploads_dir.resolve()
    if not folder.exists():  # nothing uploaded yet, or not mounted: its stories (if any) are kept
        walked.absent.append(UPLOAD_PREFIX)
        return
    if not folder.is_dir():
        walked.unlisted.append(UPLOAD_PREFIX)
        return
    found = walk(folder, folder)
    ours = {UPLOAD_PREFIX + f.path for f in found.files}
    walked.files = [f for f in walked.files if f.path not in ours]
    walked.files += [Found(UPLOAD_PREFIX + f.path, f.file, f.size, f.mtime) for f in found.files]
    walked.files.sort(key=lambda f: f.path)
    walked.refused += [(UPLOAD_PREFIX + path, why) for path, why in found.refused]
    walked.unlisted += [UPLOAD_PREFIX + p for p in found.unlisted]


def _roots(lib: Library, directory: Path | None) -> tuple[Path, Path, str, bool]:
    """(folder to walk, the folder paths are relative to, path prefix of this run, whether it is
    the configured archive folder or inside it)."""
    root = lib.settings.stories_dir.resolve()
    folder = (directory or root).resolve()
    if not folder.is_relative_to(root):
        return folder, folder, "", False
    prefix = folder.relative_to(root).as_posix()
    return folder, root, "" if prefix == "." else prefix + "/", True


async def index_directory(
    lib: Library,
    directory: Path | None = None,
    *,
    prune: bool = False,
    progress: bool = False,
    background: bool = False,
    reread: bool = False,
) -> IndexReport:
    """Bring the index in step with the archive folder (`lib.settings.stories_dir`) or `directory`.

    Unchanged files are skipped; touched ones only get their new mtime; new and edited ones are
    parsed and stored (in batched transactions, a savepoint each); a second file of a work already
    indexed joins its story; files that are not stories, special files and links out of the folder
    are skipped with the reason. Stories are retired only when `directory` is the archive folder or
    inside it and their files are gone from it (see the module docstring for the limits). Failures
    are reported and recorded in `index_failures`. A missing folder raises FileNotFoundError.
    `background` (the bot's start-up index) never lets the run starve the event loop: parsing in
    low-priority worker processes, small write batches, and the interpreter handing the event loop
    its turn more often while the run lasts. `reread` parses every file again, changed or not
    (after an upgrade whose parser reads better); mods' corrections stay laid over what it reads.
    """
    started = time.perf_counter()
    report = IndexReport()
    folder, base, prefix, inside = _roots(lib, directory)
    if not folder.is_dir():  # never read a missing (unmounted?) folder as "every story was deleted"
        raise FileNotFoundError(f"the story folder {folder} does not exist")
    walked = await asyncio.to_thread(walk, folder, base, lib.settings.removed_dir.resolve())
    if inside and prefix == "":
        await asyncio.to_thread(_add_uploads, lib, walked)
    report.skipped += walked.refused
    async with lib.sessions() as session:
        stored = await stored_files(session)
        held = await removed_paths(session)
    jobs = _plan(walked.files, stored, held, report, reread=reread)

    switch = sys.getswitchinterval()
    if background:
        sys.setswitchinterval(min(switch, BACKGROUND_SWITCH_INTERVAL))
    try:
        async with Writer(lib.settings.database_url, lib.sessions, crash_at=lib.settings.crash_at) as writer:
            await _fingerprint_old_stories(writer)
            await store_all(lib, writer, jobs, report, background=background, progress=progress)
            if inside:
                await _remove_gone(
                    lib, writer, walked, base, prefix, report, prune=prune, background=background
                )
            else:
                report.notes.append(
                    f"{folder} is not the archive folder ({lib.settings.stories_dir}): its stories were "
                    "added and updated, nothing was removed (set STORIES_DIR or --stories to make it the "
                    "archive folder)."
                )
            forget = IndexFailure.path.startswith(prefix, autoescape=True)
            await writer.run(_record_failures, report.failed, forget)
    finally:
        sys.setswitchinterval(switch)
    # common words' impacts and the pairs index (`db.textrank`), when enough changed or they are
    # missing: SQLite only
    try:
        impacts = await asyncio.to_thread(refresh_impacts, lib.settings.database_url)
    except Exception as exc:  # only ever a speed-up: the run's own work is committed and stands
        log.warning(
            "the common words' impacts were not built (%s); searches rank with FTS5 meanwhile",
            exc,
            exc_info=True,
        )
        impacts = None
    if impacts is not None:
        report.ranked_words, report.ranking_seconds = impacts.words, impacts.seconds
        report.ranking_patched = impacts.patched
        report.ranked_pairs, report.pairs_seconds = impacts.word_pairs, impacts.pairs_seconds
    if report.changed:
        await refresh_views(lib)
    report.seconds = time.perf_counter() - started
    log.info(
        "indexed %s: %s added, %s updated, %s unchanged, %s removed, %s failed, %s skipped in %.1f s",
        folder,
        len(report.added),
        len(report.updated),
        report.unchanged,
        len(report.removed),
        len(report.failed),
        len(report.skipped),
        report.seconds,
    )
    return report
