"""The parser's one entry point: `parse_story(data, name, roster) -> StoryMeta`, which never raises.

Owns choosing a format reader by extension and content, and `finalize`, which turns what a reader
found (`RawStory`, as written) into the normalised `StoryMeta`: rating level, series, canonical
relationships and characters through the roster, word count, status, ISO dates, title fallbacks.
Any failure becomes a `problems` entry; a file with no usable text is marked unreadable so the
indexer reports it as failed. No I/O beyond the bytes given, no database, no Discord.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date, datetime
from itertools import islice
from pathlib import PurePath
from typing import TYPE_CHECKING

from archive.decode import decode
from archive.fandoms import fandoms_in_text, fandoms_of_path
from archive.formats.textheaders import title_from_name
from archive.language import detect_language, language_name
from archive.model import CharacterCount, RawStory, Relationship, Series, StoryMeta
from archive.names import MIN_MENTIONS
from archive.pairings import split_pairing, split_pieces
from archive.ratings import parse_rating
from archive.roster import tidy_name
from archive.series import parse_series
from archive.wordscan import RIGHT_QUOTE, WORD_BYTES, plain_punctuation

if TYPE_CHECKING:
    from archive.roster import Roster

log = logging.getLogger(__name__)

UNREADABLE = "unreadable: "
"""Prefix of the problem that marks a file the indexer must report as failed."""
MIN_TEXT_MENTIONS = MIN_MENTIONS  # the one threshold, `archive.names`
MIN_FANDOM_MENTIONS = 3
"""A story with no stated fandom takes the roster's when two of its people are named this often."""
"""A character only inferred from the text must be named at least this often to count."""


class ParseError(ValueError):
    """Why a file could not be read as a story (the message the indexer shows for a failed file)."""


def parse_story(data: bytes, name: str, roster: Roster | None = None) -> StoryMeta:
    """Parse one story file's bytes; `name` is its path (extension picks the reader). Never raises."""
    problems: list[str] = []
    try:
        raw = _read(bytes(data or b""), str(name), problems)
    except Exception as exc:  # the last net: a reader bug must not stop an index run
        log.debug("parsing %s failed: %s", name, exc, exc_info=True)
        problems.append(f"{UNREADABLE}{type(exc).__name__}: {exc}")
        raw = RawStory(format="unknown")
    try:
        meta = finalize(raw, str(name), roster)
    except Exception as exc:
        log.debug("finalize failed on %s: %s", name, exc, exc_info=True)
        problems.append(f"could not normalise the metadata: {type(exc).__name__}: {exc}")
        meta = _bare(raw, str(name))
    meta.problems[:0] = problems
    if not any(p.startswith(UNREADABLE) for p in meta.problems) and not _has_text(meta.body):
        meta.problems.append(f"{UNREADABLE}no story text found")
    return meta


def read_raw(data: bytes, name: str) -> RawStory:
    """What a file says, as written, before any roster: for learning names from an archive
    (`archive.learn`). Never raises (an unreadable file gives an empty `RawStory`)."""
    try:
        raw = _read(bytes(data or b""), str(name), [])
        raw.fandoms = find_fandoms(raw, str(name))
        return raw
    except Exception as exc:
        log.debug("reading %s failed: %s", name, exc)
        return RawStory(format="unknown")


def is_unreadable(meta: StoryMeta) -> bool:
    """True when the file yielded no usable story (report it as failed, do not index it)."""
    return unreadable_reason(meta) is not None


def unreadable_reason(meta: StoryMeta) -> str | None:
    """The plain-words reason a file is unreadable, or None when it is a story."""
    for problem in meta.problems:
        if problem.startswith(UNREADABLE):
            return problem[len(UNREADABLE) :]
    return None


_LETTER = re.compile(r"[^\W\d_]")
_ODD_CHAR = re.compile("[\x00-\x08\x0d-\x1f\ufffd]")
"""Control characters other than \\t \\n \\v \\f, and the replacement character."""
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def _has_text(body: str) -> bool:
    return sum(1 for _ in islice(_LETTER.finditer(body, 0, 20000), 3)) >= 3


def _read(data: bytes, name: str, problems: list[str]) -> RawStory:
    """Pick the reader: by extension first, then by what the bytes look like."""
    ext = PurePath(name).suffix.lower()
    if not data.strip():
        problems.append(f"{UNREADABLE}empty file")
        return RawStory(format="unknown")
    if data[:4] == b"PK\x03\x04" or ext == ".epub":
        if data[:4] != b"PK\x03\x04":
            problems.append(f"{UNREADABLE}not an EPUB (the file is not a zip archive)")
            return RawStory(format="epub")
        try:
            return _reader("archive.formats.epub", "read_epub")(data, name)
        except Exception as exc:
            problems.append(f"{UNREADABLE}{_say(exc)}")
            return RawStory(format="epub")
    text, decode_problems = decode(data)
    problems.extend(decode_problems)
    if _looks_binary(text):
        problems.append(f"{UNREADABLE}binary data, not text")
        return RawStory(format="unknown")
    from archive.formats.plaintext import read_text

    head = text.lstrip()[:500].lower()
    other = None
    if ext in (".html", ".htm", ".xhtml") or head.startswith(("<!doctype html", "<html", "<?xml")):
        other = ("archive.formats.html", "read_html")
    elif re.match(r"\s*---[ \t]*\n(?:.*\n){0,80}?\s*-{2,3}[ \t]*\n", text + "\n"):
        other = ("archive.formats.frontmatter", "read_frontmatter")
    if other is not None:
        try:
            return _reader(*other)(text, name)
        except Exception as exc:
            problems.append(f"read as plain text: {_say(exc)}")
            if other[1] == "read_html":
                text = _strip_tags(text)
    return read_text(text, name)


def _say(exc: Exception) -> str:
    """A reader's error as one line (a file name may hold a line break)."""
    said = str(exc) if isinstance(exc, ValueError) and str(exc) else f"{type(exc).__name__}: {exc}"
    return " ".join(said.split())


def _strip_tags(text: str) -> str:
    import html

    text = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", text)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</h\d>", "\n\n", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _reader(module: str, func: str) -> Callable[..., RawStory]:
    """Import another reader lazily, so this module works before (or without) it."""
    import importlib

    try:
        return getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as exc:
        raise ParseError(f"no reader for this format yet ({module}.{func}: {exc})") from exc


def _looks_binary(text: str) -> bool:
    sample = text[:8000]
    if not sample:
        return False
    return len(_ODD_CHAR.findall(sample)) > 0.05 * len(sample)


def finalize(raw: RawStory, path: str, roster: Roster | None) -> StoryMeta:
    """Normalise what a reader found into the `StoryMeta` the index stores."""
    problems = list(raw.problems)
    rating, rating_tags = parse_rating(raw.rating)
    body = raw.body.strip("\n")
    fandoms = find_fandoms(raw, path)
    # A roster's initials, short names and ships mean its own fandom only: `J/B` in a Sherlock
    # story is never Buffy. A story of another fandom keeps its names as written.
    scoped = roster.for_fandoms(fandoms) if roster is not None else None
    if not fandoms and roster is not None and roster.companions:  # no fandom stated: whose people?
        scoped = max((roster, *roster.companions), key=lambda r: _named_often(r, body))
    relationships = _relationships(raw.pairings, scoped, problems)
    characters = _characters(raw.characters, relationships, body, scoped, fandoms)
    if not fandoms and scoped is not None and scoped.fandoms:
        known = [c for c in characters if c.mentions >= MIN_FANDOM_MENTIONS]
        if len(known) >= 2:  # two of the roster's people, named often: the roster's fandom
            fandoms = [scoped.fandoms[0]]
    if raw.series_name or raw.series_part is not None:
        series = Series(_clean(raw.series_name), raw.series_part)
    else:
        series = parse_series(raw.series)
    stem = PurePath(path).stem
    title, part = _clean(raw.title), raw.part
    numbered = _TITLE_PART.match(title or "")
    if numbered:  # "Hearts of Winter (3/10)": the part belongs in `part`, not in the title
        title, part = numbered.group("title"), part if part is not None else int(numbered.group("part"))
    title = title or title_from_name(path) or f"Untitled ({stem})"
    if series.name and series.part is None:  # "Owned 4: A Day at the Office", "1. The Idiot"
        series = Series(series.name, part_in_title(title, series.name))
    return StoryMeta(
        path=path,
        format=raw.format,
        title=title[:300],
        author=_clean(_CONTACT.sub("", re.sub(r"^by[:\s]\s*", "", raw.author or "", flags=re.IGNORECASE))),
        rating=rating,
        relationships=relationships,
        characters=characters,
        tags=dedupe([*raw.tags, *rating_tags]),
        summary=_clean(raw.summary),
        warnings=[
            w for w in dedupe(raw.warnings) if " ".join(w.casefold().split()).strip(".!") not in _NO_WARNING
        ],
        fandoms=fandoms,
        series=series,
        season=_clean((raw.season or "").strip().rstrip(".")),
        spoilers=_clean(raw.spoilers),
        words=raw.words if raw.words and raw.words > 0 else count_words(body),
        status=normalise_status(raw.status) or status_from_tags(raw.tags),
        published=normalise_date(raw.published),
        language=language_name(_clean(raw.language)) or detect_language(body),
        notes=dedupe(raw.notes),
        body=body,
        part=part,
        problems=problems,
    )


def part_in_title(title: str, series: str) -> int | None:
    """A story's part in its series when its title says it: the series name then a number
    (`Owned 4: A Day at the Office`, `Owned #4`, `Owned, part 4`) or a leading number (`1. The Idiot`)."""
    named = re.match(
        rf"{re.escape(series)}\s*(?:,\s*)?(?:#|no\.?\s*|part\s+)?(\d{{1,3}})(?!\d)", title, re.IGNORECASE
    )
    found = named or re.match(r"(\d{1,3})[.:)]\s+\S", title)
    return int(found.group(1)) if found else None


def _named_often(roster: Roster, body: str) -> int:
    return sum(n for n in roster.count_mentions(body).values() if n >= MIN_FANDOM_MENTIONS)


def find_fandoms(raw: RawStory, path: str) -> list[str]:
    """The fandoms a story states (`Fandom:`, tags), else those its notes name in full (a
    disclaimer), else the one its folder names (`btvs/`)."""
    stated = dedupe(raw.fandoms)
    if stated:
        return stated
    named = fandoms_in_text("\n".join(raw.notes))
    return named or fandoms_of_path(path)


_CONTACT = re.compile(r"\s*[(<\[]?(?:mailto:)?[\w.+-]+@[\w-]+\.[\w.]+[)>\]]?")
_TITLE_PART = re.compile(
    r"^(?P<title>.+?)[\s,:\-–—]*[(\[]\s*(?:part\s*)?(?P<part>\d{1,3})\s*(?:/|of)\s*(?:\d{1,3}|\?)\s*[)\]]$",
    re.IGNORECASE,
)


def _bare(raw: RawStory, path: str) -> StoryMeta:
    """The least a story can be: its path, a title from the name, its text."""
    body = raw.body if isinstance(raw.body, str) else ""
    return StoryMeta(
        path=path, format=raw.format, title=title_from_name(path) or f"Untitled ({PurePath(path).stem})",
        author=None, rating=parse_rating(None)[0], relationships=[], characters=[], tags=[],
        summary=None, warnings=[], fandoms=[], series=Series(), season=None, spoilers=None,
        words=count_words(body), status=None, published=None, language=None, notes=[], body=body,
    )  # fmt: skip


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(str(text).split())
    return text or None


def dedupe(items: list[str]) -> list[str]:
    """Strip, drop empties, and drop case-insensitive repeats keeping the first spelling."""
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        text = " ".join(str(item).split())
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return out


def _relationships(pairings: list[str], roster: Roster | None, problems: list[str]) -> list[Relationship]:
    found: dict[str, Relationship] = {}
    for text in pairings:
        if roster is not None:
            try:
                parsed = roster.parse_relationships(text)
            except Exception as exc:
                problems.append(f"could not read the pairing {text!r}: {exc}")
                parsed = []
        else:
            parsed = _plain_relationships(text)
        for rel in parsed:
            found.setdefault(rel.key, rel)
    return list(found.values())


def _plain_relationships(text: str) -> list[Relationship]:
    """Without a roster: names as written (a name only in lower case, a tag slug's `eleven/river`,
    capitalised; `OFC` written out: `archive.roster.tidy_name`), split on `/`, `&` and ` x `."""
    out = []
    for piece in split_pieces(text):
        split = split_pairing(piece)
        if split is None:
            continue
        names = sorted({tidy_name(n.strip(" .")) for n in split[0] if n.strip(" .")})
        if len(names) >= 2:
            out.append(Relationship(tuple(names), split[1], piece))
    return out


_QUALIFIED = re.compile(r"^(?P<name>[^()]+?)\s*\((?P<note>[^()]*)\)$")


def _unqualified(name: str, plain: set[str], fandom_names: set[str]) -> str:
    """`Sherlock Holmes (again)` beside `Sherlock Holmes`, and `Tenth Doctor (Doctor Who)` in a
    Doctor Who story, are the person before the brackets (AO3 character tags carry such notes);
    any other bracketed name is kept whole. `fandom_names`: the story's fandoms, folded, with and
    without their own brackets (`sherlock (tv)`, `sherlock`)."""
    found = _QUALIFIED.match(name)
    if found is None:
        return name
    base, note = found["name"].strip(), found["note"].strip().casefold()
    return base if base.casefold() in plain or note in fandom_names else name


def _characters(
    header: list[str],
    relationships: list[Relationship],
    body: str,
    roster: Roster | None,
    fandoms: list[str] | None = None,
) -> list[CharacterCount]:
    names: list[str] = []
    listed = [w.strip() for w in [*header, *(n for rel in relationships for n in rel.characters)]]
    plain = {w.casefold() for w in listed if not _QUALIFIED.match(w)}
    fandom_names = {n.casefold() for f in fandoms or [] for n in (f, re.sub(r"\s*\(.*\)$", "", f))}
    for written in listed:
        name = _unqualified(written, plain, fandom_names)
        if roster is not None and name:
            name = roster.resolve(name) or roster.resolve(re.sub(r"\s+[A-Z]\.?$", "", name)) or name
        if name and name.casefold() not in {n.casefold() for n in names}:
            names.append(name)
    # Only count this roster's names in a story of this roster's fandom (or of no stated fandom):
    # a Doctor Who story's "the Master" is not the Buffyverse's.
    infer = roster is not None and roster.covers(fandoms or [])
    counts = roster.count_mentions(body) if infer and roster is not None else {}
    out = [CharacterCount(n, "header", counts.get(n, 0)) for n in names]
    header_set = set(names)
    inferred = sorted(
        ((n, c) for n, c in counts.items() if n not in header_set and c >= MIN_TEXT_MENTIONS),
        key=lambda item: (-item[1], item[0]),
    )
    out.extend(CharacterCount(n, "text", c) for n, c in inferred)
    return out


_ASCII_JOIN = re.compile(rb"(?<=[A-Za-z0-9])'(?=[A-Za-z0-9])")


def count_words(body: str) -> int:
    """Words in the story text (separator lines are not words): `_WORD`'s matches. A text of ASCII
    and typographic punctuation is counted from its bytes (`archive.wordscan`): runs of letters and
    digits less the apostrophes joining two runs (`don't`, `don’t` are one word each)."""
    if not plain_punctuation(body):
        return len(_WORD.findall(body))
    data = body.encode("utf-8")
    if RIGHT_QUOTE in data:
        data = data.replace(RIGHT_QUOTE, b"'")
    joins = len(_ASCII_JOIN.findall(data)) if b"'" in data else 0
    return len(data.translate(WORD_BYTES).split()) - joins


_COMPLETE = re.compile(
    r"^(?:complete[d]?|finished|done|one[- ]?shot|yes|abgeschlossen|fertig|beendet|vollständig|"
    r"completa|completo|terminada|terminado|finalizada|finalizado|conclusa|concluso|completata|"
    r"terminée|terminé|complète|achevée|concluída|concluído|закончен[ао]?|завершен[ао]?|"
    r"завершён|окончен[ао]?)(?!\w)",
    re.IGNORECASE,
)
_ONGOING = re.compile(
    r"^(?:in[- ]?progress|ongoing|wip|work in progress|incomplete|unfinished|updated|on[- ]?hiatus|"
    r"hiatus|abandoned|no|in arbeit|unvollständig|laufend|en progreso|en curso|incompleta|in corso|"
    r"incompiuta|en cours|em andamento|em progresso|в процессе|не закончен[ао]?|заморожен[ао]?)(?!\w)",
    re.IGNORECASE,
)


def normalise_status(text: str | None) -> str | None:
    """`Completed`/`Complete` -> "complete"; `In-Progress`/`WIP`/`Ongoing` -> "in-progress"."""
    if not text:
        return None
    text = text.strip()
    if _COMPLETE.match(text):
        return "complete"
    if _ONGOING.match(text):
        return "in-progress"
    return None


_NO_WARNING = frozenset(["none", "no", "n/a", "na", "nil", "nothing", "-", "no warnings", "none apply"])
"""A warnings value that says there are none (`warnings: none`) is no warning called "none"."""

_STATUS_TAGS = {
    **dict.fromkeys(("complete", "completed", "finished", "oneshot", "one shot"), "complete"),
    **dict.fromkeys(
        ("incomplete", "unfinished", "wip", "work in progress", "in progress", "ongoing", "abandoned",
         "on hiatus", "hiatus"),
        "in-progress",
    ),
}  # fmt: skip


def status_from_tags(tags: list[str]) -> str | None:
    """The status an author's tag states when no header does: a whole tag `incomplete`, `WIP`,
    `Complete`, `one-shot`... (a tag that only starts with such a word, `Done Right`, says nothing);
    None when there is none or the tags disagree."""
    found = {_STATUS_TAGS.get(" ".join(re.sub(r"[-_]", " ", t).casefold().split())) for t in tags} - {None}
    return found.pop() if len(found) == 1 else None


_DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%m/%d/%Y", "%m/%d/%y", "%d.%m.%Y", "%B %d, %Y",
    "%b %d, %Y", "%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%dT%H:%M:%S", "%Y%m%d",
)  # fmt: skip


def normalise_date(text: str | None) -> str | None:
    """A date as archives write it -> ISO `YYYY-MM-DD`; None when it cannot be read as a day.

    Slashed dates are read month first (FanFiction.net's way); day first when the month would
    be over 12.
    """
    if not text:
        return None
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", " ".join(text.split()).strip(" .,"))
    cleaned = re.sub(r"^(?:published|posted|on)[:\s]+", "", cleaned, flags=re.IGNORECASE)
    candidates = [cleaned, cleaned[:10], cleaned[:19]]
    for candidate in candidates:
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(candidate, fmt).date().isoformat()  # noqa: DTZ007 - a date
            except ValueError:
                continue
    slashed = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", cleaned)
    if slashed:
        day, month, year = (int(g) for g in slashed.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return None
    return None
