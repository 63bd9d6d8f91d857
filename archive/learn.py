"""Learning a fandom's people from its archive: a draft roster (`bot.py roster suggest`) a host edits
and loads beside the shipped ones.

Owns `suggest_roster(stories, fandom)`: from stories parsed without a roster (names as written),
the people of one fandom under one name each (the fullest form seen: `Clara Oswald`), the short
forms written for them in pairings and headers (`Clara`, `Twelve` for `Twelfth Doctor`), the
frequent pairings, and ship names seen (`Johnlock` -> John Watson + Sherlock Holmes, guessed from
the story's own characters). `roster_yaml` renders it in the roster file format. Pure data in,
data out: no I/O, no database, no Discord.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from archive.series import number_from_text

MIN_STORIES = 2
"""A name must be seen in this many stories to be a person of the draft (one-off typos stay out)."""
_SPLIT = re.compile(r"\s*(?:/|&|\+|\s+x\s+|(?<=[a-z])x(?=[A-Z]))\s*")
_INITIAL = re.compile(r"\s+[A-Z]\.?$")
_SHIP = re.compile(r"^[A-Z][a-z]{3,}[a-z]$")


def _fold(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


@dataclass(frozen=True, slots=True)
class Sighting:
    """What one story says about its people, as written: its fandoms, header characters and
    pairing fields (`Twelve/Clara`, `DeanxCas`, `Johnlock`)."""

    fandoms: tuple[str, ...]
    characters: tuple[str, ...]
    pairings: tuple[str, ...]


def _names_of(meta: Sighting) -> tuple[list[str], list[str]]:
    """(people named in the header and pairings, one-word ship-like pairing strings)."""
    names = list(meta.characters)
    ships: list[str] = []
    for field in meta.pairings:
        for piece in re.split(r"\s*[,;]\s*", field):
            piece = re.sub(r"^(?:past|former|implied|background|mentioned)\s+", "", piece.strip(), flags=re.I)
            members = [m for m in _SPLIT.split(piece) if m.strip()]
            if len(members) >= 2:
                names.extend(m.strip(" .()") for m in members)
            elif _SHIP.match(piece):
                ships.append(piece)
    return [_INITIAL.sub("", n).strip() for n in names if n.strip() and len(n) <= 60], ships


def _in_fandom(meta: Sighting, fandom: str | None) -> bool:
    if fandom is None:
        return True
    want = _fold(fandom)
    return any(want in _fold(f) or _fold(f) in want for f in meta.fandoms if f.strip())


def _main_fandom(stories: list[Sighting]) -> str | None:
    counts = Counter(f for meta in stories for f in set(meta.fandoms))
    return counts.most_common(1)[0][0] if counts else None


def _short_of(short: str, full: str) -> bool:
    """`Clara` of `Clara Oswald`; `Twelve` of `Twelfth Doctor`; `Doctor` of `Twelfth Doctor` too."""
    tokens = full.split()
    if short.casefold() in (t.casefold() for t in tokens):
        return True
    number = number_from_text(short)
    return number is not None and any(number_from_text(t) == number for t in tokens)


def suggest_roster(stories: Iterable[Sighting], fandom: str | None = None) -> dict[str, Any]:
    """A draft roster (the mapping `Roster.from_dict` reads) for `fandom` (default: the archive's
    most common fandom), learned from stories parsed without a roster."""
    pool = list(stories)
    fandom = fandom or _main_fandom(pool)
    mine = [meta for meta in pool if _in_fandom(meta, fandom)]
    seen: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    ship_votes: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
    story_names: list[tuple[set[str], list[str]]] = []
    labels: Counter[str] = Counter()
    for meta in mine:
        names, ships = _names_of(meta)
        labels.update(set(meta.fandoms))
        keys = {_fold(n) for n in names}
        for name in names:
            spellings[_fold(name)][name] += 1
        seen.update(keys)
        story_names.append((keys, ships))
    people = {key for key, n in seen.items() if n >= MIN_STORIES}
    full = sorted((k for k in people if len(k.split()) >= 2), key=lambda k: (-seen[k], k))
    canonical: dict[str, str] = {k: k for k in full}
    for key in sorted(set(seen) - set(full), key=lambda k: (-seen[k], k)):
        owners = [f for f in full if _short_of(key, f)]
        if len(owners) == 1:  # a short form of one known person: seen once is enough
            canonical[key] = owners[0]
        elif key in people and len(key.split()) == 1:
            canonical[key] = key
    for keys, ships in story_names:
        members = sorted({canonical[k] for k in keys if k in canonical})
        for ship in ships:
            pair = _ship_members(ship, members, spellings)
            if pair:
                ship_votes[ship][pair] += 1
    return _draft(fandom, labels, canonical, seen, spellings, ship_votes, story_names)


def _display(key: str, spellings: dict[str, Counter[str]]) -> str:
    """The most written spelling; a name only ever written in lower case (a tag slug) capitalised."""
    written = spellings[key].most_common(1)[0][0] if spellings.get(key) else key
    return written.title() if written == written.lower() else written


def _ship_members(
    ship: str, members: list[str], spellings: dict[str, Counter[str]]
) -> tuple[str, ...] | None:
    """The two people a portmanteau joins: it starts like one's name and ends like the other's."""
    low = ship.casefold()
    best: tuple[str, ...] | None = None
    for a in members:
        for b in members:
            if a == b:
                continue
            heads = [w for w in a.split() if len(w) >= 3]
            tails = [w for w in b.split() if len(w) >= 3]
            if any(low.startswith(h[:3]) for h in heads) and any(low.endswith(t[-3:]) for t in tails):
                best = tuple(sorted((a, b)))
    return best


def _draft(
    fandom: str | None,
    labels: Counter[str],
    canonical: dict[str, str],
    seen: Counter[str],
    spellings: dict[str, Counter[str]],
    ship_votes: dict[str, Counter[tuple[str, ...]]],
    story_names: list[tuple[set[str], list[str]]],
) -> dict[str, Any]:
    characters: dict[str, list[str]] = {}
    taken: set[str] = set()
    for key, canon in sorted(canonical.items(), key=lambda kv: (-seen[kv[1]], kv[0])):
        name = _display(canon, spellings)
        characters.setdefault(name, [])
        if key != canon and key not in taken:
            characters[name].append(_display(key, spellings))
        taken.add(key)
    ships = {
        ship: [_display(m, spellings) for m in votes.most_common(1)[0][0]]
        for ship, votes in sorted(ship_votes.items())
        if _fold(ship) not in canonical and _fold(ship) not in seen
    }
    pairs: Counter[tuple[str, ...]] = Counter()
    for keys, _ in story_names:
        names = sorted({_display(canonical[k], spellings) for k in keys if k in canonical})
        if 2 <= len(names) <= 3:
            pairs[tuple(names)] += 1
    matching = [
        label
        for label, _ in labels.most_common()
        if fandom and _in_fandom(Sighting((label,), (), ()), fandom)
    ]
    name = matching[0] if matching else fandom
    fandoms = {name: sorted(set(matching) - {name})} if name else {}
    return {
        "name": name or "Unnamed fandom",
        "fandoms": fandoms,
        "characters": characters,
        "ships": ships,
        "_pairings": [("/".join(p), n) for p, n in pairs.most_common(20)],
    }


def roster_yaml(draft: dict[str, Any]) -> str:
    """The draft as a roster file a host can edit (frequent pairings as comments)."""
    import yaml

    body = {k: v for k, v in draft.items() if not k.startswith("_")}
    text = yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)
    pairs = draft.get("_pairings") or []
    notes = [
        f"# Draft roster learned from the archive for {draft['name']!r}: review every entry before use.",
        "# Each character lists the short forms seen for them; add initials under `initials:` by hand.",
    ]
    if pairs:
        notes.append("# Most written pairings seen (stories):")
        notes.extend(f"#   {pair}: {n}" for pair, n in pairs)
    return "\n".join(notes) + "\n" + text


# -- the archive's own people, learned at every change (service.people holds the result) ---------

_PARTICLES = frozenset(
    {"the", "of", "de", "van", "von", "mr", "mrs", "ms", "miss", "dr", "sir", "lady", "lord"}
)
_CAPS = re.compile(r"^[A-Z]{1,3}$")


@dataclass(slots=True)
class FandomPeople:
    """One fandom's people as its stories write them: each spelling seen (`Clara`, `Twelve`, `SS`)
    with the person it means (`Clara Oswald`, `Twelfth Doctor`, `Severus Snape`), and each person's
    story count. Spellings that mean nobody for sure (`Doctor`: several Doctors) are left out."""

    fandom: str
    names: dict[str, str]
    people: dict[str, int]

    def aliases(self) -> dict[str, list[str]]:
        """Each person with the other spellings that mean them."""
        out: dict[str, list[str]] = {person: [] for person in self.people}
        for written, person in self.names.items():
            if written != person:
                out.setdefault(person, []).append(written)
        return out


def _words(key: str) -> list[str]:
    return [w for w in key.split() if w not in _PARTICLES]


def _initials(key: str) -> str:
    return "".join(w[0] for w in _words(key)).upper()


def learn_people(fandom: str, written: dict[str, int], fixed: Iterable[str] = ()) -> FandomPeople:
    """The people of one fandom from the names its stories' headers and pairings write (`written`:
    name as stored -> stories), one person one name: a full name (two words or more) is a person,
    under its most written spelling; a single word that is a word of exactly one full name is that
    person (`Clara`, `Oswald` -> Clara Oswald), and so is a numbered title (`Twelve`, `12` ->
    Twelfth Doctor) and initials in capitals that fit one person only (`SS` -> Severus Snape).
    Names in `fixed` (a host roster's) are never renamed; a name that fits several people stays
    as written."""
    fixed_keys = {" ".join(_words(_fold(n))) or _fold(n) for n in fixed}
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for name, n in written.items():
        key = " ".join(_words(_fold(name))) or _fold(name)  # `The Doctor` is `Doctor`
        if key:
            spellings[key][name] += n
    stories = {k: sum(c.values()) for k, c in spellings.items()}

    def shown(key: str) -> str:
        best = max(spellings[key].items(), key=lambda kv: (kv[1], kv[0] != kv[0].lower(), kv[0]))
        return best[0]

    full = {k for k in spellings if len(_words(k)) >= 2}
    canon: dict[str, str] = {k: k for k in full}
    for key in sorted(set(spellings) - full):
        if key in fixed_keys or not _words(key):
            continue
        caps = [s for s in spellings[key] if _CAPS.match(s.replace(".", ""))]
        if any(_fold(s).startswith("the ") for s in spellings[key]):
            continue  # `The Doctor`, `the Master`: a title, not a short name of one person
        short = _words(key)[0]
        owners = {f for f in full if _short_of(short, " ".join(_words(f)))}
        if number_from_text(short) is None:  # `Doctor` is no one Doctor: only `Twelve` is the Twelfth
            owners = {f for f in owners if not any(number_from_text(w) is not None for w in _words(f))}
        if not owners and caps and len(short) >= 2:
            owners = {f for f in full if _initials(f) == short.upper()}
        if not owners and len(short) >= 3 and not caps:  # `Cas` for Castiel: a given name cut short
            firsts = {k: _words(k)[0] for k in spellings if k != key and _words(k)}
            owners = {k for k, first in firsts.items() if first.startswith(short) and first != short}
            if len({firsts[k] for k in owners}) != 1:
                owners = set()
            owners = {max(owners, key=lambda k: (len(_words(k)), k))} if owners else set()
        if len(owners) == 1:
            canon[key] = next(iter(owners))
    people: Counter[str] = Counter()
    names: dict[str, str] = {}
    for key, target in canon.items():
        person = shown(target)
        people[person] += stories[key]
        for spelling in spellings[key]:
            names[spelling] = person
    for key in set(spellings) - set(canon):  # a one-word person of their own (`Castiel`), or unsure
        for spelling in spellings[key]:
            names[spelling] = shown(key)
        people[shown(key)] += stories[key]
    for key in fixed_keys & set(spellings):  # a roster's name means itself, whatever was learned
        for spelling in spellings[key]:
            names[spelling] = spelling
    return FandomPeople(fandom, names, dict(people))
