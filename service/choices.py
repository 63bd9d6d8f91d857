"""Autocomplete for every name-like option: titles (age gated by the asking channel), characters,
pairings and authors, as (name, value) pairs within Discord's limits (25 choices, 100 characters).

Owns how typed text ranks names (starts with, then a word starts with, then contains, then close)
and which names are offered (every loaded roster's and the archive's people, most used first). It must not import
Discord and never caches: names come from `lib.views` each time.
"""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz import fuzz, process

from db.keys import fold
from service.library import Library
from service.people import name_book, rosters_of
from service.query import QueryError, resolve_pairing

MAX_CHOICES = 25
MAX_CHOICE_LEN = 100


def _choice(name: str, value: str) -> tuple[str, str]:
    shown = name if len(name) <= MAX_CHOICE_LEN else name[: MAX_CHOICE_LEN - 1] + "…"
    return shown, value[:MAX_CHOICE_LEN]


@lru_cache(maxsize=200_000)
def _folded(name: str) -> str:
    return fold(name)


def _rank_names(prefix: str, names: list[str], limit: int) -> list[str]:
    """Names starting with the typed text, then with a word starting with it, then containing it,
    then close to it; `names` order (most used first) kept within each group."""
    key = fold(prefix)
    if not key:
        return names[:limit]
    starts: list[str] = []
    words: list[str] = []
    within: list[str] = []
    for name in names:
        folded = _folded(name)
        if folded.startswith(key):
            starts.append(name)
            if len(starts) >= limit:
                break
        elif any(w.startswith(key) for w in folded.split()):
            words.append(name)
        elif key in folded:
            within.append(name)
    picked = (starts + words + within)[:limit]
    if len(picked) < limit:
        folded_names = [_folded(n) for n in names]
        close = process.extract(key, folded_names, scorer=fuzz.WRatio, limit=limit, score_cutoff=70)
        picked += [names[i] for _f, _s, i in close if names[i] not in picked]
    return picked[:limit]


async def character_choices(lib: Library, prefix: str, limit: int = MAX_CHOICES) -> list[tuple[str, str]]:
    """Autocomplete for a character: roster names, the most-written first."""
    vocab = await lib.views.vocabulary()
    written = [n for n, _c in vocab.characters]
    rostered = sorted({n for roster in rosters_of(lib.roster) for n in roster.names})
    names = list(dict.fromkeys(written + rostered))
    book = name_book(lib.roster, await lib.views.people(), vocab.characters, vocab.derived)
    exact = list(book.exact(prefix)) if prefix.strip() else []  # `Twelve` offers Twelfth Doctor
    picked = exact + _rank_names(prefix, names, min(limit, MAX_CHOICES))
    return [_choice(n, n) for n in dict.fromkeys(picked)][: min(limit, MAX_CHOICES)]


async def pairing_choices(lib: Library, prefix: str, limit: int = MAX_CHOICES) -> list[tuple[str, str]]:
    """Autocomplete for a pairing: what was typed (resolved), ship names, the most-written pairings."""
    limit = min(limit, MAX_CHOICES)
    vocab = await lib.views.vocabulary()
    out: list[tuple[str, str]] = []
    if any(sep in prefix for sep in "/&") or any(r.ship(prefix) for r in rosters_of(lib.roster)):
        try:
            book = name_book(lib.roster, await lib.views.people(), vocab.characters, vocab.derived)
            spec = resolve_pairing(lib.roster, prefix, book=book)
            out.append(_choice(spec.display, spec.display))
        except QueryError:
            pass
    ships = {name: "/".join(members) for name, members in _ships(lib).items()}
    pairs = [k for k, _c in vocab.pairings]
    key = fold(prefix)
    tokens = [t for t in fold(prefix.replace("/", " ").replace("&", " ")).split()]
    for name in _rank_names(prefix, sorted(ships), limit) if key else []:
        out.append(_choice(f"{name} ({ships[name]})", ships[name]))
    for pair in pairs:
        words = _folded(pair).split()
        if all(any(w.startswith(t) for w in words) for t in tokens):
            out.append(_choice(pair, pair))
        if len(out) >= limit * 2:
            break
    return list(dict.fromkeys(out))[:limit]


def _ships(lib: Library) -> dict[str, tuple[str, ...]]:
    """Ship names as written, of every loaded roster (`Roster.ships`); typed ones resolve anyway."""
    ships: dict[str, tuple[str, ...]] = {}
    for roster in rosters_of(lib.roster):
        for name, members in (getattr(roster, "ships", None) or {}).items():
            ships.setdefault(name, members)
    return ships


async def author_choices(lib: Library, prefix: str, limit: int = MAX_CHOICES) -> list[tuple[str, str]]:
    """Autocomplete for an author: authors in the archive, the most prolific first."""
    vocab = await lib.views.vocabulary()
    names = [a for a, _c in vocab.authors]
    return [_choice(n, n) for n in _rank_names(prefix, names, min(limit, MAX_CHOICES))]


async def title_choices(
    lib: Library, prefix: str, *, limit: int = MAX_CHOICES, allowed_levels: frozenset[str] | None = None
) -> list[tuple[str, str]]:
    """Autocomplete for a title: (title shortened to 100 characters, story id as text) pairs.

    Stories rated beyond `allowed_levels` are not suggested (a channel that may not show them).
    """
    allowed = None
    if allowed_levels is not None:
        levels = await lib.views.rating_levels()

        def allowed(story_id: int) -> bool:
            return levels.get(story_id) in allowed_levels

    index = await lib.views.title_index()
    matches = index.complete(prefix, min(limit, MAX_CHOICES), allowed=allowed)
    return [_choice(m.display, str(m.story_id)) for m in matches]
