"""The vocabulary of plain-text story headers: labels, separators, by-lines, the FanFiction.net
info line, and titles made from file names.

Owns recognising one header line at a time (`Pairing(s): W/T`, `Title - X`, `~*~*~`, `by Aadler`,
`Copyright April 2010`, `Rated: T - English - ...`) and storing a labelled value on a `RawStory`.
`headerscan.py` decides where the header ends; this module never looks at more than a line.
Pure text in, values out: no I/O, no database, no Discord.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from archive.formats.labels import FIELDS as _FIELDS
from archive.formats.labels import NAMED_NOTES as _NAMED_NOTES
from archive.model import RawStory
from archive.series import number_from_text, part_from_heading

_LABEL_LINE = re.compile(
    r"^\s*(?:[*_>#\[]+\s*)?(?P<label>[^\W\d_](?:[^\W\d_]|['’/() .\-]){0,24}?)\s*(?:[*_\]]+\s*)?"
    r"(?::|\s[-–—]\s|\s[-–—]$)\s*(?:[*_]+\s*)?(?P<value>.*?)\s*$"
)
_SEPARATOR = re.compile(
    r"^\s*(?:(?=(?:.*[~*\-=_#+•·–—<>^:.]){3})[~*\-=_#+•·–—<>^:.\s]+"
    r"|o(?:Oo)+|O(?:oO)+|x(?:Xx)+|X(?:xX)+)\s*$"
)
_BY_LINE = re.compile(r"^\s*(?:written\s+)?by[:\s]\s*(?P<author>\S.{0,60}?)\s*$", re.IGNORECASE)
_COPYRIGHT = re.compile(r"^\s*(?:copyright\b|©|\(c\)\s*\d)", re.IGNORECASE)
_SUBTITLE = re.compile(r"^\s*[(\[].{1,100}[)\]]\s*$")
_CONTACT = re.compile(r"^\s*<?\S+@\S+\.\w+>?\s*$|^\s*<?https?://\S+>?\s*$", re.IGNORECASE)
_NOTE_WORDS = re.compile(
    r"\b(?:remix|written\s+for|for\s+the\s+.{1,40}\s+challenge|challenge:|beta(?:'?d|ed|s)?\b|"
    r"beta[- ]read|dedicat|sequel|prequel|set\s+(?:after|during|in|before|between)\s+(?:the\s+)?"
    r"(?:AU|season|s\d|episode|series|\")|takes\s+place|a/n\b|author'?s?\s+notes?|feedback|archiv(?:e|ing)\b|"
    r"disclaim|spoiler|ficathon|fic\s?exchange|gift\s+for|originally\s+(?:posted|written)|"
    r"inspired\s+by|concrit|un-?beta'?d|no\s+beta|lyrics\s+(?:by|from)|song\s+by|crossover\b)",
    re.IGNORECASE,
)
_REMIX = re.compile(
    r"\bremix\b.*?\bof\s+[\"“](?P<title>[^\"”]+?)[,.]?[\"”],?\s+by\s+(?P<author>[^\s,.;()]+(?:\s[A-Z][^\s,.;()]*)?)",
    re.IGNORECASE,
)
_SEASON_IN_NOTE = re.compile(
    r"\b(?P<season>(?:(?:AU|post|pre|mid|early|late|alternate)[- ])?season\s+(?:\d{1,2}|[a-z]+)\b)",
    re.IGNORECASE,
)
FFN_LINE = re.compile(r"^\s*Rated:\s*(?:Fiction\s+)?(?:K\+?|T|M|MA)\s+-\s+\S", re.IGNORECASE)
_FFN_GENRES = {
    "adventure", "angst", "crime", "drama", "family", "fantasy", "friendship", "general", "horror",
    "humor", "hurt/comfort", "mystery", "parody", "poetry", "romance", "sci-fi", "spiritual",
    "supernatural", "suspense", "tragedy", "western",
}  # fmt: skip


def label_of(line: str) -> tuple[str, str, str] | None:
    """(field, label as written, value) when the line is a known `Label: value`; else None."""
    match = _LABEL_LINE.match(line)
    if not match:
        return None
    label = match.group("label").strip()
    key = re.sub(r"\(s\)|[()]", "", label.lower().replace("’", "'").replace("ё", "е"))
    key = " ".join(key.replace("_", " ").split()).strip(" .-")
    field = _FIELDS.get(key)
    if field is None:
        return None
    return field, label, match.group("value").strip()


_CLUTTER = re.compile(
    r"^(?:preface|table of contents|contents|skip to (?:main )?content|printer[- ]friendly(?: version)?|"
    r"print(?: this)?(?: story| chapter)?|back to top|next chapter|previous chapter|chapter index|"
    r"log ?in|sign ?up|home|report (?:this|abuse)|share this|add to favou?rites|"
    r"advertis\w*(?:\s+by)?\b.*|sponsored\b.*|reviews?\s*[(\[]?\s*\d*\s*[)\]]?|"
    r"\[?\s*reviews?\s*-\s*\d+\s*\]?|you are here:.*|vorwort|prefacio|prefazione|предисловие)[.:!]?$",
    re.IGNORECASE,
)
_BREADCRUMB = re.compile(r"^[^>»]{1,60}(?:\s[>»]\s[^>»]{1,60}){2,}$")


def is_clutter(line: str) -> bool:
    """Page furniture a saved archive page carries: navigation bars, breadcrumbs, ad credits,
    "Preface". Never a title, never story."""
    stripped = line.strip()
    if not stripped or len(stripped) > 200:
        return False
    if _CLUTTER.match(stripped) or _BREADCRUMB.match(stripped):
        return True
    return stripped.count(" | ") >= 2 or stripped.count(" · ") >= 2 or stripped.count(" :: ") >= 2


_STRONG = {"title", "author", "pairings", "rating", "summary", "warnings", "characters", "fandoms", "tags",
           "spoilers", "season", "series", "status", "words", "language"}  # fmt: skip
_STRONG_NOTES = {"beta", "betas", "beta reader", "artist", "disclaimer", "feedback", "dedication", "a/n"}
_INNER_LABEL = re.compile(r"(?<=\S)\s+(?=(?P<label>[A-ZА-ЯЁ][^\W\d_]*(?:[ /'’-][^\W\d_]+){0,2})\s?:\s)")


def split_labels(line: str) -> list[str]:
    """`Author: X Beta: Y Artist: Z Pairing: W/T` (a page that lost its line breaks) -> one
    `Label: value` line per label. Only known labels written with a capital start a new field."""
    if len(line) > 2000 or FFN_LINE.match(line) or label_of(line) is None:
        return [line]
    cuts = [0]
    for match in _INNER_LABEL.finditer(line):
        found = label_of(f"{match.group('label')}: x")
        if found and (found[0] in _STRONG or found[1].lower() in _STRONG_NOTES):
            cuts.append(match.start("label"))
    if len(cuts) == 1:
        return [line]
    return [line[a:b].strip() for a, b in zip(cuts, [*cuts[1:], len(line)], strict=True) if line[a:b].strip()]


def is_separator(line: str) -> bool:
    """`~~~`, `***`, `----`, `~*~*~`, `~ – ~ – ~`, `===`, `oOo`: a line drawn between parts."""
    return bool(line.strip()) and bool(_SEPARATOR.match(line))


_NOT_NAMES = {"the", "a", "an", "time", "was", "were", "is", "it", "she", "he", "they", "then", "when",
              "that", "this", "her", "his", "their", "now", "of", "to", "in", "on", "at", "and", "but",
              "with", "from", "got", "had", "have", "way", "end", "all", "means", "far", "night", "day"}  # fmt: skip


def by_line(line: str) -> str | None:
    """`by Aadler` -> "Aadler"; None for prose such as `By the time she got there...`."""
    match = _BY_LINE.match(line)
    if not match:
        return None
    author = match.group("author").strip()
    name = re.sub(r"\s*(?:[(<\[].*|\S+@\S+.*|https?://.*)$", "", author).strip(" ,;-")
    words = name.split()
    if not words or len(words) > 4 or len(name) > 40 or (name.endswith((".", "!", "?")) and len(words) > 1):
        return None
    if any(word.lower().strip(".,") in _NOT_NAMES for word in words):
        return None
    return name


def is_copyright(line: str) -> bool:
    return bool(_COPYRIGHT.match(line)) and len(line) < 200


def is_subtitle(line: str) -> bool:
    return bool(_SUBTITLE.match(line))


def is_contact(line: str) -> bool:
    return bool(_CONTACT.match(line))


def looks_like_note(text: str) -> bool:
    """A free header sentence about the story rather than of it (remix credits, set-in, thanks)."""
    stripped = text.strip()
    if not stripped or len(stripped) > 400 or stripped[0] in "\"“'‘":
        return False
    return bool(_NOTE_WORDS.search(stripped))


def remix_note(text: str) -> str | None:
    """`This story is a remix ... of "Come Crashing Down", by Deird1.` -> `Remix of "..." by Deird1`."""
    match = _REMIX.search(text)
    if not match:
        return None
    return f'Remix of "{match.group("title").strip()}" by {match.group("author").strip()}'


def season_in_note(text: str) -> str | None:
    """`set in AU season 6.` -> `AU season 6` (only when the number reads as one)."""
    match = _SEASON_IN_NOTE.search(text)
    if not match:
        return None
    number = match.group("season").split()[-1]
    return match.group("season") if number_from_text(number) is not None else None


def split_list(value: str) -> list[str]:
    """A header list value: `angst, romance; hurt/comfort` -> its items."""
    return [item.strip(" .") for item in re.split(r"\s*[,;]\s*", value) if item.strip(" .")]


def store(raw: RawStory, field: str, label: str, value: str) -> None:
    """Put one labelled header value into the RawStory field it belongs to."""
    value = value.strip()
    if not value or field == "ignored":
        return
    key = " ".join(re.sub(r"\(s\)|[()]", "", label.lower().replace("’", "'")).split())
    if field in ("title", "author", "rating", "summary", "spoilers", "season", "status", "language",
                 "published", "series"):  # fmt: skip
        current = getattr(raw, field)
        setattr(raw, field, f"{current} {value}" if current and field == "summary" else value)
    elif field == "pairings":
        raw.pairings.append(value)
    elif field in ("tags", "warnings", "characters", "fandoms"):
        getattr(raw, field).extend(split_list(value))
    elif field == "notes":
        raw.notes.append(f"{label.strip()}: {value}" if key in _NAMED_NOTES else value)
    elif field == "words":
        digits = re.sub(r"[,.\s]", "", value.split()[0]) if value.split() else ""
        if digits.isdigit():
            raw.words = int(digits)
    elif field == "part":
        number = number_from_text(value.split("/")[0].split(" of ")[0])
        if number is not None:
            raw.part = number


_FFN_STATUS = re.compile(r"complete[d]?|in[- ]progress|incomplete", re.IGNORECASE)


def read_ffn_line(line: str, raw: RawStory) -> None:
    """Fill `raw` from a FanFiction.net info line (`Rated: T - English - Romance/Angst - [W, T] ...`)."""
    pieces = [p.strip() for p in re.split(r"\s+-\s+", line.strip()) if p.strip()]
    unlabelled = 0
    for piece in pieces:
        labelled = re.match(r"^(?P<label>[A-Za-z ]{1,20}):\s*(?P<value>.*)$", piece)
        if labelled:
            label, value = labelled.group("label").strip().lower(), labelled.group("value").strip()
            if label == "rated":
                raw.rating = re.sub(r"^fiction\s+", "", value, flags=re.IGNORECASE)
            elif label in ("words", "published", "status"):
                store(raw, label, label, value)
            elif label == "chapters" and value.isdigit() and int(value) == 1:
                pass
            continue
        if _FFN_STATUS.fullmatch(piece):  # the site writes a finished story's status without a label
            raw.status = piece
            continue
        unlabelled += 1
        genres = [g.strip() for g in re.split(r"/(?!comfort)", piece, flags=re.IGNORECASE)]
        if all(g.lower() in _FFN_GENRES for g in genres):
            raw.tags.extend(genres)
        elif unlabelled == 1 and re.fullmatch(r"[A-Z][a-zà-ÿ]+(?: [A-Z][a-z]+)?", piece):
            raw.language = piece
        else:
            _ffn_people(piece, raw)


def _ffn_people(piece: str, raw: RawStory) -> None:
    """`[Willow R., Tara M.] Buffy S.`: bracketed groups are pairings, the rest characters."""

    def plain(name: str) -> str:
        return re.sub(r"\s+[A-Z]\.$", "", name.strip())

    for group in re.findall(r"\[([^\]]*)\]", piece):
        names = [plain(n) for n in group.split(",") if n.strip()]
        if len(names) >= 2:
            raw.pairings.append("/".join(names))
        raw.characters.extend(names)
    rest = re.sub(r"\[[^\]]*\]", ",", piece)
    raw.characters.extend(plain(n) for n in rest.split(",") if n.strip() and plain(n))


_GENERIC_FOLDERS = {"", ".", "stories", "story", "seeds", "samples", "txt", "text", "fics", "fic",
                    "misc", "archive", "uploads", "new", "incoming"}  # fmt: skip
SMALL_WORDS = {"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to"}
_SMALL_ELSEWHERE = {"aus", "von", "vom", "der", "die", "das", "und", "im", "am", "zu", "zum", "mit", "de", "del",
                    "la", "el", "los", "las", "y", "desde", "en", "con", "di", "il", "e", "da", "dal", "dei",
                    "du", "des", "le", "les", "et", "à", "au", "aux", "do", "dos", "em", "o", "os", "no", "na",
                    "и", "в", "на", "с", "из", "под", "над", "для", "о"}  # fmt: skip
"""Words other languages leave in lower case inside a title (`Straßen aus Staub`)."""
TITLE_SMALL_WORDS = SMALL_WORDS | _SMALL_ELSEWHERE


def _titled(words: list[str]) -> str:
    out = []
    for i, word in enumerate(words):
        out.append(word if i and word in SMALL_WORDS else word[:1].upper() + word[1:])
    return " ".join(out)


def title_from_name(name: str) -> str | None:
    """A title from a file's path when it carries words (`hearts_of_winter-03.txt` -> "Hearts of
    Winter"; `Hearts of Winter/part14.txt` -> "Hearts of Winter"); None for `001_b38ba3.txt`."""
    path = PurePath(name.replace("\\", "/"))
    stem = path.stem.strip()
    tokens = [t for t in re.split(r"[\s_.\-]+", stem) if t]
    while tokens and ((number_from_text(tokens[-1]) is not None and not tokens[-1].isalpha())
                      or tokens[-1].lower() in ("part", "chapter", "ch", "pt", "final")):  # fmt: skip
        tokens.pop()
    words = [t for t in tokens if t.isalpha()]
    is_chapter_name = part_from_heading(stem.replace("_", " ")) is not None or re.fullmatch(
        r"(?:part|chapter|ch|pt)?[\s_\-]*\d+", stem, re.IGNORECASE
    )
    if words and not is_chapter_name and len(words) == len(tokens):
        if stem == stem.lower() or "_" in stem or "-" in stem:
            return _titled([w.lower() if stem == stem.lower() else w for w in tokens])
        return " ".join(tokens)
    folder = path.parent.name.strip()
    if is_chapter_name and _story_folder(folder):
        return folder
    if is_chapter_name and re.search(r"[^\W\d_]", stem):
        return stem  # `ch15.txt` in a folder that is not the story's own: the file name is the title
    return None


def _story_folder(folder: str) -> bool:
    """Whether a folder reads as a story's own (`Hearts of Winter`, `hearts_of_winter`) rather than
    a place files happen to sit (`wild`, `btvs`, `stories`, `2019`)."""
    from archive.fandoms import fandom_of_folder

    if (
        folder.lower() in _GENERIC_FOLDERS
        or fandom_of_folder(folder)
        or not re.search(r"[^\W\d_]{2}", folder)
    ):
        return False
    words = [w for w in re.split(r"[\s_\-]+", folder) if w]
    return len(words) >= 2 or (folder[:1].isupper() and len(folder) > 3)
