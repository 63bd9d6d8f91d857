"""The filter options `/search` and `/rec` share: their descriptions, autocomplete and the one function
that turns the typed options into a `SearchQuery`.

Owns the option names as members type them (comma-separated lists, `complete` as true/false) and
where each lands in the query. It must not resolve names or search: `service.query` decides what the
words mean and raises `QueryError` when it can't.
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
from service.query import SearchQuery

DESCRIPTIONS: dict[str, str] = {
    "character": "Stories featuring these characters (separate several with commas)",
    "pairing": "Stories with this pairing, e.g. Spike/Willow, Spuffy, W/S, Buffy & Faith, Spike/*",
    "rating": "A rating in any system: General, Teen, PG-13, Mature, NC-17, or 'at most teen'",
    "author": "Stories by this author",
    "text": "Words to find in the title, summary, tags or story text",
    "sort": "How to order the results (default: best match)",
    "tag": "Stories with these tags (separate several with commas)",
    "fandom": "Stories from this fandom, e.g. Angel",
    "exclude_character": "Leave out stories featuring these characters",
    "exclude_pairing": "Leave out stories with this pairing",
    "exclude_tag": "Leave out stories with these tags",
    "words_min": "At least this many words",
    "words_max": "At most this many words",
    "complete": "True: finished stories only; False: works in progress only",
}

FILTER_NAMES: tuple[str, ...] = tuple(DESCRIPTIONS)

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


AUTOCOMPLETE = {
    "character": character_autocomplete,
    "exclude_character": character_autocomplete,
    "pairing": pairing_autocomplete,
    "exclude_pairing": pairing_autocomplete,
    "author": author_autocomplete,
    "rating": rating_autocomplete,
}


def split(value: str | None, *, commas: bool = True) -> list[str]:
    """A typed option as a list: comma-separated parts, trimmed, empties dropped."""
    if not value or not value.strip():
        return []
    parts = value.split(",") if commas else [value]
    return [p.strip() for p in parts if p.strip()]


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
    get = options.get
    text = (get("text") or "").strip()
    q = SearchQuery(
        characters=split(get("character")),
        exclude_characters=split(get("exclude_character")),
        pairings=split(get("pairing")),
        exclude_pairings=split(get("exclude_pairing")),
        authors=split(get("author"), commas=False),
        text=text or None,
        words_min=get("words_min"),
        words_max=get("words_max"),
        complete=get("complete"),
        fandoms=split(get("fandom")),
        tags=split(get("tag")),
        exclude_tags=split(get("exclude_tag")),
        sort=getattr(get("sort"), "value", get("sort")) or "best",
        per_page=per_page,
        allowed_levels=allowed_levels,
    )
    rating = (get("rating") or "").strip()
    if rating.casefold().startswith(("at most", "up to", "max")):
        q.max_rating = rating
    else:
        q.ratings = split(rating)
    return q


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
