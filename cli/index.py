"""The host's `index` and `parse` commands.

`index [DIR] [--prune] [--reread] [--quiet] [--json]` brings the index in step with the archive
folder (--stories / STORIES_DIR; DIR a folder inside it, or another folder whose stories are only
added and updated, never removed; `--reread` parses unchanged files too) and prints what it did: added, updated, unchanged, removed (retired),
failed and skipped files with their reasons (with --json, one object with those keys). It exits 0
when every file was read, 1 when the run finished but some files failed (they are listed), 2 when
the run itself could not happen, 3 when it stopped short of removing more stories than a run may
without `--prune`.

`parse FILE... [--json]` shows what the parser makes of story files, without any database: a
readable card per file, or with --json exactly the `archive.model.JSON_KEYS` per file. A single
FILE prints one JSON object; several files, or a folder (read recursively), print a JSON list.

This module owns argument handling and printing only: indexing is `service.indexer`, parsing is
`archive.parse`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from archive.model import STORY_SUFFIXES, StoryMeta
from cli.common import print_json, settings_from_args

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Add `index` and `parse` to the command line."""
    index = subparsers.add_parser(
        "index",
        help="index the story folder (only what changed)",
        description="Bring the index in step with the story folder; prints a summary and the failures. "
        "Exit code 0: every file read; 1: some files failed (listed); 2: the run could not happen; "
        "3: removal stopped (more stories gone than a run may remove without --prune).",
    )
    index.add_argument(
        "dir", nargs="?", metavar="DIR", help="story folder (default: --stories or STORIES_DIR)"
    )
    index.add_argument("--quiet", action="store_true", help="no progress bar (the summary is still printed)")
    index.add_argument("--json", action="store_true", help="print the report as JSON")
    index.add_argument(
        "--prune",
        action="store_true",
        help="retire every story whose files are gone, even more than 5 %% of the archive (or 20)",
    )
    index.add_argument(
        "--reread",
        action="store_true",
        help="parse every file again, changed or not (after an upgrade whose parser reads better); "
        "mods' corrections are kept",
    )
    index.set_defaults(handler=run_index)

    parse = subparsers.add_parser(
        "parse",
        help="show what the parser reads from story files (no database)",
        description="Parse story files and print what was found. One FILE gives one JSON object with "
        "--json; several files or a folder give a list.",
    )
    parse.add_argument("files", nargs="+", metavar="FILE", help="story files or folders")
    parse.add_argument("--json", action="store_true", help="print JSON (exactly the parse --json keys)")
    parse.set_defaults(handler=run_parse)


def _folder(args: argparse.Namespace, archive: Path) -> Path:
    return Path(args.dir).resolve() if args.dir else archive


async def run_index(args: argparse.Namespace) -> int:
    """`bot.py index`: index, print the report; 1 when files failed, 2 on a fatal error."""
    from service.indexer import index_directory
    from service.library import Library
    from settings import SettingsError

    try:
        settings = settings_from_args(args)
        folder = _folder(args, settings.stories_dir)
        if not folder.is_dir():
            print(f"the story folder {folder} does not exist; nothing was changed", file=sys.stderr)
            return 2
        lib = await Library.open(settings, load_titles=False)
    except SettingsError:
        raise
    except Exception as exc:
        log.debug("index could not start", exc_info=True)
        print(f"could not open the archive: {exc}", file=sys.stderr)
        return 2
    try:
        report = await index_directory(
            lib,
            Path(args.dir) if args.dir else None,
            prune=args.prune,
            progress=not args.quiet and not args.json and sys.stderr.isatty(),
            reread=args.reread,
        )
    except Exception as exc:
        log.exception("index run failed")
        print(f"the index run failed: {exc}", file=sys.stderr)
        return 2
    finally:
        await lib.close()
    if args.json:
        print_json(report.to_json())
    else:
        print(report.summary())
    if report.held_back:
        print(f"removal stopped: {report.stopped}", file=sys.stderr)
        return 3
    return 1 if report.failed else 0


def story_files(arguments: list[str]) -> tuple[list[Path], bool]:
    """The files to parse (folders expanded, sorted) and whether the answer is a list."""
    files: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            files += sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in STORY_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            files.append(path)
    return files, len(arguments) > 1 or len(files) != 1 or files[0] != Path(arguments[0])


def _line(label: str, value: object) -> str:
    return f"{label + ':':<15}{value if value not in (None, '', []) else '-'}"


def card(meta: StoryMeta) -> str:
    """A readable card of everything the parser found in one file."""
    rels = [
        f"{r.key}{' (past)' if r.past else ''} [{r.kind}; as written: {r.raw}]" for r in meta.relationships
    ]
    chars = [
        f"{c.name} [{c.source}{f', {c.mentions} mentions' if c.mentions else ''}]" for c in meta.characters
    ]
    series = meta.series.name and f"{meta.series.name}" + (
        f", part {meta.series.part}" if meta.series.part else ""
    )
    lines = [
        f"== {meta.path} ({meta.format})",
        _line("Title", meta.title),
        _line("Author", meta.author),
        _line("Rating", f"{meta.rating.raw or 'none given'} ({meta.rating.level})"),
        _line("Relationships", "; ".join(rels)),
        _line("Characters", "; ".join(chars)),
        _line("Tags", ", ".join(meta.tags)),
        _line("Warnings", ", ".join(meta.warnings)),
        _line("Fandoms", ", ".join(meta.fandoms)),
        _line("Summary", meta.summary),
        _line("Series", series or (f"part {meta.part}" if meta.part else None)),
        _line("Season", meta.season),
        _line("Spoilers", meta.spoilers),
        _line("Words", meta.words),
        _line("Status", meta.status),
        _line("Published", meta.published),
        _line("Language", meta.language),
    ]
    lines += [_line("Notes", "")] if not meta.notes else ["Notes:", *(f"  - {n}" for n in meta.notes)]
    lines += (
        [_line("Problems", "")] if not meta.problems else ["Problems:", *(f"  - {p}" for p in meta.problems)]
    )
    lines += ["Opening:", *(f"  {line}" for line in meta.opening.splitlines() or [""])]
    return "\n".join(lines)


async def run_parse(args: argparse.Namespace) -> int:
    """`bot.py parse`: parse files (no database) and print cards or JSON; 1 when a file is missing."""
    from archive.parse import parse_story
    from archive.roster import Roster

    settings = settings_from_args(args)
    try:
        roster: Roster | None = Roster.load(settings.roster_file)
    except Exception as exc:
        print(
            f"the roster {settings.roster_file} could not be read ({exc}); names stay as written",
            file=sys.stderr,
        )
        roster = None
    files, as_list = story_files(args.files)
    metas: list[StoryMeta] = []
    status = 0
    for file in files:
        try:
            data = file.read_bytes()
        except OSError as exc:
            print(f"{file}: could not read it ({exc.strerror or exc})", file=sys.stderr)
            status = 1
            continue
        metas.append(parse_story(data, str(file), roster))
    if args.json:
        data = [m.to_json() for m in metas]
        if as_list or not data:
            print_json(data)
        else:
            print_json(data[0])
    else:
        print("\n\n".join(card(m) for m in metas))
    return status
