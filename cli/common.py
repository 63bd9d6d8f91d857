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
