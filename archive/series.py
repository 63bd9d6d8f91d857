"""Series (story-line) phrases and part numbers as fans write them.

Owns reading numbers in every form headers use (`12`, `12th`, `twelfth` and its misspelling
`twelth`, `three`, roman `XIV`), `parse_series` for phrases like `twelth in Second Best
story-line` or `Part 3 of X`, `find_series` for the stricter test a free header line needs, and
`part_from_heading` for chapter headings (`Part XIV`, `Chapter Three: Title`). Pure text in,
values out: no I/O, no database, no Discord.
"""

from __future__ import annotations

import re

from archive.model import Series

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
_UNITS += ["eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"]
_UNITS += ["eighteen", "nineteen"]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60}
_TENS |= {"seventy": 70, "eighty": 80, "ninety": 90}
_ORDINALS = {
    "first": 1, "second": 2, "secound": 2, "third": 3, "thrid": 3, "fourth": 4, "forth": 4,
    "fifth": 5, "fith": 5, "sixth": 6, "seventh": 7, "eighth": 8, "eigth": 8, "eight": 8,
    "ninth": 9, "nineth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "twelth": 12,
    "twelveth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16,
    "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
    "fortieth": 40, "fiftieth": 50,
}  # fmt: skip
_CARDINALS = {word: n for n, word in enumerate(_UNITS)} | _TENS

_ROMAN = re.compile(r"^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}

# One number in any form: digits with an optional ordinal suffix, words (also "twenty-first"),
# or a roman numeral.
NUMBER = (
    r"(?:\d{1,4}(?:st|nd|rd|th)?|[ivxlcdm]+"
    r"|(?:[a-z]+[- ])?[a-z]+)"
)


def roman_to_int(text: str) -> int | None:
    """`XIV` -> 14; None when the text is not a well-formed roman numeral (case-insensitive)."""
    letters = text.strip().upper()
    if not letters or not _ROMAN.match(letters):
        return None
    total = 0
    for here, after in zip(letters, [*letters[1:], ""], strict=True):
        value = _ROMAN_VALUES[here]
        total += -value if after and _ROMAN_VALUES[after] > value else value
    return total


def number_from_text(text: str) -> int | None:
    """A number written any way fans write it: `12`, `12th`, `twelfth`, `twelth`, `Three`, `XIV`,
    `twenty-first`. None when the text is not a number."""
    word = text.strip().lower().rstrip(".:,")
    if not word:
        return None
    digits = re.fullmatch(r"(\d{1,4})(?:st|nd|rd|th)?", word)
    if digits:
        return int(digits.group(1))
    if word in _ORDINALS:
        return _ORDINALS[word]
    if word in _CARDINALS:
        return _CARDINALS[word]
    compound = re.fullmatch(r"([a-z]+)[- ]([a-z]+)", word)
    if compound and compound.group(1) in _TENS:
        tail = compound.group(2)
        unit = _ORDINALS.get(tail) or _CARDINALS.get(tail)
        if unit is not None and 0 < unit < 10:
            return _TENS[compound.group(1)] + unit
    return roman_to_int(word)


_SERIES_WORDS = r"(?:story[- ]?line|storyline|series|arc|verse|saga|cycle|sequence|trilogy|universe)"
_QUOTED = r"[\"“”'‘’]?"
_NAME = rf"{_QUOTED}(?P<name>[^\"“”]+?){_QUOTED}"
_TAIL = rf"(?:\s+{_SERIES_WORDS})?\s*[.!]?\s*$"
_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        # "twelth in Second Best story-line", "the 3rd story in the X series"
        rf"^(?:the\s+)?(?P<num>{NUMBER})\s+(?:(?:story|part|installment|instalment|fic|entry|book)\s+)?"
        rf"in\s+(?:the\s+|my\s+)?{_NAME}{_TAIL}",
        # "Part 3 of X", "Book two of the X series", "Part III of 'X'"
        rf"^(?:part|book|story|chapter|installment|instalment|no\.?|number|#)\s*(?P<num>{NUMBER})"
        rf"(?:\s+of\s+\d+)?\s+(?:of|in)\s+(?:the\s+)?{_NAME}{_TAIL}",
        # "X, part 3", "X - Part 3", "X (Part 3)", "X series, book 2", "X #3"
        rf"^{_NAME}(?:\s+{_SERIES_WORDS})?\s*[,:\-–—(]?\s*(?:part|book|no\.?|number|#)\s*"
        rf"(?P<num>{NUMBER})(?:\s*(?:of|/)\s*\d+)?\)?\s*[.!]?\s*$",
    )
)
_SEQUEL = re.compile(
    r"^(?:a\s+|the\s+)?(?:sequel|follow[- ]?up|companion(?:\s+piece)?)\s+to\s+" + _NAME + r"\s*[.!]?\s*$",
    re.IGNORECASE,
)
_BY_AUTHOR = re.compile(r",?\s+by\s+\S+$", re.IGNORECASE)


def _clean_name(name: str) -> str | None:
    name = name.strip().strip("\"“”'‘’ .,:;-")
    name = re.sub(rf"\s+{_SERIES_WORDS}$", "", name, flags=re.IGNORECASE).strip()
    return name or None


def find_series(text: str | None) -> Series | None:
    """A series only when the text is a series phrase (for free header lines); else None."""
    if not text:
        return None
    line = " ".join(text.split())
    if len(line) > 160:
        return None
    for pattern in _PATTERNS:
        match = pattern.match(line)
        if match:
            part = number_from_text(match.group("num"))
            name = _clean_name(match.group("name"))
            named = re.search(rf"\b{_SERIES_WORDS}\b", line, re.IGNORECASE) or (name and name[0].isupper())
            if part is not None and name and named:
                return Series(name, part)
    sequel = _SEQUEL.match(line)
    if sequel:
        name = _clean_name(_BY_AUTHOR.sub("", sequel.group("name")))
        if name:
            return Series(name, None)
    return None


def parse_series(text: str | None) -> Series:
    """A header's series value: a phrase (`Part 3 of X`) or just the series name."""
    if not text or not text.strip():
        return Series()
    found = find_series(text)
    if found is not None:
        return found
    return Series(_clean_name(" ".join(text.split())[:200]), None)


_HEADING = re.compile(
    rf"^[\s#*~=_\-–—.:\[(]*(?:part|chapter|ch\.|chap\.|book|episode|section)\s*(?P<num>{NUMBER})"
    r"\s*(?:$|[\]):.\-–—~*=#_]+\s*(?P<title>.*)$|\s+(?:of\s+\d+)\s*$|\s*/\s*\d+\s*$)",
    re.IGNORECASE,
)


def part_from_heading(line: str | None) -> int | None:
    """The number in a chapter heading: `Part XIV` -> 14, `Chapter Three` -> 3, `Part 2: Title` -> 2.

    None for anything else, including prose that happens to start with "Part of me...".
    """
    if not line:
        return None
    text = line.strip()
    if not text or len(text) > 100:
        return None
    match = _HEADING.match(text)
    if not match:
        return None
    return number_from_text(match.group("num"))
