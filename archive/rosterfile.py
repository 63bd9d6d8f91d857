"""Reading a roster's data file (`fandoms/*.yaml`): which files a `ROSTER_FILE` value names, the
YAML read strictly (a key written twice is refused), and every entry validated into the lookup
tables `archive.roster.Roster` matches names with (`RosterTables`), or a `RosterError` that lists
every entry that is wrong. Pure: no database, no Discord; file reads only in `roster_files` and
`read_roster_yaml`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from archive.names import fold
from archive.safeyaml import load_bounded

TOP_KEYS = frozenset({"name", "fandoms", "initials", "characters", "ships"})
CHARACTER_KEYS = frozenset({"aliases", "header_only"})


def normalise(text: str) -> str:
    """A matching key: the one name folding, `archive.names.fold`."""
    return fold(text)


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


def read_roster_yaml(path: Path) -> Any:
    """A roster file's mapping (None when empty); `RosterError` when it cannot be read or parsed."""
    try:
        return load_bounded(path.read_text(encoding="utf-8"), _UniqueKeyLoader)  # a SafeLoader
    except (OSError, yaml.YAMLError) as exc:
        raise RosterError([f"cannot read it: {exc}"], str(path)) from exc


@dataclass(slots=True)
class RosterTables:
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


def build_tables(data: Mapping[str, Any]) -> tuple[str, list[str], list[str], RosterTables]:
    """A roster mapping validated: its fandom name, canonical characters, fandom labels and lookup
    tables, with every problem found listed in `tables.problems` (the caller raises)."""
    t = RosterTables()
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
