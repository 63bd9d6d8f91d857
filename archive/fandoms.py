"""Fandoms named where fans name them: disclaimers and notes (`Buffy the Vampire Slayer and Angel:
the Series belong to Joss Whedon`), and the folder a story sits in (`btvs/`, `hp/`).

Owns a small table of widely written fandoms (canonical label -> the full names that find it in
prose and the short names that find it as a folder), and two look-ups: `fandoms_in_text` (full
names only, so "Angel" the character or "who" the word never count) and `fandom_of_folder`
(whole folder names, short forms allowed). A roster's own fandom labels are used beside this
table by `parse.finalize`. Pure text in, labels out: no I/O, no database, no Discord.
"""

from __future__ import annotations

import re
from pathlib import PurePath

# canonical label -> (names that may appear in prose, extra short names accepted as a folder name)
KNOWN: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Buffy the Vampire Slayer": (("Buffy the Vampire Slayer", "Buffy: the Vampire Slayer", "BtVS",
                                  "Баффи", "Buffy la cazavampiros", "Buffy contre les vampires",
                                  "Buffy l'ammazzavampiri", "Buffy - Im Bann der Dämonen"), ("buffy",)),
    "Angel": (("Angel: the Series", "Angel the Series", "Angel (TV)", "AtS"), ("ats", "angel the series")),
    "Harry Potter": (("Harry Potter", "Hogwarts", "J. K. Rowling", "J.K. Rowling", "Гарри Поттер"), ("hp",)),
    "Sherlock (TV)": (("BBC Sherlock", "Sherlock (TV)", "Sherlock BBC", "Sherlock (BBC)", "Шерлок",
                       "Mark Gatiss", "Gatiss", r"re:\bSherlock\b(?!\s+Holmes)"), ("bbc sherlock",)),
    "Sherlock Holmes": (("Sherlock Holmes", "Arthur Conan Doyle", "Conan Doyle"), ("holmes", "acd")),
    "Doctor Who": (("Doctor Who", "Torchwood", "Доктор Кто"), ("dw", "who", "doctorwho")),
    "Supernatural": (("Supernatural (TV)", "Сверхъестественное", "Eric Kripke", "Kripke"), ("spn", "supernatural")),
    "Star Trek": (("Star Trek", "Deep Space Nine", "Voyager (Star Trek)"), ("tos", "tng", "ds9", "startrek")),
    "Star Wars": (("Star Wars", "Звёздные войны"), ("starwars",)),
    "Stargate": (("Stargate SG-1", "Stargate Atlantis", "Stargate"), ("sg1", "sg-1", "sga")),
    "The X-Files": (("The X-Files", "X-Files"), ("xf", "xfiles")),
    "Firefly": (("Firefly", "Serenity (2005)"), ()),
    "The Lord of the Rings": (("Lord of the Rings", "Tolkien", "Middle-earth", "The Hobbit"), ("lotr", "tolkien")),
    "Marvel": (("Marvel Cinematic Universe", "Marvel Comics", "The Avengers"), ("mcu", "marvel")),
    "Merlin": (("Merlin (TV)", "BBC Merlin"), ("merlin",)),
    "Teen Wolf": (("Teen Wolf",), ("teenwolf",)),
    "Twilight": (("Twilight Saga", "Stephenie Meyer"), ("twilight",)),
    "The Hunger Games": (("Hunger Games",), ("thg",)),
    "Good Omens": (("Good Omens",), ("goodomens",)),
    "Naruto": (("Naruto",), ()),
    "Glee": (("Glee (TV)",), ("glee",)),
    "Hetalia": (("Hetalia",), ()),
    "Dragon Age": (("Dragon Age",), ("dragonage",)),
    "Mass Effect": (("Mass Effect",), ("masseffect",)),
    "Pride and Prejudice": (("Pride and Prejudice", "Jane Austen"), ("pnp", "p&p")),
    "The Thick of It": (("The Thick of It",), ("thick", "ttoi")),
    "The Hour": (("The Hour (TV)",), ("hour",)),
    "Real Person Fiction": (("Real Person Fiction", "RPF"), ("rpf",)),
    "Dark Shadows": (("Dark Shadows",), ()),
    "Highlander": (("Highlander",), ()),
}  # fmt: skip


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^\w&]+", " ", text.casefold()).split())


_FOLDERS: dict[str, str] = {}
_PROSE: list[tuple[re.Pattern[str], str]] = []
for _label, (_names, _short) in KNOWN.items():
    for _name in (*_names, *_short, _label):
        if not _name.startswith("re:"):
            _FOLDERS.setdefault(_key(_name), _label)
    for _name in _names:
        if _name.startswith("re:"):  # a pattern, written as such (case kept)
            _PROSE.append((re.compile(_name[3:]), _label))
            continue
        # Short all-capital forms (`BtVS`, `AtS`, `RPF`) must be written so; full names in any case.
        flags = 0 if len(_name) <= 4 else re.IGNORECASE
        _PROSE.append((re.compile(rf"(?<!\w){re.escape(_name)}(?!\w)", flags), _label))


def fandoms_in_text(text: str) -> list[str]:
    """Fandoms a free text names in full (`Disclaimer: ... Buffy the Vampire Slayer ...`), in the
    order they first appear."""
    found: list[tuple[int, str]] = []
    sample = text[:20_000]
    for pattern, label in _PROSE:
        match = pattern.search(sample)
        if match:
            found.append((match.start(), label))
    out: list[str] = []
    for _, label in sorted(found):
        if label not in out:
            out.append(label)
    if "Sherlock (TV)" in out and "Sherlock Holmes" in out:  # the BBC series named, or only its hero?
        tv = re.search(r"BBC|\(TV\)|Gatiss|Шерлок", sample)
        out.remove("Sherlock Holmes" if tv else "Sherlock (TV)")
    return out


def fandom_of_folder(name: str) -> str | None:
    """The fandom a folder name means (`btvs`, `Harry Potter`, `hp`), or None."""
    return _FOLDERS.get(_key(name))


def fandoms_of_path(path: str) -> list[str]:
    """Fandoms named by the (two nearest) folders a file sits in (`btvs/ch3.txt` -> Buffy)."""
    out: list[str] = []
    for depth, folder in enumerate(list(reversed(PurePath(path.replace("\\", "/")).parts[:-1]))[:2]):
        if depth and len(folder) <= 3:
            continue  # a short name (`who`, `hp`) counts only as the file's own folder
        label = fandom_of_folder(folder)
        if label and label not in out:
            out.append(label)
    return out
