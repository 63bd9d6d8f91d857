"""More like this: the stories most like a given one (`similar`).

Owns how similarity is scored: shared relationships, characters, tags and fandoms, each weighted by
its rarity in the archive (tf-idf style), plus series and author bonuses, over the in-memory filter
index (`service.facets`); ties go to the stories most alike in shape, words and length. The story's
own features are read in one statement, its likeness of words by one full-text match over titles,
authors, summaries and tags. It must not import Discord.
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from archive.names import MIN_MENTIONS, strip_accents
from db.about import AboutWords, about_search
from db.rawsql import fetch_all
from service.facets import Facets
from service.hits import WORDS_PER_MENTION, StoryHit, load_hits
from service.library import Library
from service.query import QueryError
from service.search import top_k

WEIGHTS = {"relationship": 3.0, "character": 1.0, "tag": 1.5, "warning": 0.5, "fandom": 0.5}
BONUS = {"series": 4.0, "author": 1.0}
PEOPLE = ("relationship", "character", "series")
NO_ONE_SHARED = 0.5
"""A story sharing none of the asked story's people (nor its series) counts this share of what it
shares: two rare tags in common never put a Buffy story above the Doctor Who stories with the same
Doctor and companion."""


@dataclass(slots=True)
class SimilarHit:
    """A story like the one asked about, its similarity score and why (`also Willow/Tara; angst`)."""

    hit: StoryHit
    score: float
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {**self.hit.to_json(), "score": round(self.score, 3), "reason": self.reason}


@dataclass(slots=True)
class _Feature:
    """Something a story has (a relationship, character, tag, series, author), the stories that
    share it (positions in the filter index), its weight, and how a reason names it."""

    kind: str
    label: str
    positions: np.ndarray
    weight: float = 0.0


@dataclass(frozen=True, slots=True)
class _Subject:
    """The story asked about: what its likeness is measured by, and its other copies."""

    title: str
    summary: str | None
    words: int
    series_name: str | None
    author: str | None
    copies: list[int]


def _about_sql(story_id: int) -> str:
    """One statement reading the story, its relationships (and their members), the characters that
    feature in it, its tags and its other copies (same title and author), as rows of (part, number,
    five texts). The id is an integer written into the SQL; the same SQL runs on both engines."""
    sid = int(story_id)
    per_words = f"((coalesce(s.words, 0) + {WORDS_PER_MENTION - 1}) / {WORDS_PER_MENTION})"
    needed = f"CASE WHEN {per_words} > {MIN_MENTIONS} THEN {per_words} ELSE {MIN_MENTIONS} END"
    none = "NULL, NULL, NULL"
    return (
        "SELECT 0, coalesce(s.words, 0), s.title, s.summary, s.series_name, s.author, s.title_key "
        f"FROM stories AS s WHERE s.id = {sid} "
        f"UNION ALL SELECT 1, r.id, r.key, r.kind, {none} FROM story_relationships AS r WHERE r.story_id = {sid} "
        f"UNION ALL SELECT 2, m.relationship_id, m.name, {none}, NULL FROM relationship_members AS m "
        f"JOIN story_relationships AS r ON r.id = m.relationship_id WHERE r.story_id = {sid} "
        f"UNION ALL SELECT 3, 0, c.name, {none}, NULL FROM story_characters AS c "
        f"JOIN stories AS s ON s.id = c.story_id WHERE c.story_id = {sid} "
        f"AND (c.source = 'header' OR c.mentions >= {needed}) "
        f"UNION ALL SELECT 4, 0, t.kind, t.name, t.label, NULL, NULL FROM story_tags AS t WHERE t.story_id = {sid} "
        f"UNION ALL SELECT 5, o.id, {none}, NULL, NULL FROM stories AS s JOIN stories AS o "
        f"ON o.title_key = s.title_key AND o.author_key = s.author_key WHERE s.id = {sid} AND o.id <> {sid}"
    )


async def _features(session: AsyncSession, fx: Facets, story_id: int) -> tuple[_Subject, list[_Feature]]:
    """The story (or QueryError) and what it has: relationships, characters, tags (each in a stable
    order), then its series and author; read in one round trip."""
    rows = await fetch_all(session, _about_sql(story_id))
    head = next((r for r in rows if r[0] == 0), None)
    if head is None:
        raise QueryError(f"There is no story number {story_id}.")
    _, words, title, summary, series_name, author, _key = head
    members: dict[int, list[str]] = {}
    for row in rows:
        if row[0] == 2:
            members.setdefault(int(row[1]), []).append(row[2])
    out: list[_Feature] = []
    for _, rel_id, key, kind, *_rest in sorted(r for r in rows if r[0] == 1):
        names = tuple(sorted(members.get(int(rel_id), [])))
        out.append(
            _Feature("relationship", key, np.flatnonzero(fx.relationship(names, kind, wildcard=False)))
        )
    for name in sorted(r[2] for r in rows if r[0] == 3):
        out.append(_Feature("character", name, fx.characters.get(name, (np.zeros(0, np.int64), None))[0]))
    for kind, name, label in sorted((r[2], r[3], r[4]) for r in rows if r[0] == 4):
        out.append(_Feature(kind, label, fx.tags.get((kind, name), np.zeros(0, np.int64))))
    if series_name:
        out.append(
            _Feature(
                "series", f"same series ({series_name})", fx.series.get(series_name, np.zeros(0, np.int64))
            )
        )
    if author:
        out.append(_Feature("author", f"also by {author}", fx.authors.get(author, np.zeros(0, np.int64))))
    copies = [int(story_id), *sorted(int(r[1]) for r in rows if r[0] == 5)]
    return _Subject(title, summary, int(words), series_name, author, copies), out


_STOP = frozenset(
    [
        "about",
        "after",
        "again",
        "also",
        "been",
        "before",
        "being",
        "between",
        "could",
        "didn",
        "does",
        "doing",
        "down",
        "each",
        "from",
        "have",
        "having",
        "into",
        "just",
        "more",
        "most",
        "much",
        "never",
        "only",
        "other",
        "over",
        "same",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "under",
        "until",
        "very",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "would",
        "your",
        "story",
        "chapter",
        "fic",
        "fanfic",
    ]
)
TIE_WEIGHTS = {"shape": 1.0, "text": 1.0, "length": 0.25}
"""Small bonuses (each at most its weight) that order stories sharing the same features: how much of
each story the shared features are, shared distinctive words, and a similar length. Never the id."""


def _feature_counts(fx: Facets) -> np.ndarray:
    """How many characters, relationships and tags each story has (kept per snapshot)."""
    cached = _COUNTS.get(id(fx))
    if cached is not None and cached[0] is fx:
        return cached[1]
    every = [
        *(positions for positions, _weights in fx.characters.values()),
        *fx.tags.values(),
        fx.rel_pos[fx.rel_pos < fx.size],
    ]  # one count over them all: a count per name took 185 ms at 50,000 stories (3,800 names)
    held = np.concatenate(every) if every else np.zeros(0, dtype=np.int64)
    counts = np.bincount(held, minlength=fx.size)[: fx.size].astype(np.float64)
    _COUNTS.clear()
    _COUNTS[id(fx)] = (fx, counts)
    return counts


_COUNTS: dict[int, tuple[Facets, np.ndarray]] = {}


LIKENESS_WORDS = 12
LIKENESS_ROWS = 2000
"""The words a likeness matches: at most this many, the rarest first, while the stories naming
them add up to at most this many (so its cost stays bounded whatever the archive's size)."""


def _distinctive_words(story: _Subject, about: AboutWords | None = None) -> list[str]:
    """The rarest words (four letters or more, no stop word, none the archive's `about` counts as
    common) of a story's title and summary, for a text likeness: the rarest first, then the
    longest, while they stay within `LIKENESS_WORDS` and `LIKENESS_ROWS`."""
    about = about or AboutWords(0, {})
    words = re.findall(r"[^\W\d_]{4,}", f"{story.title} {story.summary or ''}".casefold())
    folded = {w: strip_accents(w) for w in dict.fromkeys(words) if w not in _STOP}
    usable = [w for w, f in folded.items() if not about.is_common(f)]
    usable.sort(key=lambda w: (about.stories_naming(folded[w]), -len(w), w))
    chosen: list[str] = []
    rows = 0
    for word in usable[:LIKENESS_WORDS]:
        rows += about.stories_naming(folded[word])
        if chosen and rows > LIKENESS_ROWS:
            break
        chosen.append(word)
    return chosen


async def _text_likeness(session: AsyncSession, fx: Facets, story: _Subject, about: AboutWords) -> np.ndarray:
    """0-1 per position: how well each story's title, author, summary and tags match the distinctive
    words of `story` (bm25 over the about index; words most stories share are left out)."""
    out = np.zeros(fx.size)
    words = _distinctive_words(story, about)
    if not words:
        return out
    rows = await about_search(session, " OR ".join(words), limit=500)
    if not rows:
        return out
    at, live = fx.locate(np.asarray([r[0] for r in rows], dtype=np.int64))
    ranks = np.asarray([r[1] for r in rows])
    best = ranks.min()
    out[at[live]] = (ranks / best if best < 0 else np.ones(len(ranks)))[live]
    return out


async def similar(
    lib: Library, story_id: int, *, limit: int = 5, allowed_levels: frozenset[str] | None = None
) -> list[SimilarHit]:
    """Stories most like `story_id`: shared relationships, characters, tags, fandoms (the rarer in
    the archive, the more they count, tf-idf style), plus a bonus for the same series or author.
    Stories sharing the same features are ordered by `TIE_WEIGHTS` (shape, text, length)."""
    async with lib.sessions() as session:
        fx = await lib.views.facets()
        story, features = await _features(session, fx, story_id)
        about = await lib.views.about_words()
        # the likeness's match runs in the database's thread while this one scores the features
        likeness = asyncio.ensure_future(_text_likeness(session, fx, story, about))
        await asyncio.sleep(0)  # let it reach the database before the scoring takes this thread
        try:
            score, candidates = _feature_scores(fx, story, features, allowed_levels)
            text = (await likeness)[candidates]
        finally:
            likeness.cancel()  # only when the scoring raised: the session must not be left in use
        if len(candidates):
            own = max(1.0, float(sum(f.kind not in BONUS for f in features)))
            shared = _shared(fx, features, candidates)
            union = own + _feature_counts(fx)[candidates] - shared
            ratio = np.log((fx.words[candidates] + 100) / (story.words + 100))
            score[candidates] += (
                TIE_WEIGHTS["shape"] * shared / np.maximum(union, 1.0)
                + TIE_WEIGHTS["text"] * text
                + TIE_WEIGHTS["length"] / (1.0 + np.abs(ratio))
            )
        best = candidates[top_k(-score[candidates], fx.newest[candidates], limit)]
        best_ids = [int(i) for i in fx.ids[best]]
        hits = {h.id: h for h in await load_hits(session, best_ids, people=await lib.views.people())}
    chosen = np.zeros(fx.size, dtype=bool)
    chosen[best] = True
    holders = [set(f.positions[chosen[f.positions]].tolist()) for f in features]  # one pass each
    out = []
    for p in best.tolist():
        hit = hits.get(int(fx.ids[p]))
        if hit is not None:
            shared_features = [f for f, held in zip(features, holders, strict=True) if p in held]
            out.append(SimilarHit(hit, float(score[p]), _reason(shared_features)))
    return out


def _feature_scores(
    fx: Facets, story: _Subject, features: list[_Feature], allowed_levels: frozenset[str] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Each story's score from the features it shares (each feature's weight set here: its kind's,
    times its rarity in the archive; `NO_ONE_SHARED` of it for a story sharing none of its people),
    and the positions of those scoring above 0 (the candidates: not the story itself nor its
    copies, and only at `allowed_levels` when given)."""
    score = np.zeros(fx.size)
    for f in features:
        if f.kind in BONUS:
            f.weight = BONUS[f.kind]
        else:
            f.weight = WEIGHTS.get(f.kind, 1.0) * math.log((fx.size + 1) / (len(f.positions) + 0.5))
        score[f.positions] += f.weight
    people = [f.positions for f in features if f.kind in PEOPLE]
    if people:
        sharing = np.zeros(fx.size, dtype=bool)
        for positions in people:
            sharing[positions] = True
        score[~sharing] *= NO_ONE_SHARED
    score[fx.positions_of(story.copies)] = 0.0
    if allowed_levels is not None:
        score[~fx.levels(allowed_levels)] = 0.0
    return score, np.flatnonzero(score > 0)


def _shared(fx: Facets, features: list[_Feature], candidates: np.ndarray) -> np.ndarray:
    """How many of the story's features (bonuses aside) each candidate shares."""
    shared = np.zeros(fx.size)
    for f in features:
        if f.kind not in BONUS:
            shared[f.positions] += 1
    return shared[candidates]


def _reason(shared: list[_Feature]) -> str:
    """`also Willow/Tara; angst; post-Tabula Rasa`: shared relationships, the rarest shared tags,
    characters when no relationship is shared, then series and author."""
    by_weight = sorted(shared, key=lambda f: -f.weight)
    rels = [f"also {f.label}" for f in shared if f.kind == "relationship"][:2]
    tags = [f.label for f in by_weight if f.kind in ("tag", "warning")][:3]
    chars = [f.label for f in by_weight if f.kind == "character"][:2]
    bits = rels + tags + ([] if rels or not chars else ["also " + " & ".join(chars)])
    bits += [f.label for f in shared if f.kind in BONUS]
    return "; ".join(dict.fromkeys(bits)) or "similar characters"
