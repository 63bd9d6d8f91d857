"""The rating vocabulary: ratings as fans write them, mapped onto Librarian's one scale, and how
each level is spelt back to people. Every rating label in the code is spelt here.

Owns the table of rating labels from every system fan archives used (MPAA-style G/PG-13/NC-17,
FanFiction.net K/K+/T/M/MA, AO3's audience names, the FictionRatings FR13/FR15/FR18/FR21/FRAO),
`parse_rating`, which separates a rating from genre words written after it
(`PG 13, angst, heartache`), the order of the levels (`RANK`) and their names for people
(`LEVEL_NAMES`, `SHORT_NAMES`, `EXAMPLES`, `choice_name`), which the cogs, the CLI and the daily rec
show. Pure text in, values out: no I/O, no database, no Discord.
"""

from __future__ import annotations

import re

from archive.model import RATING_LEVELS, Rating, RatingLevel

RANK: dict[str, int] = {level: rank for rank, level in enumerate(RATING_LEVELS)}
"""Order of the levels for filtering (general 0 .. not_rated 4); `not_rated` sorts last (gated like
`explicit`). Stored as `stories.rating_rank`."""

SAFE_LEVELS: frozenset[str] = frozenset({"general", "teen"})
"""What a channel that is not age-restricted may show (mature, explicit and not rated are gated)."""

LEVEL_NAMES: dict[str, str] = {
    "general": "General Audiences",
    "teen": "Teen And Up Audiences",
    "mature": "Mature",
    "explicit": "Explicit",
    "not_rated": "Not Rated",
}
"""Each level by its full name (AO3's audience names): what a mod picks for a story."""
SHORT_NAMES: dict[str, str] = {**LEVEL_NAMES, "teen": "Teen And Up"}
"""Each level where room is short: a card's field, a list, the stats."""
EXAMPLES: dict[str, str] = {"general": "G", "teen": "PG-13", "mature": "R", "explicit": "NC-17"}
"""The familiar MPAA-style label for each level, shown beside its name in pickers."""


def level_words(level: str) -> str:
    """A level as a sentence says it: `teen`, `not rated` (never the key `not_rated`)."""
    return level.replace("_", " ")


def choice_name(level: str) -> str:
    """A level as a picker offers it: `Teen And Up (PG-13)`, `Not Rated`."""
    example = EXAMPLES.get(level)
    return f"{SHORT_NAMES[level]} ({example})" if example else SHORT_NAMES[level]


def at_most(level: str) -> str:
    """The ceiling filter as members type it: `at most teen`."""
    return f"at most {level}"


_LABELS: dict[str, tuple[str, ...]] = {
    "general": ("g", "pg", "k", "k+", "generalaudiences", "gen", "general", "allages", "everyone"),
    "teen": ("pg13", "pg15", "t", "teenandupaudiences", "teenandup", "fr13", "fr15", "teen", "teens"),
    "mature": ("r", "pg16", "m", "mature", "fr18", "nc16"),
    "explicit": (
        "nc17",
        "nc18",
        "nc21",
        "ma",
        "e",
        "explicit",
        "fr21",
        "frao",
        "adult",
        "adults",
        "x",
        "xxx",
    ),
    "not_rated": ("notrated", "unrated", "norating", "none", "nr"),
}
# Rating words of other languages' archives: the Italian colour scale (EFP: verde, giallo, arancione,
# rosso), German FanFiktion.de ages (P6 ... P18), Brazilian/Portuguese ages (livre, 14 anos), and
# age marks written as `16+`; French and Spanish audience names.
_LABELS["general"] += ("verde", "p6", "p0", "livre", "todoslospublicos", "toutpublic", "tp", "allgemein",
                       "0+", "6+", "10anos", "ab6", "fsk6", "fsk0", "общий", "джен")  # fmt: skip
_LABELS["teen"] += ("giallo", "p12", "p14", "12anos", "13anos", "14anos", "12+", "13+", "14+", "15+",
                    "ab12", "ab14", "fsk12", "adolescentes", "adolescents")  # fmt: skip
_LABELS["mature"] += ("arancione", "p16", "16anos", "16+", "ab16", "fsk16", "maduro", "mature+")
_LABELS["explicit"] += ("rosso", "p18", "p18avl", "18anos", "18+", "17+", "21+", "ab18", "fsk18", "adulto",
                        "adultos", "adulte", "adultes")  # fmt: skip
_LEVEL_BY_KEY: dict[str, RatingLevel] = {
    key: level  # type: ignore[misc]
    for level, keys in _LABELS.items()
    for key in keys
}
_LONGEST_LABEL_WORDS = 4  # "Teen And Up Audiences"

_PREFIX = re.compile(r"^\s*(?:rat(?:ed|ing)\s*[:\-]?\s*)?(?:fiction\s+)?", re.IGNORECASE)
_RANGE = re.compile(r"\s*(?:/|\bto\b|\bthrough\b|\s[-–—]\s|\bor\b)\s*", re.IGNORECASE)
_PIECES = re.compile(r"\s*[,;]\s*")


def _key(label: str) -> str:
    return re.sub(r"[\s\-_.:'\"()\[\]]+", "", label.lower())


def level_of(label: str | None) -> RatingLevel | None:
    """The level of one rating label in any system (`NC17`, `Teen And Up Audiences`, `T`), or None.

    Accepts a leading `Rated`/`Rating:`/`Fiction`, and a range like `PG-13 to R` (the strictest).
    """
    if not label:
        return None
    text = _PREFIX.sub("", label).strip().rstrip(".!")
    if not text:
        return None
    found = _LEVEL_BY_KEY.get(_key(text))
    if found is not None:
        return found
    parts = [p for p in _RANGE.split(text) if p.strip()]
    if len(parts) > 1:
        levels = [lv for lv in (_LEVEL_BY_KEY.get(_key(p)) for p in parts) if lv is not None]
        if levels and len(levels) == len(parts):
            return max(levels, key=lambda lv: RANK[lv] if lv != "not_rated" else -1)
    return None


def _leading_level(piece: str) -> RatingLevel | None:
    """The level of the label a piece starts with: `PG-13 for language` -> teen."""
    words = _PREFIX.sub("", piece).split()
    for n in range(min(_LONGEST_LABEL_WORDS, len(words)), 0, -1):
        level = level_of(" ".join(words[:n]))
        if level is not None:
            return level
    return None


def parse_rating(text: str | None) -> tuple[Rating, list[str]]:
    """The rating in a header value, and the words after it that are really tags.

    `PG 13, angst, heartache` -> (Rating("PG 13", "teen"), ["angst", "heartache"]).
    Missing or unreadable text gives level `not_rated` (raw kept when there was text).
    """
    if text is None or not text.strip():
        return Rating(None, "not_rated"), []
    cleaned = " ".join(text.split())
    pieces = [p.strip() for p in _PIECES.split(cleaned) if p.strip()]
    for index, piece in enumerate(pieces):
        level = level_of(piece) or _leading_level(piece)
        if level is not None:
            raw = _PREFIX.sub("", piece).strip() or piece
            leftovers = [p.strip(" .") for i, p in enumerate(pieces) if i != index]
            return Rating(raw, level), [t for t in leftovers if t]
    return Rating(cleaned, "not_rated"), []
