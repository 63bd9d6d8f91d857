"""The in-memory title index: find a story from a half-remembered title, and autocomplete titles.

Owns `TitleIndex` and `TitleMatch`. Titles are reduced by `service.titlekeys` (casefold, no
diacritics, no punctuation or articles, a few abbreviations spelled out). The index keeps:

* a *base* (`service.titlebase`) built in one go (at `load`/`reset`, and when enough has
  changed): a character trigram inverted index (CSR numpy arrays), a sorted word vocabulary whose
  postings are one contiguous slice per prefix, and the keys / folded titles in sorted order;
* a small *delta* of titles added since, scanned linearly; removed titles are tombstoned in a
  numpy mask. The base is rebuilt when the delta or the tombstones grow too large.

`find` ranks exact matches, then title-prefix matches, then fuzzy matches (trigram candidates
rescored with rapidfuzz). `complete` answers as-you-type: candidates are titles starting with what
was typed, titles whose words start with the typed words ("perfect sk" -> "Otherwise a Perfect
Sky"), titles starting one typo away, and fuzzy matches, all ranked by one score that never
rewards a short title found inside the typed text; an empty query lists titles alphabetically.

It must not import Discord, and nothing on the query path awaits; only `load` touches the database.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Story
from service.titlebase import FIRST, TitleBase, build_base
from service.titlefuzzy import CANDIDATES
from service.titlekeys import (
    ABBREVIATIONS,
    fold,
    key_words,
    shorten,
    title_key,
    typo_variants,
)

log = logging.getLogger(__name__)

MatchKind = Literal["exact", "prefix", "fuzzy"]
Allowed = Callable[[int], bool] | None

MAX_CHOICES = 25
"""Discord allows at most 25 autocomplete choices."""
MAX_NAME = 100
"""Discord allows at most 100 characters in a choice name."""
COMPLETE_POOL = 64
"""Fuzzy candidates rescored for an autocomplete (fewer than `find`: it must answer in a blink)."""
STRONG = 90.0
"""An autocomplete candidate scoring this much is a sure match; with 25 of them no misspelling is
looked for."""
WORD_PREFIX_IN_ORDER, WORD_PREFIX = 97.0, 94.0
"""Autocomplete scores of a title whose words start with the typed words, in the typed order
("perfect sk" in "Otherwise a Perfect Sky") or not: below a title starting with what was typed."""
_KIND_ORDER = {"exact": 0, "prefix": 1, "fuzzy": 2}
_TOP = "\U0010ffff"


class KeyedTitles(NamedTuple):
    """Titles with their keys, slot by slot: what `TitleIndex.keyed` hands to `from_keyed`."""

    ids: list[int]
    titles: list[str]
    folded: list[str]
    keys: list[str]


@dataclass(frozen=True, slots=True)
class TitleMatch:
    """One title found: the story's id, its title, a 0-100 similarity and how it matched.

    From `complete` the title is already shortened to at most 100 characters.
    """

    story_id: int
    title: str
    score: float
    kind: MatchKind

    @property
    def display(self) -> str:
        """The title shortened for a Discord choice name (at most 100 characters)."""
        return shorten(self.title, MAX_NAME)


class TitleIndex:
    """Titles by story id, searchable by fuzzy title and by as-you-type prefix."""

    def __init__(self, items: Iterable[tuple[int, str]] = ()) -> None:
        self.reset(items)

    # ---- keeping it up to date -------------------------------------------------------------

    def reset(self, items: Iterable[tuple[int, str]]) -> None:
        """Replace everything with `items` (story id, title) and build the base at once."""
        self._ids: list[int] = []
        self._titles: list[str] = []
        self._folded: list[str] = []
        self._keys: list[str] = []
        self._alive = np.zeros(0, dtype=bool)
        self._slot_of: dict[int, int] = {}
        self._dead = 0
        self._nb = 0
        for story_id, title in items:
            self.add(story_id, title)
        self._rebuild()

    async def load(self, session: AsyncSession) -> None:
        """Fill the index from the database: every story not removed."""
        rows = await session.execute(select(Story.id, Story.title).where(Story.removed_at.is_(None)))
        self.reset((int(sid), str(title or "")) for sid, title in rows)

    def sync(self, items: Iterable[tuple[int, str]]) -> int:
        """Make the index hold exactly `items` (story id, title), re-keying only what differs from
        what it holds now; returns how many titles were added, changed or dropped."""
        wanted = dict(items)
        if self.resets_for(len(wanted)):
            self.reset(wanted.items())
            return len(wanted)
        changed = 0
        for story_id in [sid for sid in self._slot_of if sid not in wanted]:
            self.remove(story_id)
            changed += 1
        for story_id, title in wanted.items():
            if self.title_of(story_id) != title:
                self.add(story_id, title)
                changed += 1
        return changed

    def resets_for(self, count: int) -> bool:
        """Whether `sync` to `count` titles re-keys them all (an empty index, or fewer than half
        of what it holds now) instead of changing only what differs."""
        return not self._slot_of or count < len(self._slot_of) // 2

    def add(self, story_id: int, title: str) -> None:
        """Index `title` for `story_id`; an id already present is replaced."""
        self.remove(story_id)
        slot = len(self._ids)
        folded, key = title_key(title)
        self._ids.append(story_id)
        self._titles.append(title)
        self._folded.append(folded)
        self._keys.append(key)
        if slot >= self._alive.size:
            self._alive = np.concatenate([self._alive, np.zeros(max(64, slot), dtype=bool)])
        self._alive[slot] = True
        self._slot_of[story_id] = slot

    def remove(self, story_id: int) -> None:
        """Forget `story_id` (no error when it is not indexed)."""
        slot = self._slot_of.pop(story_id, None)
        if slot is not None:
            self._alive[slot] = False
            self._dead += 1

    def title_of(self, story_id: int) -> str | None:
        """The indexed title of `story_id`, or None."""
        slot = self._slot_of.get(story_id)
        return None if slot is None else self._titles[slot]

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, story_id: object) -> bool:
        return story_id in self._slot_of

    # ---- the base ----------------------------------------------------------------------------

    @property
    def rebuild_due(self) -> bool:
        """Whether the delta or the tombstones have grown past their budget (the next query would
        rebuild the base; `ArchiveViews` rebuilds a copy in a worker thread before that)."""
        delta = len(self._ids) - self._nb
        return delta > 512 + self._nb // 64 or self._dead > 1024 + self._nb // 4

    def _ensure(self) -> None:
        """Rebuild the base when the delta or the tombstones have grown past their budget."""
        if self.rebuild_due:
            self._rebuild()

    def keyed(self) -> KeyedTitles:
        """What the index holds, already keyed, as lists of its own (cheap: no title is re-keyed);
        `TitleIndex.from_keyed` builds a fresh index of them, in another thread if need be."""
        live = [s for s in range(len(self._ids)) if self._alive[s]]
        return KeyedTitles(
            [self._ids[s] for s in live],
            [self._titles[s] for s in live],
            [self._folded[s] for s in live],
            [self._keys[s] for s in live],
        )

    @classmethod
    def from_keyed(cls, keyed: KeyedTitles) -> TitleIndex:
        """A new index of `keyed` titles, its base built. It reads nothing shared, so it may run in
        a worker thread while the index the titles came from goes on answering."""
        index = cls()
        index._ids, index._titles, index._folded, index._keys = (list(part) for part in keyed)
        index._slot_of = {sid: i for i, sid in enumerate(index._ids)}
        index._rebuild()
        return index

    def _rebuild(self) -> None:
        if self._dead:
            self._ids, self._titles, self._folded, self._keys = self.keyed()
            self._slot_of = {sid: i for i, sid in enumerate(self._ids)}
            self._dead = 0
        n = self._nb = len(self._ids)
        self._alive = np.ones(n, dtype=bool)
        self._b: TitleBase = build_base(self._ids, self._folded, self._keys)
        if n:  # the first query after a build would pay for warming numpy and rapidfuzz up
            self._b.fuzzy.score("warm up", self._keys[:8])
            self._b.fuzzy.candidates(self._keys[0], self._alive)
        log.debug("title index rebuilt: %s titles, %s trigrams", n, len(self._b.tri_vocab))

    # ---- helpers -----------------------------------------------------------------------------

    def _live(self, slot: int, allowed: Allowed) -> bool:
        return bool(self._alive[slot]) and (allowed is None or allowed(self._ids[slot]))

    def _delta(self) -> range:
        return range(self._nb, len(self._ids))

    def _sorted_range(self, sorted_list: list[str], prefix: str) -> tuple[int, int]:
        return bisect.bisect_left(sorted_list, prefix), bisect.bisect_left(sorted_list, prefix + _TOP)

    def _prefix_slots(self, use_keys: bool, prefix: str, cap: int, allowed: Allowed) -> list[int]:
        """Live slots whose key (or folded title) starts with `prefix`, alphabetically, up to cap."""
        sorted_list = self._b.sorted_keys if use_keys else self._b.sorted_folded
        slots = self._b.key_slots if use_keys else self._b.fold_slots
        texts = self._keys if use_keys else self._folded
        lo, hi = self._sorted_range(sorted_list, prefix)
        found: list[int] = []
        for i in range(lo, hi):
            if len(found) >= cap:
                break
            if self._live(int(slots[i]), allowed):
                found.append(int(slots[i]))
        found += [s for s in self._delta() if texts[s].startswith(prefix) and self._live(s, allowed)]
        found.sort(key=lambda s: (texts[s], self._ids[s]))
        return found[:cap]

    def _match(self, slot: int, score: float, kind: MatchKind, *, short: bool = False) -> TitleMatch:
        title = self._titles[slot]
        return TitleMatch(self._ids[slot], shorten(title, MAX_NAME) if short else title, score, kind)

    # ---- find --------------------------------------------------------------------------------

    def find(self, query: str, limit: int = 10, *, allowed: Allowed = None) -> list[TitleMatch]:
        """Stories whose title matches `query`, best first: exact, then title prefix, then fuzzy.

        Within a kind, higher score first. Tolerates typos, missing or extra words, word order,
        missing articles, diacritics, case and a few abbreviations (`fwd`).
        """
        self._ensure()
        qkey = " ".join(key_words(fold(query).split()))
        if not qkey or limit <= 0:
            return []
        scored: dict[int, tuple[MatchKind, float]] = {}
        for slot in self._prefix_slots(True, qkey, max(limit, 50), allowed):
            exact = self._keys[slot] == qkey
            scored[slot] = ("exact", 100.0) if exact else ("prefix", 0.0)
        prefix = [s for s, (kind, _) in scored.items() if kind == "prefix"]
        if prefix:
            for slot, score in zip(
                prefix, self._b.fuzzy.score(qkey, [self._keys[s] for s in prefix]), strict=True
            ):
                scored[slot] = ("prefix", score)
        for slot, score in self._fuzzy_matches(qkey, allowed, open_end=False):
            scored.setdefault(slot, ("fuzzy", score))
        ranked = sorted(
            scored.items(),
            key=lambda kv: (
                _KIND_ORDER[kv[1][0]],
                -round(kv[1][1], 1),
                len(self._keys[kv[0]]),
                self._keys[kv[0]],
                self._ids[kv[0]],
            ),
        )
        return [self._match(slot, round(float(score), 1), kind) for slot, (kind, score) in ranked[:limit]]

    def _fuzzy_matches(
        self, qkey: str, allowed: Allowed, *, open_end: bool, pool: int = CANDIDATES
    ) -> Iterator[tuple[int, float]]:
        """(slot, score) of fuzzy candidates from base and delta, best first, live and allowed."""
        base = self._b.fuzzy.candidates(qkey, self._alive[: self._nb], open_end=open_end, limit=pool)
        delta = [s for s in self._delta() if self._alive[s]]
        slots = [int(s) for s in base] + delta
        if not slots:
            return
        scores = self._b.fuzzy.score(qkey, [self._keys[s] for s in slots], prefix=open_end)
        for i in np.lexsort((np.asarray([self._ids[s] for s in slots]), -scores)):
            if scores[i] < self._b.fuzzy.cutoff:
                break
            if allowed is None or allowed(self._ids[slots[i]]):
                yield slots[i], float(scores[i])

    # ---- complete ----------------------------------------------------------------------------

    def complete(self, prefix: str, limit: int = MAX_CHOICES, *, allowed: Allowed = None) -> list[TitleMatch]:
        """Autocomplete suggestions for what has been typed so far (at most 25, names <= 100 chars).

        Candidates are titles starting with the typed text (as typed, or ignoring articles), titles
        whose words start with the typed words, and close misspellings; all are ranked by one
        score (`FuzzyScorer.score` while typing), exact titles first, then the best score, then the
        shorter title. An empty query lists titles alphabetically, ignoring leading articles ("The
        Gift" under G).
        """
        self._ensure()
        limit = max(0, min(limit, MAX_CHOICES))
        typed = fold(prefix)
        partial = bool(prefix) and prefix[-1].isalnum()
        words = key_words(typed.split(), partial_last=partial)
        qkey = " ".join(words)
        if not prefix.strip():  # nothing typed yet: the first titles alphabetically
            return [
                self._match(s, 0.0, "prefix", short=True)
                for s in self._prefix_slots(True, "", limit, allowed)
            ]
        if limit <= 0:
            return []
        found: dict[int, MatchKind] = {}
        wordwise: list[int] = []
        pool = limit
        for slot in self._prefix_slots(False, typed, pool, allowed):
            found.setdefault(slot, "prefix")
        if qkey:
            for slot in self._prefix_slots(True, qkey, pool, allowed):
                found.setdefault(slot, "prefix")
            wordwise = [s for s in self._word_prefix_slots(words, qkey, pool, allowed) if s not in found]
            found.update(dict.fromkeys(wordwise, "prefix"))
            if len(words[0]) >= 4 and len(found) < limit:  # a typo in the first word? what was meant
                for slot in self._near_prefix_slots(words[0], pool, allowed):
                    found.setdefault(slot, "fuzzy")
        slots = list(found)
        scores = self._b.fuzzy.score(qkey or typed, [self._keys[s] for s in slots], prefix=True)
        if qkey and len(wordwise):  # every typed word starts a title word: nearly as good as a prefix
            spaced, by_words = " " + qkey, set(wordwise)
            for i, slot in enumerate(slots):
                if slot in by_words:
                    near = (" " + self._keys[slot]).find(spaced) >= 0
                    extra = max(0, int(self._b.nwords[slot]) - len(words) - 1) if slot < self._nb else 0
                    bonus = (WORD_PREFIX_IN_ORDER if near else WORD_PREFIX) - 2.0 * extra  # long titles less
                    scores[i] = max(scores[i], bonus)
        if len(qkey) >= 4 and int((scores >= STRONG).sum()) < limit // 2:  # few good ones: misspellings too
            fuzzy = [
                (s, sc)
                for s, sc in self._fuzzy_matches(qkey, allowed, open_end=partial, pool=COMPLETE_POOL)
                if s not in found
            ]
            found.update(dict.fromkeys((s for s, _ in fuzzy), "fuzzy"))
            slots += [s for s, _ in fuzzy]
            scores = np.concatenate([scores, np.asarray([sc for _, sc in fuzzy], dtype=np.float32)])
        exact = [self._keys[s] == qkey or self._folded[s] == typed for s in slots]
        order = sorted(
            range(len(slots)),
            key=lambda i: (
                not exact[i],
                -round(float(scores[i]), 1),
                len(self._keys[slots[i]]),
                self._keys[slots[i]],
                self._ids[slots[i]],
            ),
        )
        return [
            self._match(
                slots[i],
                100.0 if exact[i] else round(float(scores[i]), 1),
                "exact" if exact[i] else found[slots[i]],
                short=True,
            )
            for i in order[:limit]
        ]

    def _near_prefix_slots(self, word: str, cap: int, allowed: Allowed) -> list[int]:
        """Live slots whose key starts with a spelling one typo away from `word`, alphabetically,
        up to `cap` (only spellings some title's first word starts with are looked up)."""
        spellings = {v for v in typo_variants(word[:FIRST], self._b.alphabet) if len(v) >= 3}
        found: list[int] = []
        for v in sorted(spellings & self._b.first_heads):
            lo, hi = self._sorted_range(self._b.sorted_keys, v)
            found.extend(int(self._b.key_slots[i]) for i in range(lo, min(hi, lo + cap)))
        if self._nb < len(self._ids):
            lengths = {len(v) for v in spellings}
            found += [s for s in self._delta() if any(self._keys[s][:n] in spellings for n in lengths)]
        live = sorted(
            {s for s in found if self._live(s, allowed)}, key=lambda s: (self._keys[s], self._ids[s])
        )
        return live[:cap]

    def _word_prefix_slots(self, words: list[str], qkey: str, limit: int, allowed: Allowed) -> list[int]:
        """Live slots where every typed word starts some word of the title, best first: the typed
        words in sequence, then shorter titles, then alphabetical."""
        nb = self._nb
        mask = self._alive[:nb].copy()
        alternatives: list[list[str]] = []
        for i, word in enumerate(words):
            alts = [word]
            if i == len(words) - 1 and word in ABBREVIATIONS:
                alts.append(ABBREVIATIONS[word])
            alternatives.append(alts)
            hit = np.zeros(nb, dtype=bool)
            for alt in alts:
                lo, hi = self._sorted_range(self._b.vocab, alt)
                hit[self._b.word_post[self._b.word_off[lo] : self._b.word_off[hi]]] = True
            mask &= hit
        found = np.flatnonzero(mask)
        if found.size > 400:
            weight = self._b.nwords[found] * (nb + 1) + self._b.rank[found]
            found = found[np.argpartition(weight, 400)[:400]]
        slots = [int(s) for s in found]
        for slot in self._delta():
            twords = self._keys[slot].split()
            if self._alive[slot] and all(
                any(tw.startswith(a) for tw in twords for a in alts) for alts in alternatives
            ):
                slots.append(slot)
        spaced = " " + qkey

        def order(slot: int) -> tuple[int, int, str, int]:
            key = self._keys[slot]
            return (0 if (" " + key).find(spaced) >= 0 else 1, len(key), key, self._ids[slot])

        slots.sort(key=order)
        return [s for s in slots if allowed is None or allowed(self._ids[s])][: limit * 2]
