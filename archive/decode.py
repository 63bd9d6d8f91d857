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
    else UTF-8 with a few invalid sequences (replaced, and reported); else charset-normalizer's reading (cp1251, KOI8-R, ...), where any Western code page it names is
    read as cp1252 (what old Windows editors wrote: 0x93/0x94 are curly quotes); a low-confidence
    reading is reported; else cp1252, else latin-1, which cannot fail.
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
    text = _bomless_utf16(data) or _strict(data, "utf-8")
    if text is not None:
        return text
    text = _mostly_utf8(data, problems)
    if text is not None:
        return text
    guessed = _guess(data)
    if guessed is not None:
        encoding, text, confident = guessed
        if encoding in _WESTERN and (western := _strict(data, "cp1252")) is not None:
            encoding, text = "cp1252", western  # old Windows editors: 0x93/0x94 are curly quotes
        if not confident:
            problems.append(f"encoding not declared and hard to tell; read it as {encoding} (low confidence)")
        elif encoding != "cp1252":
            problems.append(f"encoding not declared; read it as {encoding}")
        return text
    text = _strict(data, "cp1252")
    if text is not None:
        problems.append("encoding not declared; read it as cp1252 (low confidence)")
        return text
    problems.append("encoding unknown; read it as latin-1")
    return data.decode("latin-1")


_WESTERN = frozenset({"cp1252", "windows-1252", "latin_1", "iso8859_1", "iso8859_15", "cp1250", "iso8859_2",
                      "mac_roman", "mac_latin2", "cp850", "cp437", "iso8859_9", "cp1254", "iso8859_3",
                      "iso8859_4", "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_16", "cp1257",
                      "mac_iceland", "mac_turkish", "cp858", "cp1258", "ascii"})  # fmt: skip
"""Guesses that mean "some Western single-byte code page": cp1252 reads them best when it can."""
_MAX_CHAOS = 0.2


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _mostly_utf8(data: bytes, problems: list[str]) -> str | None:
    """UTF-8 with a few broken sequences (a cut-and-paste, a bad transfer): read as UTF-8, the broken
    bytes replaced by U+FFFD and counted in a problem. It counts as UTF-8 when at least as many
    non-ASCII characters decode as UTF-8 as fail to: a single-byte code page (cp1252 `é` followed
    by a letter) almost never forms a valid multi-byte sequence by chance."""
    text = data.decode("utf-8", errors="replace")
    broken = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")  # not the ones the file itself holds
    decoded = sum(1 for ch in text if ord(ch) > 0x7F) - broken
    if broken <= 0 or decoded < broken:
        return None
    places = "1 place" if broken == 1 else f"{broken:,} places"
    problems.append(f"not valid UTF-8 in {places}: read as UTF-8, those bytes replaced with “\ufffd”")
    return text


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM: one byte of each pair comes from very few values (a NUL for ASCII,
    0x04 for Cyrillic, 0x00/0x03 for accented Greek...), the other from many."""
    if len(data) < 4 or len(data) % 2:
        return None
    sample = data[:4000]
    even, odd = _top_share(sample[0::2]), _top_share(sample[1::2])
    if odd > 0.9 and even < 0.7 and sample[1::2].count(0) + sample[1::2].count(4) > 0:
        encoding = "utf-16-le"
    elif even > 0.9 and odd < 0.7 and sample[0::2].count(0) + sample[0::2].count(4) > 0:
        encoding = "utf-16-be"
    else:
        return None
    return _strict(data, encoding)


def _top_share(column: bytes) -> float:
    """The share of the two most common byte values in `column`."""
    if not column:
        return 0.0
    counts = sorted((column.count(value) for value in set(column)), reverse=True)
    return sum(counts[:2]) / len(column)


def _guess(data: bytes) -> tuple[str, str, bool] | None:
    """charset-normalizer's best reading: (encoding, text, confident)."""
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:100_000]).best()
        if best is None:
            return None
        text = data.decode(best.encoding, errors="replace")
    except Exception as exc:
        log.debug("charset-normalizer failed: %s", exc)
        return None
    confident = best.chaos <= _MAX_CHAOS and "\ufffd" not in text
    return best.encoding, text, confident


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
