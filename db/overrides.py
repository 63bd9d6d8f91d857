"""Mod overrides: a mod's corrections laid over what the parser found, field by field.

Owns the value shape of each overridable field and `apply_overrides`. Pure: no database (the
`overrides` table is read by `db/store.py`), no Discord.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from archive.model import RATING_LEVELS, CharacterCount, Rating, Relationship, Series, StoryMeta
from archive.ratings import parse_rating

log = logging.getLogger(__name__)

OVERRIDE_FIELDS = ("title", "author", "rating", "relationships", "characters", "tags", "summary", "series")


def _names(value: Any) -> list[str]:
    """A list of names from a list or a comma/semicolon separated string."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else str(value).replace(";", ",").split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _rating(value: Any) -> Rating:
    if isinstance(value, Mapping):
        level = value.get("level")
        return Rating(value.get("raw"), level if level in RATING_LEVELS else "not_rated")
    return parse_rating(str(value))[0]


def _relationships(value: Any, roster: Any) -> list[Relationship]:
    """Relationships from a pairing text (`Spike/Willow, Buffy & Faith`), a list of texts or JSON."""
    if isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
        return [
            Relationship(
                tuple(sorted(v["characters"])),
                v.get("kind", "romantic"),
                v.get("raw", ""),
                v.get("past", False),
            )
            for v in value
        ]
    texts = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value or "")]
    if roster is not None:
        return [rel for text in texts for rel in roster.parse_relationships(text)]
    found: list[Relationship] = []  # no roster: names as written
    for text in (piece for t in texts for piece in t.replace(";", ",").split(",")):
        platonic = "&" in text and "/" not in text
        members = tuple(sorted({p.strip() for p in text.split("&" if platonic else "/") if p.strip()}))
        if members:
            found.append(Relationship(members, "platonic" if platonic else "romantic", text.strip()))
    return found


def _series(value: Any) -> Series:
    if isinstance(value, Mapping):
        part = value.get("part")
        return Series(value.get("name") or None, int(part) if part not in (None, "") else None)
    return Series(str(value).strip() or None, None) if value else Series()


def apply_overrides(meta: StoryMeta, overrides: Mapping[str, Any], roster: Any = None) -> StoryMeta:
    """A copy of `meta` with a mod's corrections applied on top of what the parser found.

    Values, per field: title/author/summary: text (author/summary may be None); rating: a label
    (`PG-13`, `Mature`) or `{"raw", "level"}`; relationships: a pairing text (`Spike/Willow,
    Buffy & Faith`), a list of them, or relationship JSON (resolved through `roster` when given);
    characters and tags: a list (or comma-separated text); series: `{"name", "part"}` or a name.
    Unknown fields are ignored with a log line.
    """
    changes: dict[str, Any] = {}
    for field, value in overrides.items():
        if field == "title" and value:
            changes["title"] = str(value).strip()
        elif field in ("author", "summary"):
            changes[field] = str(value).strip() if value else None
        elif field == "rating":
            changes["rating"] = _rating(value)
        elif field == "relationships":
            changes["relationships"] = _relationships(value, roster)
        elif field == "characters":
            mentions = {c.name: c.mentions for c in meta.characters}
            changes["characters"] = [CharacterCount(n, "header", mentions.get(n, 0)) for n in _names(value)]
        elif field == "tags":
            changes["tags"] = _names(value)
        elif field == "series":
            changes["series"] = _series(value)
        else:
            log.warning("ignoring an override of unknown field %r", field)
    return dataclasses.replace(meta, **changes)
