"""The one normalisation behind every lookup key (`title_key`, `author_key`, folded tag names).

Owns `fold`: case-folded, diacritics stripped, punctuation turned into spaces (apostrophes
dropped), whitespace collapsed, and a leading English article removed. Pure functions only: no
database, no Discord, so service code can fold user input the same way the index did.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = re.compile(r"['’‘`´]")
_NOT_WORD = re.compile(r"[\W_]+")
_ARTICLE = re.compile(r"^(?:the|an|a) (?=\S)")


def fold(text: str | None) -> str:
    """`The Slayer’s Café!` -> `slayers cafe`: the key two spellings of one name share."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = _APOSTROPHES.sub("", stripped.casefold())
    words = _NOT_WORD.sub(" ", folded).strip()
    return _ARTICLE.sub("", words)
