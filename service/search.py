"""Search: one `search(lib, SearchQuery)` the bot and the CLI share, so the same words give the
same stories everywhere.

Owns how a `SearchQuery` becomes SQL (SQLAlchemy Core: `stories.id IN (subquery)` filters against
story_characters / story_relationships + relationship_members / story_tags, full text through
`db.fts.fts_search`), the sorts, paging, age-gating counts and the "why is this empty" answer.
It must not import Discord or build MATCH expressions itself (that is `db.fts`'s one job).

Characters match when the story's header names them, or its text names them at least
`MIN_MENTIONS` times (one passing mention does not make a story "about" someone).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from db.fts import fts_search, to_match_query
from db.keys import fold
from db.models import RelationshipMember, Story, StoryCharacter, StoryRelationship, StoryTag
from service.hits import MIN_MENTIONS, StoryHit, Vocabulary, load_hits, vocabulary
from service.library import Library
from service.query import (
    SORTS,
    PairingSpec,
    QueryError,
    SearchQuery,
    rating_filter,
    rating_rank,
    resolve_character,
    resolve_label,
    resolve_pairing,
)

log = logging.getLogger(__name__)

MAX_TEXT = 500
"""Longest full-text query accepted (characters)."""
MAX_BOUND_IDS = 10_000
"""Full-text hits beyond this are intersected in Python instead of passed as bound parameters."""
MAX_PER_PAGE = 50


@dataclass(slots=True)
class SearchResult:
    """One page of hits, the total, how many matches age gating hid, and notes for the reader."""

    hits: list[StoryHit]
    total: int
    page: int
    pages: int
    hidden: int = 0
    resolved: list[str] = field(default_factory=list)  # "wilow → Willow Rosenberg"
    empty_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "page": self.page,
            "pages": self.pages,
            "hidden": self.hidden,
            "resolved": list(self.resolved),
            "empty_reason": self.empty_reason,
            "results": [h.to_json() for h in self.hits],
        }


@dataclass(slots=True)
class Filter:
    """One condition of a query: `kind` (character, rating, ...), a label for people, the SQL."""

    kind: str
    label: str
    cond: ColumnElement[bool] | None = None
    ranks: dict[int, float] | None = None  # full text: story id -> bm25 (lower is better)


@dataclass(slots=True)
class Compiled:
    """A query turned into filters (the age gate kept apart so hidden matches can be counted)."""

    filters: list[Filter]
    gate: ColumnElement[bool] | None
    resolved: list[str]
    characters: list[str] = field(default_factory=list)  # canonical names asked for (relevance)

    @property
    def ranks(self) -> dict[int, float] | None:
        return next((f.ranks for f in self.filters if f.ranks is not None), None)


def character_cond(name: str) -> ColumnElement[bool]:
    """Stories featuring `name`: in the header, or named at least MIN_MENTIONS times."""
    sc = StoryCharacter
    sub = select(sc.story_id).where(sc.name == name, or_(sc.source == "header", sc.mentions >= MIN_MENTIONS))
    return Story.id.in_(sub)


def pairing_cond(spec: PairingSpec) -> ColumnElement[bool]:
    """Stories with a relationship holding every member (same size unless wildcard, same kind)."""
    rel = StoryRelationship
    sub = select(rel.story_id)
    for name in spec.members:
        sub = sub.where(
            rel.id.in_(select(RelationshipMember.relationship_id).where(RelationshipMember.name == name))
        )
    if not spec.wildcard:
        sub = sub.where(rel.size == len(spec.members))
    if spec.kind:
        sub = sub.where(rel.kind == spec.kind)
    return Story.id.in_(sub)


def tag_cond(kinds: tuple[str, ...], names: list[str]) -> ColumnElement[bool]:
    sub = select(StoryTag.story_id).where(StoryTag.kind.in_(kinds), StoryTag.name.in_(names))
    return Story.id.in_(sub)


def _note(resolved: list[str], typed: str, meant: str) -> None:
    if fold(typed) != fold(meant):
        resolved.append(f"{typed} → {meant}")


def _ratings(q: SearchQuery, resolved: list[str]) -> list[Filter]:
    out: list[Filter] = []
    levels: list[str] = []
    ceilings = [q.max_rating] if q.max_rating else []
    for label in q.ratings:
        level, ceiling = rating_filter(label)
        if ceiling:
            ceilings.append(label)
        else:
            _note(resolved, label, level)
            levels.append(level)
    if levels:
        levels = list(dict.fromkeys(levels))
        out.append(Filter("rating", f"rating {' or '.join(levels)}", Story.rating_level.in_(levels)))
    if ceilings:
        top = min((rating_filter(c)[0] for c in ceilings), key=rating_rank)
        out.append(Filter("max rating", f"rating at most {top}", Story.rating_rank <= rating_rank(top)))
    excluded = list(dict.fromkeys(rating_filter(r)[0] for r in q.exclude_ratings))
    if excluded:
        out.append(
            Filter(
                "excluded rating", f"not rated {' or '.join(excluded)}", Story.rating_level.not_in(excluded)
            )
        )
    return out


async def _text_filter(session: AsyncSession, text: str) -> Filter:
    cleaned = " ".join(text.split())
    if len(cleaned) > MAX_TEXT:
        raise QueryError(f"That search text is too long ({len(cleaned)} characters; at most {MAX_TEXT}).")
    if to_match_query(cleaned) is None:
        raise QueryError(f"There is nothing to search for in {cleaned!r}: use some words.")
    try:
        rows = await fts_search(session, cleaned)
    except SQLAlchemyError as exc:  # db.fts promises this never happens; never crash if it does
        log.warning("full-text search failed for %r: %s", cleaned, exc)
        raise QueryError(f"I could not search for {cleaned!r}; try plainer words.") from exc
    return Filter("text", f"text {cleaned!r}", ranks=dict(rows))


async def _people(
    lib: Library, session: AsyncSession, q: SearchQuery, resolved: list[str]
) -> tuple[list[Filter], list[str]]:
    """Character and pairing filters; names the roster lacks resolve against the archive's own."""
    filters: list[Filter] = []
    characters: list[str] = []
    names_asked = [*q.characters, *q.exclude_characters, *q.pairings, *q.exclude_pairings]
    known = (await vocabulary(lib, session)).character_labels if names_asked else {}
    for names, exclude in ((q.characters, False), (q.exclude_characters, True)):
        for name in dict.fromkeys(names):
            canon = resolve_character(lib.roster, name, known=known)
            _note(resolved, name, canon)
            cond = character_cond(canon)
            if exclude:
                filters.append(Filter("excluded character", f"no {canon}", ~cond))
            else:
                characters.append(canon)
                filters.append(Filter("character", f"character {canon}", cond))
    for texts, exclude in ((q.pairings, False), (q.exclude_pairings, True)):
        for text in dict.fromkeys(texts):
            spec = resolve_pairing(lib.roster, text, known=known)
            _note(resolved, text, spec.display)
            cond = pairing_cond(spec)
            filters.append(
                Filter("excluded pairing", f"no {spec.display}", ~cond)
                if exclude
                else Filter("pairing", f"pairing {spec.display}", cond)
            )
    return filters, characters


def _labels(lib: Library, q: SearchQuery, vocab: Vocabulary, resolved: list[str]) -> list[Filter]:
    """Author, fandom and tag filters, each typed label resolved against what the archive holds."""
    filters: list[Filter] = []
    if q.authors:
        names: list[str] = []
        for typed in q.authors:
            found = resolve_label("author", typed, vocab.author_labels)
            _note(resolved, typed, found[0])
            names += found
        filters.append(Filter("author", f"author {' or '.join(names)}", Story.author.in_(names)))
    for kind, values, exclude in (
        ("fandom", q.fandoms, False),
        ("fandom", q.exclude_fandoms, True),
        ("tag", q.tags, False),
        ("tag", q.exclude_tags, True),
    ):
        kinds = ("fandom",) if kind == "fandom" else ("tag", "warning")
        labels = vocab.fandom_labels if kind == "fandom" else vocab.tag_labels
        for typed in values:
            meant = (lib.roster.fandom_of(typed) if kind == "fandom" else None) or typed
            found = resolve_label(kind, meant, labels, partial=kind == "fandom")
            shown = " or ".join(vocab.display.get(n, n) for n in found)
            _note(resolved, typed, shown)
            cond = tag_cond(kinds, found)
            filters.append(
                Filter(f"excluded {kind}", f"no {kind} {shown}", ~cond)
                if exclude
                else Filter(kind, f"{kind} {shown}", cond)
            )
    return filters


async def compile_query(lib: Library, session: AsyncSession, q: SearchQuery) -> Compiled:
    """Resolve every name in `q` and turn it into filters; raises QueryError in plain words."""
    resolved: list[str] = []
    filters: list[Filter] = [Filter("live", "", Story.removed_at.is_(None))]
    people, characters = await _people(lib, session, q, resolved)
    filters += people
    filters += _ratings(q, resolved)
    if q.authors or q.tags or q.fandoms or q.exclude_tags or q.exclude_fandoms:
        filters += _labels(lib, q, await vocabulary(lib, session), resolved)
    if q.words_min is not None:
        filters.append(Filter("words", f"at least {q.words_min} words", Story.words >= q.words_min))
    if q.words_max is not None:
        filters.append(Filter("words", f"at most {q.words_max} words", Story.words <= q.words_max))
    if q.complete is not None:
        status = "complete" if q.complete else "in-progress"
        filters.append(Filter("status", status, Story.status == status))
    if q.text and q.text.strip():
        filters.append(await _text_filter(session, q.text))
    gate = Story.rating_level.in_(sorted(q.allowed_levels)) if q.allowed_levels is not None else None
    return Compiled(filters, gate, resolved, characters)


def conditions(filters: list[Filter], gate: ColumnElement[bool] | None) -> list[ColumnElement[bool]]:
    """The WHERE clauses for `filters` (full text as an id list unless it is too long to bind)."""
    conds = [f.cond for f in filters if f.cond is not None]
    if gate is not None:
        conds.append(gate)
    ranks = next((f.ranks for f in filters if f.ranks is not None), None)
    if ranks is not None and len(ranks) <= MAX_BOUND_IDS:
        conds.append(Story.id.in_(list(ranks)))
    return conds


async def matching_rows(
    session: AsyncSession,
    filters: list[Filter],
    gate: ColumnElement[bool] | None,
    columns: tuple[Any, ...] = (),
    order: list[Any] | None = None,
) -> list[Any]:
    """(id, *columns) of every matching story, in `order` when given; full text applied exactly."""
    ranks = next((f.ranks for f in filters if f.ranks is not None), None)
    if ranks is not None and not ranks:
        return []
    stmt = select(Story.id, *columns).where(*conditions(filters, gate))
    if order:
        stmt = stmt.order_by(*order)
    rows = list((await session.execute(stmt)).all())
    if ranks is not None and len(ranks) > MAX_BOUND_IDS:
        rows = [r for r in rows if r[0] in ranks]
    return rows


async def matching_ids(
    session: AsyncSession,
    filters: list[Filter],
    gate: ColumnElement[bool] | None,
    order: list[Any] | None = None,
) -> list[int]:
    """Every matching story id (in `order` when given)."""
    return [r[0] for r in await matching_rows(session, filters, gate, order=order)]


async def count(session: AsyncSession, filters: list[Filter], gate: ColumnElement[bool] | None) -> int:
    """How many stories pass `filters` (and the gate)."""
    ranks = next((f.ranks for f in filters if f.ranks is not None), None)
    if ranks is not None and (not ranks or len(ranks) > MAX_BOUND_IDS):
        return len(await matching_ids(session, filters, gate))
    return int(
        await session.scalar(select(func.count()).select_from(Story).where(*conditions(filters, gate))) or 0
    )


def relevance(characters: list[str]) -> ColumnElement[Any]:
    """Best match without text: header characters beat inferred, then mentions, completeness."""
    sc = StoryCharacter
    score: ColumnElement[Any] = case((Story.status == "complete", 2.0), else_=0.0) + case(
        (Story.summary.is_not(None), 1.0), else_=0.0
    )
    for name in characters:
        weight = case((sc.source == "header", 50.0), else_=0.0) + case(
            (sc.mentions > 50, 50), else_=sc.mentions
        )
        sub = (
            select(weight).where(sc.story_id == Story.id, sc.name == name).correlate(Story).scalar_subquery()
        )
        score = score + func.coalesce(sub, 0.0)
    return score


def order_by(sort: str, score: ColumnElement[Any], seed: int) -> list[Any]:
    """ORDER BY clauses for a sort; every sort ends on the id so pages never overlap."""
    newest = [Story.published.desc().nulls_last(), Story.added_at.desc(), Story.id.desc()]
    if sort == "best":
        return [score.desc(), *newest]
    if sort == "newest":
        return newest
    if sort == "longest":
        return [Story.words.desc(), Story.id]
    if sort == "shortest":
        return [Story.words, Story.id]
    if sort == "title":
        return [Story.title_key, Story.id]
    return [((Story.id + seed) * 1103515245) % 2147483647, Story.id]  # random, repeatable per seed


async def empty_reason(session: AsyncSession, compiled: Compiled, hidden: int) -> str:
    """Which filter emptied the list: re-count with each filter dropped in turn."""
    if hidden:
        return f"{hidden} matching stories are only shown in age-restricted channels."
    active = [f for f in compiled.filters if f.kind != "live"]
    if not active:
        return "The archive has no stories yet."
    if len(active) == 1:
        return f"No stories match {active[0].label}."
    best: tuple[int, Filter] | None = None
    for dropped in active:
        kept = [f for f in compiled.filters if f is not dropped]
        n = await count(session, kept, compiled.gate)
        if n and (best is None or n >= best[0]):  # on a tie, keep what was asked first
            best = (n, dropped)
    if best is None:
        return "No stories match " + " together with ".join(f.label for f in active) + "."
    n, dropped = best
    others = " and ".join(f.label for f in active if f is not dropped)
    return f"No stories match {others} together with {dropped.label}; {n} match without the {dropped.kind} filter."


async def search(lib: Library, q: SearchQuery) -> SearchResult:
    """One page of stories matching `q`, with the total, hidden count and notes. Raises QueryError."""
    if q.sort not in SORTS:
        raise QueryError(f"I can't sort by {q.sort!r}.", list(SORTS))
    per_page = max(1, min(int(q.per_page), MAX_PER_PAGE))
    page = max(1, int(q.page))
    async with lib.sessions() as session:
        compiled = await compile_query(lib, session, q)
        ranks = compiled.ranks
        score = relevance(compiled.characters)
        offset = (page - 1) * per_page
        seed = q.seed if q.seed is not None else random.randrange(1 << 30)
        scores: dict[int, float] = {}
        if ranks is not None and q.sort == "best":
            ids = await matching_ids(session, compiled.filters, compiled.gate)
            ids.sort(key=lambda i: (ranks[i], i))
            total, page_ids = len(ids), ids[offset : offset + per_page]
        elif ranks is not None and len(ranks) > MAX_BOUND_IDS:
            ids = await matching_ids(session, compiled.filters, compiled.gate, order_by(q.sort, score, seed))
            total, page_ids = len(ids), ids[offset : offset + per_page]
        else:
            total = await count(session, compiled.filters, compiled.gate)
            shown = (score,) if q.sort == "best" else ()  # relevance costs a lookup per row
            stmt = (
                select(Story.id, *shown)
                .where(*conditions(compiled.filters, compiled.gate))
                .order_by(*order_by(q.sort, score, seed))
                .limit(per_page)
                .offset(offset)
            )
            rows = (await session.execute(stmt)).all()
            page_ids = [r[0] for r in rows]
            scores = {r[0]: float(r[1]) for r in rows} if shown else {}
        if ranks is not None:
            scores = {i: round(-ranks[i], 3) for i in page_ids}
        hidden = 0
        if compiled.gate is not None:
            hidden = await count(session, compiled.filters, None) - total
        hits = await load_hits(session, page_ids, scores)
        reason = await empty_reason(session, compiled, hidden) if total == 0 else None
    pages = max(1, -(-total // per_page))
    return SearchResult(hits, total, page, pages, hidden, compiled.resolved, reason)
