"""The search filters, declared once: each filter's slash option name, its CLI flag, the
`SearchQuery` field it fills, what it says about itself and how its value is read. `/search`, `/rec`
and `bot.py search|rec` are all made from this table, so one filter has one meaning everywhere.

Owns the table (`FILTERS`) and reading a filled-in set of options into a `SearchQuery` (`to_query`).
Names here are the product's interface: slash options (`exclude_character`) and CLI flags
(`--not-character`) are added, never renamed. It must not import Discord or argparse (the cogs and
`cli/` shape options from it) and must not resolve names (`service.query` does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # imported when a query is made, so the CLI's flags cost nothing to declare
    from service.query import SearchQuery

Kind = Literal["names", "name", "text", "words", "complete", "rating", "ceiling"]


@dataclass(frozen=True, slots=True)
class Filter:
    """One filter: where it is typed (slash option, CLI flag), where it lands, how it is read."""

    field: str  # the SearchQuery field it fills
    slash: str | None  # the /search and /rec option (None: the command line only)
    flag: str | None  # the CLI flag (None: Discord only)
    description: str
    kind: Kind
    suggest: str | None = None  # which names autocomplete offers: character, pairing, author, rating


FILTERS: tuple[Filter, ...] = (
    Filter("characters", "character", "--character", "Stories featuring these characters (separate several with commas)", "names", "character"),
    Filter("pairings", "pairing", "--pairing", "Stories with this pairing, e.g. Spike/Willow, Spuffy, W/S, Buffy & Faith, Spike/*", "names", "pairing"),
    Filter("ratings", "rating", "--rating", "A rating in any system: General, Teen, PG-13, Mature, NC-17, or 'at most teen'", "rating", "rating"),
    Filter("max_rating", None, "--max-rating", "a ceiling: 'teen' means general or teen", "ceiling"),
    Filter("exclude_ratings", None, "--not-rating", "leave out this rating", "names"),
    Filter("authors", "author", "--author", "Stories by this author", "name", "author"),
    Filter("text", "text", "--text", "Words to find in the title, summary, tags or story text", "text"),
    Filter("tags", "tag", "--tag", "Stories with these tags (separate several with commas)", "names"),
    Filter("fandoms", "fandom", "--fandom", "Stories from this fandom, e.g. Angel", "names"),
    Filter("exclude_fandoms", None, "--not-fandom", "leave out this fandom", "names"),
    Filter("exclude_characters", "exclude_character", "--not-character", "Leave out stories featuring these characters", "names", "character"),
    Filter("exclude_pairings", "exclude_pairing", "--not-pairing", "Leave out stories with this pairing", "names", "pairing"),
    Filter("exclude_tags", "exclude_tag", "--not-tag", "Leave out stories with these tags", "names"),
    Filter("words_min", "words_min", "--words-min", "At least this many words", "words"),
    Filter("words_max", "words_max", "--words-max", "At most this many words", "words"),
    Filter("complete", "complete", "--complete", "True: finished stories only; False: works in progress only", "complete"),
)  # fmt: skip
"""Every filter, in the order Discord shows the options."""

SLASH: dict[str, Filter] = {f.slash: f for f in FILTERS if f.slash}
"""The filters `/search` and `/rec` offer, by option name."""


def split(value: str | None, *, commas: bool = True) -> list[str]:
    """A typed option as a list: comma-separated parts, trimmed, empties dropped."""
    if not value or not value.strip():
        return []
    parts = value.split(",") if commas else [value]
    return [p.strip() for p in parts if p.strip()]


def _read(f: Filter, value: Any, typed: bool) -> Any:
    """One option's value as its field holds it. `typed`: one string as a member types it (comma
    lists); otherwise what the command line collected (a list per repeatable flag)."""
    if f.kind in ("words", "complete") or value is None:
        return value
    if f.kind == "text" or f.kind == "ceiling":
        return (value if isinstance(value, str) else " ".join(value)).strip() or None
    if not typed:
        return [v.strip() for v in value if v and v.strip()]
    return split(value, commas=f.kind != "name")


def to_query(options: Mapping[str, Any], *, typed: bool, **fixed: Any) -> SearchQuery:
    """The `SearchQuery` a set of filled-in options describes (absent or empty ones mean "any").

    `options` are keyed by slash option name (`typed=True`, Discord) or by field (`typed=False`,
    the command line). A typed rating starting `at most` / `up to` / `max` is a ceiling. `fixed`
    sets the rest (sort, page, per_page, allowed_levels).
    """
    from service.query import SearchQuery

    q = SearchQuery(**fixed)
    for f in FILTERS:
        key = f.slash if typed else f.field
        if key is None or key not in options:
            continue
        value = _read(f, options[key], typed)
        if value is None:
            continue
        if typed and f.kind == "rating":
            rating = options[key].strip()
            if rating.casefold().startswith(("at most", "up to", "max")):
                q.max_rating = rating
                continue
        setattr(q, f.field, value)
    return q
