"""The fandom roster: canonical characters, their aliases and initials, ship names and fandom labels,
read from a data file (`fandoms/*.yaml`, read and validated by `archive.rosterfile`), and what can be
done with them: resolve a name as written, suggest names for a typo, read a whole pairing field into
`Relationship`s, count characters in prose.

Owns name matching rules. It must stay fandom-agnostic (every name comes from the data file) and
pure: no database, no Discord, no file I/O beyond `Roster.load`.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from archive.model import Relationship, RelationshipKind
from archive.pairings import split_pairing, split_pieces
from archive.rosterfile import (
    RosterError,
    RosterTables,
    build_tables,
    normalise,
    read_roster_yaml,
    roster_files,
)

log = logging.getLogger(__name__)

SUGGEST_CUTOFF = 70.0
MAX_NAME = 100  # longer "names" in a pairing field are prose, not names (and Discord's choice limit)

# Words around a pairing that describe it rather than name anyone (generic English, not fandom data).
_PAST_WORDS = frozenset({"past", "former", "ex", "previous", "prior"})
_PLATONIC_WORDS = frozenset(
    {"friendship", "friends", "platonic", "family", "siblings", "sisters", "brothers", "gen"}
)
_OTHER_QUALIFIERS = frozenset(
    {
        "implied", "background", "mentioned", "slight", "one", "sided", "onesided", "unrequited",
        "eventual", "pre", "hints", "hint", "of", "hinted", "minor", "brief", "established", "future",
        "possible", "sort", "kind", "references", "referenced", "to", "relationship", "romantic",
        "pairing", "sexual", "ish",
    }
)  # fmt: skip
_QUALIFIERS = _PAST_WORDS | _PLATONIC_WORDS | _OTHER_QUALIFIERS
NO_PAIRING = frozenset({"gen", "none", "n a", "na", "no pairing", "no pairings", "no ship", "nothing"})
"""What a pairing header or a member's pairing search says for "no romance" (normalised)."""
_NO_PAIRING = NO_PAIRING
_NAME_PARTICLES = frozenset(
    {"the", "of", "de", "van", "von", "mr", "mrs", "ms", "miss", "dr", "la", "le", "principal", "professor",
     "agent", "mayor", "detective", "sir", "lady", "lord"}
)  # fmt: skip

_AND_SPLIT = re.compile(r"\s+and\s+", re.IGNORECASE)
_BRACKETED = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]")
_DECORATION = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\"[^\"]*\"|“[^”]*”")


STAND_INS = {
    "oc": "Original Character",
    "ocs": "Original Character",
    "omc": "Original Male Character",
    "omcs": "Original Male Character",
    "ofc": "Original Female Character",
    "ofcs": "Original Female Character",
}
"""Every fandom's shorthand for a character the author made up (`Giles/OFC`), as AO3 names them."""


def stand_in(name: str) -> str | None:
    """The name `STAND_INS` writes a shorthand out as (`OFC`, `o.f.c.`), or None for any other name."""
    return STAND_INS.get(normalise(name).replace(" ", ""))


def tidy_name(name: str) -> str:
    """A name not in the roster, kept as written: spaces collapsed, title-cased when all lower case;
    a made-up character's shorthand (`OFC`) written out (`stand_in`)."""
    written_out = stand_in(name)
    if written_out:
        return written_out
    words = name.split()
    if name == name.lower():
        words = [w[:1].upper() + w[1:] for w in words]
    return " ".join(words)


def _trie_pattern(words: Iterable[str], after_first: str = "") -> str:
    """One regex alternation over `words` shaped as a character trie (fast; longest match first).

    `after_first` is inserted after each word's first character (a look-behind there costs nothing
    at positions where no word starts, unlike one at the front of the pattern).
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any], depth: int) -> str:
        alts = [
            (r"\s+" if ch == " " else re.escape(ch))
            + (after_first if depth == 0 else "")
            + emit(node[ch], depth + 1)
            for ch in sorted(node)
            if ch
        ]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(trie, 0)


class Roster:
    """One fandom's names. Build with `Roster.load(path)` or `Roster.from_dict(data)`."""

    def __init__(self, name: str, names: list[str], fandoms: list[str], tables: RosterTables) -> None:
        self.fandom = name
        self.names = names
        self.fandoms = fandoms
        self._t = tables
        self.companions: list[Roster] = []  # rosters of other fandoms loaded beside this one
        self._derived = self._derive_words(names, tables.exact)
        # Word boundary before a name: checked after its first character (`(?<!\w.)`), because a
        # look-behind at the front defeats the regex engine's first-character scan (3x slower).
        pattern = _trie_pattern(tables.text, after_first=r"(?<!\w.)")
        self._mentions = re.compile(rf"(?:{pattern})(?!\w)") if pattern else None

    @staticmethod
    def _derive_words(names: list[str], exact: dict[str, str]) -> dict[str, str]:
        """Single words of canonical names that point to one character only ("Rosenberg")."""
        owners: dict[str, set[str]] = {}
        for canon in names:
            words = [w for w in normalise(canon).split() if w not in _NAME_PARTICLES]
            keys = {w for w in words if len(w) >= 3} | ({" ".join(words[1:])} if len(words) > 2 else set())
            for key in keys:
                owners.setdefault(key, set()).add(canon)
        return {w: next(iter(o)) for w, o in owners.items() if len(o) == 1 and w not in exact}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "roster") -> Roster:
        """A roster from a parsed mapping; `RosterError` lists every entry that is wrong."""
        name, names, fandoms, tables = build_tables(data)
        if tables.problems:
            raise RosterError(tables.problems, source)
        return cls(name, names, fandoms, tables)

    @classmethod
    def load(cls, path: Path | str) -> Roster:
        """Read a roster file (YAML); `RosterError` names the file and every bad entry.

        `path` may also be a folder (every `*.yaml` in it) or several files separated by commas
        (`fandoms/buffyverse.yaml,fandoms/harrypotter.yaml`): the first is the main roster, the
        others its `companions`, each used for the stories of its own fandom."""
        files = roster_files(path)
        if len(files) != 1 or files[0] != Path(path):
            if not files:
                raise RosterError(["no roster files found there"], str(path))
            main, *others = (cls.load(file) for file in files)
            main.companions = others
            return main
        data = read_roster_yaml(Path(path))
        roster = cls.from_dict(data if data is not None else {}, source=str(path))
        log.debug("roster %s: %s characters from %s", roster.fandom, len(roster.names), path)
        return roster

    def __repr__(self) -> str:
        return f"Roster({self.fandom!r}, {len(self.names)} characters, {len(self._t.ships)} ships)"

    # -- single names ------------------------------------------------------------------------------

    def resolve(self, name: str) -> str | None:
        """The canonical name `name` means (name, alias, unique first/last name, initials), or None."""
        for candidate in (name, _DECORATION.sub(" ", name)):
            key = normalise(candidate)
            if not key:
                continue
            found = self._t.exact.get(key) or self._t.initials.get(key) or self._derived.get(key)
            if found:
                return found
        return None

    def character(self, name: str) -> str:
        """`resolve(name)`, or the name tidied as written when the roster does not know it."""
        return self.resolve(name) or tidy_name(name.strip())

    def name_keys(self) -> dict[str, str]:
        """Every way the roster writes a name (canonical, aliases, header-only), normalised, with
        the canonical name each means."""
        return dict(self._t.exact)

    def initial_keys(self) -> dict[str, str]:
        """The roster's initials (`w`, `ss`), normalised, with the canonical name each means."""
        return dict(self._t.initials)

    def suggest(self, name: str, limit: int = 5) -> list[tuple[str, float]]:
        """Canonical names close to `name` (typos, partial names), best first, with a 0-100 score."""
        key = normalise(name)
        if not key or limit <= 0:
            return []
        best: dict[str, float] = {}
        hits = process.extract(
            key, list(self._t.choices), scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=SUGGEST_CUTOFF
        )
        for choice, score, _ in hits:
            canon = self._t.choices[choice]
            if choice == key:
                score = 100.0
            best[canon] = max(best.get(canon, 0.0), float(score))
        return sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

    def resolve_fuzzy(self, name: str, cutoff: float = 85) -> str | None:
        """`resolve(name)`, else the best suggestion scoring at least `cutoff`, else None."""
        exact = self.resolve(name)
        if exact:
            return exact
        hits = self.suggest(name, limit=1)
        return hits[0][0] if hits and hits[0][1] >= cutoff else None

    @property
    def ships(self) -> dict[str, tuple[str, ...]]:
        """Every ship name as the roster file writes it (`Spuffy`), with its canonical members."""
        return {self._t.ship_labels[key]: members for key, members in self._t.ships.items()}

    def ship(self, name: str) -> tuple[str, ...] | None:
        """The canonical members (sorted) of a ship name such as `Spuffy`, or None."""
        return self._t.ships.get(normalise(name))

    def fandom_of(self, label: str) -> str | None:
        """The canonical fandom label a written label means (`BtVS`, `btvs`, `AtS`), or None."""
        for candidate in (label, _DECORATION.sub(" ", label)):
            found = self._t.fandoms.get(normalise(candidate))
            if found:
                return found
        return None

    def for_fandoms(self, fandoms: Iterable[str]) -> Roster | None:
        """The roster (this one or a companion) for a story of these fandom labels; None when no
        loaded roster is for them. A story with no stated fandom gets this, the main roster."""
        labels = [f for f in fandoms if f.strip()]
        if not labels:
            return self
        return next((r for r in (self, *self.companions) if any(r.fandom_of(f) for f in labels)), None)

    def covers(self, fandoms: Iterable[str]) -> bool:
        """True when a story of these fandom labels may use this roster (no labels: assume yes)."""
        labels = [f for f in fandoms if f.strip()]
        return not labels or any(self.fandom_of(f) for f in labels)

    # -- pairing fields ----------------------------------------------------------------------------

    def parse_relationships(self, text: str) -> list[Relationship]:
        """Every relationship in a pairing field (`W/S, past Buffy/Angel`, `Spuffy`, `B & D`)."""
        found: dict[tuple[tuple[str, ...], str], Relationship] = {}
        for piece in self._pieces(text or ""):
            rel = self._relationship(piece)
            if rel is not None:
                found.setdefault((rel.characters, rel.kind), rel)
        return list(found.values())

    @staticmethod
    def _pieces(text: str) -> list[str]:
        pieces: list[str] = []
        for part in split_pieces(text):
            halves = _AND_SPLIT.split(part)
            if len(halves) > 1 and all(re.search(r"[/&]|\s[xX×]\s", h) for h in halves):
                pieces.extend(halves)
            elif part.strip():
                pieces.append(part.strip())
        return pieces

    def _relationship(self, piece: str) -> Relationship | None:
        words: set[str] = set()

        def qualifier(inner: str) -> bool:
            ws = normalise(inner).split()
            return bool(ws) and all(w in _QUALIFIERS for w in ws)

        def bracket(m: re.Match[str]) -> str:
            inner = m.group(1) if m.group(1) is not None else m.group(2)
            if qualifier(inner):
                words.update(normalise(inner).split())
                return " "
            return m.group(0)

        core = _BRACKETED.sub(bracket, piece).strip(" \t-–—:.*")
        tokens = core.split()
        while tokens and qualifier(tokens[0].rstrip(":-")) and len(tokens) > 1:
            words.update(normalise(tokens.pop(0)).split())
        while tokens and qualifier(tokens[-1]) and len(tokens) > 1:
            words.update(normalise(tokens.pop()).split())
        core = " ".join(tokens)
        kind: RelationshipKind = "platonic" if words & _PLATONIC_WORDS else "romantic"
        if normalise(core) in _NO_PAIRING or not core:
            return None
        split = split_pairing(core)
        if split is not None:
            members = split[0]
            if split[1] == "platonic":
                kind = "platonic"
        elif _AND_SPLIT.search(core):
            members = _AND_SPLIT.split(core)
        else:
            ship = self.ship(core)
            if ship is None:
                return None
            members = list(ship)
        names: set[str] = set()
        for member in (m.strip() for m in members):
            ship = self.ship(member) if member and self.resolve(member) is None else None
            if ship:
                names.update(ship)  # `Spuffy/Angel`
            elif 0 < len(member) <= MAX_NAME:
                names.add(self.character(member))
        if len(names) < 2:
            return None
        return Relationship(tuple(sorted(names)), kind, raw=piece.strip(), past=bool(words & _PAST_WORDS))

    # -- story text --------------------------------------------------------------------------------

    def count_mentions(self, body: str) -> dict[str, int]:
        """How often each character is named in prose (capitalised names/aliases, not header-only)."""
        counts: dict[str, int] = {}
        if self._mentions is None or not body:
            return counts
        for surface, n in Counter(self._mentions.findall(body)).items():
            canon = self._t.text.get(" ".join(surface.split()))
            if canon is not None:
                counts[canon] = counts.get(canon, 0) + n
        return counts
