"""The fandom roster: canonical characters, their aliases and initials, ship names and fandom labels,
read from a data file (`fandoms/*.yaml`), and what can be done with them: resolve a name as written,
suggest names for a typo, read a whole pairing field into `Relationship`s, count characters in prose.

Owns name matching rules. It must stay fandom-agnostic (every name comes from the data file) and
pure: no database, no Discord, no file I/O beyond `Roster.load`.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process

from archive.model import Relationship, RelationshipKind
from archive.names import fold
from archive.pairings import split_pairing, split_pieces
from archive.safeyaml import load_bounded

log = logging.getLogger(__name__)

TOP_KEYS = frozenset({"name", "fandoms", "initials", "characters", "ships"})
CHARACTER_KEYS = frozenset({"aliases", "header_only"})
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
_NO_PAIRING = frozenset({"gen", "none", "n a", "na", "no pairing", "no pairings", "no ship", "nothing"})
_NAME_PARTICLES = frozenset(
    {"the", "of", "de", "van", "von", "mr", "mrs", "ms", "miss", "dr", "la", "le", "principal", "professor",
     "agent", "mayor", "detective", "sir", "lady", "lord"}
)  # fmt: skip

_AND_SPLIT = re.compile(r"\s+and\s+", re.IGNORECASE)
_BRACKETED = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]")
_DECORATION = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\"[^\"]*\"|“[^”]*”")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key written twice in one mapping (YAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is written twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class RosterError(ValueError):
    """A roster file or mapping cannot be used; `problems` lists every entry that is wrong."""

    def __init__(self, problems: list[str], source: str = "roster") -> None:
        self.problems = problems
        self.source = source
        super().__init__(f"{source}: " + "; ".join(problems))


def normalise(text: str) -> str:
    """A matching key: the one name folding, `archive.names.fold`."""
    return fold(text)


def tidy_name(name: str) -> str:
    """A name not in the roster, kept as written: spaces collapsed, title-cased when all lower case."""
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


@dataclass(slots=True)
class _Tables:
    """Lookup tables built while validating a roster mapping."""

    exact: dict[str, str] = field(default_factory=dict)  # normalised name/alias -> canonical
    text: dict[str, str] = field(default_factory=dict)  # surface form counted in prose -> canonical
    choices: dict[str, str] = field(default_factory=dict)  # normalised fuzzy choice -> canonical
    initials: dict[str, str] = field(default_factory=dict)
    ships: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ship_labels: dict[str, str] = field(default_factory=dict)  # normalised ship name -> as written
    fandoms: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _str_list(value: Any, where: str, problems: list[str]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where}: expected a list of names, got {value!r}")
        return []
    return [" ".join(v.split()) for v in value]


def _claim(table: dict[str, str], key: str, owner: str, what: str, problems: list[str]) -> None:
    if not key:
        problems.append(f"{what}: has no letters or digits")
    elif table.setdefault(key, owner) != owner:
        problems.append(f"{what}: also means {table[key]!r}, so it cannot mean {owner!r}")


def _build(data: Mapping[str, Any]) -> tuple[str, list[str], list[str], _Tables]:
    t = _Tables()
    p = t.problems
    if not isinstance(data, Mapping):
        raise RosterError([f"expected a mapping at the top, got {type(data).__name__}"])
    p.extend(f"unknown key {k!r} (expected one of {sorted(TOP_KEYS)})" for k in data if k not in TOP_KEYS)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        p.append("name: missing or not a string")
        name = "unknown fandom"
    chars = data.get("characters")
    if not isinstance(chars, Mapping) or not chars:
        p.append("characters: missing or not a mapping of name -> aliases")
        chars = {}
    names: list[str] = []
    for canon, spec in chars.items():
        where = f"characters.{canon}"
        if not isinstance(canon, str) or not canon.strip():
            p.append(f"{where}: a character name must be text")
            continue
        aliases: list[str] = []
        header_only: list[str] = []
        if isinstance(spec, Mapping):
            p.extend(f"{where}: unknown key {k!r}" for k in spec if k not in CHARACTER_KEYS)
            aliases = _str_list(spec.get("aliases"), f"{where}.aliases", p)
            header_only = _str_list(spec.get("header_only"), f"{where}.header_only", p)
        else:
            aliases = _str_list(spec, where, p)
        names.append(canon)
        for alias in [canon, *aliases, *header_only]:
            _claim(t.exact, normalise(alias), canon, f"{where}: {alias!r}", p)
            if len(normalise(alias)) >= 3 or alias == canon:
                t.choices.setdefault(normalise(alias), canon)
        for alias in [a for a in [canon, *aliases] if a not in header_only]:
            if not alias[0].isupper() and not alias[0].isdigit():
                p.append(f"{where}: alias {alias!r} is counted in story text, so it must start with a "
                         "capital letter (or move it to header_only)")  # fmt: skip
            _claim(t.text, alias, canon, f"{where}: {alias!r}", p)
            _claim(t.text, alias.upper(), canon, f"{where}: {alias!r}", p)
    for key, who in (data.get("initials") or {}).items():
        if normalise(str(who)) not in t.exact:
            p.append(f"initials.{key}: {who!r} is not a character in this roster")
        else:
            t.initials[normalise(str(key))] = t.exact[normalise(str(who))]
    for ship, members in (data.get("ships") or {}).items():
        found = []
        for member in _str_list(members, f"ships.{ship}", p):
            if normalise(member) in t.exact:
                found.append(t.exact[normalise(member)])
            else:
                p.append(f"ships.{ship}: member {member!r} is not a character in this roster")
        if len(set(found)) < 2:
            p.append(f"ships.{ship}: a ship needs at least two different characters")
        if normalise(str(ship)) in t.exact:
            p.append(f"ships.{ship}: the ship name is also a character name")
        t.ships[normalise(str(ship))] = tuple(sorted(set(found)))
        t.ship_labels[normalise(str(ship))] = str(ship)
    fandoms: list[str] = []
    for label, aliases in (data.get("fandoms") or {}).items():
        fandoms.append(str(label))
        for alias in [str(label), *_str_list(aliases, f"fandoms.{label}", p)]:
            _claim(t.fandoms, normalise(alias), str(label), f"fandoms.{label}: {alias!r}", p)
    return name.strip(), names, fandoms, t


def roster_files(path: Path | str) -> list[Path]:
    """The roster files a `ROSTER_FILE` value names: one file, a folder's `*.yaml`, or a
    comma-separated list of either."""
    text = str(path)
    if Path(text).is_dir():  # every roster in it (other data files there, like tags.yaml, are not)
        found = sorted(Path(text).glob("*.yaml")) + sorted(Path(text).glob("*.yml"))
        return [file for file in found if _is_roster_file(file)]
    if "," in text and not Path(text).exists():
        return [file for part in text.split(",") if part.strip() for file in roster_files(part.strip())]
    return [Path(text)]


def _is_roster_file(path: Path) -> bool:
    try:
        return (
            re.search(r"(?m)^characters\s*:", path.read_text(encoding="utf-8", errors="replace")) is not None
        )
    except OSError:
        return False


class Roster:
    """One fandom's names. Build with `Roster.load(path)` or `Roster.from_dict(data)`."""

    def __init__(self, name: str, names: list[str], fandoms: list[str], tables: _Tables) -> None:
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
        name, names, fandoms, tables = _build(data)
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
        try:
            data = load_bounded(Path(path).read_text(encoding="utf-8"), _UniqueKeyLoader)  # a SafeLoader
        except (OSError, yaml.YAMLError) as exc:
            raise RosterError([f"cannot read it: {exc}"], str(path)) from exc
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
