"""The host's curation commands: `add FILE... [--title] [--author] [--rating] [--pairing] [--yes]`,
`remove STORY [--yes]`, `restore STORY` and `history [STORY]`.

`add` runs the same checks as `/story add` (format, size, readable, not a duplicate), shows each
preview and asks before saving unless `--yes`; a bulk add shows a progress bar and ends with a
summary of what was added and what was refused, with reasons (exit 1 when anything was refused).
Every change is recorded in the audit trail as `cli:<os user>`. This module owns flags, prompts and
printing only: the work is `service.curate`'s, exactly as for the slash commands.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from cli.common import print_json
from cli.index import story_files
from cli.query import print_hit, with_library
from service import curate
from service.curate import Actor, CurateError
from service.library import Library

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Add `add`, `remove`, `restore` and `history` to the command line."""
    add = subparsers.add_parser(
        "add",
        help="add story files to the archive (same checks as /story add)",
        description="Add story files (txt, md, html, epub; folders are read recursively). Each is "
        "checked, previewed and saved in the uploads folder (UPLOADS_DIR, default data/uploads/) once you "
        "confirm (or with --yes).",
    )
    add.add_argument("files", nargs="+", metavar="FILE", help="story files or folders")
    add.add_argument("--title", help="the title to store (a correction kept through re-indexing)")
    add.add_argument("--author", help="the author to store")
    add.add_argument("--rating", help="the rating to store: G, PG-13, Teen, Mature, NC-17, ...")
    add.add_argument("--pairing", help="pairings to store: Spike/Willow, Buffy & Faith")
    add.add_argument("--yes", action="store_true", help="do not ask: add every file that passes the checks")
    add.set_defaults(handler=with_library(run_add))

    remove = subparsers.add_parser(
        "remove",
        help="take a story out of the archive (its file is moved aside)",
        description="Remove a story: it leaves search at once, its file goes to REMOVED_DIR; "
        "`restore` brings it back.",
    )
    remove.add_argument("story", metavar="STORY", help="the story's id or title")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    remove.set_defaults(handler=with_library(run_remove))

    restore = subparsers.add_parser("restore", help="bring a removed story back")
    restore.add_argument("story", metavar="STORY", help="the removed story's id or title")
    restore.set_defaults(handler=with_library(run_restore))

    history = subparsers.add_parser("history", help="the audit trail: who changed what, when")
    history.add_argument("story", nargs="?", metavar="STORY", help="only this story (id or title)")
    history.add_argument("--limit", type=int, default=50, help="at most this many entries (default 50)")
    history.add_argument("--json", action="store_true", help="print JSON")
    history.set_defaults(handler=with_library(run_history))


def _ask(question: str) -> bool:
    """y/N on the terminal; no answer (end of input) is no."""
    try:
        return input(f"{question} [y/N] ").strip().lower() in {"y", "yes"}
    except EOFError:
        return False


async def _add_one(lib: Library, file: Path, options: dict[str, Any], args: argparse.Namespace) -> str:
    """Add one file; returns what was done. Raises CurateError (or OSError) with the reason."""
    data = await asyncio.to_thread(file.read_bytes)
    upload = await curate.prepare_add(lib, file.name, data, options)
    if not args.yes:
        print(f"== {file}")
        print_hit(upload.card)
        print("   " + " ".join(upload.opening.split())[:300])
        if not _ask("Add it?"):
            raise CurateError("not confirmed")
    card = await curate.commit_add(lib, upload, Actor.cli())
    return f"#{card.id} {card.title} ({card.path})"


async def run_add(lib: Library, args: argparse.Namespace) -> int:
    """`bot.py add`: check, preview, confirm and add each file; summary; 1 when any was refused."""
    from tqdm import tqdm

    options = {
        "title": args.title,
        "author": args.author,
        "rating": args.rating,
        "relationships": args.pairing,
    }
    files, _ = story_files(args.files)
    added: list[tuple[Path, str]] = []
    refused: list[tuple[Path, str]] = []
    bar = tqdm(files, desc="adding", unit="file", file=sys.stderr, disable=not args.yes or len(files) < 2)
    for file in bar:
        try:
            added.append((file, await _add_one(lib, file, options, args)))
        except CurateError as exc:
            refused.append((file, exc.message))
        except OSError as exc:
            refused.append((file, f"could not read it ({exc.strerror or exc})"))
    bar.close()
    for label, rows in (("added", added), ("refused", refused)):
        print(f"{label}: {len(rows)}")
        for file, words in rows:
            print(f"  {file}: {words}")
    return 1 if refused or not files else 0


async def run_remove(lib: Library, args: argparse.Namespace) -> int:
    """`bot.py remove STORY`: confirm, then take it out of the archive (file moved aside)."""
    from service.stories import resolve_story

    hit = await resolve_story(lib, args.story)
    print_hit(hit)
    if not args.yes and not _ask("Remove it? (restore brings it back)"):
        print("nothing was removed")
        return 1
    card = await curate.remove_story(lib, hit.id, Actor.cli())
    print(f"removed #{card.id} {card.title}; its file is in {lib.settings.removed_dir}")
    return 0


async def run_restore(lib: Library, args: argparse.Namespace) -> int:
    """`bot.py restore STORY`: bring a removed story back (file, index, corrections)."""
    card = await curate.restore_story(lib, await curate.resolve_removed(lib, args.story), Actor.cli())
    print(f"restored #{card.id} {card.title} ({card.path})")
    return 0


async def run_history(lib: Library, args: argparse.Namespace) -> int:
    """`bot.py history [STORY]`: the newest audit entries first."""
    story_id = await curate.resolve_any(lib, args.story) if args.story else None
    records = await curate.history(lib, story_id, limit=max(args.limit, 1))
    if args.json:
        print_json(
            [
                {
                    "at": r.at.isoformat(),
                    "actor": r.actor_name,
                    "action": r.action,
                    "story_id": r.story_id,
                    "story_title": r.story_title,
                    "detail": r.detail,
                }
                for r in records
            ]
        )
        return 0
    for r in records:
        print(f"{r.at:%Y-%m-%d %H:%M} UTC  {r.actor_name}  {r.describe()} (#{r.story_id})")
    if not records:
        print("nothing has happened yet")
    return 0
