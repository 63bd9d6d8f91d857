"""The host's curation commands: `add FILE... [--title] [--author] [--rating] [--pairing] [--yes]`,
`remove STORY [--yes]`, `restore STORY` and `history [STORY]`; each takes `--json` (prompts and previews
then go to stderr, the answer to stdout).

`add` runs the same checks as `/story add` (format, size, readable, not a duplicate), shows each
preview and asks before saving unless `--yes`; a bulk add shows a progress bar and ends with a
summary of what was added and what was refused, with reasons (exit 1 when anything was refused).
Every change is recorded in the audit trail as `cli:<os user>`. This module owns flags, prompts and
printing only: the work is `service.curate`'s, exactly as for the slash commands.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.common import print_json
from cli.index import story_files
from cli.query import print_hit, with_library

if TYPE_CHECKING:  # imported when a command runs, so that `bot.py --help` starts at once
    from service.library import Library
    from service.stories import StoryCard

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
    add.add_argument("--json", action="store_true", help="print what was added and refused as JSON")
    add.set_defaults(handler=with_library(run_add))

    remove = subparsers.add_parser(
        "remove",
        help="take a story out of the archive (its file is moved aside)",
        description="Remove a story: it leaves search at once, its file goes to REMOVED_DIR; "
        "`restore` brings it back.",
    )
    remove.add_argument("story", metavar="STORY", help="the story's id or title")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    remove.add_argument("--json", action="store_true", help="print the removed story's card as JSON")
    remove.set_defaults(handler=with_library(run_remove))

    restore = subparsers.add_parser("restore", help="bring a removed story back")
    restore.add_argument("story", metavar="STORY", help="the removed story's id or title")
    restore.add_argument("--json", action="store_true", help="print the restored story's card as JSON")
    restore.set_defaults(handler=with_library(run_restore))

    history = subparsers.add_parser("history", help="the audit trail: who changed what, when")
    history.add_argument("story", nargs="?", metavar="STORY", help="only this story (id or title)")
    history.add_argument("--limit", type=int, default=50, help="at most this many entries (default 50)")
    history.add_argument("--json", action="store_true", help="print JSON")
    history.set_defaults(handler=with_library(run_history))


def _ask(question: str, as_json: bool = False) -> bool:
    """y/N on the terminal (on stderr when stdout carries JSON); no answer (end of input) is no."""
    out = sys.stderr if as_json else sys.stdout
    out.write(f"{question} [y/N] ")
    out.flush()
    try:
        return input().strip().lower() in {"y", "yes"}
    except EOFError:
        return False


def _human(as_json: bool) -> contextlib.AbstractContextManager[object]:
    """Where previews and notes go: stdout, or stderr when stdout carries JSON."""
    return contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()


async def _add_one(lib: Library, file: Path, options: dict[str, Any], args: argparse.Namespace) -> StoryCard:
    """Add one file; returns the stored story's card. Raises CurateError (or OSError) with the reason."""
    from service import curate
    from service.curate import Actor, CurateError

    data = await asyncio.to_thread(file.read_bytes)
    upload = await curate.prepare_add(lib, file.name, data, options)
    if not args.yes:
        with _human(args.json):
            print(f"== {file}")
            print_hit(upload.card)
            print("   " + " ".join(upload.opening.split())[:300])
        if not _ask("Add it?", args.json):
            raise CurateError("not confirmed")
    return await curate.commit_add(lib, upload, Actor.cli())


async def run_add(lib: Library, args: argparse.Namespace) -> int:
    """`bot.py add`: check, preview, confirm and add each file; summary; 1 when any was refused."""
    from tqdm import tqdm

    from service.curate import CurateError

    options = {
        "title": args.title,
        "author": args.author,
        "rating": args.rating,
        "relationships": args.pairing,
    }
    files, _ = story_files(args.files)
    added: list[tuple[Path, StoryCard]] = []
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
    if args.json:
        print_json(
            {
                "added": [{"file": str(file), **card.to_json()} for file, card in added],
                "refused": [{"file": str(file), "reason": reason} for file, reason in refused],
            }
        )
    else:
        print(f"added: {len(added)}")
        for file, card in added:
            print(f"  {file}: #{card.id} {card.title} ({card.path})")
        print(f"refused: {len(refused)}")
        for file, reason in refused:
            print(f"  {file}: {reason}")
    return 1 if refused or not files else 0


async def run_remove(lib: Library, args: argparse.Namespace) -> int:
    """`bot.py remove STORY`: confirm, then take it out of the archive (file moved aside)."""
    from service import curate
    from service.curate import Actor
    from service.stories import resolve_story

    hit = await resolve_story(lib, args.story, strict=True)  # a removal: never a guess
    with _human(args.json):
        print_hit(hit)
    if not args.yes and not _ask("Remove it? (restore brings it back)", args.json):
        with _human(args.json):
            print("nothing was removed")
        return 1
    card = await curate.remove_story(lib, hit.id, Actor.cli())
    if args.json:
        print_json({**card.to_json(), "removed_dir": str(lib.settings.removed_dir)})
    else:
        print(f"removed #{card.id} {card.title}; its file is in {lib.settings.removed_dir}")
    return 0


async def run_restore(lib: Library, args: argparse.Namespace) -> int:
    """`bot.py restore STORY`: bring a removed story back (file, index, corrections)."""
    from service import curate
    from service.curate import Actor

    card = await curate.restore_story(lib, await curate.resolve_removed(lib, args.story), Actor.cli())
    if args.json:
        print_json(card.to_json())
    else:
        print(f"restored #{card.id} {card.title} ({card.path})")
    return 0


async def run_history(lib: Library, args: argparse.Namespace) -> int:
    """`bot.py history [STORY]`: the newest audit entries first."""
    from service import curate

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
