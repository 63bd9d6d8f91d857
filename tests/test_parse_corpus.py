"""Every story of a real personal archive with YAML front matter (`corpus/antennapedia`, 208 files in six
fandoms) parses, and what the parser reports agrees with the front matter read independently here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from archive.model import StoryMeta
from archive.parse import is_unreadable, parse_story
from archive.roster import Roster
from tests.conftest import CORPUS_DIR, ROSTER_FILE

pytestmark = pytest.mark.corpus

LEVELS = {"general": "general", "teen": "teen", "mature": "mature", "adult": "explicit"}
MALFORMED = ("who/tc_mirror.md", "who/gen_explosion_daleks.md")


@dataclass
class Parsed:
    path: Path
    meta: StoryMeta
    front: dict[str, Any] | None  # None when YAML cannot read the block (the malformed files)


def _front_matter(text: str) -> dict[str, Any] | None:
    match = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
    if match is None:
        return None
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


@pytest.fixture(scope="module")
def roster() -> Roster:
    return Roster.load(ROSTER_FILE)


@pytest.fixture(scope="module")
def corpus(roster: Roster) -> list[Parsed]:
    folder = CORPUS_DIR / "antennapedia"
    out = []
    for path in sorted(folder.glob("*/*.md")):
        data = path.read_bytes()
        out.append(Parsed(path, parse_story(data, str(path), roster), _front_matter(data.decode("utf-8"))))
    return out


def _names(pairing: str, roster: Roster) -> frozenset[str]:
    return frozenset((roster.resolve(n) or n.strip()).casefold() for n in pairing.split("/") if n.strip())


def _rate(label: str, hits: int, total: int, misses: list[str]) -> float:
    rate = hits / total if total else 1.0
    print(f"{label}: {hits}/{total} agree ({rate:.1%})" + (f"; first misses: {misses[:5]}" if misses else ""))
    return rate


def test_every_story_parses(corpus: list[Parsed]) -> None:
    assert len(corpus) == 208
    bad = [f"{p.path.name}: {p.meta.problems}" for p in corpus if is_unreadable(p.meta)]
    assert not bad
    for p in corpus:
        assert p.meta.format == "yaml-markdown", p.path
        assert p.meta.title and p.meta.words > 20, p.path
        assert not re.search(r"</?(?:p|br|i|em|b|div)\b[^>]*>", p.meta.body), f"HTML left in {p.path}"
        assert not re.search(r"&#?\w+;", p.meta.body), f"entity left in {p.path}"


def test_titles_agree(corpus: list[Parsed]) -> None:
    checked = [p for p in corpus if p.front and p.front.get("title")]
    misses = [p.path.name for p in checked if p.meta.title != " ".join(str(p.front["title"]).split())]
    assert _rate("titles", len(checked) - len(misses), len(checked), misses) >= 0.98


def test_rating_levels_agree(corpus: list[Parsed]) -> None:
    checked = [p for p in corpus if p.front and str(p.front.get("rating", "")).lower() in LEVELS]
    misses = [p.path.name for p in checked if p.meta.rating.level != LEVELS[str(p.front["rating"]).lower()]]
    assert _rate("rating levels", len(checked) - len(misses), len(checked), misses) >= 0.98


def test_pairings_agree(corpus: list[Parsed], roster: Roster) -> None:
    checked = [p for p in corpus if p.front and p.front.get("pairing")]
    misses = []
    for p in checked:
        wanted = {_names(str(p.front["pairing"]), roster)} - {frozenset({"gen"})}
        found = {frozenset(n.casefold() for n in r.characters) for r in p.meta.relationships}
        if not wanted <= found:
            misses.append(f"{p.path.name}: {p.front['pairing']} -> {[r.key for r in p.meta.relationships]}")
    assert _rate("pairings", len(checked) - len(misses), len(checked), misses) >= 0.95


def test_pairing_tags_become_relationships(corpus: list[Parsed], roster: Roster) -> None:
    total = hits = 0
    misses = []
    for p in corpus:
        for tag in (p.front or {}).get("tags") or []:
            if str(tag).startswith("p:") and str(tag)[2:].lower() != "gen":
                total += 1
                wanted = _names(str(tag)[2:], roster)
                if wanted in {frozenset(n.casefold() for n in r.characters) for r in p.meta.relationships}:
                    hits += 1
                else:
                    misses.append(f"{p.path.name}: {tag}")
    assert _rate("p: tags", hits, total, misses) >= 0.95


def test_character_tags_become_header_characters(corpus: list[Parsed], roster: Roster) -> None:
    total = hits = 0
    misses = []
    for p in corpus:
        header = {c.name.casefold() for c in p.meta.characters if c.source == "header"}
        for tag in (p.front or {}).get("tags") or []:
            if str(tag).startswith("c:"):
                total += 1
                slug = str(tag)[2:].rsplit("!", 1)[-1].replace("-", " ")
                if (roster.resolve(slug) or slug).casefold() in header:
                    hits += 1
                else:
                    misses.append(f"{p.path.name}: {tag}")
    assert _rate("c: tags", hits, total, misses) >= 0.95


def test_buffy_stories_resolve_to_canonical_names(corpus: list[Parsed]) -> None:
    btvs = [p for p in corpus if p.path.parent.name == "btvs"]
    assert len(btvs) == 119
    giles = [p for p in btvs if any("Rupert Giles" in r.characters for r in p.meta.relationships)]
    assert len(giles) >= 90  # the archive is mostly Giles pairings
    for p in btvs:
        for rel in p.meta.relationships:
            assert "Giles" not in rel.characters and "Buffy" not in rel.characters, p.path


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_front_matter_still_yields_a_story(corpus: list[Parsed], name: str) -> None:
    parsed = next(p for p in corpus if p.path.as_posix().endswith(name))
    assert parsed.front is None  # YAML (or the strict block pattern) really cannot read it
    title = re.search(r"^title:\s*(.+)$", parsed.path.read_text(encoding="utf-8"), re.MULTILINE)
    assert title is not None
    assert parsed.meta.title == title.group(1).strip().strip("\"'")
    assert parsed.meta.problems, "the reader should say what it could not read"
    assert parsed.meta.author == "antennapedia"
    assert parsed.meta.words > 100
    assert not parsed.meta.body.startswith(("---", "--", "idtag", "tags:"))
