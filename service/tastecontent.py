"""What a member's liked stories are about, for the recs that learn: a story-by-feature index
(relationships, characters, tags, warnings) and the content score of every story for a set of
liked ones (shared features, each weighted by kind and by its rarity in the archive, tf-idf style).

Owns `FeatureIndex` (built once per filter-index snapshot from `service.facets`, or from plain
feature lists by the benchmark) and `content_scores`. `service.tasterecs` blends this with what
members who liked the same stories liked, so a member whose likes nobody shares still gets a rec
that fits them. It must not import Discord or touch the database.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from service.facets import Facets

KIND_WEIGHTS = {"relationship": 2.0, "character": 1.0, "tag": 1.0, "warning": 0.5}
"""Fandoms are left out: nearly every story shares one, so they say nothing about taste."""


@dataclass(slots=True)
class FeatureIndex:
    """Features as posting lists over story positions, their weights, and each story's features."""

    size: int
    postings: list[np.ndarray]
    weights: np.ndarray
    labels: list[str]
    indptr: np.ndarray  # story p's features are feats[indptr[p]:indptr[p + 1]]
    feats: np.ndarray

    @classmethod
    def build(cls, size: int, features: Iterable[tuple[str, str, np.ndarray]]) -> FeatureIndex:
        """From (kind, label, positions) triples; features held by one story or none are dropped."""
        postings: list[np.ndarray] = []
        weights: list[float] = []
        labels: list[str] = []
        for kind, label, positions in features:
            positions = np.unique(np.asarray(positions, dtype=np.int64))
            if len(positions) < 2 or kind not in KIND_WEIGHTS:
                continue
            postings.append(positions)
            weights.append(KIND_WEIGHTS[kind] * math.log((size + 1) / len(positions)))
            labels.append(label)
        if postings:
            flat = np.concatenate(postings)
            owner = np.repeat(np.arange(len(postings)), [len(p) for p in postings])
            order = np.argsort(flat, kind="stable")
            feats = owner[order]
            indptr = np.searchsorted(flat[order], np.arange(size + 1))
        else:
            feats, indptr = np.zeros(0, dtype=np.int64), np.zeros(size + 1, dtype=np.int64)
        return cls(size, postings, np.asarray(weights), labels, indptr, feats)

    def of(self, position: int) -> np.ndarray:
        return self.feats[self.indptr[position] : self.indptr[position + 1]]


def content_scores(index: FeatureIndex, liked: Iterable[int]) -> np.ndarray:
    """Every story's content score for the liked story positions (0 where nothing is shared)."""
    score = np.zeros(index.size)
    liked = [p for p in liked if 0 <= p < index.size]
    if not liked or not len(index.feats):
        return score
    counts = np.bincount(np.concatenate([index.of(p) for p in liked]), minlength=len(index.postings))
    for f in np.flatnonzero(counts):
        score[index.postings[f]] += counts[f] * index.weights[f]
    return score


def shared_labels(index: FeatureIndex, story: int, liked: Iterable[int], limit: int = 3) -> list[str]:
    """The heaviest features `story` shares with the liked ones (for the reason a card gives)."""
    mine = set(np.concatenate([index.of(p) for p in liked]).tolist()) if liked else set()
    common = [int(f) for f in index.of(story) if int(f) in mine]
    common.sort(key=lambda f: -index.weights[f])
    return [index.labels[f] for f in common[:limit]]


_cached: tuple[Facets, FeatureIndex] | None = None


def from_facets(fx: Facets) -> FeatureIndex:
    """The feature index of a filter-index snapshot (built once per snapshot)."""
    global _cached
    if _cached is not None and _cached[0] is fx:
        return _cached[1]
    triples: list[tuple[str, str, np.ndarray]] = []
    for name, (positions, _weights) in fx.characters.items():
        triples.append(("character", name, positions))
    for (kind, name), positions in fx.tags.items():
        triples.append((kind, name, positions))
    rows_members: dict[int, list[str]] = {}
    for name, rows in fx.members.items():
        for row in rows.tolist():
            rows_members.setdefault(row, []).append(name)
    by_pair: dict[tuple[str, ...], list[int]] = {}
    for row, names in rows_members.items():
        by_pair.setdefault(tuple(sorted(names)), []).append(int(fx.rel_pos[row]))
    for names, positions in by_pair.items():
        triples.append(("relationship", "/".join(names), np.asarray(positions)))
    index = FeatureIndex.build(fx.size, triples)
    _cached = (fx, index)
    return index
