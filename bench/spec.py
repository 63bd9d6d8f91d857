"""What one synthetic story is: `StorySpec`, drawn deterministically from (seed, index) and the
material's real metadata shapes, plus the titles and prose it is written with.

Owns the mapping of a real AO3 row's shape (counts, rating, length, flags) onto the Buffyverse
roster, title building from word material and sentence-level prose assembly with names swapped.
It must not write files (see `bench.writers`) and must never emit a whole real title or story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from bench.material import SLOT, Material

FORMATS: tuple[tuple[str, float], ...] = (
    ("mailing-list", 0.36),
    ("ao3-html", 0.34),
    ("yaml-markdown", 0.10),
    ("ffnet", 0.07),
    ("fanficfare-txt", 0.07),
    ("ao3-epub", 0.03),
    ("headerless", 0.03),
)
AO3_RATINGS = {
    "General Audiences": "general",
    "Teen And Up Audiences": "teen",
    "Mature": "mature",
    "Explicit": "explicit",
    "Not Rated": "not_rated",
}
JOINERS = ("of", "and", "in", "the", "for", "with", "under", "after", "before", "without", "to")
WORDS_CAP = 73_000  # the real p99 of ds9-works.csv: the tail beyond it is cut (see BENCHMARKS.md)
MAX_CHARACTERS = 14
MAX_RELATIONSHIPS = 6


@dataclass(slots=True)
class StorySpec:
    """One story as generated: the truth the parsed metadata is checked against."""

    index: int
    format: str
    title: str | None  # None for a headerless chapter
    author: str
    rating: str  # AO3 rating name from the source row
    level: str  # the level on Librarian's scale
    relationships: list[tuple[tuple[str, ...], str]]  # (sorted canonical members, kind)
    characters: list[str]  # canonical names; relationship members first
    tags: list[str]
    warnings: list[str]
    summary: str
    words_target: int
    complete: bool
    language: str
    published: str  # ISO date
    chapters: int
    series: tuple[str, int] | None
    part: int | None = None  # headerless chapters: their part number
    paragraphs: list[str] = field(default_factory=list)
    words: int = 0  # the body's actual word count


class Drawer:
    """Draws specs from material; holds the numpy arrays built once per process."""

    def __init__(self, material: Material) -> None:
        self.m = material
        self.sent_words = np.array([len(s.split()) for s in material.sentences], dtype=np.int32)
        slots = np.array(material.slots, dtype=np.int32)
        self.pools = [np.flatnonzero(slots <= k) for k in range(5)]
        self.para_lengths = np.array(material.para_lengths or [3], dtype=np.int32)
        self.formats = [f for f, _ in FORMATS]
        self.format_p = np.array([p for _, p in FORMATS]) / sum(p for _, p in FORMATS)
        order = {name: i for i, name in enumerate(("Buffy Summers", "Spike", "Willow Rosenberg", "Angel"))}
        names = sorted(
            material.roster.canonical, key=lambda n: order.get(n, 4 + material.roster.canonical.index(n))
        )
        self.names = names
        weights = 1.0 / (np.arange(len(names)) + 2.0)
        self.name_p = weights / weights.sum()
        self.ships = list(material.roster.ships)
        self.real_titles = {r["title"].strip().casefold() for r in material.rows}
        self.tag_p = np.array(material.tag_weights, dtype=float)
        self.tag_p = self.tag_p / self.tag_p.sum() if len(self.tag_p) else self.tag_p
        by_lang: dict[str, list[int]] = {}
        for i, row in enumerate(material.rows):
            by_lang.setdefault(row["language"] or "English", []).append(i)
        self.rows_by_lang = by_lang

    def draw(self, seed: int, index: int) -> StorySpec:
        """The spec of story `index` of an archive generated with `seed` (same inputs, same story)."""
        rng, row, fmt, characters, relationships, series, title = self._head(seed, index)
        words = min(max(int(row["words"] or 0), 40), WORDS_CAP)
        language = row["language"] or "English"
        rating = row["rating"] or "Not Rated"
        level = AO3_RATINGS.get(rating, "not_rated")
        chapters = max(1, int(row["chapters_posted"] or 1))
        spec = StorySpec(
            index=index,
            format=fmt,
            title=title,
            author=self._author(row["author_hash"]),
            rating=rating,
            level=level,
            relationships=relationships,
            characters=characters,
            tags=self._tags(rng, row),
            warnings=[w for w in row["warnings"].split(" | ") if w],
            summary=" ".join(self._render(rng, characters, self._pick(rng, characters, 30))),
            words_target=words,
            complete=row["complete"] != "False",
            language=language,
            published=_iso(row["updated_date"]),
            chapters=min(chapters, 1 + words // 800),
            series=series,
            part=int(rng.integers(1, 30)) if fmt == "headerless" else None,
        )
        spec.paragraphs = self.prose(rng, characters, words)
        spec.words = sum(len(p.split()) for p in spec.paragraphs)
        return spec

    def _head(self, seed: int, index: int) -> tuple[Any, ...]:
        """What `draw` decides before the prose: (rng, row, format, characters, relationships,
        series, title); the rng is left where `draw` goes on from."""
        rng = np.random.default_rng([seed, index])
        row = self.m.rows[int(rng.integers(len(self.m.rows)))]
        fmt = self.formats[int(rng.choice(len(self.formats), p=self.format_p))]
        characters, relationships = self._cast(rng, row, fmt)
        series = None
        if row["series"]:
            found = re.match(r"Part (\d+)", row["series"])
            series = (self._title(rng, "English"), int(found.group(1)) if found else 1)
        title = None if fmt == "headerless" else self._title(rng, row["language"] or "English")
        return rng, row, fmt, characters, relationships, series, title

    def title(self, seed: int, index: int) -> str | None:
        """The title story `index` of an archive generated with `seed` gets (None: headerless),
        without writing its prose: what the title benchmark measures on."""
        return self._head(seed, index)[-1]

    # -- cast -----------------------------------------------------------------------------------
    def _cast(self, rng: np.random.Generator, row: dict[str, str], fmt: str) -> tuple[list[str], list]:
        rel_shapes = [r for r in row["relationships"].split(" | ") if r][:MAX_RELATIONSHIPS]
        if fmt == "headerless":
            rel_shapes = []
        relationships: list[tuple[tuple[str, ...], str]] = []
        for shape in rel_shapes:
            kind = "platonic" if "&" in shape and "/" not in shape else "romantic"
            if fmt in {"ffnet", "yaml-markdown"} and kind == "platonic":
                continue  # those formats have no way to write a friendship
            size = min(3, max(2, shape.count("/") + 1, shape.count("&") + 1))
            if self.ships and size == 2 and rng.random() < 0.5:
                members = tuple(sorted(self.ships[int(rng.integers(len(self.ships)))]))
            else:
                picked = rng.choice(len(self.names), size=size, replace=False, p=self.name_p)
                members = tuple(sorted(self.names[int(i)] for i in picked))
            if all(members != r[0] for r in relationships):
                relationships.append((members, kind))
        n_chars = min(len([c for c in row["characters"].split(" | ") if c]), MAX_CHARACTERS)
        characters: list[str] = []
        for members, _ in relationships:
            characters += [m for m in members if m not in characters]
        extra = max(0, n_chars - len(characters))
        if extra:
            for i in rng.choice(
                len(self.names), size=min(extra + 3, len(self.names)), replace=False, p=self.name_p
            ):
                if len(characters) < max(n_chars, 1) and self.names[int(i)] not in characters:
                    characters.append(self.names[int(i)])
        return characters, relationships

    def _tags(self, rng: np.random.Generator, row: dict[str, str]) -> list[str]:
        n = min(len([t for t in row["freeforms"].split(" | ") if t]), 30, len(self.m.tags))
        if not n:
            return []
        return [
            self.m.tags[int(i)] for i in rng.choice(len(self.m.tags), size=n, replace=False, p=self.tag_p)
        ]

    def _author(self, author_hash: str) -> str:
        """A stable pen name per hashed author, so prolific authors stay prolific."""
        h = (
            int(author_hash or "0", 16)
            if re.fullmatch(r"[0-9a-f]+", author_hash or "")
            else hash(author_hash)
        )
        words = self.m.title_words
        first, second = words[h % len(words)], words[(h // 7919) % len(words)]
        style = h % 4
        if style == 0:
            return f"{first}{second}"
        if style == 1:
            return f"{first.lower()}_{second.lower()}"
        if style == 2:
            return f"{first} {second}"
        return f"{first.lower()}{h % 100}"

    # -- titles ---------------------------------------------------------------------------------
    def _title(self, rng: np.random.Generator, language: str) -> str:
        for _ in range(8):
            title = self._title_once(rng, language).strip(" '\"“”‘’,.:;-")
            if title.casefold() not in self.real_titles and 0 < len(title) <= 90:
                return title
        return f"{title} {self._word(rng)}"  # a spliced title that happened to exist: make it new

    def _title_once(self, rng: np.random.Generator, language: str) -> str:
        halves = self.m.title_halves
        r = rng.random()
        if language != "English":
            same = self.rows_by_lang.get(language, [])
            if len(same) >= 2:
                a, b = (self.m.rows[same[int(i)]]["title"].split() for i in rng.choice(len(same), 2))
                return " ".join(a[: max(1, len(a) // 2)] + b[len(b) // 2 :])
        w = self._word
        if r < 0.30 and len(halves) > 1:
            i, j = rng.choice(len(halves), 2, replace=False)
            return f"{halves[int(i)][0]} {halves[int(j)][1]}"
        if r < 0.50:
            return f"{w(rng)} {JOINERS[int(rng.integers(len(JOINERS)))]} {w(rng)}"
        if r < 0.62:
            return f"The {w(rng)} {w(rng)}"
        if r < 0.75:
            return w(rng)
        if r < 0.85:
            who = self.m.roster.prose[self.names[int(rng.choice(len(self.names), p=self.name_p))]]
            return f"{who}'s {w(rng)}" if rng.random() < 0.5 else f"{w(rng)} for {who}"
        if r < 0.93:
            return f"{w(rng)}, {w(rng)} and {w(rng)}"
        title = f"{w(rng)} {w(rng)}"
        return title.lower() if rng.random() < 0.5 else f"{title} (the {w(rng)} Remix)"

    def _word(self, rng: np.random.Generator) -> str:
        return self.m.title_words[int(rng.integers(len(self.m.title_words)))]

    # -- prose ----------------------------------------------------------------------------------
    def _pick(self, rng: np.random.Generator, characters: list[str], words: int) -> np.ndarray:
        pool = self.pools[min(len(characters), 4)]
        estimate = int(words / 11) + 8
        picked = pool[rng.integers(len(pool), size=estimate)]
        total = np.cumsum(self.sent_words[picked])
        while total[-1] < words:  # short sentences drawn: top up
            more = pool[rng.integers(len(pool), size=estimate)]
            picked = np.concatenate([picked, more])
            total = np.cumsum(self.sent_words[picked])
        return picked[: int(np.searchsorted(total, words)) + 1]

    def _render(self, rng: np.random.Generator, characters: list[str], picked: np.ndarray) -> list[str]:
        prose = [self.m.roster.prose[c] for c in characters]
        k = len(prose)
        sentences = self.m.sentences
        slots = self.m.slots
        turns = rng.integers(max(k, 1), size=len(picked))
        out = []
        for idx, turn in zip(picked.tolist(), turns.tolist(), strict=True):
            text = sentences[idx]
            for j in range(slots[idx]):
                text = text.replace(f"{SLOT}{j}", prose[(turn + j) % k])
            out.append(text)
        return out

    def prose(self, rng: np.random.Generator, characters: list[str], words: int) -> list[str]:
        """Paragraphs of about `words` words: real sentences reshuffled, names fitted to the cast."""
        sentences = self._render(rng, characters, self._pick(rng, characters, words))
        lengths = self.para_lengths[rng.integers(len(self.para_lengths), size=len(sentences))]
        paragraphs, at = [], 0
        for n in lengths.tolist():
            if at >= len(sentences):
                break
            paragraphs.append(" ".join(sentences[at : at + n]))
            at += n
        return paragraphs


def _iso(date: str) -> str:
    try:
        return datetime.strptime(date.strip(), "%d %b %Y").date().isoformat()  # noqa: DTZ007 (a date)
    except ValueError:
        return "2010-01-01"
