"""A search as the filter index sees it: `Filter` (one condition, a mask over the stories of one
`service.facets` snapshot, and for full text the bm25 ranks) and `Compiled` (a query's filters and
its age gate kept apart, so the matches it hides can be counted). Built by `service.search` and
`service.textfilter`; read by search, recs, taste recs and the daily rec. Pure numpy: no database,
no Discord.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from service.facets import Facets


@dataclass(slots=True)
class Filter:
    """One condition of a query: `kind` (character, rating, ...), a label for people, and the mask
    of the stories that pass it (over the snapshot in `Compiled.facets`)."""

    kind: str
    label: str
    mask: np.ndarray
    ranks: np.ndarray | None = None  # full text: bm25 per position (lower is better; inf = not ranked)
    text: str | None = None  # full text: the words, for ranking the page (`rank_text`)
    ranked: bool = False  # full text: `ranks` is filled
    facets: Facets | None = None  # set on the first ("live") filter, so a filter list is self-contained


@dataclass(slots=True)
class Compiled:
    """A query turned into filters (the age gate kept apart so hidden matches can be counted)."""

    facets: Facets
    filters: list[Filter]
    gate: np.ndarray | None
    resolved: list[str]
    characters: list[str] = field(default_factory=list)  # canonical names asked for (relevance)

    @property
    def ranks(self) -> np.ndarray | None:
        return next((f.ranks for f in self.filters if f.ranks is not None), None)

    def mask(self, *, gated: bool = True, without: Filter | None = None) -> np.ndarray:
        """Stories passing every filter (but `without`), and the gate unless `gated` is False."""
        out = np.ones(self.facets.size, dtype=bool)
        for f in self.filters:
            if f is not without:
                out &= f.mask
        if gated and self.gate is not None:
            out &= self.gate
        return out
