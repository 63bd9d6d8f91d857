"""The filter options `/search` and `/rec` share, shaped for Discord from the one filter table
(`service.filter_table`: names, descriptions, where each lands, how it is read): descriptions,
autocomplete, the rating words offered, and the typed options turned into a `SearchQuery`.

Owns only what is Discord's: which autocomplete callback serves which kind of name. It must not
resolve names or search: `service.query` decides what the words mean and raises `QueryError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from discord import app_commands

from archive.model import RATING_LEVELS
from archive.ratings import at_most, choice_name
from cogs.transformers import (
    Choices,
    author_autocomplete,
    character_autocomplete,
    pairing_autocomplete,
    to_choices,
)
from service.filter_table import SLASH, split, to_query
from service.query import SearchQuery

DESCRIPTIONS: dict[str, str] = {name: f.description for name, f in SLASH.items()} | {
    "sort": "How to order the results (default: best match)"
}
"""Every `/search` option's description (the filters' from `service.filter_table`, plus sort)."""

FILTER_NAMES: tuple[str, ...] = (*SLASH, "sort")
"""The options `pick_filters` keeps: every filter, and the sort."""

RATING_WORDS = [(choice_name(level), level) for level in RATING_LEVELS] + [
    ("At most Teen (General or Teen)", at_most("teen")),
    ("At most Mature", at_most("mature")),
]
"""What the rating option offers as members type (the names are spelt in `archive.ratings`)."""
SORT_CHOICES = [
    app_commands.Choice(name="Best match", value="best"),
    app_commands.Choice(name="Newest", value="newest"),
    app_commands.Choice(name="Longest", value="longest"),
    app_commands.Choice(name="Shortest", value="shortest"),
    app_commands.Choice(name="Title (A–Z)", value="title"),
    app_commands.Choice(name="Random", value="random"),
]


async def rating_autocomplete(interaction: object, current: str) -> Choices:
    """The rating names, filtered by what was typed; any other label may still be typed freely."""
    typed = current.casefold().strip()
    return to_choices(
        (name, value) for name, value in RATING_WORDS if typed in name.casefold() or typed in value
    )


SUGGEST = {
    "character": character_autocomplete,
    "pairing": pairing_autocomplete,
    "author": author_autocomplete,
    "rating": rating_autocomplete,
}
AUTOCOMPLETE = {name: SUGGEST[f.suggest] for name, f in SLASH.items() if f.suggest}
"""Which filter options suggest names as members type (declared in the filter table)."""


def pick_filters(values: Mapping[str, Any]) -> dict[str, Any]:
    """The filter options among a command's arguments (pass `locals()`), leaving out the rest."""
    return {name: values[name] for name in FILTER_NAMES if name in values}


def build_query(
    options: Mapping[str, Any],
    *,
    allowed_levels: frozenset[str] | None = None,
    per_page: int = 5,
) -> SearchQuery:
    """The `SearchQuery` for the filter options a member filled in (the rest mean "any")."""
    sort = options.get("sort")
    return to_query(
        options,
        typed=True,
        sort=getattr(sort, "value", sort) or "best",
        per_page=per_page,
        allowed_levels=allowed_levels,
    )


def describe_query(q: SearchQuery) -> str:
    """A short line naming the filters in use, for the results' heading (empty when none)."""
    parts: list[str] = []
    for label, values in (
        ("characters", q.characters),
        ("pairing", q.pairings),
        ("rating", q.ratings),
        ("author", q.authors),
        ("tags", q.tags),
        ("fandom", q.fandoms),
        ("not", q.exclude_characters + q.exclude_pairings + q.exclude_tags),
    ):
        if values:
            parts.append(f"{label}: {', '.join(values)}")
    if q.max_rating:
        parts.append(q.max_rating)
    if q.text:
        parts.append(f'"{q.text}"')
    return " · ".join(parts)


__all__ = [
    "AUTOCOMPLETE",
    "DESCRIPTIONS",
    "FILTER_NAMES",
    "build_query",
    "describe_query",
    "pick_filters",
    "split",
]
