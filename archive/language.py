"""Which language a story is written in, from its text: `detect_language(body) -> "German" | None`.

Owns a small, dependency-free guess good enough for fan fiction: the writing system first
(Cyrillic, Greek, Japanese, Chinese, Korean), then the share of very common words of each Latin-
script language archives are often written in (English, German, Spanish, Italian, French,
Portuguese, Dutch, Polish). Names are the English names AO3 and FanFiction.net print, so a
stated `Language: English` and a guessed one look alike. Pure text in, a name out: no I/O, no
database, no Discord.
"""

from __future__ import annotations

import re
from collections import Counter


def _common(words: str) -> frozenset[str]:
    return frozenset(words.split())


_WORDS: dict[str, frozenset[str]] = {
    "English": _common("the and to of a was he she it that in you her his i had with but not said for"),
    "German": _common("der die und das nicht ist ich sie er es zu den mit sich ein eine auf auch war dass"),
    "Spanish": _common("el la que de y en los se no un una por con las su lo para del al"),
    "Italian": _common("il di che e la non un una per è gli le si lo con mi ma del della"),
    "French": _common("le la les et de des un une est il elle que qui ne pas je vous dans du au"),
    "Portuguese": _common("o a que de e não um uma os as se do da em para com ele ela mas"),
    "Dutch": _common("de het een en van ik je niet dat is hij zij op te met maar"),
    "Polish": _common("i w nie się na to że z jest do jak ale co tak jej go mnie"),
}
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_UKRAINIAN = re.compile(r"[іїєґІЇЄҐ]")
_GREEK = re.compile(r"[\u0370-\u03ff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_LETTERS = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_]+")
_SAMPLE = 3_000
MIN_WORDS = 20
"""Fewer words than this and no guess is made."""


def detect_language(text: str) -> str | None:
    """The language `text` is written in, by name (`"Russian"`), or None when it cannot tell."""
    sample = text[:_SAMPLE]
    letters = len(_LETTERS.findall(sample))
    if letters < 40:
        return None
    if not sample.isascii():
        for pattern, name in ((_HANGUL, "Korean"), (_KANA, "Japanese"), (_HAN, "Chinese"), (_GREEK, "Greek")):
            if len(pattern.findall(sample)) > 0.3 * letters:
                return name
        if len(_CYRILLIC.findall(sample)) > 0.3 * letters:
            return "Ukrainian" if len(_UKRAINIAN.findall(sample)) > 0.01 * letters else "Russian"
    words = _WORD.findall(sample.lower())
    if len(words) < MIN_WORDS:
        return None
    counts = Counter(words)
    scores = {name: sum(counts[w] for w in common) for name, common in _WORDS.items()}
    best = max(scores, key=lambda name: scores[name])
    ranked = sorted(scores.values(), reverse=True)
    if scores[best] < 0.08 * len(words) or ranked[0] < 1.3 * ranked[1]:
        return None
    return best


_NAMES = {
    "en": "English", "de": "German", "es": "Spanish", "it": "Italian", "fr": "French", "pt": "Portuguese",
    "ru": "Russian", "uk": "Ukrainian", "nl": "Dutch", "pl": "Polish", "ja": "Japanese", "zh": "Chinese",
    "ko": "Korean", "el": "Greek", "english": "English", "deutsch": "German", "español": "Spanish",
    "espanol": "Spanish", "italiano": "Italian", "français": "French", "francais": "French",
    "português": "Portuguese", "portugues": "Portuguese", "русский": "Russian", "polski": "Polish",
}  # fmt: skip


def language_name(stated: str | None) -> str | None:
    """A stated language as a name: `en`, `en-US`, `Deutsch` -> "English", "English", "German"."""
    if not stated or not stated.strip():
        return None
    text = stated.strip()
    key = text.lower().split("-")[0].split("_")[0] if len(text) <= 5 else text.lower()
    return _NAMES.get(key, text)
