"""Reading the words of a text as bytes, when that gives exactly what the Unicode word regexes
give: a text whose only non-ASCII characters are typographic punctuation (curly quotes, dashes,
ellipsis, no-break space, bullets, guillemets) has the same words either way, at a third of the
cost (`bytes.translate` + `split` instead of a Unicode regex).

Owns `plain_punctuation(text)` (may the bytes route be taken) and the translate tables. Pure
functions: no I/O, no database, no Discord. `archive.parse.count_words`, `archive.nonstory` and
`service.identity.fingerprint` use it; each keeps the regex route for every other text.
"""

from __future__ import annotations

import re

TYPOGRAPHIC = "\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00a0\u2022\u00ab\u00bb"
"""Punctuation that is no word character, before or after NFKC (`…` becomes `...`, the no-break
space a space) and is left alone by case folding."""
_OTHER = re.compile(f"[^\\x00-\\x7f{TYPOGRAPHIC}]")
RIGHT_QUOTE = "\u2019".encode()
"""The typographic apostrophe, which joins words as `'` does (`don’t`)."""

WORD_BYTES = bytes(c if chr(c).isalnum() else 32 for c in range(128)) + b" " * 128
"""bytes.translate table: ASCII letters and digits kept, every other byte a space."""
LETTER_BYTES = bytes(c if chr(c).isalpha() else 32 for c in range(128)) + b" " * 128
"""The same with digits a space too (words of letters only)."""
FOLDED_WORD_BYTES = bytes(ord(chr(c).lower()) if chr(c).isalnum() else 32 for c in range(128)) + b" " * 128
"""The same with letters lower-cased (case folding, for ASCII)."""


def plain_punctuation(text: str) -> bool:
    """Whether every non-ASCII character of `text` is `TYPOGRAPHIC` punctuation (so no letter,
    digit or symbol NFKC could turn into one): then its UTF-8 bytes, with every byte above 127 a
    separator, split into the same words as `[^\\W_]+` over the text."""
    return text.isascii() or _OTHER.search(text) is None
