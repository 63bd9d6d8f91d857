"""Helpers every CLI command shares: settings from flags, opening the library, printing JSON.

Owns how `--db/--stories/--roster` override settings. It must not hold command logic.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from settings import Settings


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with the global CLI flags applied on top."""
    settings = Settings.from_env()
    changes: dict[str, Any] = {}
    if getattr(args, "db", None):
        url = args.db
        if "://" not in url:  # a bare file path
            url = f"sqlite+aiosqlite:///{Path(url).resolve()}"
        changes["database_url"] = url
    if getattr(args, "stories", None):
        changes["stories_dir"] = Path(args.stories).resolve()
    if getattr(args, "roster", None):
        changes["roster_file"] = Path(args.roster).resolve()
    return settings.with_(**changes) if changes else settings


def print_json(data: Any) -> None:
    """Print `data` as indented UTF-8 JSON on stdout."""
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


TEXT_OPTIONS = ("--text",)
"""Options whose value is search text, which may start with `-` (`--text -coffee`)."""


def glue_text_values(argv: list[str]) -> list[str]:
    """`--text -coffee` -> `--text=-coffee`, so argparse does not read the words as an option."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in TEXT_OPTIONS and i + 1 < len(argv) and argv[i + 1].startswith("-") and argv[i + 1] != "--":
            out.append(f"{arg}={argv[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out
