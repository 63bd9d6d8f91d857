"""The one rule for turning a typed name (a character, a pairing member, an author) into a name the
archive knows, without guessing.

A name resolves only when the match is clearly right: the exact name or an alias, a prefix that
fits one name only (`Wil` -> Willow Rosenberg), or a close typo of one name only (`Gilse` -> Giles:
one letter wrong, missing, extra or two swapped; two for long names). When several names fit
equally well (`Doctor`: the Second, the Tenth, the Twelfth...) `AmbiguousName` asks which was
meant, most used first; anything weaker is "I don't know X" with the closest names as suggestions,
never a silent substitution. Pure: no database, no Discord; callers pass the names they hold.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from service.query import QueryError

_ARTICLES = ("the ", "a ", "an ")
MAX_CHOICES = 5
SUGGEST_CUTOFF = 70.0
"""How alike (0-100, word by word) a name must be to be offered as "did you mean"."""


class AmbiguousName(QueryError):
    """Several names fit what was typed equally well: `suggestions` are they, most used first."""


def name_key(text: str) -> str:
    """Case-folded, accents removed, apostrophes dropped, other punctuation spaced."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"['’`]", "", text)
    return " ".join(re.sub(r"[^\w]+|_", " ", text).split())


def _bare(key: str) -> str:
    for article in _ARTICLES:
        if key.startswith(article) and len(key) > len(article):
            return key[len(article) :]
    return key


def typo_budget(key: str) -> int:
    """How many letters may be wrong for a typo to count as clearly meant: none under 4 letters,
    one up to 9, two from 10."""
    n = len(key.replace(" ", ""))
    return 0 if n < 4 else 1 if n < 10 else 2


def _by_use(names: set[str], counts: Mapping[str, int]) -> list[str]:
    return sorted(names, key=lambda n: (-counts.get(n, 0), n))


def _prefixed(key: str, keys: Mapping[str, str]) -> set[str]:
    """Names one of whose spellings starts with `key` at a word start (`doc` fits "Twelfth Doctor")."""
    if len(key) < 2:
        return set()
    spaced = " " + key
    return {name for k, name in keys.items() if (" " + k).find(spaced) >= 0}


def _typos(key: str, keys: Mapping[str, str]) -> set[str]:
    """Names one of whose spellings (or, for a one-word key, one of whose words) is within the typo
    budget of `key`."""
    budget = typo_budget(key)
    if not budget:
        return set()
    found = set()
    single = " " not in key
    for k, name in keys.items():
        near = OSA.distance(key, k, score_cutoff=budget) <= budget
        if near or (single and any(len(w) >= 4 and OSA.distance(key, w) <= budget for w in k.split())):
            found.add(name)
    return found


def likeness(key: str, candidate: str) -> float:
    """0-100: how alike two keys are as whole strings or word by word (every typed word must find a
    like word), so `harry potter` is not like `larry blaisdell`."""
    whole = fuzz.ratio(key, candidate)
    words, cwords = key.split(), candidate.split()
    if not words or not cwords:
        return whole
    by_word = sum(max(fuzz.ratio(w, c) for c in cwords) for w in words) / len(words)
    return max(whole, by_word)


def closest(
    key: str, keys: Mapping[str, str], counts: Mapping[str, int], limit: int = MAX_CHOICES
) -> list[str]:
    """The names most like `key`, best first (ties: most used), for "did you mean"."""
    best: dict[str, float] = {}
    for k, name in keys.items():
        score = likeness(key, k)
        if score >= SUGGEST_CUTOFF and score > best.get(name, -1.0):
            best[name] = score
    return sorted(best, key=lambda n: (-best[n], -counts.get(n, 0), n))[:limit]


def resolve_name(
    what: str,
    typed: str,
    keys: Mapping[str, str],
    counts: Mapping[str, int] | None = None,
) -> str:
    """The one name `typed` clearly means among `keys` (each spelling's `name_key` -> the name).

    Exact spelling first, then a unique word prefix, then a unique close typo. Raises
    `AmbiguousName` when several fit, `QueryError` ("I don't know a {what} called X") otherwise.
    """
    counts = counts or {}
    text = " ".join(typed.split())
    key = name_key(text)
    if not key:
        raise QueryError(f"A {what} name is empty.")
    for k in dict.fromkeys((key, _bare(key))):
        if k in keys:
            return keys[k]
    for find in (_prefixed, _typos):
        found = find(key, keys) | find(_bare(key), keys)
        if len(found) == 1:
            return next(iter(found))
        if found:
            names = _by_use(found, counts)
            more = f" ({len(names)} fit; the most used first)" if len(names) > MAX_CHOICES else ""
            raise AmbiguousName(f"{text!r} could be several {what}s{more}: which one?", names[:MAX_CHOICES])
    article = "an" if what[:1] in "aeiou" else "a"
    raise QueryError(f"I don't know {article} {what} called {text!r}.", closest(key, keys, counts))
