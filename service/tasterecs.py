"""Recs that learn from the server: "members who liked X also liked Y", for one member.

Owns the scoring (item-to-item over what members liked: kudos and the `favourites` shelf; two
stories are close when the same members liked both, a shared niche like counting more than a shared
popular one, see `score`) and the reason a card shows ("liked by 4 members who also liked *One Step
Forward*"). A member's rec skips everything they have read, shelved or given kudos, and keeps every
filter and the age gate (candidates must pass the same compiled query as `/rec`). With nothing to
go on (a new member, a new archive, no overlap within the filters) it falls back to today's rec
(`service.recs.rec`), saying so. `score` is pure, so `bench/recs_bench.py` replays it offline.
It must not import Discord.
"""

from __future__ import annotations

import logging
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Kudos, ReadingPosition, RecHistory, ShelfEntry, Story
from service import recs, tastecontent
from service.hits import load_hits
from service.library import Library
from service.query import SearchQuery
from service.recs import RecResult
from service.search import Compiled, compile_query, count

log = logging.getLogger(__name__)

SHORTLIST = 5
"""The rec is drawn from this many best-scored stories (weighted by score), so /rec varies."""
KIND = "taste"
CONTENT_WEIGHT = 1.0
POPULARITY = 1.0
CONTENT_CANDIDATES = 1000
"""At most this many stories closest in content join the candidates (the rest would never win)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A story scored for a member: how close, and whether members with overlapping likes liked it
    (or only its content is close)."""

    story_id: int
    score: float
    liked_together: bool  # members who share a like with this member liked it


def score(
    member_id: int,
    likes: Mapping[int, set[int]],
    skip: Iterable[int] = (),
    content: Mapping[int, float] | None = None,
) -> dict[int, Candidate]:
    """Stories scored for `member_id` (pure): what members with overlapping likes liked, blended
    with `content` (story id -> how much it shares with the member's likes, `service.tastecontent`).

    `likes` maps each member to the stories they liked; `skip` are stories not to offer (read,
    shelved). The collaborative part of a candidate c sums, over the member's liked stories i,
    co(i, c) / sqrt(pop(i)), where co counts members who liked both and pop how many liked it (a
    niche shared like says more than a like everybody shares). Both parts are scaled to 0..1, added
    (`CONTENT_WEIGHT` for content) and multiplied by (1 + pop(c)) ** `POPULARITY` (among stories as
    close, the one more members liked). `bench/recs_bench.py` chose this form over the cosine one
    (which over-rewards obscure stories), over either part alone and over plain popularity.
    """
    mine = likes.get(member_id, set())
    if not mine:
        return {}
    avoid = set(skip) | mine
    popularity: Counter[int] = Counter()
    for liked in likes.values():
        popularity.update(liked)
    collab: dict[int, float] = defaultdict(float)
    for other, theirs in likes.items():
        if other == member_id:
            continue
        shared = mine & theirs
        if not shared:
            continue
        weight = sum(1 / math.sqrt(popularity[i]) for i in shared)
        for c in theirs - avoid:
            collab[c] += weight
    near = {c: v for c, v in (content or {}).items() if v > 0 and c not in avoid}
    top_collab = max(collab.values(), default=0.0) or 1.0
    top_near = max(near.values(), default=0.0) or 1.0
    out: dict[int, Candidate] = {}
    for c in set(collab) | set(near):
        blended = collab.get(c, 0.0) / top_collab + CONTENT_WEIGHT * near.get(c, 0.0) / top_near
        total = blended * (1 + popularity[c]) ** POPULARITY
        out[c] = Candidate(c, total, c in collab)
    return out


def sources(member_id: int, likes: Mapping[int, set[int]], story_id: int) -> list[tuple[int, int]]:
    """The member's liked stories that other members liked along with `story_id`, each with how
    many members liked both, most first (the reason a card gives)."""
    mine = likes.get(member_id, set())
    together: Counter[int] = Counter()
    for other, theirs in likes.items():
        if other != member_id and story_id in theirs:
            together.update(mine & theirs)
    return sorted(together.items(), key=lambda kv: (-kv[1], kv[0]))


async def liked_by_member(session: AsyncSession) -> dict[int, set[int]]:
    """Every member's liked stories: kudos and favourites."""
    likes: dict[int, set[int]] = defaultdict(set)
    for member, story in await session.execute(select(Kudos.member_id, Kudos.story_id)):
        likes[member].add(story)
    for member, story in await session.execute(
        select(ShelfEntry.member_id, ShelfEntry.story_id).where(ShelfEntry.shelf == "favourites")
    ):
        likes[member].add(story)
    return dict(likes)


async def known_to(session: AsyncSession, member_id: int) -> set[int]:
    """Stories the member already knows: on any shelf, given kudos, or read to the end."""
    known = set(
        (await session.scalars(select(ShelfEntry.story_id).where(ShelfEntry.member_id == member_id))).all()
    )
    known |= set((await session.scalars(select(Kudos.story_id).where(Kudos.member_id == member_id))).all())
    known |= set(
        (
            await session.scalars(
                select(ReadingPosition.story_id).where(
                    ReadingPosition.member_id == member_id, ReadingPosition.part >= ReadingPosition.total
                )
            )
        ).all()
    )
    return known


def reason(shared: int, title: str) -> str:
    """`Liked by 4 members who also liked *One Step Forward*.`"""
    who = "1 member who" if shared == 1 else f"{shared} members who"
    safe = "".join("\\" + ch if ch in "*_~|`\\" else ch for ch in title)
    return f"Liked by {who} also liked *{safe}*."


async def _visible_source(
    session: AsyncSession, compiled: Compiled, found: list[tuple[int, int]]
) -> tuple[int, str] | None:
    """(members, title) of the liked story to name in the reason: the one most members share that
    this channel may show (a gated title is never named outside age-restricted channels)."""
    if not found:
        return None
    fx = compiled.facets
    ids = np.asarray([sid for sid, _n in found], dtype=np.int64)
    at, live = fx.locate(ids)
    allowed = live.copy()
    if compiled.gate is not None:
        allowed[live] &= compiled.gate[at[live]]
    for (sid, shared), ok in zip(found, allowed, strict=True):
        if ok:
            title = await session.scalar(select(Story.title).where(Story.id == sid))
            if title:
                return shared, title
    return None


def _shortlist(cands: list[Candidate], rng: random.Random) -> Candidate:
    best = sorted(cands, key=lambda c: (-c.score, c.story_id))[:SHORTLIST]
    weights = [c.score for c in best]
    return rng.choices(best, weights=weights, k=1)[0]


async def rec_for_member(
    lib: Library, q: SearchQuery, member_id: int, *, place: str, rng: random.Random | None = None
) -> RecResult:
    """A story for this member that fits `q`, leaning on what members with overlapping taste liked;
    today's rec (`service.recs.rec`) when there is nothing to lean on. Raises QueryError when
    nothing matches `q` at all."""
    rng = rng or random.Random()
    async with lib.transaction() as session:
        compiled = await compile_query(lib, session, q)
        likes = await liked_by_member(session)
        skip = await known_to(session, member_id)
        fx = compiled.facets
        mask = compiled.mask()
        mine = fx.positions_of(sorted(likes.get(member_id, ())))
        index = tastecontent.from_facets(fx) if len(mine) else None
        content: dict[int, float] = {}
        if index is not None:
            near = tastecontent.content_scores(index, mine.tolist()) * mask
            best = np.argsort(-near, kind="stable")[:CONTENT_CANDIDATES]
            content = {int(fx.ids[p]): float(near[p]) for p in best if near[p] > 0}
        scored = score(member_id, likes, skip, content)
        pick: Candidate | None = None
        if scored:
            ids = np.fromiter(scored, dtype=np.int64, count=len(scored))
            at, live = fx.locate(ids)
            passing = ids[live][mask[at[live]]]
            recent = await recs.recent_in(session, place, min(recs.RECENT_WINDOW, len(passing) // 2))
            fresh = [int(i) for i in passing if int(i) not in recent] or [int(i) for i in passing]
            if fresh:  # what was just recommended here waits while others fit
                pick = _shortlist([scored[i] for i in fresh], rng)
        if pick is not None:
            matched = count(compiled)
            hidden = count(compiled, gated=False) - matched if compiled.gate is not None else 0
            session.add(RecHistory(place=place, story_id=pick.story_id, kind=KIND))
            hits = await load_hits(session, [pick.story_id], people=await lib.views.people())
            fits = await recs.why_picked(session, compiled, pick.story_id)
            found = sources(member_id, likes, pick.story_id) if pick.liked_together else []
            because = await _visible_source(session, compiled, found)
            about: list[str] = []
            if because is None and index is not None:
                at_pick = fx.positions_of([pick.story_id])
                about = (
                    tastecontent.shared_labels(index, int(at_pick[0]), mine.tolist()) if len(at_pick) else []
                )
    if pick is None:
        result = await recs.rec(lib, q, place=place, rng=rng)
        if member_id in likes or skip:
            note = "Nothing members with your taste liked fits this yet, so here is today's pick."
        else:
            note = "Give kudos or add favourites and I will learn what you like; until then, today's pick."
        result.line = f"{note} {result.line}"
        return result
    if because:
        line = reason(*because)
    elif about:
        line = "Close to what you liked: " + ", ".join(about) + "."
    else:
        line = "Liked by members whose favourites overlap yours."
    if hidden:
        line += f" ({hidden} more matching stories only in age-restricted channels.)"
    log.info("taste rec for %s: story %s (score %.3f)", member_id, pick.story_id, pick.score)
    return RecResult(hits[0], matched, hidden, line, compiled.resolved, reason=fits)
