"""Bytes to text for story files: byte-order marks, UTF-8, UTF-16, cp1252/latin-1, then a guess.

Owns turning a story file's raw bytes into clean text with `\\n` line ends and no NUL bytes,
plus a list of problems worth telling a host about. It never raises and knows nothing of
story formats, the database or Discord.
"""

from __future__ import annotations

import codecs
import logging

log = logging.getLogger(__name__)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode(data: bytes) -> tuple[str, list[str]]:
    """Decode a story file's bytes; returns the text and any problems met on the way.

    Order: a byte-order mark decides; else BOM-less UTF-16 (a NUL in every other byte); else UTF-8;
    else cp1252 (what old Windows editors wrote: 0x93/0x94 are curly quotes); else
    charset-normalizer's best guess; else latin-1, which cannot fail.
    """
    problems: list[str] = []
    try:
        text = _decode_bytes(bytes(data or b""), problems)
    except Exception as exc:  # never raise: fall back to the one decoding that cannot fail
        log.debug("decode failed: %s", exc)
        problems.append(f"could not decode the file ({exc}); read it as latin-1")
        text = bytes(data or b"").decode("latin-1")
    return clean_text(text, problems), problems


def _decode_bytes(data: bytes, problems: list[str]) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = data[len(bom) :].decode(encoding, errors="replace")
            if "\ufffd" in text:
                problems.append(f"some bytes are not valid {encoding}; replaced them")
            return text
    text = _bomless_utf16(data) or _strict(data, "utf-8") or _strict(data, "cp1252")
    if text is not None:
        return text
    guessed = _guess(data)
    if guessed is not None:
        encoding, text = guessed
        problems.append(f"encoding not declared; guessed {encoding}")
        return text
    problems.append("encoding unknown; read it as latin-1")
    return data.decode("latin-1")


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM shows as a NUL in every other byte of mostly-ASCII text."""
    if len(data) < 4 or len(data) % 2:
        return None
    sample = data[:4000]
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_nuls > 0.4 * half and even_nuls < 0.05 * half:
        encoding = "utf-16-le"
    elif even_nuls > 0.4 * half and odd_nuls < 0.05 * half:
        encoding = "utf-16-be"
    else:
        return None
    return _strict(data, encoding)


def _guess(data: bytes) -> tuple[str, str] | None:
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
    except Exception as exc:
        log.debug("charset-normalizer failed: %s", exc)
        return None
    if best is None:
        return None
    return best.encoding, str(best)


def clean_text(text: str, problems: list[str] | None = None) -> str:
    """Normalise line ends to `\\n`, drop NUL bytes and stray byte-order marks."""
    if "\x00" in text:
        text = text.replace("\x00", "")
        if problems is not None:
            problems.append("NUL bytes removed")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\ufeff" in text:
        text = text.replace("\ufeff", "")
    return text
