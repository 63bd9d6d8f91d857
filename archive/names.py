"""The grammar of names: how any name, title, tag or typed query is folded before two spellings are
compared, and how often a story's text must name a character for the story to count as featuring
them.

Owns `fold` (the one folding: case-folded, accents stripped, letters NFKD keeps whole spelt out,
apostrophes dropped, other punctuation turned into single spaces; "Søren", "SØREN" and "Soren"
fold alike), `clean` (what user text loses before it reaches an index: NUL and lone surrogates)
and `MIN_MENTIONS`. The roster (`archive.roster`), the stored keys (`db.keys`) and the title index
(`service.titlekeys`) build on `fold`, so the parser, the index and the queries agree. Pure
functions only: no database, no Discord.
"""

from __future__ import annotations

import re
import unicodedata

MIN_MENTIONS = 2
"""A character named in the text (not the header) features in a story once named this often."""

_UNSAFE = re.compile("[\x00\ud800-\udfff]")
_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i"})
"""Letters NFKD does not take apart."""
_APOSTROPHES = str.maketrans(dict.fromkeys("'’ʼ`´‘"))
_NOT_WORD = re.compile(r"[\W_]+")


def clean(text: str) -> str:
    """`text` without NUL and lone surrogates (which no index, encoder or database accepts)."""
    return _UNSAFE.sub("", text) if _UNSAFE.search(text) else text


def strip_accents(text: str) -> str:
    """Case-folded, accents stripped and the letters NFKD keeps whole spelt out (`Søren` -> `soren`)."""
    text = clean(text).casefold()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_LETTERS)


def fold(text: str | None) -> str:
    """`Søren O'Brien-Smith!` -> `soren obrien smith`: the form two spellings of one name share."""
    if not text:
        return ""
    return " ".join(_NOT_WORD.sub(" ", strip_accents(text).translate(_APOSTROPHES)).split())
