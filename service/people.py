"""The people the archive itself knows, fandom by fandom (issue 13): who `Clara`, `Twelve` and `SS`
are in the stories that write them, learned from every live story's header characters and pairing
members at each change of the archive.

Owns `People` (the snapshot: each fandom's `archive.learn.FandomPeople`, each story's fandoms, the
stories a mod corrected) and `build_people` (reading it from the database with the host's rosters).
A stored name is read as a learned person only within its own story's fandom (`Clara` in a Doctor
Who story is Clara Oswald; in another fandom's story it stays `Clara`), never for a story without a
fandom, never for a name a loaded roster owns (the host's roster wins) and never for a story whose
characters or pairings a mod corrected. The one copy in memory is `service.views.ArchiveViews`'s,
rebuilt there when the archive changes; the filter index, the vocabulary and the rankings read
names through `People.rename`. It must not import Discord and writes nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from archive.fandoms import fandom_of_folder
from archive.learn import FandomPeople, learn_people
from db.backend import fetch_all, fetch_chunks
from service.names import NameBook

_FANDOM_ROWS = (
    "SELECT t.story_id, t.label, t.name FROM story_tags t JOIN stories s ON s.id = t.story_id "
    "WHERE t.kind = 'fandom' AND s.removed_at IS NULL"
)
_HEADER_ROWS = (
    "SELECT c.story_id, c.name FROM story_characters c JOIN stories s ON s.id = c.story_id "
    "WHERE c.source = 'header' AND s.removed_at IS NULL"
)
_MEMBER_ROWS = (
    "SELECT r.story_id, m.name FROM relationship_members m "
    "JOIN story_relationships r ON r.id = m.relationship_id JOIN stories s ON s.id = r.story_id "
    "WHERE s.removed_at IS NULL"
)
_CORRECTED = "SELECT DISTINCT story_id FROM overrides WHERE field IN ('characters', 'relationships')"


def rosters_of(roster: Any) -> list[Any]:
    """The main roster and its companions (the rosters of other fandoms loaded beside it)."""
    if roster is None:
        return []
    return [roster, *getattr(roster, "companions", [])]


def fandom_group(label: str, rosters: Iterable[Any]) -> str:
    """The fandom a stored label belongs to: a loaded roster's fandom (`BtVS` -> Buffyverse), a
    widely written fandom (`Sherlock BBC` -> Sherlock (TV)), else the label itself."""
    for roster in rosters:
        if roster.fandom_of(label):
            return str(roster.fandom)
    return fandom_of_folder(label) or " ".join(label.split())


@dataclass(slots=True)
class People:
    """One snapshot of the people the archive knows (see the module docstring)."""

    fandoms: dict[str, FandomPeople] = field(default_factory=dict)
    story_fandoms: dict[int, tuple[str, ...]] = field(default_factory=dict)
    corrected: frozenset[int] = frozenset()
    renamed: dict[str, dict[str, str]] = field(default_factory=dict)
    """stored name -> {fandom: person} for the names some fandom reads as another name."""

    def rename(self, story_id: int, name: str) -> str:
        """The person `name` means in that story (itself unless its fandom learned otherwise)."""
        by_fandom = self.renamed.get(name)
        if not by_fandom or story_id in self.corrected:
            return name
        found = {by_fandom[f] for f in self.story_fandoms.get(story_id, ()) if f in by_fandom}
        return next(iter(found)) if len(found) == 1 else name

    def affected(self) -> set[str]:
        """Every stored name some fandom renames, and every person a name is renamed to."""
        return set(self.renamed) | {p for by in self.renamed.values() for p in by.values()}

    def spellings(self) -> dict[str, set[str]]:
        """Each spelling written in some fandom (as stored) with every person it means there."""
        out: dict[str, set[str]] = defaultdict(set)
        for people in self.fandoms.values():
            for written, person in people.names.items():
                out[written].add(person)
        return out

    def person_fandoms(self) -> dict[str, set[str]]:
        """Each person with the fandoms whose stories write them."""
        out: dict[str, set[str]] = defaultdict(set)
        for fandom, people in self.fandoms.items():
            for person in people.people:
                out[person].add(fandom)
        return out


async def build_people(session: AsyncSession, roster: Any) -> People:
    """Learn every fandom's people from the live archive (a few hundred ms at 50,000 stories).
    The rows are read a chunk at a time: a snapshot never holds a Python object per row."""
    rosters = rosters_of(roster)
    story_fandoms = await _story_fandoms(session, rosters)
    written: dict[str, Counter[str]] = defaultdict(Counter)
    story_ids, codes, spelled = await _named_once(session)
    for story_id, code in zip(story_ids, codes, strict=True):
        if name := spelled[code]:
            for fandom in story_fandoms.get(story_id, ()):
                written[fandom][name] += 1
    by_name = {str(r.fandom): r for r in rosters}
    fandoms: dict[str, FandomPeople] = {}
    renamed: dict[str, dict[str, str]] = defaultdict(dict)
    for fandom, counts in written.items():
        own = by_name.get(fandom)
        fixed = [n for n in counts if own is not None and own.resolve(n)]
        people = learn_people(fandom, dict(counts), fixed=[*fixed, *(own.names if own else [])])
        fandoms[fandom] = people
        for spelling, person in people.names.items():
            if spelling != person:
                renamed[spelling][fandom] = person
    corrected = frozenset(int(r[0]) for r in await fetch_all(session, _CORRECTED))
    return People(fandoms, story_fandoms, corrected, dict(renamed))


async def _story_fandoms(session: AsyncSession, rosters: list[Any]) -> dict[int, tuple[str, ...]]:
    """Each live story's fandom groups, sorted; stories with the same groups share one tuple."""
    groups: dict[str, str] = {}
    shared: dict[tuple[str, ...], tuple[str, ...]] = {}
    out: dict[int, tuple[str, ...]] = {}
    current, found = -1, set()
    async for rows in fetch_chunks(session, _FANDOM_ROWS + " ORDER BY t.story_id"):
        for story_id, label, name in rows:
            if story_id != current:
                if found:
                    out[current] = shared.setdefault(key := tuple(sorted(found)), key)
                current, found = story_id, set()
            text = str(label or name or "")
            if text not in groups:
                groups[text] = fandom_group(text, rosters)
            found.add(groups[text])
    if found:
        out[current] = shared.setdefault(key := tuple(sorted(found)), key)
    return out


async def _named_once(session: AsyncSession) -> tuple[list[int], list[int], list[str]]:
    """Every (story, name) its header characters and pairing members give, each pair once, in
    the order first given (header characters first): story ids, name codes, and the name of
    each code."""
    code_of: dict[str, int] = {}
    stories: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for sql in (_HEADER_ROWS, _MEMBER_ROWS):
        async for rows in fetch_chunks(session, sql):
            n = len(rows)
            stories.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=n))
            codes.append(
                np.fromiter((code_of.setdefault(r[1] or "", len(code_of)) for r in rows), np.int64, n)
            )
    if not stories:
        return [], [], []
    story_ids, name_codes = np.concatenate(stories), np.concatenate(codes)
    first = np.unique(story_ids * len(code_of) + name_codes, return_index=True)[1]
    first.sort()
    return story_ids[first].tolist(), name_codes[first].tolist(), list(code_of)


def name_book(
    roster: Any, people: People, characters: list[tuple[str, int]], cache: dict[Any, Any]
) -> NameBook:
    """Every name a reader may type for a character (`service.names.NameBook`): every loaded
    roster's, the archive's people and how its fandoms spell them. Kept in `cache` (the
    vocabulary's `derived`, dropped with that snapshot) for this roster and these people."""
    key = ("name book", id(roster), id(people))
    found = cache.get(key)
    if found is None or found[0] is not roster or found[1] is not people:
        book = NameBook.build(
            rosters_of(roster),
            (name for name, _n in characters),
            people.spellings(),
            people.person_fandoms(),
            dict(characters),
        )
        found = cache[key] = (roster, people, book)
    return found[2]  # type: ignore[no-any-return]
