"""Search: one `search(lib, SearchQuery)` the bot and the CLI share, so the same words give the
same stories everywhere.

Owns how a `SearchQuery` becomes filters (`service.filters`: names resolved by `service.query`, each
filter a mask over the in-memory filter index `service.facets`; the words through
`service.textfilter`), the sorts, paging, age-gating counts and the "why is this empty" answer. It
must not import Discord or build full-text queries itself (that is `db.fts`'s one job). The page's
stories are read from SQL.

Characters match when the story's header names them, or its text names them often enough for its
length (`service.hits.features`: a passing mention does not make a story "about" someone).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from archive.fandoms import fandom_of_folder as fandom_label
from archive.ratings import level_words
from archive.roster import NO_PAIRING
from archive.rosterfile import normalise
from db.keys import fold
from service.facets import Facets
from service.filters import Compiled, Filter
from service.hits import StoryHit, load_hits
from service.library import Library
from service.names import name_key, resolve_name
from service.people import fandom_group, name_book, rosters_of
from service.query import (
    SORTS,
    QueryError,
    SearchQuery,
    rating_filter,
    rating_rank,
    resolve_character,
    resolve_label,
    resolve_pairing,
)
from service.tags import resolve_tag, synonyms_for, tag_groups
from service.textfilter import rank_text, text_filter
from service.vocabulary import Vocabulary

log = logging.getLogger(__name__)

MAX_NAME = 200
"""The longest name a filter takes (character, pairing, author, tag, fandom, rating): no real one is
near it, and fuzzy-matching 10,000 characters against the vocabulary took seconds."""
_NAMED = (
    "characters", "exclude_characters", "pairings", "exclude_pairings", "ratings", "exclude_ratings",
    "authors", "fandoms", "exclude_fandoms", "tags", "exclude_tags",
)  # fmt: skip
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


def _note(resolved: list[str], typed: str, meant: str) -> None:
    if fold(typed) != fold(meant):
        resolved.append(f"{typed} → {meant}")


def _ratings(fx: Facets, q: SearchQuery, resolved: list[str]) -> list[Filter]:
    out: list[Filter] = []
    levels: list[str] = []
    ceilings = [q.max_rating] if q.max_rating else []
    for label in q.ratings:
        level, ceiling = rating_filter(label)
        if ceiling:
            ceilings.append(label)
        else:
            _note(resolved, label, level_words(level))
            levels.append(level)
    if levels:
        levels = list(dict.fromkeys(levels))
        out.append(Filter("rating", f"rating {' or '.join(map(level_words, levels))}", fx.levels(levels)))
    if ceilings:
        top = min((rating_filter(c)[0] for c in ceilings), key=rating_rank)
        out.append(Filter("max rating", f"rating at most {level_words(top)}", fx.rank <= rating_rank(top)))
    excluded = list(dict.fromkeys(rating_filter(r)[0] for r in q.exclude_ratings))
    if excluded:
        out.append(
            Filter(
                "excluded rating",
                f"not rated {' or '.join(map(level_words, excluded))}",
                ~fx.levels(excluded),
            )
        )
    return out


async def _people(
    lib: Library, session: AsyncSession, fx: Facets, q: SearchQuery, resolved: list[str]
) -> tuple[list[Filter], list[str]]:
    """Character and pairing filters; names the roster lacks resolve against the archive's own."""
    filters: list[Filter] = []
    characters: list[str] = []
    names_asked = [*q.characters, *q.exclude_characters, *q.pairings, *q.exclude_pairings]
    vocab = await lib.views.vocabulary() if names_asked else None
    book = name_book(lib.roster, await lib.views.people(), vocab.characters, vocab.derived) if vocab else None
    groups = {fandom_group(f, rosters_of(lib.roster)) for f in q.fandoms}  # `Arthur` in Merlin stories
    for names, exclude in ((q.characters, False), (q.exclude_characters, True)):
        for name in dict.fromkeys(names):
            canon = resolve_character(lib.roster, name, book=book, fandoms=groups)
            _note(resolved, name, canon)
            cond = fx.character(canon)
            if exclude:
                filters.append(Filter("excluded character", f"no {canon}", ~cond))
            else:
                characters.append(canon)
                filters.append(Filter("character", f"character {canon}", cond))
    for texts, exclude in ((q.pairings, False), (q.exclude_pairings, True)):
        for text in dict.fromkeys(texts):
            if normalise(text) in NO_PAIRING:  # `gen`: stories without a romance
                _note(resolved, text, "no romantic pairing")
                gen = fx.without_romance()
                filters.append(
                    Filter("excluded pairing", "some romance", ~gen)
                    if exclude
                    else Filter("pairing", "no romantic pairing (gen)", gen)
                )
                continue
            spec = resolve_pairing(lib.roster, text, book=book, fandoms=groups)
            _note(resolved, text, spec.display)
            cond = fx.relationship(spec.members, spec.kind, spec.wildcard)
            filters.append(
                Filter("excluded pairing", f"no {spec.display}", ~cond)
                if exclude
                else Filter("pairing", f"pairing {spec.display}", cond)
            )
    return filters, characters


def _fandoms(lib: Library, typed: str, vocab: Vocabulary) -> list[str]:
    """Stored fandom names for a typed one: every label read as the same fandom (`btvs`, `BTVS`,
    `Buffy: The Vampire Slayer` by a loaded roster; `Merlin`, `Merlin (TV)` by `archive.fandoms`),
    else by the label itself."""
    rosters = rosters_of(lib.roster)

    def label_of(label: str) -> str:
        found = next((f for r in rosters if (f := r.fandom_of(label))), None)
        return found or fandom_label(label) or " ".join(label.split())

    want = label_of(typed)
    stored = sorted(set(vocab.fandom_labels.values()))
    same = [n for n in stored if label_of(vocab.display.get(n, n)) == want]
    if same:
        return same
    return resolve_label("fandom", typed, vocab.fandom_labels, partial=True)


def _authors(vocab: Vocabulary, typed: str) -> list[str]:
    """Stored author names for a typed one: the same rule as characters (`service.names`)."""
    keys: dict[str, str] = {}
    spellings: dict[str, list[str]] = {}
    for author, _n in vocab.authors:
        keys.setdefault(name_key(author), author)
        spellings.setdefault(keys[name_key(author)], []).append(author)
    found = resolve_name("author", typed, keys, dict(vocab.authors))
    return spellings.get(found, [found])


def _tags(lib: Library, vocab: Vocabulary, typed: str) -> list[str]:
    """Stored tag names for a typed tag: its namespaced forms and synonyms (`service.tags`)."""
    syn = synonyms_for(lib.settings.roster_file)
    groups = vocab.derived.get(("tag groups", None))
    if groups is None or groups[0] is not syn:
        grouped = tag_groups(vocab.tag_labels, vocab.display, syn)
        # stories per group, counted once per snapshot (not per search: 15,000 groups at 50k)
        counts = {k: sum(vocab.counts.get((kind, n), 0) for n in names for kind in ("tag", "warning"))
                  for k, names in grouped.items()}  # fmt: skip
        groups = (syn, grouped, counts)
        vocab.derived[("tag groups", None)] = groups
    return resolve_tag(typed, groups[1], syn, groups[2])


def _labels(lib: Library, fx: Facets, q: SearchQuery, vocab: Vocabulary, resolved: list[str]) -> list[Filter]:
    """Author, fandom and tag filters, each typed label resolved against what the archive holds."""
    filters: list[Filter] = []
    if q.authors:
        names: list[str] = []
        for typed in q.authors:
            found = _authors(vocab, typed)
            _note(resolved, typed, found[0])
            names += found
        filters.append(Filter("author", f"author {' or '.join(dict.fromkeys(names))}", fx.by_authors(names)))
    for kind, values, exclude in (
        ("fandom", q.fandoms, False),
        ("fandom", q.exclude_fandoms, True),
        ("tag", q.tags, False),
        ("tag", q.exclude_tags, True),
    ):
        kinds = ("fandom",) if kind == "fandom" else ("tag", "warning")
        for typed in values:
            found = _fandoms(lib, typed, vocab) if kind == "fandom" else _tags(lib, vocab, typed)
            shown = " or ".join(dict.fromkeys(vocab.display.get(n, n) for n in found))
            if kind == "fandom" or fold(typed) not in {fold(vocab.display.get(n, n)) for n in found}:
                _note(resolved, typed, shown)
            cond = fx.labelled(kinds, found)
            filters.append(
                Filter(f"excluded {kind}", f"no {kind} {shown}", ~cond)
                if exclude
                else Filter(kind, f"{kind} {shown}", cond)
            )
    return filters


def check_lengths(q: SearchQuery) -> None:
    """Refuse, in plain words, a name longer than MAX_NAME in any filter (before any matching)."""
    for option in _NAMED:
        for name in getattr(q, option):
            if len(name) > MAX_NAME:
                what = option.removeprefix("exclude_").rstrip("s").replace("_", " ")
                raise QueryError(f"That {what} is too long ({len(name):,} characters; at most {MAX_NAME}).")
    if q.max_rating is not None and len(q.max_rating) > MAX_NAME:
        raise QueryError(f"That rating is too long ({len(q.max_rating):,} characters; at most {MAX_NAME}).")


async def compile_query(
    lib: Library, session: AsyncSession, q: SearchQuery, *, rank: bool = False
) -> Compiled:
    """Resolve every name in `q` and turn it into filters; raises QueryError in plain words. With
    `rank`, full text comes with its bm25 ranks (in the same MATCH)."""
    check_lengths(q)
    resolved: list[str] = []
    fx = await lib.views.facets()
    people, characters = await _people(lib, session, fx, q, resolved)
    filters = [
        Filter("live", "", np.ones(fx.size, dtype=bool), facets=fx),
        *people,
        *_ratings(fx, q, resolved),
    ]
    if q.authors or q.tags or q.fandoms or q.exclude_tags or q.exclude_fandoms:
        filters += _labels(lib, fx, q, await lib.views.vocabulary(), resolved)
    if q.words_min is not None:
        filters.append(Filter("words", f"at least {q.words_min} words", fx.words >= q.words_min))
    if q.words_max is not None:
        filters.append(Filter("words", f"at most {q.words_max} words", fx.words <= q.words_max))
    if q.complete is not None:
        status = "complete" if q.complete else "in-progress"
        filters.append(Filter("status", status, fx.status == (1 if q.complete else 2)))
    if q.text and q.text.strip():
        filters.append(await text_filter(lib, session, fx, q.text, rank))
    gate = fx.levels(q.allowed_levels) if q.allowed_levels is not None else None
    return Compiled(fx, filters, gate, resolved, characters)


async def matching_ids(
    lib: Library,
    session: AsyncSession,
    filters: list[Filter],
    gate: np.ndarray | None,
    sort: str = "best",
    seed: int = 0,
) -> list[int]:
    """Every story id passing `filters` and `gate` (from one `compile_query`), in `sort` order."""
    fx = next(f.facets for f in filters if f.facets is not None)
    compiled = Compiled(fx, filters, gate, [])
    where = np.flatnonzero(compiled.mask())
    if sort == "best":
        await rank_text(lib, session, compiled)
    return [int(i) for i in fx.ids[where[_order(compiled, where, sort, seed)]]]


def count(compiled: Compiled, *, gated: bool = True, without: Filter | None = None) -> int:
    """How many stories pass the filters (and the gate unless `gated` is False)."""
    return int(compiled.mask(gated=gated, without=without).sum())


def top_k(primary: np.ndarray, ids: np.ndarray, k: int | None) -> np.ndarray:
    """Indices of the `k` smallest `primary` values (ties by id), in order; all when k is None."""
    if k is None or k >= len(primary):
        return np.lexsort((ids, primary))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    kth = np.partition(primary, k - 1)[k - 1]
    near = np.flatnonzero(primary <= kth)
    return near[np.lexsort((ids[near], primary[near]))][:k]


def _order(compiled: Compiled, where: np.ndarray, sort: str, seed: int, k: int | None = None) -> np.ndarray:
    """The first `k` (default all) of `where` in `sort` order, as indices into `where`; ties end on
    the story id. Only the first `k` are sorted, so a first page over 30,000 matches is cheap."""
    fx = compiled.facets
    ids = fx.ids[where]
    ranks = compiled.ranks
    if sort == "best" and ranks is not None:
        primary = ranks[where]
    elif sort == "best":
        primary = -fx.relevance(where, compiled.characters) * (fx.size + 1) + fx.newest[where]
    elif sort == "newest":
        primary = fx.newest[where]
    elif sort == "longest":
        primary = -fx.words[where]
    elif sort == "shortest":
        primary = fx.words[where]
    elif sort == "title":
        primary = fx.title[where]
    else:
        primary = ((ids + seed) * 1103515245) % 2147483647  # random, repeatable per seed
    return top_k(primary, ids, k)


def _scores(compiled: Compiled, page_where: np.ndarray, sort: str) -> dict[int, float]:
    ids = [int(i) for i in compiled.facets.ids[page_where]]
    ranks = compiled.ranks
    if ranks is not None:
        return {i: round(-float(r), 3) for i, r in zip(ids, ranks[page_where], strict=True) if np.isfinite(r)}
    if sort != "best":
        return {}
    relevance = compiled.facets.relevance(page_where, compiled.characters)
    return {i: float(r) for i, r in zip(ids, relevance, strict=True)}


def empty_reason(compiled: Compiled, hidden: int) -> str:
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
        n = count(compiled, without=dropped)
        if n and (best is None or n >= best[0]):  # on a tie, keep what was asked first
            best = (n, dropped)
    if best is None:
        return "No stories match " + " together with ".join(f.label for f in active) + "."
    n, dropped = best
    others = " and ".join(f.label for f in active if f is not dropped)
    return f"No stories match {others} together with {dropped.label}; {n} match without the {dropped.kind} filter."


def _note_unknown_status(compiled: Compiled) -> None:
    """With "finished" or "in progress" asked for, say how many stories matching everything else were
    left out because they do not say which they are (most plain-text files never do)."""
    status = next((f for f in compiled.filters if f.kind == "status"), None)
    if status is None:
        return
    unknown = int((compiled.mask(without=status) & (compiled.facets.status == 0)).sum())
    if unknown:
        says = (
            "story that does not say whether it is"
            if unknown == 1
            else "stories that do not say whether they are"
        )
        compiled.resolved.append(f"left out: {unknown:,} {says} finished")


async def search(lib: Library, q: SearchQuery) -> SearchResult:
    """One page of stories matching `q`, with the total, hidden count and notes. Raises QueryError."""
    if q.sort not in SORTS:
        raise QueryError(f"I can't sort by {q.sort!r}.", list(SORTS))
    per_page = max(1, min(int(q.per_page), MAX_PER_PAGE))
    page = max(1, int(q.page))
    seed = q.seed if q.seed is not None else random.randrange(1 << 30)
    async with lib.sessions() as session:
        compiled = await compile_query(lib, session, q, rank=q.sort == "best")
        _note_unknown_status(compiled)
        where = np.flatnonzero(compiled.mask())
        total = len(where)
        hidden = count(compiled, gated=False) - total if compiled.gate is not None else 0
        offset = (page - 1) * per_page
        page_where = where[_order(compiled, where, q.sort, seed, offset + per_page)[offset:]]
        page_ids = [int(i) for i in compiled.facets.ids[page_where]]
        hits = await load_hits(
            session, page_ids, _scores(compiled, page_where, q.sort), people=await lib.views.people()
        )
    reason = empty_reason(compiled, hidden) if total == 0 else None
    pages = max(1, -(-total // per_page))
    return SearchResult(hits, total, page, pages, hidden, compiled.resolved, reason)
