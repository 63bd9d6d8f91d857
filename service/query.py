"""What a reader asks for: the `SearchQuery` every search, rec and CLI call shares, and the helpers
that turn loose words ("wilow", "Spillow", "W/S", "PG-13", "at most teen") into canonical names,
pairing specs and rating levels.

Owns the query's field names, `QueryError` (a plain-words message plus "did you mean" suggestions)
and name resolution against the roster. It must not touch the database or import Discord: matching
stories is `service.search`'s job; this module only decides what the words mean.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from rapidfuzz import fuzz, process, utils

from archive.model import RATING_LEVELS, RatingLevel
from archive.pairings import split_pairing
from archive.ratings import RANK, level_of, level_words, parse_rating
from archive.roster import stand_in
from db.keys import fold
from service.errors import QueryError as QueryError  # re-exported: most code imports it from here

if TYPE_CHECKING:
    from service.names import NameBook

log = logging.getLogger(__name__)

SortName = Literal["best", "newest", "longest", "shortest", "title", "random"]
SORTS: tuple[SortName, ...] = ("best", "newest", "longest", "shortest", "title", "random")
PairingKind = Literal["romantic", "platonic"]

FUZZY_CUTOFF = 85
"""How close a misspelt name must be (rapidfuzz WRatio, 0-100) to be corrected without asking."""

_CEILING = re.compile(
    r"^(?:at\s+most|up\s+to|no\s+more\s+than|max(?:imum)?|<=|≤|<)\s*(?P<label>.+?)$"
    r"|^(?P<label2>.+?)\s+(?:or|and)\s+(?:below|lower|under|less)$",
    re.IGNORECASE,
)


class RosterLike(Protocol):
    """The parts of `archive.roster.Roster` name resolution uses."""

    def resolve(self, name: str) -> str | None: ...
    def resolve_fuzzy(self, name: str, cutoff: int = ...) -> str | None: ...
    def suggest(self, name: str, limit: int = ...) -> list[tuple[str, float]]: ...


@dataclass(slots=True)
class SearchQuery:
    """Every filter a search, a rec or the CLI can ask for. Empty lists / None mean "any"."""

    characters: list[str] = field(default_factory=list)
    exclude_characters: list[str] = field(default_factory=list)
    pairings: list[str] = field(default_factory=list)
    exclude_pairings: list[str] = field(default_factory=list)
    ratings: list[str] = field(default_factory=list)  # labels of any system: PG-13, T, teen, NC17
    max_rating: str | None = None  # a ceiling: "teen" or "at most teen"
    exclude_ratings: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    text: str | None = None
    words_min: int | None = None
    words_max: int | None = None
    complete: bool | None = None  # True complete, False work in progress, None either
    fandoms: list[str] = field(default_factory=list)
    exclude_fandoms: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    exclude_tags: list[str] = field(default_factory=list)
    sort: SortName = "best"
    page: int = 1
    per_page: int = 5
    allowed_levels: frozenset[str] | None = None  # age gating set by the caller; None = everything
    seed: int | None = None  # makes sort="random" repeatable across pages


@dataclass(frozen=True, slots=True)
class PairingSpec:
    """A pairing to look for: its canonical members (sorted), kind (None = any) and whether more
    members may be present (`Spike/*`)."""

    members: tuple[str, ...]
    kind: PairingKind | None = "romantic"
    wildcard: bool = False

    @property
    def display(self) -> str:
        sep = " & " if self.kind == "platonic" else "/"
        names = list(self.members) + (["*"] if self.wildcard else [])
        return sep.join(names)


def rating_rank(level: str) -> int:
    """A level's place on the one scale: general 0 .. not_rated 4 (the `stories.rating_rank`)."""
    return RANK[level]


def character_keys(roster: RosterLike, known: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every spelling of every character the roster and the archive know, by `names.name_key`."""
    from service.names import name_key

    keys: dict[str, str] = {}
    for stored in (known or {}).values():
        keys.setdefault(name_key(stored), stored)
    spellings = getattr(roster, "name_keys", None)
    roster_keys = spellings() if callable(spellings) else {}
    for canon in getattr(roster, "names", []):
        roster_keys.setdefault(name_key(canon), canon)
    keys.update(roster_keys)  # the roster's canonical name wins over a stored spelling
    return keys


def resolve_character(
    roster: RosterLike,
    name: str,
    *,
    known: Mapping[str, str] | None = None,
    counts: Mapping[str, int] | None = None,
    book: NameBook | None = None,
    fandoms: set[str] | None = None,
) -> str:
    """The canonical name for `name`: exact name or alias, else a prefix or a close typo that fits
    one character only (`service.names.resolve_name`).

    `known` maps folded names to names the archive holds that the roster may not (a crossover's
    characters); they count too, and `counts` (name -> stories) orders the choices when several
    fit. Raises QueryError ("I don't know...", or `AmbiguousName` "which one?") with suggestions;
    a name is never silently swapped for a different one. With `book` (`service.names.NameBook`)
    every loaded roster and the people the archive learned count, and `roster` and `known` are not
    read.
    """
    from service.names import resolve_name

    text = " ".join(name.split())
    if not text:
        raise QueryError("A character name is empty.")
    text = written_out(text)
    if book is not None:
        return book.resolve("character", text, fandoms)
    found = roster.resolve(text) or (known or {}).get(fold(text))
    if found:
        return found
    return resolve_name("character", text, character_keys(roster, known), counts)


def written_out(name: str) -> str:
    """A made-up character's shorthand written out as stories store it (`OFC`: Original Female
    Character, `archive.roster.stand_in`); any other name as it is."""
    return stand_in(name) or name


_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


def _pairing_parts(text: str) -> tuple[list[str], PairingKind | None] | None:
    """Split `A/B`, `A & B`, `A x B` (`archive.pairings`, as the parser does), or `A and B` (either
    kind: a member may type it for a romance or a friendship); None without a separator."""
    split = split_pairing(text)
    if split is None and len(parts := _AND.split(text)) > 1 and all(p.strip() for p in parts):
        return [p.strip() for p in parts], None
    return split


def _from_ship(roster: RosterLike, text: str) -> PairingSpec | None:
    ship = getattr(roster, "ship", None)
    found = ship(text) if ship else None
    if not found:
        return None
    members = getattr(found, "characters", found)
    kind = getattr(found, "kind", "romantic")
    return PairingSpec(tuple(sorted(members)), kind)


def _from_parser(roster: RosterLike, text: str, size: int) -> PairingSpec | None:
    """Let the roster's own relationship parser read it (initials like `W/S`, in context)."""
    parse = getattr(roster, "parse_relationships", None)
    if parse is None:
        return None
    try:
        found = parse(text)
    except Exception:
        log.exception("roster.parse_relationships failed for %r", text)
        return None
    if len(found) == 1 and len(found[0].characters) == size:
        return PairingSpec(tuple(sorted(found[0].characters)), found[0].kind)
    return None


def resolve_pairing(
    roster: RosterLike,
    text: str,
    *,
    known: Mapping[str, str] | None = None,
    counts: Mapping[str, int] | None = None,
    book: NameBook | None = None,
    fandoms: set[str] | None = None,
) -> PairingSpec:
    """What a typed pairing means: `Spike/Willow` = `Willow/Spike` = `W/S` = `Spillow`.

    `&` asks for a platonic relationship, `/` or ` x ` for a romantic one. `Spike/*`, `Spike/` or a
    bare character name asks for every relationship with Spike (any kind, any size); otherwise the
    size must match (a threesome is not a pair).
    """
    raw = " ".join(text.split())
    if not raw:
        raise QueryError("A pairing is empty.")
    if book is not None:
        return _pairing_in_book(book, raw, fandoms or set())
    ship = _from_ship(roster, raw)
    if ship:
        return ship
    split = _pairing_parts(raw)
    if split is None:  # a single name: every relationship with that character
        return PairingSpec((resolve_character(roster, raw, known=known, counts=counts),), None, wildcard=True)
    parts, kind = split
    names = [written_out(p.strip()) for p in parts]
    wildcard = any(n in {"", "*"} for n in names)
    named = [n for n in names if n not in {"", "*"}]
    if not named:
        raise QueryError(f"The pairing {raw!r} names nobody.", ["Spike/Willow", "Spike/*"])
    exact = [roster.resolve(n) or (known or {}).get(fold(n)) for n in named]
    members: list[str]
    if all(exact):
        members = [e for e in exact if e]
    else:
        parsed = None if wildcard else _from_parser(roster, raw, len(named))
        if parsed and all(roster.resolve(m) or m in (known or {}).values() for m in parsed.members):
            return parsed  # the parser read initials or context; a name it only tidied is not known
        members = [resolve_character(roster, n, known=known, counts=counts) for n in named]
    if len(set(members)) != len(members):
        raise QueryError(f"The pairing {raw!r} names the same character twice.")
    if wildcard and kind == "romantic":
        kind = None  # `Spike/*`: every relationship with Spike
    return PairingSpec(tuple(sorted(members)), kind, wildcard=wildcard)


def _one_spec(raw: str, specs: list[PairingSpec]) -> PairingSpec | None:
    """The one spec every reading agrees on; `AmbiguousName` when the rosters read it differently."""
    from service.names import AmbiguousName

    found = list(dict.fromkeys(specs))
    if len(found) > 1:
        raise AmbiguousName(f"{raw!r} could be several pairings: which one?", [s.display for s in found])
    return found[0] if found else None


def _pairing_in_book(book: NameBook, raw: str, fandoms: set[str]) -> PairingSpec:
    """`resolve_pairing` over every loaded roster and the archive's people (`NameBook`): a ship
    name or initials any one roster reads (two rosters reading it differently ask which); else
    each member by name, a member written for people of several fandoms taken in the fandom of the
    pairing's other members (`John/Sherlock`: John Watson)."""
    from service.names import AmbiguousName

    spec = _one_spec(raw, [s for r in book.rosters if (s := _from_ship(r, raw)) is not None])
    if spec:
        return spec
    split = _pairing_parts(raw)
    if split is None:
        return PairingSpec((book.resolve("character", raw, fandoms),), None, wildcard=True)
    parts, kind = split
    names = [written_out(p.strip()) for p in parts]
    wildcard = any(n in {"", "*"} for n in names)
    named = [n for n in names if n not in {"", "*"}]
    if not named:
        raise QueryError(f"The pairing {raw!r} names nobody.", ["Spike/Willow", "Spike/*"])
    exact = [book.exact(n) for n in named]
    if not wildcard and not all(len(e) == 1 for e in exact):
        readings = []
        for r in book.rosters:
            parsed = _from_parser(r, raw, len(named))
            if parsed and all(r.resolve(m) for m in parsed.members):
                readings.append(parsed)
        spec = _one_spec(raw, readings)
        if spec:
            return spec
    chosen: list[str | None] = []
    doubts: list[AmbiguousName | None] = []
    for n, e in zip(named, exact, strict=True):
        try:
            chosen.append(e[0] if len(e) == 1 else book.resolve("character", n, fandoms))
            doubts.append(None)
        except AmbiguousName as exc:
            chosen.append(None)
            doubts.append(exc)
    settled = {f for c in chosen if c for f in book.fandoms.get(c, frozenset())} or fandoms
    members: list[str] = []
    for c, doubt in zip(chosen, doubts, strict=True):
        if c is None and doubt is not None:
            fitting = book.in_fandoms(doubt.suggestions, settled)
            if len(fitting) != 1:
                raise doubt
            c = fitting[0]
        members.append(str(c))
    if len(set(members)) != len(members):
        raise QueryError(f"The pairing {raw!r} names the same character twice.")
    if wildcard and kind == "romantic":
        kind = None
    return PairingSpec(tuple(sorted(members)), kind, wildcard=wildcard)


def _level_of(label: str) -> RatingLevel | None:
    level = level_of(label)
    if level:
        return level
    rating, _leftovers = parse_rating(label)
    if rating.raw and rating.level != "not_rated":
        return rating.level
    return None


def rating_filter(label: str) -> tuple[RatingLevel, bool]:
    """A typed rating as (level, is_ceiling): `PG-13` -> (teen, False), `at most T` -> (teen, True)."""
    text = " ".join(label.split())
    ceiling = False
    match = _CEILING.match(text)
    if match:
        text, ceiling = (match.group("label") or match.group("label2")).strip(), True
    level = _level_of(text) if text else None
    if level is None:
        choices = [level_words(lv) for lv in RATING_LEVELS]
        best = process.extract(text, choices, scorer=fuzz.WRatio, processor=utils.default_process, limit=3)
        raise QueryError(f"I don't know the rating {label!r}.", [b[0] for b in best if b[1] >= 50])
    return level, ceiling


def resolve_rating(label: str) -> RatingLevel:
    """The level a rating label means, in any system: `PG-13`, `T`, `Teen And Up Audiences`, `NC17`."""
    return rating_filter(label)[0]


def best_names(text: str, names: list[str], *, cutoff: int = FUZZY_CUTOFF, limit: int = 5) -> list[str]:
    """The names closest to `text`, best first (for corrections and "did you mean")."""
    found = process.extract(text, names, scorer=fuzz.WRatio, processor=utils.default_process, limit=limit)
    return [name for name, score, _i in found if score >= cutoff and _not_a_fragment(text, name, cutoff)]


def _not_a_fragment(text: str, name: str, cutoff: int) -> bool:
    """WRatio scores a short name found inside a much longer text highly ("Rose" in "Wilow Rosenbreg
    Xyzzy"): when what was typed is far longer than the name, the whole of it must match."""
    if len(text) <= 1.5 * len(name):
        return True
    return fuzz.token_sort_ratio(text, name, processor=utils.default_process) >= cutoff


def resolve_label(kind: str, text: str, labels: dict[str, str], *, partial: bool = False) -> list[str]:
    """Stored names for a typed author/tag/fandom: exact (folded), then contained (`partial`), then a
    close misspelling. `labels` maps each folded label to its stored name. Raises QueryError."""
    key = fold(text)
    if not key:
        raise QueryError(f"The {kind} is empty.")
    if key in labels:
        return [labels[key]]
    if partial:
        words = re.compile(rf"\b{re.escape(key)}\b")
        contained = sorted({name for label, name in labels.items() if words.search(label)})
        if contained:
            return contained
    close = best_names(key, list(labels), cutoff=FUZZY_CUTOFF, limit=1)
    if close:
        return [labels[close[0]]]
    suggestions = best_names(key, list(labels), cutoff=55, limit=5)
    raise QueryError(f"No story has the {kind} {text!r}.", [labels[s] for s in suggestions])
