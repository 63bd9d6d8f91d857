"""FTS5's numbers as it keeps and computes them (SQLite): its varints, its averages record, a
story's length from its size record, bm25's idf and per-phrase term in FTS5's own order of
floating-point operations, and the compact arrays the stored impacts are kept in. Pure functions
over bytes and numpy arrays: no database, no service. `db.textrank` and `db.pairs` use them.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

K1, B = 1.2, 0.75
"""FTS5's bm25 constants (fts5_aux.c)."""


def varints(blob: bytes) -> list[int]:
    """SQLite's big-endian varints, as FTS5 stores its averages and each story's column sizes."""
    out: list[int] = []
    i = 0
    while i < len(blob):
        value = 0
        for j in range(9):
            byte = blob[i]
            i += 1
            if j == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        out.append(value)
    return out


def averages(blob: bytes) -> tuple[int, float]:
    """(stories, mean length in tokens) from FTS5's averages record, as bm25 computes them (0.0 with
    no story)."""
    numbers = varints(blob)
    return numbers[0], float(sum(numbers[1:])) / float(numbers[0]) if numbers[0] else 0.0


def doc_tokens(size: bytes) -> int:
    """A story's length in tokens, from its FTS5 docsize record (one varint per column)."""
    return sum(varints(bytes(size)))


def idf_of(rows: int, hits: int) -> float:
    idf = math.log((rows - hits + 0.5) / (hits + 0.5))
    return idf if idf > 0.0 else 1e-6


def terms(w: np.ndarray, d: np.ndarray, idf: float, avgdl: float) -> np.ndarray:
    """One word's bm25 term for stories with weighted counts `w` and lengths `d`, in FTS5's own
    order of operations (fts5Bm25Function), so equal to its value to the last bit."""
    return idf * ((w * (K1 + 1.0)) / (w + K1 * (1 - B + B * d / avgdl)))


def recovered_w(rank: np.ndarray, d: np.ndarray, idf: float, avgdl: float) -> np.ndarray | None:
    """Each story's column-weighted count `w` read back from FTS5's bm25 `rank` of one phrase alone
    (lengths `d`), or None when one of them does not score back to that rank to the last bit (or
    would not fit the stored arrays)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.rint(K1 * (1 - B + B * d / avgdl) / ((K1 + 1.0) / (rank / -idf) - 1.0))
    if len(rank) and (not np.array_equal(-1.0 * (0.0 + terms(w, d, idf, avgdl)), rank) or w.max() >= 2**32):
        return None
    return w


def pack(values: np.ndarray, delta: bool = False) -> bytes:
    values = values.astype(np.int64)
    if delta:
        values = np.diff(values, prepend=0)
    return zlib.compress(values.astype("<u4").tobytes(), 1)


def unpack(blob: bytes, delta: bool = False) -> np.ndarray:
    values = np.frombuffer(zlib.decompress(blob), dtype="<u4").astype(np.int64)
    return np.cumsum(values) if delta else values


def within(ids: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Which of `ids` are in `sorted_ids`."""
    if not len(sorted_ids):
        return np.zeros(len(ids), dtype=bool)
    at = np.searchsorted(sorted_ids, ids).clip(0, len(sorted_ids) - 1)
    return sorted_ids[at] == ids
