"""The parser: story files (bytes + file name) in, `StoryMeta` out.

Exports the entry point `parse_story`, the `StoryMeta` shape and the fandom `Roster`. Everything
under `archive/` is pure: no database, no Discord. Imports are lazy so `import archive` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archive.model import StoryMeta
    from archive.parse import is_unreadable, parse_story
    from archive.roster import Roster

__all__ = ["Roster", "StoryMeta", "is_unreadable", "parse_story"]

_HOMES = {
    "parse_story": "archive.parse",
    "is_unreadable": "archive.parse",
    "StoryMeta": "archive.model",
    "Roster": "archive.roster",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'archive' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
