"""Title normalisation for the in-memory title index: folding, tokens, comparison keys, trigrams.

Owns how a title (or a half-remembered query) is reduced before matching: casefold, diacritics
stripped, apostrophes dropped, other punctuation turned into spaces, a few abbreviations and small
numbers spelled out, leading/inner articles ("the", "a", "an") dropped. It also owns the trigram
codes the index posts. Pure functions only: no database, no Discord, no state.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

from archive.names import strip_accents

ARTICLES = frozenset({"the", "a", "an"})

ABBREVIATIONS: dict[str, str] = {
    "fwd": "forward",
    "bwd": "backward",
    "bk": "back",
    "pt": "part",
    "ch": "chapter",
    "chap": "chapter",
    "vs": "versus",
    "thru": "through",
    "tho": "though",
    "nite": "night",
    "xmas": "christmas",
    "b4": "before",
    "ppl": "people",
    "u": "you",
    "ur": "your",
    "1": "one",
    "2": "two",
    "3": "three",
    "4": "four",
    "5": "five",
    "6": "six",
    "7": "seven",
    "8": "eight",
    "9": "nine",
    "10": "ten",
}
"""Words (as typed, already folded) spelled out in both titles and queries, so `fwd` finds
"Forward" and "Part 2" finds "Part Two"."""

_NO_APOSTROPHES = str.maketrans(dict.fromkeys("'’ʼ`´‘"))
_SPLIT = re.compile(r"[\W_]+")
_SYMBOLS = re.compile(r"\s*(&|\+|\bw/)\s*")
_SYMBOL_WORDS = {"&": " and ", "+": " and ", "w/": " with "}


def fold(text: str) -> str:
    """Casefolded, diacritics stripped, apostrophes dropped, punctuation to single spaces.

    Articles are kept: this is the form "as typed", used for as-you-type prefixes.
    """
    text = strip_accents(text)
    if "&" in text or "+" in text or "w/" in text:
        text = _SYMBOLS.sub(lambda m: _SYMBOL_WORDS[m.group(1)], text)
    text = text.translate(_NO_APOSTROPHES)
    # a title of symbols only ("💖", "???") keeps its symbols, so it can still be found
    return " ".join(_SPLIT.sub(" ", text).split()) or " ".join(text.split())


def key_words(words: Sequence[str], *, partial_last: bool = False) -> list[str]:
    """Folded words -> comparison words: abbreviations spelled out, articles dropped.

    With `partial_last` the last word is still being typed: it is kept as it is. When every word is
    an article ("The", "A") the words are kept, so no title has an empty key.
    """
    head = words[:-1] if partial_last and words else words
    out = [ABBREVIATIONS.get(w, w) for w in head]
    kept = [w for w in out if w not in ARTICLES]
    if not kept and not partial_last:
        kept = out
    if partial_last and words:
        kept.append(words[-1])
    return kept


def title_key(title: str) -> tuple[str, str]:
    """(folded, key) for a title: the as-typed fold and the article-free comparison key."""
    folded = fold(title)
    key = " ".join(key_words(folded.split()))
    return folded, folded if key == folded else key  # one string, not two, when they agree


def trigram_codes(texts: Sequence[str], *, open_end: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Character trigrams of each text padded with spaces, as int64 codes, and the owning text's
    index for each code (duplicates within one text are kept; callers dedupe).

    `open_end` leaves the end unpadded (a word still being typed).
    """
    tail = "" if open_end else " "
    joined = "".join(f" {t}{tail}\n" for t in texts)
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    if cps.size < 3:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    owner = np.cumsum(cps == 10) - (cps == 10)  # text index of each character
    a, b, c = cps[:-2], cps[1:-1], cps[2:]
    ok = (a != 10) & (b != 10) & (c != 10)
    codes = (a << 42) | (b << 21) | c
    return codes[ok], owner[:-2][ok]


def sort_codes(texts: list[str]) -> np.ndarray:
    """Integer codes that sort as `texts` do (numpy sorts the str objects themselves: no copy)."""
    if not texts:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.array(texts, dtype=object), return_inverse=True)[1].astype(np.int64)


def query_trigrams(text: str, *, open_end: bool = False) -> np.ndarray:
    """The distinct trigram codes of one query key."""
    codes, _owner = trigram_codes([text], open_end=open_end)
    return np.unique(codes)


def shorten(text: str, limit: int = 100) -> str:
    """`text` cut to at most `limit` characters, at a word end when one is near, ending in "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 2 // 3:
        cut = cut[:space]
    while cut and unicodedata.combining(cut[-1]):
        cut = cut[:-1]
    return cut.rstrip() + "…"


def typo_variants(word: str, alphabet: str) -> set[str]:
    """Every string one typo away from `word` (a letter missing, extra, wrong, or two swapped),
    `word` itself left out: the spellings a mistyped word may have been meant as."""
    out: set[str] = set()
    for i in range(len(word) + 1):
        head, tail = word[:i], word[i:]
        if tail:
            out.add(head + tail[1:])
            out.update(head + c + tail[1:] for c in alphabet)
        if len(tail) > 1:
            out.add(head + tail[1] + tail[0] + tail[2:])
        out.update(head + c + tail for c in alphabet)
    out.discard(word)
    return out
