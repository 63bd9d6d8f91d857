"""The archive's derived in-memory views, all in one place: the title index, the rating map that
gates title autocomplete, the people the archive knows (`service.people`: who `Clara` and `Twelve`
are, per fandom), the vocabulary (names, labels, counts), the filter index (`Facets`), the figures
counted from them (totals, rankings per age gate) and the latest full-text answers.

Owns `ArchiveViews` (one per `Library`, at `lib.views`) and its one `refresh()`: every view is
rebuilt here and nowhere else. The key is the archive's change counter (`db.changes`), which every
write to the stories, from any process, moves, so a story added or re-indexed by `bot.py add` or
`bot.py index` while the bot runs reaches every view within `RECHECK_SECONDS`. Titles and the
rating map are brought up to date at once (only the stories that changed are re-keyed; a whole
title index, at the first load or when its base is due, is built in a worker thread and swapped
in, so the event loop goes on answering meanwhile); the other views are rebuilt on their next use.
While a bulk index keeps the counter moving, a costly view is rebuilt at most every
`REBUILD_COST_FACTOR` build-times (`MAX_STALE_SECONDS` at most), unless a change made here asks for
it at once (`refresh(force=True)`). It must not import Discord, and
commands never cache a view themselves: they ask this object each time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.about import AboutWords, about_words
from db.backend import fetch_all
from db.changes import change_count
from service.facets import Facets
from service.facets import build as build_facets
from service.memory import give_back_memory
from service.people import People, build_people
from service.titles import TitleIndex
from service.vocabulary import Vocabulary, build_vocabulary

log = logging.getLogger(__name__)
T = TypeVar("T")

RECHECK_SECONDS = 1.5
"""How long the views are trusted before the change counter is read again (one indexed read)."""
REBUILD_COST_FACTOR = 20.0
"""A stale view is kept for this many times what its last build cost, while the archive moves."""
MAX_STALE_SECONDS = 30.0
"""…but never longer than this."""

TEXT_ANSWERS = 8
"""Full-text answers kept (the story ids and ranks of the latest distinct queries): a query's later
pages and the same words under other filters then match nothing again. At 50,000 stories a common
word's answer is ~0.6 MB."""

_LIVE_TITLES = "SELECT id, title, rating_level FROM stories WHERE removed_at IS NULL"


@dataclass(slots=True)
class _Slot(Generic[T]):
    """One lazily built view and the archive state it was built from."""

    name: str
    value: T | None = None
    signature: int = -1
    built: float = 0.0
    cost: float = 0.0
    forced: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class ArchiveViews:
    """Every derived in-memory view of one archive, refreshed together from its change counter."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], roster: Any = None) -> None:
        self._sessions = sessions
        self._roster = roster
        self.titles = TitleIndex()
        """The title index as it is now (`title_index()` refreshes first; this does not)."""
        self._levels: dict[int, str] = {}
        self._signature = -1
        self._checked = -math.inf
        self._check_lock = asyncio.Lock()
        self._people: _Slot[People] = _Slot("people")
        self._vocabulary: _Slot[Vocabulary] = _Slot("vocabulary")
        self._facets: _Slot[Facets] = _Slot("filter index")
        self._figures: dict[tuple[str, frozenset[str] | None], _Slot[Any]] = {}
        self._texts: OrderedDict[str, tuple[np.ndarray, np.ndarray | None]] = OrderedDict()
        self._texts_at = -1

    @property
    def signature(self) -> int:
        """The change count the views were last brought up to (-1: never)."""
        return self._signature

    # ---- the one refresh ---------------------------------------------------------------------

    async def refresh(self, *, force: bool = False) -> bool:
        """Bring the views in step with the archive; True when it had changed.

        Reads the change counter (at most every RECHECK_SECONDS unless `force`); when it moved,
        re-keys the titles and rating levels that changed and marks the other views stale. `force`
        (after a change made in this process: a curation, an index run) reads the counter now and
        has every stale view rebuilt on its next use, whatever it costs.
        """
        if not force and time.monotonic() - self._checked < RECHECK_SECONDS:
            return False
        async with self._check_lock:
            if not force and time.monotonic() - self._checked < RECHECK_SECONDS:
                return False  # another task looked while this one waited
            async with self._sessions() as session:
                signature = await change_count(session)
                changed = signature != self._signature
                if changed:
                    await self._sync_titles(session)
            self._signature, self._checked = signature, time.monotonic()
        if changed and force:
            for slot in self._slots():
                slot.forced = True
        return changed

    async def _sync_titles(self, session: AsyncSession) -> None:
        started = time.perf_counter()
        rows = await fetch_all(session, _LIVE_TITLES)
        first = self._signature < 0
        titles = self.titles
        if titles.resets_for(len(rows)):  # `sync` would re-key every title: build it aside
            titles = await asyncio.to_thread(TitleIndex, ((int(s), str(t or "")) for s, t, _ in rows))
            changed = len(rows)
        else:
            changed = titles.sync((int(sid), str(title or "")) for sid, title, _level in rows)
            if titles.rebuild_due:  # the next query would rebuild it: a fresh copy, built aside
                titles = await asyncio.to_thread(TitleIndex.from_keyed, titles.keyed())
        self.titles = titles
        names: dict[str, str] = {}  # one string per rating level, not one per story
        self._levels = {int(sid): names.setdefault(str(level), str(level)) for sid, _title, level in rows}
        del rows
        if changed > 1000:
            give_back_memory()
        log.log(
            logging.INFO if first else logging.DEBUG,
            "title index holds %s titles (%s changed, %.0f ms)",
            len(self.titles),
            changed,
            (time.perf_counter() - started) * 1000,
        )

    def _slots(self) -> list[_Slot[Any]]:
        return [self._people, self._vocabulary, self._facets, *self._figures.values()]

    # ---- asking for a view ---------------------------------------------------------------------

    async def title_index(self) -> TitleIndex:
        """The title index, current to within RECHECK_SECONDS."""
        await self.refresh()
        return self.titles

    async def rating_levels(self) -> dict[int, str]:
        """Every live story's rating level, by story id (what gates title autocomplete)."""
        await self.refresh()
        return self._levels

    async def people(self) -> People:
        """The people each fandom's stories write, learned from the archive (`service.people`)."""
        return await self._get(self._people, lambda session: build_people(session, self._roster))

    async def vocabulary(self) -> Vocabulary:
        """Authors, tags, fandoms, characters and pairings of the live archive, with counts."""
        people = await self.people()
        return await self._get(self._vocabulary, lambda session: build_vocabulary(session, people))

    async def facets(self) -> Facets:
        """The filter index searches and recs run on."""
        people = await self.people()
        return await self._get(self._facets, lambda session: build_facets(session, people))

    async def figure(
        self,
        name: str,
        allowed_levels: frozenset[str] | None,
        compute: Callable[[AsyncSession], Awaitable[T]],
    ) -> T:
        """A figure counted once per archive state (and age gate): `compute(session)` runs only
        when the archive changed since it last ran."""
        key = (name, allowed_levels)
        slot = self._figures.get(key)
        if slot is None:
            slot = self._figures[key] = _Slot(name)
        return await self._get(slot, compute)  # type: ignore[no-any-return]

    def text_matches(self, words: str) -> tuple[np.ndarray, np.ndarray | None] | None:
        """The kept answer to full-text `words` (story ids, and their ranks when computed), if the
        archive has not changed since it was found."""
        if self._texts_at != self._signature:
            return None
        found = self._texts.get(words)
        if found is not None:
            self._texts.move_to_end(words)
        return found

    def keep_text_matches(self, words: str, ids: np.ndarray, ranks: np.ndarray | None) -> None:
        """Keep the answer to `words` (see `text_matches`); the oldest of `TEXT_ANSWERS` goes."""
        if self._texts_at != self._signature:
            self._texts.clear()
            self._texts_at = self._signature
        self._texts[words] = (ids.astype(np.int32) if ids.size and ids.max() < 2**31 else ids, ranks)
        self._texts.move_to_end(words)
        while len(self._texts) > TEXT_ANSWERS:
            self._texts.popitem(last=False)

    async def about_words(self) -> AboutWords:
        """How many stories name each word in their title, author, summary or tags (`db.about`;
        what `similar` leaves out as too common), counted once per archive state."""
        return await self.figure("about-words", None, about_words)

    async def warm(self) -> None:
        """Build every view now (about a second at 50,000 stories), so no member's command pays."""
        await self.refresh(force=True)
        await self.people()
        await self.vocabulary()
        await self.facets()
        await self.about_words()  # 0.3 s at 50,000 stories: the first /similar paid it

    def _fresh(self, slot: _Slot[Any]) -> bool:
        if slot.value is None:
            return False
        if slot.signature == self._signature:
            return True
        if slot.forced:
            return False
        age = time.monotonic() - slot.built
        return age < min(MAX_STALE_SECONDS, REBUILD_COST_FACTOR * slot.cost)

    async def _get(self, slot: _Slot[T], build: Callable[[AsyncSession], Awaitable[T]]) -> T:
        await self.refresh()
        if not self._fresh(slot):
            async with slot.lock:
                if not self._fresh(slot):  # not rebuilt by another task meanwhile
                    signature, started = self._signature, time.perf_counter()
                    async with self._sessions() as session:
                        value = await build(session)
                    slot.value, slot.signature, slot.forced = value, signature, False
                    slot.built, slot.cost = time.monotonic(), time.perf_counter() - started
                    give_back_memory()
                    log.info("%s rebuilt in %.0f ms", slot.name, slot.cost * 1000)
        assert slot.value is not None
        return slot.value
