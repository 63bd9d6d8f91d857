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
        """0-100 similarity of `qkey` to each normalised key (`prefix`: `qkey` is still being typed)."""
        if not keys:
            return np.empty(0, dtype=np.float32)

        def each(scorer: object) -> np.ndarray:
            return process.cdist([qkey], keys, scorer=scorer, dtype=np.float32)[0]

        wratio = each(fuzz.WRatio)
        if prefix:
            return 0.6 * each(fuzz.partial_ratio) + 0.4 * wratio
        return 0.5 * wratio + 0.25 * each(fuzz.token_set_ratio) + 0.25 * each(fuzz.token_sort_ratio)
