"""Where a plain-text story's header ends: `HeaderScan` walks the top of a file line by line and
decides header or story, filling a `RawStory` with what the header says, as written.

Owns the shapes of real headers: labelled blocks (also buried under an author's note, LiveJournal
lines or page clutter), wrapped values that continue only when clearly continuing, unlabelled
title / by-line / part lines, and the title line right before the body. The rule it keeps above
all: header lines never end up in the body, and the body never loses story text; when in doubt a
line is story. One line's meaning comes from `textheaders.py`. No I/O, no database, no Discord.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.formats import textheaders as th
from archive.model import RawStory
from archive.series import find_series, part_from_heading

HEADER_LINES = 80  # a header longer than this is not a header
_HEADER_LINES = HEADER_LINES
_MD_HEADING = re.compile(r"^\s{0,3}#{1,2}\s+(?P<text>\S.*?)\s*#*\s*$")


def join_body(lines: list[str]) -> str:
    """Body lines -> text: no leading/trailing blank lines, runs of blank lines become one."""
    text = "\n".join(lines).strip("\n")
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text)


def _is_prose(line: str) -> bool:
    """A line that can only be story: dialogue, a long sentence, several sentences."""
    stripped = line.strip()
    if not stripped:
        return False
    if stripped[0] in '"“‘' or (stripped[0] == "'" and len(stripped) > 3 and stripped[1].isalpha()):
        return True
    if len(stripped) > 160:
        return True
    return len(re.findall(r"[a-z][.!?][\"”’']?\s+[A-Z\"“]", stripped)) >= 2


_LABEL_LIKE = re.compile(r"^[A-ZА-ЯЁ][^\W\d_]*(?:[ '’/-][^\W\d_]+){0,2}\s?:(?:\s|$)")
_UNFINISHED = re.compile(r"(?:[,&/(\-–—]|\b(?:and|or|with|the|of|a|und|y|e|et|и))\s*$", re.IGNORECASE)
_NAME = re.compile(
    r"^[A-ZÀ-ÖØ-ÞА-ЯЁ][\w'’.-]*(?:\s+(?:[A-ZÀ-ÖØ-ÞА-ЯЁ][\w'’.-]*|de|van|von|der|la|le|di|da)){0,3}$"
)


def _name_like(line: str) -> bool:
    """A pen name on its own line: `Anna S`, `M. R. Holloway`; not a sentence, not a heading."""
    return (
        bool(_NAME.match(line))
        and len(line) <= 40
        and not re.search(r"\d", line)
        and part_from_heading(line) is None
        and not th.is_clutter(line)
        and line.lower().split()[0] not in ("the", "a", "an", "chapter", "part", "prologue", "epilogue")
    )


def _title_cased(line: str) -> bool:
    """A short line in title case (`Never Say Never`, `After the Fall`): a title, not a sentence."""
    words = line.strip('*_"“”').split()
    if not words or len(words) > 10 or len(line) > 70 or line.endswith((".", ",", ";", ":")):
        return False
    if th.is_clutter(line) or th.is_separator(line) or _LABEL_LIKE.match(line):
        return False
    big = [w for w in words if w.lower() not in th.TITLE_SMALL_WORDS]
    capital = sum(1 for w in big if w[:1].isupper() or not w[:1].isalpha())
    return words[0][:1].isupper() and bool(big) and capital >= max(1, len(big) * 0.75)


def _title_like(line: str, *, quoted: bool = False) -> bool:
    stripped = line.strip()
    return (
        0 < len(stripped) <= 100
        and len(stripped.split()) <= 14
        and not _is_prose(stripped.strip('"“”') if quoted else stripped)
        and not stripped.endswith((",", ";"))
        and not th.is_separator(stripped)
    )


@dataclass
class HeaderScan:
    """Walks the top of a text file line by line, deciding header or story."""

    lines: list[str]
    markdown: bool = False

    def __post_init__(self) -> None:
        self.raw = RawStory(format="headerless")
        self.fields = 0  # labelled lines, by-lines, FFN lines: proof there is a header
        self.field: tuple[str, str] | None = None  # the field a wrapped value continues
        self.heading_title: str | None = None
        self.title_line: int | None = None
        self.last_free: str | None = None
        self.empty_label = False  # the last label had no value yet
        self.last_line = ""  # the previous non-blank header line, to tell a wrapped value
        self.author_line: int | None = None  # an unlabelled name under the title
        self.block_value = False  # the value began on the line under its label (`Summary:` alone)

    def run(self) -> RawStory:
        start = self._scan()
        raw = self.raw
        if self.fields == 0 and not (self.title_line is not None and start > self.title_line + 1):
            # No header after all: everything is story except a bare part heading at the top.
            raw = self.raw = RawStory(format="headerless")
            start = self._first_text_line()
            first = self.lines[start] if start < len(self.lines) else ""
            heading = _MD_HEADING.match(first) if self.markdown else None
            if part_from_heading(first) is not None:
                raw.part = part_from_heading(first)
                start += 1
            elif heading:
                raw.title = heading.group("text")
                start += 1
            elif _title_like(first):
                self.heading_title = first.strip()
        elif raw.format == "headerless":
            raw.format = "mailing-list"
        raw.body = join_body(self.lines[start:])
        if raw.part is None and raw.body:
            raw.part = part_from_heading(raw.body.split("\n", 1)[0])
        for note in list(raw.notes):
            remix = th.remix_note(note)
            if remix and remix not in raw.notes:
                raw.notes.append(remix)
        if raw.season is None:
            for note in raw.notes:
                if not note.lower().startswith(("disclaimer", "distribution")) and th.season_in_note(note):
                    raw.season = th.season_in_note(note)
                    break
        return raw

    def _first_text_line(self) -> int:
        for index, line in enumerate(self.lines):
            if line.strip():
                return index
        return len(self.lines)

    def _scan(self) -> int:
        """Index of the first body line."""
        lines, raw = self.lines, self.raw
        index, seen_text, blank_before = 0, False, True
        while index < len(lines) and index < _HEADER_LINES:
            line = lines[index]
            stripped = line.strip()
            if not stripped:
                self.field = None if self.field and self.field[0] != "summary" else self.field
                blank_before = True
                index += 1
                continue
            if th.is_clutter(stripped):  # page furniture: never a title, never story
                self.field = None
                index += 1
                continue
            if th.is_separator(stripped):
                if seen_text and not self._label_follows(index + 1):
                    return self._title_after(index + 1)
                self.field, blank_before = None, True
                index += 1
                continue
            if th.FFN_LINE.match(stripped):
                th.read_ffn_line(stripped, raw)
                raw.format = "ffnet"
                self._found(None)
            elif (label := th.label_of(stripped)) is not None:
                field, name, value = label
                th.store(raw, field, name, value)
                self._found((field, name) if field not in ("ignored", "part") else None)
                self.empty_label = self.block_value = not value
            elif self.field is not None and not blank_before and self._continues(line, stripped, index):
                self._continue(stripped)
            elif self._ffn_follows(index + 1) and raw.summary is None and self.fields:
                raw.summary = stripped  # FanFiction.net copies: title, by, summary, info line
                self.field = ("summary", "summary")
            elif not self._free_line(stripped, seen_text, blank_before, index):
                return index
            seen_text, blank_before = True, False
            self.last_line = stripped
            index += 1
        if index >= _HEADER_LINES:
            self.fields = 0  # too long to be a header: treat the file as story
        return index

    def _title_after(self, index: int) -> int:
        """After the separator that ends a header: a lone title-cased line (often centred) then a
        blank line is the title when none was given; the body starts after it."""
        if self.raw.title is not None or self.fields == 0:
            return index
        while index < len(self.lines) and not self.lines[index].strip():
            index += 1
        if (
            index < len(self.lines)
            and _title_cased(self.lines[index].strip())
            and self._body_follows(index + 1)
        ):
            self.raw.title = self.lines[index].strip().strip('*_"“”')
            self.title_line = index
            return index + 1
        return index

    def _found(self, field: tuple[str, str] | None) -> None:
        self.fields += 1
        self.field = field

    def _continues(self, line: str, stripped: str, index: int) -> bool:
        """Whether a line wraps the previous header value: indented, or the value was left
        unfinished (a dangling comma or `and`, a label with no value yet, a line long enough to
        have been wrapped). Never a line that reads as a new label or, for short fields, as prose."""
        assert self.field is not None
        field = self.field[0]
        if _LABEL_LIKE.match(stripped) or part_from_heading(stripped) is not None:
            return False
        if self.empty_label or line[:1] in " \t" or (self.block_value and field in ("summary", "notes")):
            return True
        if field not in ("summary", "notes") and _is_prose(stripped):
            return False
        last = self.last_line
        if _UNFINISHED.search(last) or self._label_before_blank(index + 1):
            return True
        if field in ("summary", "notes"):
            return len(last) >= 55
        return len(last) >= 65 and not last.endswith((".", "!", "?", '"', "”"))

    def _continue(self, stripped: str) -> None:
        """A wrapped header value: append to the field the previous line started (or fill a
        label whose value began on the next line: `Summary:` then the text)."""
        assert self.field is not None
        field, name = self.field
        raw = self.raw
        if self.empty_label:
            self.empty_label = False
            th.store(raw, field, name, stripped)
        elif field in ("pairings", "notes"):
            target = getattr(raw, field)
            target[-1] = f"{target[-1]} {stripped}"
        elif field in ("tags", "warnings", "characters", "fandoms"):
            th.store(raw, field, name, stripped)
        elif isinstance(getattr(raw, field, None), str):
            setattr(raw, field, f"{getattr(raw, field)} {stripped}")

    def _free_line(self, stripped: str, seen_text: bool, blank_before: bool, index: int) -> bool:
        """A header line without a label; False when it is story (the header ends here)."""
        raw = self.raw
        self.field = None
        if not seen_text:
            heading = _MD_HEADING.match(stripped) if self.markdown else None
            note = th.looks_like_note(stripped) and not _is_prose(stripped) and not _title_cased(stripped)
            if note and self._header_follows(index + 1):
                raw.notes.append(stripped)  # `Written for X's challenge:` above the header
                return True
            if heading:
                raw.title, self.title_line = heading.group("text"), index
                return True
            if part_from_heading(stripped) is not None:
                raw.part = part_from_heading(stripped)
                return self.fields > 0 or self._header_follows(index + 1)
            if _title_like(stripped, quoted=True) and self._header_follows(index + 1):
                raw.title, self.title_line = stripped.strip('*_# "“”'), index
                return True
            if _title_like(stripped) and self._name_follows(index + 1):
                raw.title, self.title_line = stripped.strip('*_# "“”'), index
                raw.author, self.author_line = self.lines[index + 1].strip(), index + 1
                self.fields += 1
                return True
            return False
        kind = self._classify_free(stripped, blank_before, index)
        self.last_free = kind
        return kind is not None

    def _classify_free(self, stripped: str, blank_before: bool, index: int) -> str | None:
        raw = self.raw
        if index == self.author_line:
            return "author"
        if part_from_heading(stripped) is not None and raw.part is None and len(stripped) < 60:
            raw.part = part_from_heading(stripped)  # `Part Thirteen` under the by-line
            return "part"
        by_next = index + 1 < len(self.lines) and th.by_line(self.lines[index + 1]) is not None
        if (
            raw.title is None
            and self.fields > 0
            and _title_cased(stripped)
            and (by_next or self._body_follows(index + 1))
        ):
            raw.title, self.title_line = stripped.strip('*_# "“”'), index  # the title line before the body
            return "title"
        if th.is_subtitle(stripped) and self.title_line is not None and index == self.title_line + 1:
            raw.notes.append(stripped)
        elif (author := th.by_line(stripped)) is not None and raw.author is None:
            raw.author = author
            self.fields += 1
            return "author"
        elif th.is_copyright(stripped):
            raw.notes.append(stripped)
            self.fields += 1
        elif raw.series is None and find_series(stripped) is not None:
            raw.series = stripped.rstrip(".")
            self.fields += 1
            return "series"
        elif (
            not blank_before
            and self.field is None
            and self.fields
            and _LABEL_LIKE.match(stripped)
            and len(stripped) < 200
        ):
            raw.notes.append(stripped)  # a label this reader does not know, inside the header block
        elif th.is_contact(stripped) or (th.looks_like_note(stripped) and not _is_prose(stripped)):
            raw.notes.append(stripped)
        elif not blank_before and self.last_free == "note" and len(stripped) < 200:
            raw.notes[-1] = f"{raw.notes[-1]} {stripped}"
        elif (
            self.fields >= 2
            and raw.summary is None
            and len(stripped) < 400
            and self._separator_follows(index + 1)
        ):
            raw.summary = stripped  # the summary paragraph of a labelled header, ruled off from the story
            return "summary"
        elif not blank_before and self.last_free == "summary" and len(stripped) < 400:
            raw.summary = f"{raw.summary} {stripped}"
            return "summary"
        elif len(stripped) < 200 and not _is_prose(stripped) and self._header_follows(index + 1, strict=True):
            raw.notes.append(stripped)  # "A Buffy the Vampire Slayer story" between title and by-line
        else:
            return None
        return "note"

    def _header_follows(self, index: int, *, strict: bool = False) -> bool:
        """Whether a header (labels, by-line, separator) comes within the next few lines.

        `strict` accepts only labels, by-lines and info lines: a separator can also be a scene
        break after the story's first short paragraphs."""
        looked = 0
        for line in self.lines[index:]:
            stripped = line.strip()
            if not stripped:
                continue
            looked += 1
            if th.label_of(stripped) or th.by_line(stripped) or th.FFN_LINE.match(stripped):
                return True
            if not strict and (
                th.is_copyright(stripped)
                or find_series(stripped)
                or th.is_separator(stripped)
                or th.is_subtitle(stripped)
            ):
                return True
            if looked >= 3 or _is_prose(stripped):
                return False
        return False

    def _label_before_blank(self, index: int) -> bool:
        """More labels follow before the next blank line: the block (and this line) is header."""
        for line in self.lines[index : index + 4]:
            if not line.strip():
                return False
            if th.label_of(line.strip()):
                return True
        return False

    def _separator_follows(self, index: int) -> bool:
        """The rest of this paragraph (a few lines at most), a blank line, then a separator."""
        for offset, line in enumerate(self.lines[index : index + 6]):
            if not line.strip():
                after = [ln for ln in self.lines[index + offset : index + offset + 3] if ln.strip()]
                return bool(after) and th.is_separator(after[0].strip())
        return False

    def _name_follows(self, index: int) -> bool:
        """`Anna S` right under a title line, then a blank line: an unlabelled by-line."""
        if index + 1 >= len(self.lines) or self.lines[index + 1].strip():
            return False
        return _name_like(self.lines[index].strip())

    def _body_follows(self, index: int) -> bool:
        """A blank line, then text that is not another header line: the body starts there."""
        if index >= len(self.lines) or self.lines[index].strip():
            return False
        for line in self.lines[index : index + 6]:
            if line.strip():
                stripped = line.strip()
                return not (th.label_of(stripped) or th.by_line(stripped) or th.FFN_LINE.match(stripped))
        return False

    def _ffn_follows(self, index: int) -> bool:
        """Whether a FanFiction.net info line comes within the next few non-blank lines."""
        lines = [line for line in self.lines[index : index + 12] if line.strip()][:3]
        return any(th.FFN_LINE.match(line.strip()) for line in lines)

    def _label_follows(self, index: int) -> bool:
        """After a separator, a second header block (`Disclaimer:`, `A/N:`) may follow."""
        for line in self.lines[index : index + 10]:
            if line.strip():
                return self.fields > 0 and th.label_of(line.strip()) is not None
        return False
