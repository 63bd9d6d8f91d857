"""The full-text part of a search: the words as a filter over the filter index, with their bm25
ranks when the order needs them. One MATCH per words (`db.fts`, the only door for members' text),
its answer kept by the Library's views (`text_matches`) while the archive is unchanged, so later
pages, and the same words under other filters, do not match again. Common words are ranked from
their stored impacts (`db.textrank`, the same ranks FTS5 gives) when the query is one it covers.
It must not import Discord or build a full-text query itself.
"""

from __future__ import annotations

import logging
import sqlite3
from itertools import chain

import numpy as np
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from db.fts import match_ids, ranked_matches
from db.ftsquery import parse_text
from db.textrank import ranked_matches as impact_ranks
from service.facets import Facets
from service.filters import Compiled, Filter
from service.library import Library
from service.query import QueryError

log = logging.getLogger(__name__)

MAX_TEXT = 500
"""Longest full-text query accepted (characters)."""


async def _text_matches(
    lib: Library, session: AsyncSession, cleaned: str, ranked: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Story ids the words name (removed ones too) and, when `ranked`, their ranks, in one MATCH;
    kept by the Library's views (`text_matches`) while the archive is unchanged, so the query's
    later pages, and the same words under other filters, do not match again."""
    known = lib.views.text_matches(cleaned)
    if known is not None and (known[1] is not None or not ranked):
        return known
    stored = await _ranked_by_impacts(session, cleaned) if ranked else None
    try:
        if stored is not None:  # common words: FTS5's own ranks, without FTS5 ranking every hit
            ids, ranks = stored
        elif ranked:
            rows = await ranked_matches(session, cleaned)
            # (id, rank) pairs flattened in one pass (ids are exact in a double): about 2 ms less
            # than two generator passes over a common word's 20,000-40,000 rows
            flat = np.fromiter(chain.from_iterable(rows), dtype=np.float64, count=2 * len(rows))
            ids = flat[0::2].astype(np.int64)
            ranks = flat[1::2]
        else:
            ids, ranks = np.asarray(await match_ids(session, cleaned), dtype=np.int64), None
    except SQLAlchemyError as exc:  # db.fts promises this never happens; never crash if it does
        log.warning("full-text search failed for %r: %s", cleaned, exc)
        raise QueryError(f"I could not search for {cleaned!r}; try plainer words.") from exc
    lib.views.keep_text_matches(cleaned, ids, ranks)
    return ids, ranks


async def _ranked_by_impacts(session: AsyncSession, cleaned: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The words' ranks from the common words' impacts (`db.textrank`), or None: they only make the
    search faster, so any failure there leaves it to FTS5."""
    try:
        return await impact_ranks(session, cleaned)
    except (SQLAlchemyError, sqlite3.Error) as exc:
        log.warning("ranking %r from the stored impacts failed (%s); FTS5 ranks it", cleaned, exc)
        return None


async def text_filter(lib: Library, session: AsyncSession, fx: Facets, text: str, ranked: bool) -> Filter:
    """Which stories match the words and, when `ranked`, their bm25 ranks, from one MATCH (else
    ranked later, by `rank_text`, only if the order needs them). Only words to leave out
    (`NOT tea`, `-tea`) keep every story without them, unranked."""
    cleaned = " ".join(text.split())
    if len(cleaned) > MAX_TEXT:
        raise QueryError(f"That search text is too long ({len(cleaned)} characters; at most {MAX_TEXT}).")
    parsed = parse_text(cleaned)
    if parsed is None:
        raise QueryError(f"There is nothing to search for in {cleaned!r}: use some words.")
    only_out = parsed.expression is None
    ids, ranked_ids = await _text_matches(lib, session, cleaned, ranked and not only_out)
    at, live = fx.locate(ids)
    found = fx.mask(at[live])
    if only_out:  # only words to leave out: `match_ids` gave the stories to drop
        return Filter("text", f"text {cleaned!r}", ~found)
    ranks = np.full(fx.size, np.inf)
    if ranked_ids is not None:
        ranks[at[live]] = ranked_ids[live]
    return Filter("text", f"text {cleaned!r}", found, ranks, cleaned, ranked=ranked_ids is not None)


async def rank_text(lib: Library, session: AsyncSession, compiled: Compiled) -> None:
    """Fill the text filter's bm25 ranks, when `compile_query` was not asked to (one MATCH)."""
    f = next((f for f in compiled.filters if f.text is not None), None)
    if f is None or f.ranks is None or f.ranked:
        return
    ids, ranks = await _text_matches(lib, session, f.text or "", True)
    assert ranks is not None
    at, live = compiled.facets.locate(ids)
    f.ranks[at[live]] = ranks[live]
    f.ranked = True
