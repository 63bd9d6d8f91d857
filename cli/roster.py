"""`bot.py roster suggest [--fandom NAME] [DIR]`: a draft roster learned from the archive, printed as
YAML for a host to review (`> fandoms/NEW.yaml`) and load beside the others (`ROSTER_FILE=fandoms`).

Owns the command's arguments and reading the story files; the learning itself is
`archive.learn.suggest_roster` (pure). Needs no database: it reads the files as written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cli.common import settings_from_args


def register(subparsers: Any) -> None:
    """Add `roster` (with its `suggest` action) to the CLI."""
    roster = subparsers.add_parser("roster", help="fandom rosters: draft one from the archive")
    actions = roster.add_subparsers(dest="roster_action", metavar="ACTION", required=True)
    suggest = actions.add_parser(
        "suggest",
        help="print a draft roster (people, short forms, pairings, ship names) learned from the archive",
    )
    suggest.add_argument("--fandom", help="the fandom to draft (default: the archive's most common)")
    suggest.add_argument("folder", nargs="?", help="story folder (default: STORIES_DIR)")
    suggest.set_defaults(handler=run_suggest)


async def run_suggest(args: argparse.Namespace) -> int:
    from archive.learn import Sighting, roster_yaml, suggest_roster
    from archive.parse import read_raw
    from cli.index import story_files

    folder = Path(args.folder) if args.folder else settings_from_args(args).stories_dir
    if not folder.is_dir():
        print(f"{folder}: not a folder", file=sys.stderr)
        return 1
    files, _ = story_files([str(folder)])
    sightings = []
    for file in files:
        try:
            raw = read_raw(file.read_bytes(), file.relative_to(folder).as_posix())
        except OSError as exc:
            print(f"{file}: could not read it ({exc.strerror or exc})", file=sys.stderr)
            continue
        sightings.append(Sighting(tuple(raw.fandoms), tuple(raw.characters), tuple(raw.pairings)))
    draft = suggest_roster(sightings, args.fandom)
    if not draft["characters"]:
        where = f" for {args.fandom!r}" if args.fandom else ""
        print(f"no people found{where} in {len(files)} files under {folder}", file=sys.stderr)
        return 1
    sys.stdout.write(roster_yaml(draft))
    print(f"drafted {len(draft['characters'])} people from {len(files)} files", file=sys.stderr)
    return 0
