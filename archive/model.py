"""The shapes the parser produces: `RawStory` (what a format reader found, as written) and
`StoryMeta` (the normalised story every other layer uses).

Owns the field names and the JSON form printed by `bot.py parse --json`. It must stay pure data:
no parsing, no I/O, no database, no Discord.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

RatingLevel = Literal["general", "teen", "mature", "explicit", "not_rated"]
RATING_LEVELS: tuple[RatingLevel, ...] = ("general", "teen", "mature", "explicit", "not_rated")
"""Levels in order of strictness; `not_rated` is treated like `explicit` for age gating."""

STORY_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".xhtml", ".epub"})
"""File name endings the parser reads as stories (the indexer and uploads accept only these)."""

RelationshipKind = Literal["romantic", "platonic"]
CharacterSource = Literal["header", "text"]
SourceFormat = Literal[
    "mailing-list",  # plain text with Title:/Author:/Pairing: headers
    "headerless",  # a chapter with no header at all
    "fanficfare-txt",  # FanFicFare TXT export
    "ffnet",  # text carrying a FanFiction.net info line
    "ao3-html",
    "ao3-epub",
    "archive-html",  # old archive pages with <b>Title:</b> style headers
    "html",  # any other HTML page
    "epub",  # any other EPUB
    "yaml-markdown",  # Markdown/HTML body with YAML front matter
    "markdown",
    "unknown",
]

JSON_KEYS: tuple[str, ...] = (
    "path",
    "format",
    "title",
    "author",
    "rating",
    "relationships",
    "characters",
    "tags",
    "summary",
    "warnings",
    "fandoms",
    "series",
    "season",
    "spoilers",
    "words",
    "status",
    "published",
    "language",
    "notes",
    "opening",
    "part",
    "problems",
)
"""Exactly the keys `bot.py parse --json` prints per file, in this order (the issue's interface;
`part`, a headerless chapter's own number such as `Part XIV` -> 14, and `problems`, what the reader
could not make sense of (bytes not valid in the encoding read, cut markup …), were added last)."""


@dataclass(frozen=True, slots=True)
class Rating:
    """A rating as written (`raw`, None when absent) and its level on Librarian's one scale."""

    raw: str | None
    level: RatingLevel = "not_rated"

    def to_json(self) -> dict[str, Any]:
        return {"raw": self.raw, "level": self.level}


@dataclass(frozen=True, slots=True)
class Relationship:
    """One relationship: an unordered set of canonical names (kept sorted) and its kind.

    `raw` is the text it came from (`W/S`, `Spuffy`, `past Buffy/Angel`); `past` marks a
    relationship the story names as over.
    """

    characters: tuple[str, ...]
    kind: RelationshipKind = "romantic"
    raw: str = ""
    past: bool = False

    @property
    def key(self) -> str:
        """A stable identity for the set of characters plus kind, e.g. `Spike/Willow Rosenberg`."""
        sep = "/" if self.kind == "romantic" else " & "
        return sep.join(self.characters)

    def to_json(self) -> dict[str, Any]:
        return {"characters": list(self.characters), "kind": self.kind, "raw": self.raw, "past": self.past}


@dataclass(frozen=True, slots=True)
class CharacterCount:
    """A character the story features: from the header, or inferred from the text by mentions."""

    name: str
    source: CharacterSource
    mentions: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "mentions": self.mentions}


@dataclass(frozen=True, slots=True)
class Series:
    """A series (story-line) and this story's part in it, when known."""

    name: str | None = None
    part: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "part": self.part}


@dataclass(slots=True)
class RawStory:
    """What a format reader found, as written, before normalisation against the roster.

    Readers fill what their format has and leave the rest empty. Lists hold one raw entry each
    (a pairing string like `Willow/Spike`, a tag like `angst`). `rating` may carry trailing genre
    words (`PG 13, angst, heartache`); normalisation splits them into tags.
    """

    format: SourceFormat
    body: str = ""
    title: str | None = None
    author: str | None = None
    rating: str | None = None
    pairings: list[str] = field(default_factory=list)
    characters: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    summary: str | None = None
    warnings: list[str] = field(default_factory=list)
    fandoms: list[str] = field(default_factory=list)
    series: str | None = None  # raw series text: "twelth in Second Best story-line", "Part 1 of X"
    series_name: str | None = None  # when the format states name and part separately
    series_part: int | None = None
    part: int | None = None  # a headerless chapter's own number (`Part XIV` -> 14)
    season: str | None = None
    spoilers: str | None = None
    words: int | None = None
    status: str | None = None  # "complete" / "in progress" as the format says it
    published: str | None = None  # ISO date text when known
    language: str | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what the reader could not make sense of


@dataclass(slots=True)
class StoryMeta:
    """A story, normalised: what the index stores and every command shows."""

    path: str
    format: SourceFormat
    title: str
    author: str | None
    rating: Rating
    relationships: list[Relationship]
    characters: list[CharacterCount]
    tags: list[str]
    summary: str | None
    warnings: list[str]
    fandoms: list[str]
    series: Series
    season: str | None
    spoilers: str | None
    words: int
    status: str | None  # "complete" | "in-progress" | None
    published: str | None  # ISO date (YYYY-MM-DD) when known
    language: str | None
    notes: list[str]
    body: str
    part: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def opening(self) -> str:
        """The first 200 characters of the clean body, so a reader can see the header was stripped."""
        return self.body[:200]

    def to_json(self) -> dict[str, Any]:
        """The `bot.py parse --json` form: exactly `JSON_KEYS`, in order."""
        data: dict[str, Any] = {
            "path": self.path,
            "format": self.format,
            "title": self.title,
            "author": self.author,
            "rating": self.rating.to_json(),
            "relationships": [r.to_json() for r in self.relationships],
            "characters": [c.to_json() for c in self.characters],
            "tags": list(self.tags),
            "summary": self.summary,
            "warnings": list(self.warnings),
            "fandoms": list(self.fandoms),
            "series": self.series.to_json(),
            "season": self.season,
            "spoilers": self.spoilers,
            "words": self.words,
            "status": self.status,
            "published": self.published,
            "language": self.language,
            "notes": list(self.notes),
            "opening": self.opening,
            "part": self.part,
            "problems": list(self.problems),
        }
        assert tuple(data) == JSON_KEYS
        return data
