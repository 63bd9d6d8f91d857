"""Fuzzy title matching for the title index: trigram candidates, then rapidfuzz rescoring.

Owns the candidate step (shared character trigrams counted with `np.bincount` over CSR posting
lists, best by Dice coefficient and by raw overlap) and the score blend used to rank candidates.
Pure and synchronous: no database, no Discord; it holds references to the arrays the index built.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process

from service.titlekeys import query_trigrams

CANDIDATES = 160
"""How many titles survive the trigram step to be rescored (per query)."""


def _top(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` largest values (unordered)."""
    if values.size <= k:
        return np.arange(values.size)
    return np.argpartition(-values, k)[:k]


class FuzzyScorer:
    """Candidates and scores over one built trigram index (slots 0..n-1)."""

    cutoff = 50.0
    """Fuzzy matches scoring below this are not offered."""

    def __init__(self, vocab: np.ndarray, off: np.ndarray, post: np.ndarray, tri_len: np.ndarray) -> None:
        self._vocab = vocab
        self._off = off
        self._post = post
        self._tri_len = tri_len

    def candidates(
        self, qkey: str, alive: np.ndarray, *, open_end: bool = False, limit: int = CANDIDATES
    ) -> np.ndarray:
        """Slots sharing the most trigrams with `qkey` (live ones only), at most ~`limit`."""
        codes = query_trigrams(qkey, open_end=open_end)
        n = alive.size
        if not codes.size or not n or not self._vocab.size:
            return np.empty(0, dtype=np.int64)
        idx = np.minimum(np.searchsorted(self._vocab, codes), self._vocab.size - 1)
        idx = idx[self._vocab[idx] == codes]
        if not idx.size:
            return np.empty(0, dtype=np.int64)
        sizes = self._off[idx + 1] - self._off[idx]
        rare = sizes <= n // 10
        if idx.size > 4 and int(rare.sum()) >= 3:  # very common trigrams add time, not information
            idx = idx[rare]
        hits = np.concatenate([self._post[self._off[i] : self._off[i + 1]] for i in idx])
        counts = np.bincount(hits, minlength=n)[:n]
        floor = max(1, int(counts.max()) // 2)
        cand = np.flatnonzero(counts >= floor)
        cand = cand[alive[cand]]
        if cand.size <= limit:
            return cand
        shared = counts[cand].astype(np.float32)
        dice = 2.0 * shared / (idx.size + self._tri_len[cand])
        return np.union1d(cand[_top(dice, limit * 3 // 4)], cand[_top(shared, limit // 4)])

    def score(self, qkey: str, keys: Sequence[str], *, prefix: bool = False) -> np.ndarray:
        """0-100 similarity of `qkey` to each normalised key (`prefix`: `qkey` is still being typed).

        The whole query against the whole title (typos, swapped words), or word by word where every
        typed word must find its like in the title (a dropped word costs little, a title word the
        query lacks more), and while typing, the typed text against the title's start. Never a
        fragment inside the title: "nuder lap" is not "Lap".
        """
        if not keys:
            return np.empty(0, dtype=np.float32)

        def each(scorer: object, choices: Sequence[str] = keys) -> np.ndarray:
            return process.cdist([qkey], choices, scorer=scorer, dtype=np.float32)[0]

        best = each(fuzz.ratio)  # word order and dropped words: `_by_words`
        qwords = qkey.split()
        if qwords:  # while typing, a title's start counts more than a word inside it
            best = np.maximum(best, (0.95 if prefix else 1.0) * _by_words(qwords, keys))
        if prefix and len(qkey) >= 3:
            best = np.maximum(best, each(fuzz.ratio, [k[: len(qkey)] for k in keys]))
        return best


def _by_words(qwords: list[str], keys: Sequence[str]) -> np.ndarray:
    """Word-by-word likeness per key: how well each typed word finds a title word (70 %) and each
    title word a typed one (30 %; short words like "of" count less). One rapidfuzz matrix over the
    distinct words of all keys."""
    split = [k.split() or [""] for k in keys]
    counts = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
    flat = [w for ws in split for w in ws]
    column: dict[str, int] = {}
    cols = np.fromiter((column.setdefault(w, len(column)) for w in flat), dtype=np.int64, count=len(flat))
    matrix = process.cdist(qwords, list(column), scorer=fuzz.ratio, dtype=np.float32)[:, cols]  # Q x F
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    typed_found = np.maximum.reduceat(matrix, starts, axis=1).mean(axis=0)  # per key
    weight = np.minimum(np.fromiter(map(len, flat), dtype=np.float32, count=len(flat)), 5.0) + 0.5
    title_found = np.add.reduceat(matrix.max(axis=0) * weight, starts) / np.add.reduceat(weight, starts)
    return (0.7 * typed_found + 0.3 * title_found).astype(np.float32)
