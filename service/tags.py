"""Which stored tags a typed tag means: `tag: angst` finds stories tagged "Angst", "genre:angst" or
"angst!", and `h/c` finds "hurt/comfort", through the synonyms a host keeps in `fandoms/tags.yaml`
(beside the roster).

Owns the tag synonym file (reading and checking it), a tag's group key (folded, any `namespace:`
written before a colon dropped, synonyms merged) and resolving a typed tag to every stored tag of
its group. A tag the archive lacks goes through `service.names.resolve_name` (a unique prefix or a
close typo, else "did you mean"). It must not touch the database or import Discord.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from db.keys import fold
from service.names import name_key, resolve_name
from settings import ROOT

log = logging.getLogger(__name__)

TAGS_FILE = "tags.yaml"
_NAMESPACE = re.compile(r"^\s*[^\W\d_][\w -]{0,24}:\s*(?=\S)")


class TagFileError(ValueError):
    """The tag synonym file cannot be used; `problems` lists every wrong entry."""

    def __init__(self, problems: list[str], source: str) -> None:
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class Synonyms:
    """Folded spelling -> the folded key of the tag it means."""

    of: Mapping[str, str] = field(default_factory=dict)

    def key(self, label: str) -> str:
        """The group key of a tag as written: `genre:Hurt/Comfort`, `h/c` -> `hurt comfort`."""
        bare = fold(_NAMESPACE.sub("", label)) or fold(label)
        return self.of.get(bare, bare)


def parse_synonyms(data: Any, source: str = TAGS_FILE) -> Synonyms:
    """Synonyms from the parsed file; `TagFileError` lists every problem at once."""
    problems: list[str] = []
    if data is None:
        return Synonyms()
    if not isinstance(data, Mapping) or set(data) - {"synonyms"}:
        raise TagFileError(["expected a mapping with one key, 'synonyms'"], source)
    table = data.get("synonyms") or {}
    if not isinstance(table, Mapping):
        raise TagFileError(["synonyms: expected a mapping of tag -> [other spellings]"], source)
    of: dict[str, str] = {}
    for tag, spellings in table.items():
        key = fold(str(tag))
        if not key:
            problems.append(f"synonyms.{tag}: has no letters or digits")
            continue
        if not isinstance(spellings, list) or not all(isinstance(s, str) and fold(s) for s in spellings):
            problems.append(f"synonyms.{tag}: expected a list of spellings, got {spellings!r}")
            continue
        for spelling in [str(tag), *spellings]:
            folded = fold(spelling)
            if of.setdefault(folded, key) != key:
                problems.append(f"synonyms.{tag}: {spelling!r} already means {of[folded]!r}")
    if problems:
        raise TagFileError(problems, source)
    return Synonyms(of)


def load_synonyms(path: Path) -> Synonyms:
    """Read a synonym file; `TagFileError` names the file and every bad entry."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TagFileError([f"cannot read it: {exc}"], str(path)) from exc
    return parse_synonyms(data, str(path))


def synonyms_path(roster_file: Path | str | None) -> Path:
    """`tags.yaml` beside the roster file (or in the roster folder; for a list, beside the first),
    else the one shipped in `fandoms/`."""
    first = Path(str(roster_file).split(",")[0].strip()) if roster_file else None
    beside = (first / TAGS_FILE if first.is_dir() else first.parent / TAGS_FILE) if first else None
    return beside if beside is not None and beside.exists() else ROOT / "fandoms" / TAGS_FILE


@lru_cache(maxsize=8)
def _cached(path: Path, mtime: float) -> Synonyms:
    return load_synonyms(path)


def synonyms_for(roster_file: Path | None) -> Synonyms:
    """The host's synonyms (re-read when the file changes); none when it is absent or broken."""
    path = synonyms_path(roster_file)
    try:
        return _cached(path, path.stat().st_mtime)
    except FileNotFoundError:
        return Synonyms()
    except TagFileError as exc:
        log.error("tag synonyms not used: %s", exc)
        return Synonyms()


def tag_groups(labels: Mapping[str, str], display: Mapping[str, str], syn: Synonyms) -> dict[str, list[str]]:
    """Group key -> stored tag names, from the vocabulary's labels (folded -> stored name)."""
    groups: dict[str, set[str]] = {}
    for stored in set(labels.values()):
        groups.setdefault(syn.key(display.get(stored, stored)), set()).add(stored)
    return {k: sorted(v) for k, v in groups.items()}


def resolve_tag(
    typed: str, groups: Mapping[str, list[str]], syn: Synonyms, counts: Mapping[str, int] | None = None
) -> list[str]:
    """Every stored tag name `typed` means; raises QueryError when none is clearly meant."""
    key = syn.key(typed)
    if key in groups:
        return list(groups[key])
    keys = {name_key(k): k for k in groups}
    found = resolve_name("tag", typed, keys, counts)
    return list(groups[found])
