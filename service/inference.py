"""Characters found in story text by the names the archive learned (issue 13), for the fandoms no
loaded roster covers: a Merlin chapter with no header that names Arthur and Gwen often enough gets
them as characters, as a roster would give them to a Buffy chapter.

Owns `infer_learned(lib)`, run after an index run (`service.storing.refresh_views`): for each story
of such a fandom whose text was not yet counted with that fandom's current learned names (the
names' signature is kept in the story's `meta` under `LEARNED_KEY`), it counts the learned people's
names in the story text and rewrites the story's text-inferred characters (never its header ones).
A story is only read with its own fandom's names; a host roster's fandom is the roster's alone. It
must not import Discord, and it changes nothing but `story_characters` rows of `source = 'text'`
and that one `meta` key.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from sqlalchemy import delete, select, update

from archive.learn import roster_data
from archive.parse import MIN_TEXT_MENTIONS
from archive.roster import Roster, RosterError
from db.models import Story, StoryCharacter, StoryText
from service.library import Library
from service.people import People, rosters_of

log = logging.getLogger(__name__)

LEARNED_KEY = "learned_names"
BATCH = 200


def learned_rosters(people: People, roster: Any) -> dict[str, tuple[Roster, str]]:
    """Each fandom no loaded roster covers, with a roster of its learned people and its signature."""
    covered = {str(r.fandom) for r in rosters_of(roster)}
    out: dict[str, tuple[Roster, str]] = {}
    for fandom, learned in people.fandoms.items():
        if fandom in covered:
            continue
        data = roster_data(learned)
        if not data["characters"]:
            continue
        try:
            built = Roster.from_dict(data, source=f"learned {fandom}")
        except RosterError as exc:  # a spelling two people claim: skip the fandom, say so
            log.warning("the names learned for %s cannot be counted in text: %s", fandom, exc)
            continue
        text = repr(sorted((p, sorted(c["aliases"])) for p, c in data["characters"].items()))
        out[fandom] = (built, hashlib.sha256(text.encode()).hexdigest()[:16])
    return out


async def infer_learned(lib: Library) -> int:
    """Count the learned names in the text of every story that needs it; how many were read."""
    people = await lib.views.people()
    rosters = learned_rosters(people, lib.roster)
    if not rosters:
        return 0
    wanted: dict[int, str] = {}
    for story_id, fandoms in people.story_fandoms.items():
        mine = [f for f in fandoms if f in rosters]
        if len(mine) == 1 and story_id not in people.corrected:
            wanted[story_id] = mine[0]
    if not wanted:
        return 0
    todo: list[int] = []
    ids = sorted(wanted)
    async with lib.sessions() as session:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = await session.execute(
                select(Story.id, Story.meta[LEARNED_KEY].as_string()).where(Story.id.in_(chunk))
            )
            todo.extend(sid for sid, seen in rows if seen != rosters[wanted[sid]][1])
    for start in range(0, len(todo), BATCH):
        async with lib.transaction() as session:
            for sid in todo[start : start + BATCH]:
                roster, signature = rosters[wanted[sid]]
                await _count_one(session, people, sid, roster, signature)
    if todo:
        log.info("counted learned names in the text of %s stories", len(todo))
        await lib.refresh()
    return len(todo)


async def _count_one(session: Any, people: People, sid: int, roster: Roster, signature: str) -> None:
    body = (await session.execute(select(StoryText.body).where(StoryText.story_id == sid))).scalar()
    counts = roster.count_mentions(body or "")
    header = {
        people.rename(sid, name)
        for name in (
            await session.execute(
                select(StoryCharacter.name).where(
                    StoryCharacter.story_id == sid, StoryCharacter.source == "header"
                )
            )
        ).scalars()
    }
    await session.execute(
        delete(StoryCharacter).where(StoryCharacter.story_id == sid, StoryCharacter.source == "text")
    )
    for name, n in sorted(counts.items()):
        if name not in header and n >= MIN_TEXT_MENTIONS:
            session.add(StoryCharacter(story_id=sid, name=name[:128], source="text", mentions=n))
    meta = (await session.execute(select(Story.meta).where(Story.id == sid))).scalar() or {}
    await session.execute(update(Story).where(Story.id == sid).values(meta={**meta, LEARNED_KEY: signature}))
