"""The one rule for turning a typed name (a character, a pairing member, an author) into a name the
archive knows, without guessing.

A name resolves only when the match is clearly right: the exact name or an alias, a prefix that
fits one name only (`Wil` -> Willow Rosenberg), or a close typo of one name only (`Gilse` -> Giles:
one letter wrong, missing, extra or two swapped; two for long names). When several names fit
equally well (`Doctor`: the Second, the Tenth, the Twelfth...) `AmbiguousName` asks which was
meant, most used first; anything weaker is "I don't know X" with the closest names as suggestions,
never a silent substitution. Pure: no database, no Discord; callers pass the names they hold.

`NameBook` gathers every name a typed character may mean: the main roster's (which wins for its
own spellings, as the host wrote it), every companion roster's, and the people the archive learned
(`service.people`: `Clara` is Clara Oswald in Doctor Who). A spelling that means different people
in different fandoms (`John`: John Watson, John Winchester) asks which one, unless a pairing's other
member settles it (`John/Sherlock` is John Watson).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from archive.series import number_from_text
from service.errors import QueryError

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


Keys = Mapping[str, "str | tuple[str, ...]"]
"""Each spelling's `name_key` -> the name it means, or the names (a tuple) when it means several."""


def _each(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


def add_key(keys: dict[str, str | tuple[str, ...]], key: str, name: str) -> None:
    """Record that spelling `key` means `name` (beside whatever else it already means)."""
    if not key:
        return
    had = _each(keys[key]) if key in keys else ()
    if name not in had:
        both = (*had, name)
        keys[key] = both[0] if len(both) == 1 else both


def _by_use(names: set[str], counts: Mapping[str, int]) -> list[str]:
    return sorted(names, key=lambda n: (-counts.get(n, 0), n))


def _prefixed(key: str, keys: Keys) -> set[str]:
    """Names one of whose spellings starts with `key` at a word start (`doc` fits "Twelfth Doctor")."""
    if len(key) < 2:
        return set()
    spaced = " " + key
    return {name for k, names in keys.items() if (" " + k).find(spaced) >= 0 for name in _each(names)}


def _typos(key: str, keys: Keys) -> set[str]:
    """Names one of whose spellings (or, for a one-word key, one of whose words) is within the typo
    budget of `key` and starts with the same letter: a slip rarely hits the first one, and `Harry`
    is not a typo of `Larry`."""
    budget = typo_budget(key)
    if not budget:
        return set()
    found = set()
    single = " " not in key
    for k, names in keys.items():
        near = k[:1] == key[:1] and OSA.distance(key, k, score_cutoff=budget) <= budget
        if near or (
            single
            and any(len(w) >= 4 and w[0] == key[0] and OSA.distance(key, w) <= budget for w in k.split())
        ):
            found.update(_each(names))
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


def closest(key: str, keys: Keys, counts: Mapping[str, int], limit: int = MAX_CHOICES) -> list[str]:
    """The names most like `key`, best first (ties: most used), for "did you mean"."""
    best: dict[str, float] = {}
    for k, names in keys.items():
        score = likeness(key, k)
        for name in _each(names):
            if score >= SUGGEST_CUTOFF and score > best.get(name, -1.0):
                best[name] = score
    return sorted(best, key=lambda n: (-best[n], -counts.get(n, 0), n))[:limit]


def _one(what: str, text: str, found: set[str], counts: Mapping[str, int]) -> str:
    """The one name found, or `AmbiguousName` listing them, most used first."""
    if len(found) == 1:
        return next(iter(found))
    names = _by_use(found, counts)
    more = f" ({len(names)} fit; the most used first)" if len(names) > MAX_CHOICES else ""
    raise AmbiguousName(f"{text!r} could be several {what}s{more}: which one?", names[:MAX_CHOICES])


def _no_name(what: str, text: str) -> str:
    """Why `text` names no {what}: nothing typed, or nothing a name is made of (`🔥`, `!!`)."""
    if not text:
        return f"Which {what}? The name is empty."
    return f"{text!r} has no letters or digits, so it cannot be a {what}'s name."


def resolve_name(
    what: str,
    typed: str,
    keys: Keys,
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
        raise QueryError(_no_name(what, text))
    for k in dict.fromkeys((key, _bare(key))):
        if k in keys:
            _one(what, text, set(_each(keys[k])), counts)
            return _each(keys[k])[0]
    for find in (_prefixed, _typos):
        found = find(key, keys) | find(_bare(key), keys)
        if found:
            return _one(what, text, found, counts)
    article = "an" if what[:1] in "aeiou" else "a"
    raise QueryError(f"I don't know {article} {what} called {text!r}.", closest(key, keys, counts))


@dataclass(slots=True)
class NameBook:
    """Every character name a reader may type, from every loaded roster and the archive itself."""

    main: Any = None
    """The main roster: its own spellings (and initials) resolve before anything else."""
    rosters: list[Any] = field(default_factory=list)
    keys: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    fandoms: dict[str, frozenset[str]] = field(default_factory=dict)
    """person -> the fandoms whose stories (or roster) name them."""
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        rosters: Iterable[Any],
        characters: Iterable[str] = (),
        spellings: Mapping[str, Iterable[str]] | None = None,
        fandoms: Mapping[str, Iterable[str]] | None = None,
        counts: Mapping[str, int] | None = None,
    ) -> NameBook:
        """`rosters` main first; `characters` the names the archive holds (as people: `Clara
        Oswald`); `spellings` each spelling the archive's fandoms write -> the people it means
        there; `fandoms` each person -> their fandoms; `counts` person -> stories."""
        rosters = list(rosters)
        book = cls(rosters[0] if rosters else None, rosters, {}, {}, dict(counts or {}))
        person_fandoms: dict[str, set[str]] = {p: set(f) for p, f in (fandoms or {}).items()}
        for name in characters:
            add_key(book.keys, name_key(name), name)
        for spelling, people in (spellings or {}).items():
            for person in people:
                add_key(book.keys, name_key(spelling), person)
        for roster in rosters[1:]:  # companions: their spellings join the archive's
            own = {**roster.name_keys(), **roster.initial_keys()}
            for key, canon in own.items():
                add_key(book.keys, name_key(key), canon)
            for canon in roster.names:
                add_key(book.keys, name_key(canon), canon)
                person_fandoms.setdefault(canon, set()).add(str(roster.fandom))
        if book.main is not None:
            for key, canon in book.main.name_keys().items():
                add_key(book.keys, name_key(key), canon)
            for canon in book.main.names:
                add_key(book.keys, name_key(canon), canon)
                person_fandoms.setdefault(canon, set()).add(str(book.main.fandom))
        book.fandoms = {p: frozenset(f) for p, f in person_fandoms.items()}
        return book

    def exact(self, typed: str) -> tuple[str, ...]:
        """Everyone `typed` is written for exactly: the main roster's reading (an alias, initials,
        a unique first or last name) and every other roster's and fandom's; () when nobody."""
        found = [n for n in [self.main.resolve(typed) if self.main is not None else None] if n]
        key = name_key(typed)
        for k in dict.fromkeys((key, _bare(key))):
            if k in self.keys:
                found.extend(_each(self.keys[k]))
                break
        number = number_from_text(typed) if not found else None
        if number is not None:  # `12`, `Twelve`: the one numbered title of that number
            names = {n for v in self.keys.values() for n in _each(v)}
            found = [n for n in sorted(names) if any(number_from_text(w) == number for w in n.split())]
        return tuple(dict.fromkeys(n for n in found if n))

    def resolve(self, what: str, typed: str, fandoms: set[str] | None = None) -> str:
        """The one person `typed` clearly means (`resolve_name`'s rule over every name); when it
        fits people of several fandoms and the search names `fandoms`, the one of those fandoms."""
        text = " ".join(typed.split())
        if not text:
            raise QueryError(_no_name(what, text))
        try:
            found = self.exact(text)
            if found:
                return _one(what, text, set(found), self.counts)
            return resolve_name(what, text, self.keys, self.counts)
        except AmbiguousName as asked:
            fitting = self.in_fandoms(asked.suggestions, fandoms or set())
            if len(fitting) == 1:
                return fitting[0]
            raise

    def in_fandoms(self, names: Iterable[str], fandoms: set[str]) -> list[str]:
        """Those of `names` written in one of `fandoms`."""
        return [n for n in names if self.fandoms.get(n, frozenset()) & fandoms]
