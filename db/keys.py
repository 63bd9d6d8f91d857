"""The one normalisation behind every lookup key (`title_key`, `author_key`, folded tag names).

Owns `fold`: the one name folding (`archive.names.fold`: case-folded, diacritics stripped,
punctuation turned into spaces, apostrophes dropped) with a leading English article removed, for
sorting and matching stored keys. Pure functions only: no database, no Discord, so service code can
fold user input the same way the index did.
"""

from __future__ import annotations

import re

from archive.names import fold as fold_name

_ARTICLE = re.compile(r"^(?:the|an|a) (?=\S)")


def fold(text: str | None) -> str:
    """`The Slayer’s Café!` -> `slayers cafe`: the key two spellings of one name share."""
    return _ARTICLE.sub("", fold_name(text))
