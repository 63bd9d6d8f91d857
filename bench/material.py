"""Raw material for the synthetic benchmark archive: prose sentences, title words, tags, per-work
metadata shapes and the fandom roster.

Owns reading `../shared/corpus` (antennapedia stories + seeds for prose, `ds9-works.csv` for the
metadata distributions and title/tag word material) and the built-in fallbacks used when that
folder is absent. It must never write anything, and never hand out a whole real title or a whole
real story: callers get sentences (with character names replaced by slots) and single words.
"""

from __future__ import annotations

import csv
import html
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from settings import ROOT

log = logging.getLogger(__name__)

SHARED = Path(os.environ.get("LIBRARIAN_SHARED_DIR") or ROOT.parent / "shared")  # as tests/conftest.py
CORPUS = SHARED / "corpus"
CSV_PATH = CORPUS / "ao3-metadata" / "ds9-works.csv"
ROSTER_PATH = ROOT / "fandoms" / "buffyverse.yaml"
SLOT = "\x00"  # a name slot in a sentence template: SLOT + digit

# Canonical name -> prose name. Used only when fandoms/buffyverse.yaml is absent or unreadable.
BUILTIN_ROSTER: dict[str, str] = {
    "Buffy Summers": "Buffy",
    "Spike": "Spike",
    "Willow Rosenberg": "Willow",
    "Xander Harris": "Xander",
    "Rupert Giles": "Giles",
    "Angel": "Angel",
    "Cordelia Chase": "Cordelia",
    "Faith Lehane": "Faith",
    "Tara Maclay": "Tara",
    "Dawn Summers": "Dawn",
    "Anya Jenkins": "Anya",
    "Oz": "Oz",
    "Wesley Wyndam-Pryce": "Wesley",
    "Charles Gunn": "Gunn",
    "Winifred Burkle": "Fred",
    "Lorne": "Lorne",
    "Drusilla": "Drusilla",
    "Darla": "Darla",
    "Riley Finn": "Riley",
    "Joyce Summers": "Joyce",
    "Jenny Calendar": "Jenny",
    "Ethan Rayne": "Ethan",
    "Andrew Wells": "Andrew",
    "Kennedy": "Kennedy",
    "Harmony Kendall": "Harmony",
    "Connor": "Connor",
    "Lindsey McDonald": "Lindsey",
    "Lilah Morgan": "Lilah",
    "Illyria": "Illyria",
    "Jonathan Levinson": "Jonathan",
}

# Words that mark a DS9 tag or title; such tags and words are not used for the Buffyverse archive.
_TREK = re.compile(
    r"trek|ds9|deep space|cardassi|bajor|feren|klingon|vulcan|starfleet|dominion|changeling|founder|"
    r"romulan|federation|enterprise|prophet|quadrant|trill|jem.?hadar|holodeck|holosuite|wormhole|"
    r"runabout|replicator|phaser|\bship\b|station|captain|sisko|garak|bashir|odo|kira|quark|dukat|"
    r"worf|dax|o'brien|nog|rom\b|weyoun|damar|picard|janeway|kirk|spock|voyager|tng|garashir|kanar|sickbay|"
    r"turbo.?lift|dabo|raktajino|latinum|\bgul\b|vedek|\bkai\b|obsidian|\bx oc\b|\boc\b",
    re.IGNORECASE,
)

_FALLBACK_PROSE = """\
{0} looked at the door for a long time before opening it.
"You're late," {0} said.
"I know," said {1}. "There was a thing. With a demon."
The library smelled of old paper and cold tea.
Nobody spoke for a while.
{0} put the stake down on the table, very carefully, as if it might break.
It had been raining since midnight, and the cemetery was a sea of mud.
"We should research," {1} said, and {0} groaned.
The sun was coming up over Sunnydale by the time they got home.
{1} didn't answer, which was an answer of its own.
Somewhere down the street a dog barked twice and fell silent.
"Tell me you have a plan," said {0}.
"I have most of a plan," {1} admitted.
The spell book lay open at a page nobody wanted to read aloud.
{0} laughed, and for a moment everything felt almost normal.
There were things you could say at three in the morning that you could never say at noon.
{1} held out a mug of cocoa, and {0} took it.
The Bronze was loud and crowded and exactly what they needed.
It wasn't forgiveness, not yet, but it was something.
{0} watched {1} sleep and wondered how long this could last."""
FALLBACK_LABEL = "BUILT-IN FALLBACK prose (../shared/corpus absent): a few generic sentences, reshuffled"


@dataclass(slots=True)
class Roster:
    """The characters stories are written about: canonical name, prose name, alias forms, ships."""

    canonical: list[str]
    prose: dict[str, str]  # canonical -> the short name prose uses ("Rupert Giles" -> "Giles")
    short: dict[str, str]  # canonical -> a short header form a mailing-list author would write
    ships: dict[tuple[str, ...], list[str]] = field(default_factory=dict)  # members -> ship names
    source: str = "built-in"


@dataclass(slots=True)
class Material:
    """Everything the generator draws from; built once per process."""

    sentences: list[str]  # templates; names as SLOT+digit, in order of first appearance
    slots: list[int]  # number of distinct name slots per sentence
    para_lengths: list[int]  # sentences per paragraph, as found in the source
    title_words: list[str]  # capitalised words from real titles (single words only)
    small_words: list[str]  # short lower-case joining words from real titles
    title_halves: list[tuple[str, str]]  # (first half, second half) of real titles, never rejoined
    tags: list[str]  # freeform tags with DS9 specifics removed
    tag_weights: list[int]
    rows: list[dict[str, str]]  # metadata rows (shapes only: counts, rating, words, flags)
    roster: Roster
    prose_source: str


def load_roster(path: Path = ROSTER_PATH) -> Roster:
    """The Buffyverse roster from `fandoms/buffyverse.yaml`, or the built-in list when it is absent."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return _roster_from_yaml(data, path)
    except (OSError, yaml.YAMLError, ValueError, TypeError, AttributeError, KeyError) as exc:
        log.warning("roster %s unusable (%s); using the built-in character list", path, exc)
    prose = dict(BUILTIN_ROSTER)
    return Roster(canonical=list(prose), prose=prose, short=dict(prose))


def _roster_from_yaml(data: dict[str, Any], path: Path) -> Roster:
    chars = data["characters"]
    if isinstance(chars, dict):
        chars = [
            {"name": k, **(v if isinstance(v, dict) else {"aliases": v or []})} for k, v in chars.items()
        ]
    canonical: list[str] = []
    prose: dict[str, str] = {}
    for entry in chars:
        name = entry["name"] if isinstance(entry, dict) else str(entry)
        aliases = [str(a) for a in (entry.get("aliases") or [])] if isinstance(entry, dict) else []
        canonical.append(name)
        prose[name] = _prose_name(name, aliases)
    if len(canonical) < 5:
        raise ValueError("roster lists fewer than five characters")
    ships: dict[tuple[str, ...], list[str]] = {}
    for ship, members in (data.get("ships") or {}).items():
        if members and all(m in prose for m in members):
            ships.setdefault(tuple(sorted(members)), []).append(str(ship))
    log.info("roster %s: %s characters, %s ship names", path.name, len(canonical), len(ships))
    return Roster(canonical=canonical, prose=prose, short=dict(prose), ships=ships, source=str(path))


def _prose_name(name: str, aliases: list[str]) -> str:
    if BUILTIN_ROSTER.get(name):
        return BUILTIN_ROSTER[name]
    if re.fullmatch(r"[A-Z][a-z]+", name):
        return name
    words = [a for a in aliases if re.fullmatch(r"[A-Z][a-z]+", a)]
    return words[0] if words else name


def load(roster: Roster | None = None) -> Material:
    """Read all material (once per process; about a second with the shared corpus present)."""
    roster = roster or load_roster()
    rows = _read_rows()
    sentences, slots, paras, source = _read_prose(roster)
    title_words, small_words, halves = _title_material(rows)
    tags, weights = _tag_material(rows)
    return Material(
        sentences=sentences,
        slots=slots,
        para_lengths=paras,
        title_words=title_words,
        small_words=small_words,
        title_halves=halves,
        tags=tags,
        tag_weights=weights,
        rows=rows,
        roster=roster,
        prose_source=source,
    )


def _read_rows() -> list[dict[str, str]]:
    if not CSV_PATH.exists():
        log.warning("%s absent: using built-in metadata shapes", CSV_PATH)
        return _builtin_rows()
    keep = ("title", "author_hash", "rating", "warnings", "complete", "updated_date", "relationships")
    keep += ("characters", "freeforms", "series", "language", "words", "chapters_posted")
    with CSV_PATH.open(encoding="utf-8", newline="") as fh:
        return [{k: r.get(k) or "" for k in keep} for r in csv.DictReader(fh)]


def _builtin_rows() -> list[dict[str, str]]:
    """A small spread of shapes following the published ds9-works.csv percentiles (README)."""
    ratings = ["General Audiences"] * 34 + ["Teen And Up Audiences"] * 32 + ["Explicit"] * 16
    ratings += ["Mature"] * 14 + ["Not Rated"] * 4
    words = [100, 296, 500, 900, 1400, 1914, 2500, 4000, 7000, 14114, 30000, 73000]
    rows = []
    for i, rating in enumerate(ratings):
        n_rel = [0, 1, 1, 1, 2, 3][i % 6]
        rows.append(
            {
                "title": "",
                "author_hash": f"a{i % 37:02d}",
                "rating": rating,
                "warnings": "No Archive Warnings Apply",
                "complete": "False" if i % 9 == 0 else "True",
                "updated_date": f"{1 + i % 28} May {2005 + i % 18}",
                "relationships": " | ".join(["x/y"] * n_rel),
                "characters": " | ".join(["c"] * [2, 2, 3, 1, 5, 8][i % 6]),
                "freeforms": " | ".join(["Angst", "Fluff", "Hurt/Comfort", "Romance", "Humor"][: 1 + i % 5]),
                "series": "Part 1 of x" if i % 4 == 0 else "",
                "language": "English",
                "words": str(words[i % len(words)]),
                "chapters_posted": "1" if i % 5 else "3",
            }
        )
    return rows


_TAG = re.compile(r"<[^>]+>")
_SENT = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"”’']))\s+(?=[\"“'‘]?[A-Z])")
_HEADERISH = re.compile(
    r"^\s*[A-Z][A-Za-z ()]{0,24}:(\s|$)|disclaimer|copyright|distribution|\bfeedback\b|https?:", re.I
)


def _prose_files() -> list[Path]:
    """Buffy stories only: other fandoms' sentences would bring their own names and places."""
    files = sorted((CORPUS / "antennapedia" / "btvs").glob("*.md")) if CORPUS.exists() else []
    files += sorted((SHARED / "seeds").glob("*.txt")) if (SHARED / "seeds").exists() else []
    return files


def _units(paragraph: str) -> list[str]:
    """A paragraph's sentences, with a quotation kept whole (never split between two units)."""
    units: list[str] = []
    pending = ""
    for piece in _SENT.split(paragraph):
        pending = f"{pending} {piece}" if pending else piece
        if pending.count('"') % 2 == 0 and pending.count("“") == pending.count("”"):
            units.append(pending)
            pending = ""
    if pending:
        units.append(pending)
    return units


def _read_prose(roster: Roster) -> tuple[list[str], list[int], list[int], str]:
    files = _prose_files()
    names, canon = _name_pattern(roster)
    sentences: list[str] = []
    slots: list[int] = []
    paras: list[int] = []
    for path in files:
        for para in _paragraphs(path.read_text(encoding="utf-8", errors="replace")):
            if _HEADERISH.search(para):
                continue  # a header or note line (Disclaimer:, Rating:, a link), not prose
            found = [s for s in _units(para) if 0 < len(s) < 1500]
            if not found:
                continue
            paras.append(len(found))
            for sentence in found:
                template, n = _templatise(sentence.strip(), names, canon)
                sentences.append(template)
                slots.append(n)
    if len(sentences) < 200:
        lines = _FALLBACK_PROSE.splitlines()
        sentences = [ln.replace("{0}", SLOT + "0").replace("{1}", SLOT + "1") for ln in lines]
        slots = [2 if "{1}" in ln else 1 if "{0}" in ln else 0 for ln in lines]
        return sentences, slots, [1, 2, 3, 4, 2, 1, 3], FALLBACK_LABEL
    label = f"{len(sentences):,} sentences from {len(files)} Buffy stories of ../shared/corpus (antennapedia btvs + seeds)"
    return sentences, slots, paras, label


def _paragraphs(text: str) -> list[str]:
    if text.startswith("---"):
        end = re.search(r"^---\s*$|^--\s*$", text[3:], re.M)
        text = text[3 + end.end() :] if end else text
    text = re.sub(r"</p>|<br\s*/?>", "\n\n", text, flags=re.I)
    text = html.unescape(_TAG.sub("", text))
    text = re.sub(r"[*_#]{1,3}", "", text)
    out = []
    for block in re.split(r"\n\s*\n", text):
        block = " ".join(block.split())
        if len(block) > 1 and re.search(r"[a-z]", block) and not re.fullmatch(r"[\W\d_]+", block):
            out.append(block)
    return out


def _name_pattern(roster: Roster) -> tuple[re.Pattern[str], dict[str, str]]:
    """A pattern for every name form in the roster, and each form's canonical name."""
    canon: dict[str, str] = {}
    for name, short in BUILTIN_ROSTER.items():
        canon.setdefault(short, name)
    for name in roster.canonical:
        for form in (name, roster.prose[name]):
            canon.setdefault(form, name)
    alternatives = "|".join(sorted((re.escape(f) for f in canon), key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b(['’](?![A-Za-z]))?"), canon


def _templatise(sentence: str, names: re.Pattern[str], canon: dict[str, str]) -> tuple[str, int]:
    order: dict[str, int] = {}

    def slot(match: re.Match[str]) -> str:
        written, apostrophe = match.group(0), match.group(1) or ""
        if apostrophe:
            written = written[: -len(apostrophe)]
            apostrophe += "s" if written.endswith("s") else ""  # "Giles' tea" -> "<name>'s tea"
        key = canon.get(written, written)
        return SLOT + str(order.setdefault(key, len(order)) % 10) + apostrophe

    return names.sub(slot, sentence), min(len(order), 10)


def _title_material(rows: list[dict[str, str]]) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    seen: dict[str, int] = {}
    small: set[str] = set()
    halves: list[tuple[str, str]] = []
    names = {
        w
        for row in rows
        for w in re.findall(r"[A-Z][a-z]{2,}", row["characters"] + " " + row["relationships"])
    }
    for row in rows:
        title = row["title"].strip()
        if not title or _TREK.search(title) or re.search(r"[()\[\]{}]", title):
            continue
        words = title.split()
        if any(w.strip("\"'.,:;!?") in names for w in words):
            continue  # a DS9 character's name: not material for a Buffy title
        for w in words:
            w = w.strip("\"'.,:;!?")
            if re.fullmatch(r"[A-Z][a-z]{2,14}", w):
                seen[w] = seen.get(w, 0) + 1
            elif re.fullmatch(r"[a-z]{1,4}", w):
                small.add(w)
        if len(words) >= 3 and title.isascii():
            cut = 1 + len(words) // 2
            halves.append((" ".join(words[:cut]), " ".join(words[cut:])))
    caps = {w for w, n in seen.items() if n >= 2}  # a word in one title only is often a name
    if not caps:  # no real titles (../shared absent): enough words that 400 titles stay mostly unique
        caps = set(
            [
                "Night",
                "Stake",
                "Library",
                "Slayer",
                "Blood",
                "Promise",
                "Winter",
                "Ashes",
                "Hellmouth",
                "Truth",
                "Dawn",
                "Shadow",
                "Fire",
                "Rain",
                "Crypt",
                "Moon",
                "Silence",
                "Harvest",
                "Ghosts",
                "Candle",
                "Ember",
                "Thorn",
                "Lantern",
                "Mirror",
                "Sunrise",
                "Stone",
                "Storm",
                "Glass",
                "Wolf",
                "Prophecy",
                "Chalk",
                "Grave",
                "Tea",
                "Letters",
                "Bells",
                "Salt",
                "Circle",
                "Summer",
                "Midnight",
                "Thread",
                "Ashore",
                "Compass",
            ]
        )
        small = {"the", "of", "and", "in", "a", "to"}
    return sorted(caps), sorted(small), halves


def _tag_material(rows: list[dict[str, str]]) -> tuple[list[str], list[int]]:
    counts: dict[str, int] = {}
    for row in rows:
        for tag in row["freeforms"].split(" | "):
            tag = tag.strip()
            if tag and len(tag) <= 60 and not _TREK.search(tag):
                counts[tag] = counts.get(tag, 0) + 1
    common = sorted((t for t, c in counts.items() if c >= 2), key=lambda t: (-counts[t], t))
    return common, [counts[t] for t in common]
