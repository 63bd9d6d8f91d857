"""The title index's base (`service.titles`): every array a query reads, built in one go from keyed
titles, and never changed after.

Owns `TitleBase` and `build_base`: a character-trigram inverted index (CSR numpy arrays) and its
fuzzy scorer, a sorted word vocabulary whose postings are one contiguous slice per prefix, and the
keys and folded titles in sorted order for `bisect`. Pure: it reads only what it is given, so a
base may be built in a worker thread while the index it will replace goes on answering.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service.titlefuzzy import FuzzyScorer
from service.titlekeys import sort_codes, trigram_codes

FIRST = 10
"""Characters of a title's first word kept for typo look-ups."""


def _dense(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, each value's index among them) by sorting (np.unique is slower)."""
    order = np.argsort(values)
    ordered = values[order]
    first = np.diff(ordered, prepend=ordered[:1] - 1) != 0 if ordered.size else ordered.astype(bool)
    ids = np.empty(values.size, dtype=np.int64)
    ids[order] = np.cumsum(first) - 1
    return ordered[first], ids


@dataclass(frozen=True, slots=True)
class TitleBase:
    """The base of a title index over slots 0..n-1 (the index's ids, folded titles and keys)."""

    tri_vocab: np.ndarray
    """Trigram codes, sorted; `tri_off[i]:tri_off[i+1]` slices `tri_post` for the i-th."""
    tri_off: np.ndarray
    tri_post: np.ndarray
    tri_len: np.ndarray
    """Distinct trigrams per slot."""
    fuzzy: FuzzyScorer
    nwords: np.ndarray
    """Words per key."""
    vocab: list[str]
    """Every word of the keys, sorted; `word_off` slices `word_post` (slots) per word."""
    alphabet: str
    """The ASCII letters the vocabulary uses (typo variants are spelt from them)."""
    word_off: np.ndarray
    word_post: np.ndarray
    sorted_keys: list[str]
    key_slots: np.ndarray
    """Slots in key order (alphabetical, articles ignored; ties by story id)."""
    rank: np.ndarray
    """Each slot's place in key order."""
    first_heads: set[str]
    """Every head (3 characters or more) of the keys' first words, up to `FIRST` characters."""
    sorted_folded: list[str]
    fold_slots: np.ndarray
    """Slots in folded-title order (as typed; ties by story id)."""


def build_base(ids: list[int], folded_titles: list[str], keys: list[str]) -> TitleBase:
    """The base of slots 0..n-1, from their story ids, folded titles and keys."""
    n = len(keys)
    # trigram CSR: codes sorted, postings per code
    codes, owner = trigram_codes(keys)
    tri_vocab, code_ids = _dense(codes)
    pairs = np.sort(code_ids * max(n, 1) + owner)
    pairs = pairs[np.diff(pairs, prepend=-1) != 0]
    tri_of, post = np.divmod(pairs, max(n, 1))
    tri_post = post.astype(np.int32)
    tri_off = np.searchsorted(tri_of, np.arange(tri_vocab.size + 1)).astype(np.int64)
    tri_len = np.bincount(tri_post, minlength=n).astype(np.float32)
    # word CSR: sorted vocabulary, postings contiguous per word so a prefix is one slice. Built
    # a title at a time and sorted by numpy: a build that held a list of words per title and
    # a sort key per title pinned ~25 MB of small-object memory at 50,000 titles after it.
    nwords = np.fromiter((len(key.split()) for key in keys), dtype=np.int64, count=n)
    owners = np.repeat(np.arange(n, dtype=np.int32), nwords)
    words: set[str] = set()
    for key in keys:
        words.update(key.split())
    vocab = sorted(words)
    del words
    alphabet = "".join(sorted({c for w in vocab for c in w if c.isascii() and c.isalpha()}))
    word_id = {w: i for i, w in enumerate(vocab)}
    word_ids = np.fromiter(
        (word_id[w] for key in keys for w in key.split()), dtype=np.int64, count=owners.size
    )
    del word_id
    order = np.argsort(word_ids)
    word_post = owners[order]
    word_off = np.searchsorted(word_ids[order], np.arange(len(vocab) + 1)).astype(np.int64)
    # sorted keys (alphabetical, articles ignored) and sorted folded titles (as typed)
    story_ids = np.asarray(ids, dtype=np.int64)
    folded = sort_codes(folded_titles)
    key_slots = np.lexsort((story_ids, folded, sort_codes(keys))).astype(np.int32)
    rank = np.empty(n, dtype=np.int64)
    rank[key_slots] = np.arange(n)
    firsts = {k.split(" ", 1)[0][:FIRST] for k in keys}
    fold_slots = np.lexsort((story_ids, folded)).astype(np.int32)
    return TitleBase(
        tri_vocab=tri_vocab,
        tri_off=tri_off,
        tri_post=tri_post,
        tri_len=tri_len,
        fuzzy=FuzzyScorer(tri_vocab, tri_off, tri_post, tri_len),
        nwords=nwords,
        vocab=vocab,
        alphabet=alphabet,
        word_off=word_off,
        word_post=word_post,
        sorted_keys=[keys[s] for s in key_slots.tolist()],
        key_slots=key_slots,
        rank=rank,
        first_heads={w[:k] for w in firsts for k in range(3, len(w) + 1)},
        sorted_folded=[folded_titles[s] for s in fold_slots.tolist()],
        fold_slots=fold_slots,
    )
