"""Plain-text stories: every header style, separators, wrapped values, FanFiction.net and FanFicFare
files, headerless chapters, encodings, the ratings table and series phrases.

Stories here are a few lines written for the test; the bundled samples in `stories/` are checked
against what they were written to say.
"""

from __future__ import annotations

import codecs
import io
import zipfile

import pytest

from archive.decode import decode
from archive.model import JSON_KEYS, Series, StoryMeta
from archive.parse import finalize, is_unreadable, normalise_date, normalise_status, parse_story
from archive.ratings import RANK, level_of, parse_rating
from archive.roster import Roster
from archive.series import parse_series, part_from_heading, roman_to_int
from tests.conftest import ROSTER_FILE, SAMPLES_DIR

STORY = (
    "Buffy sat on the crypt steps and watched the fog roll in over the headstones.\n\n"
    '"You\'re late," she said, without turning round.\n\n'
    "Nobody answered, which was the worst kind of answer."
)


@pytest.fixture(scope="module")
def roster() -> Roster:
    return Roster.load(ROSTER_FILE)


def parse(text: str, name: str = "stories/test.txt", roster: Roster | None = None) -> StoryMeta:
    meta = parse_story(text.encode("utf-8"), name, roster)
    assert tuple(meta.to_json()) == JSON_KEYS
    return meta


def assert_story_intact(meta: StoryMeta) -> None:
    assert meta.body == STORY
    assert not is_unreadable(meta)


# --- mailing-list headers ---------------------------------------------------------------------


def test_classic_header_with_labels_in_any_case(roster: Roster) -> None:
    text = (
        "TITLE: Crypt Steps\nauthor: Nightlight\nPairing(s): B/S\nRATING: pg-13\n"
        "Spoilers: through season 5\nSummary: Buffy waits. Spike is late.\n"
        "Disclaimer: Not mine.\nDistribution: Ask first.\nFeedback: yes please\n"
        "Archive: my site only\nGenre: angst, romance\nWarnings: none really\n"
        "Characters: Dawn\nStatus: Complete\nWords: 41\n\n~~~\n\n" + STORY
    )
    meta = parse(text, roster=roster)
    assert meta.format == "mailing-list"
    assert (meta.title, meta.author) == ("Crypt Steps", "Nightlight")
    assert [r.characters for r in meta.relationships] == [("Buffy Summers", "Spike")]
    assert (meta.rating.raw, meta.rating.level) == ("pg-13", "teen")
    assert meta.spoilers == "through season 5"
    assert meta.summary == "Buffy waits. Spike is late."
    assert meta.tags == ["angst", "romance"]
    assert meta.warnings == ["none really"]
    assert {c.name for c in meta.characters if c.source == "header"} == {
        "Buffy Summers",
        "Spike",
        "Dawn Summers",
    }
    assert (meta.status, meta.words) == ("complete", 41)
    notes = " | ".join(meta.notes)
    for part in ("Disclaimer: Not mine.", "Distribution: Ask first.", "Feedback: yes please", "Archive:"):
        assert part in notes
    assert_story_intact(meta)


def test_dash_separated_labels_and_wrapped_values() -> None:
    text = (
        "Title - The Long Way Round\nAuthor - Q. Tip\nSummary: Giles takes the scenic route\n"
        "   home, and regrets it\n   almost at once.\nNotes: thanks to my beta,\nwho is a saint.\n\n"
        "***\n\n" + STORY
    )
    meta = parse(text)
    assert (meta.title, meta.author) == ("The Long Way Round", "Q. Tip")
    assert meta.summary == "Giles takes the scenic route home, and regrets it almost at once."
    assert meta.notes == ["thanks to my beta, who is a saint."]
    assert_story_intact(meta)


@pytest.mark.parametrize("separator", ["~~~", "***", "----", "~*~*~", "~ – ~ – ~", "===", "* * *", "oOo"])
def test_each_separator_ends_the_header(separator: str) -> None:
    meta = parse(f"Title: Fog\nAuthor: Nightlight\n{separator}\n{STORY}")
    assert meta.title == "Fog"
    assert_story_intact(meta)


def test_header_ends_at_first_prose_paragraph_without_separator() -> None:
    meta = parse("Title: Fog\nAuthor: Nightlight\nRating: G\n\n" + STORY)
    assert (meta.title, meta.rating.level) == ("Fog", "general")
    assert_story_intact(meta)


def test_title_line_subtitle_by_line_copyright_and_free_notes() -> None:
    text = (
        "Fog on the Hill\n(the Lantern Remix)\nby Nightlight\nCopyright June 2003\n\n"
        'Written for the Summer Ficathon; a remix of "Hill Fog", by Moth.\n\n'
        "Season: post-Chosen\nSpoiler(s): everything\n\n" + STORY
    )
    meta = parse(text)
    assert (meta.title, meta.author, meta.season, meta.spoilers) == (
        "Fog on the Hill",
        "Nightlight",
        "post-Chosen",
        "everything",
    )
    assert "(the Lantern Remix)" in meta.notes
    assert "Copyright June 2003" in meta.notes
    assert 'Remix of "Hill Fog" by Moth' in meta.notes
    assert_story_intact(meta)


def test_free_series_sentence_and_second_header_block_after_separator() -> None:
    text = (
        "Fog\n\nthird in the Hill story-line.\n\nAuthor: Nightlight\n\n~*~*~\n\n"
        "Disclaimer: Joss owns them.\nA/N: set in AU season 3.\n\n~*~*~\n\n" + STORY
    )
    meta = parse(text)
    assert (meta.series.name, meta.series.part) == ("Hill", 3)
    assert "Disclaimer: Joss owns them." in meta.notes
    assert meta.season == "AU season 3"
    assert_story_intact(meta)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "Title: Hearts of Winter (3/10)\nAuthor: Nightlight\n\n",
            ("Hearts of Winter", "Nightlight", 3, None, []),
        ),
        ('"Crypt Steps"\nby Nightlight\nRating: PG\n\n', ("Crypt Steps", "Nightlight", None, None, [])),
        (
            "Crypt Steps\nA Buffy the Vampire Slayer story\nby Nightlight\n\n",
            ("Crypt Steps", "Nightlight", None, None, ["A Buffy the Vampire Slayer story"]),
        ),
        (
            "Title: Crypt Steps\nSummary:\nBuffy waits.\nSpike is late.\nNotes:\nfor Moth\n\n",
            ("Crypt Steps", None, None, "Buffy waits. Spike is late.", ["for Moth"]),
        ),
    ],
)
def test_header_variants(header: str, expected: tuple[object, ...]) -> None:
    meta = parse(header + STORY)
    assert (meta.title, meta.author, meta.part, meta.summary, meta.notes) == expected
    assert_story_intact(meta)


@pytest.mark.parametrize(
    "first_line",
    [
        "By the time Buffy got there, it was over.",
        "The first in line.",
        "Buffy accepted the challenge.",
        "Set in the kitchen, Buffy waited.",
        "Sunnydale, 1998",
    ],
)
def test_short_first_story_line_after_a_header_stays_story(first_line: str) -> None:
    meta = parse(f"Title: Crypt Steps\nRating: PG\n\n{first_line}\n\n{STORY}")
    assert (meta.title, meta.author, meta.series.name, meta.notes) == ("Crypt Steps", None, None, [])
    assert meta.body == f"{first_line}\n\n{STORY}"


def test_author_contact_is_not_part_of_the_name() -> None:
    meta = parse("Title: Fog\nAuthor: Nightlight <night@example.com>\n\n" + STORY)
    assert meta.author == "Nightlight"
    meta = parse("Fog\nby Moth Lantern (moth@example.org)\n\n" + STORY)
    assert (meta.title, meta.author) == ("Fog", "Moth Lantern")


def test_part_heading_after_the_header_stays_in_the_body() -> None:
    meta = parse("Title: Crypt Steps\nAuthor: Nightlight\n~~~\nChapter 4: Fog\n\n" + STORY)
    assert meta.part == 4
    assert meta.body == "Chapter 4: Fog\n\n" + STORY


def test_story_that_starts_with_dialogue_is_not_mistaken_for_a_header() -> None:
    text = '"Title: who cares," Buffy said.\n\n' + STORY
    meta = parse(text, "stories/fog.txt")
    assert meta.format == "headerless"
    assert meta.body.startswith('"Title: who cares," Buffy said.')
    assert meta.title == "Fog"


PARAGRAPHS = [
    "Giles polished his glasses for the third time in ten minutes, which was how Buffy knew that "
    "the news was bad, and that he had not yet found a way of telling her that would make it less so.",
    '"Just say it," she told him. "Whatever it is. I promise not to throw anything breakable."',
    "He put the glasses back on, took them off again, and finally set them down on the open book "
    "between them, as if the book might do the explaining for him if he gave it the chance.",
] * 3


def test_email_hard_wrap_is_undone() -> None:
    import textwrap

    wrapped = "\n\n".join(textwrap.fill(p, 72) for p in PARAGRAPHS)
    assert max(len(line) for line in wrapped.splitlines()) <= 72
    meta = parse(f"Title: Bad News\nAuthor: Nightlight\n\n{wrapped}\n")
    assert meta.body == "\n\n".join(PARAGRAPHS)


@pytest.mark.parametrize(
    "body",
    [
        "\n".join(["The slayer walks alone tonight,", "the graveyard gate swings wide;"] * 10),
        "\n\n".join(PARAGRAPHS),
        "\n".join(PARAGRAPHS * 2),
    ],
)
def test_text_that_is_not_hard_wrapped_is_left_alone(body: str) -> None:
    assert parse(f"Title: Bad News\n\n~~~\n\n{body}").body == body


# --- FanFiction.net and FanFicFare ------------------------------------------------------------


def test_ffn_info_line(roster: Roster) -> None:
    text = (
        "Fog\nBy: Nightlight\n\nBuffy waits for someone who is late.\n\n"
        "Rated: Fiction T - English - Romance/Hurt/Comfort - [Willow R., Tara M.] Buffy S. - "
        "Chapters: 3 - Words: 12,345 - Reviews: 4 - Published: 3/4/2005 - Status: Complete - id: 123\n\n"
        + STORY
    )
    meta = parse(text, roster=roster)
    assert meta.format == "ffnet"
    assert (meta.title, meta.author, meta.summary) == (
        "Fog",
        "Nightlight",
        "Buffy waits for someone who is late.",
    )
    assert (meta.rating.raw, meta.rating.level) == ("T", "teen")
    assert meta.language == "English"
    assert meta.tags == ["Romance", "Hurt/Comfort"]
    assert [r.characters for r in meta.relationships] == [("Tara Maclay", "Willow Rosenberg")]
    assert "Buffy Summers" in {c.name for c in meta.characters if c.source == "header"}
    assert (meta.words, meta.published, meta.status) == (12345, "2005-03-04", "complete")
    assert_story_intact(meta)


def test_ffn_info_line_with_a_bare_status_word(roster: Roster) -> None:
    """FanFiction.net writes a finished story as `… - Published: 3/4/2005 - Complete - id: 123`."""
    text = (
        "Rated: Fiction T - English - Romance - [Buffy S., Spike] - Words: 1,234 - "
        "Published: 3/4/2005 - Complete - id: 123\n\n" + STORY
    )
    meta = parse(text, roster=roster)
    assert meta.status == "complete"
    assert "Complete" not in {c.name for c in meta.characters}


def test_fanficfare_export_with_crlf_and_wrapping() -> None:
    lines = [
        "", "", "", "Fog", "", "by Nightlight", "", "",
        "Category: Buffy: The Vampire Slayer", "Genre: Angst", "Characters: Buffy S., Spike",
        "Relationships: Buffy S./Spike", "Status: In-Progress", "Published: 2010-01-01",
        "Packaged: 2024-02-02 10:00:00", "Story URL: https://example.org/s/1", "",
        "Summary: Buffy waits on the crypt steps for someone who is, as usual, late, and",
        "who will, as usual, have an excuse.", "", "", "",
        "        Chapter 1: Steps", "",
        "Buffy sat on the crypt steps and watched the fog roll in over the headstones",
        "and the long grass.", "", "End file.", "",
    ]  # fmt: skip
    meta = parse_story("\r\n".join(lines).encode("utf-8"), "stories/Fog-ffnet_1.txt")
    assert meta.format == "fanficfare-txt"
    assert (meta.title, meta.author) == ("Fog", "Nightlight")
    assert meta.fandoms == ["Buffy: The Vampire Slayer"]
    assert (meta.status, meta.published) == ("in-progress", "2010-01-01")
    assert meta.summary is not None and meta.summary.endswith("late, and who will, as usual, have an excuse.")
    assert meta.body == (
        "Chapter 1: Steps\n\n"
        "Buffy sat on the crypt steps and watched the fog roll in over the headstones and the long grass."
    )


# --- headerless chapters and names ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "heading", "title", "part"),
    [
        ("stories/Hearts of Winter/part14.txt", "Part XIV", "Hearts of Winter", 14),
        ("stories/hearts_of_winter-03.txt", "Chapter Three", "Hearts of Winter", 3),
        ("stories/001_b38ba3383d769ab1.txt", "Part 2", "Untitled (001_b38ba3383d769ab1)", 2),
        ("stories/seeds/b38ba3383d769ab1.txt", "Part IV: The Crypt", "Untitled (b38ba3383d769ab1)", 4),
    ],
)
def test_headerless_titles_and_parts(name: str, heading: str, title: str, part: int) -> None:
    meta = parse(f"{heading}\n\n{STORY}", name)
    assert (meta.format, meta.title, meta.part) == ("headerless", title, part)
    assert_story_intact(meta)


def test_headerless_first_line_kept_in_body_and_used_as_title_when_name_has_no_words() -> None:
    meta = parse("Sunnydale, 1998\n\n" + STORY, "stories/0042_ab12cd.txt")
    assert meta.title == "Sunnydale, 1998"
    assert meta.body.startswith("Sunnydale, 1998\n\nBuffy sat")


def test_markdown_without_front_matter() -> None:
    meta = parse("# Fog on the Hill\n\n" + STORY, "stories/fog.md")
    assert (meta.format, meta.title) == ("markdown", "Fog on the Hill")
    assert_story_intact(meta)


def test_finalize_without_roster_keeps_names_as_written() -> None:
    from archive.model import RawStory

    raw = RawStory(format="mailing-list", body=STORY, pairings=["Mal/Inara, Zoe & Wash; Kaylee x Simon"])
    meta = finalize(raw, "stories/x.txt", None)
    assert [(r.characters, r.kind) for r in meta.relationships] == [
        (("Inara", "Mal"), "romantic"),
        (("Wash", "Zoe"), "platonic"),
        (("Kaylee", "Simon"), "romantic"),
    ]
    assert meta.title == "X"


def test_tags_deduplicated_case_insensitively_keeping_first_spelling() -> None:
    meta = parse("Title: Fog\nRating: PG-13, Angst, fluff\nGenre: angst, Fluff, Humour\n\n" + STORY)
    assert meta.tags == ["angst", "Fluff", "Humour"]


# --- encodings and unreadable files -----------------------------------------------------------


def test_cp1252_smart_quotes_and_crlf() -> None:
    data = "Title: Fog\r\nAuthor: Nightlight\r\n\r\n“You’re late,” she said… — again.\r\n".encode("cp1252")
    assert b"\x93" in data and b"\x94" in data
    meta = parse_story(data, "stories/fog.txt")
    assert meta.body == "“You’re late,” she said… — again."
    assert meta.problems == []


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF8 + "Title: Fog\n\nCafé “au lait”.".encode(),
        codecs.BOM_UTF16_LE + "Title: Fog\r\n\r\nCafé “au lait”.".encode("utf-16-le"),
        codecs.BOM_UTF16_BE + "Title: Fog\r\n\r\nCafé “au lait”.".encode("utf-16-be"),
        "Title: Fog\r\rCafé “au lait”.".encode(),
        "Title: Fog\n\nCaf\x00é “au lait”.".encode(),
    ],
)
def test_encodings_boms_line_ends_and_nul(data: bytes) -> None:
    meta = parse_story(data, "stories/fog.txt")
    assert (meta.title, meta.body) == ("Fog", "Café “au lait”.")


def test_html_entities_in_a_text_file_are_decoded() -> None:
    meta = parse("Title: Fog &amp; Mist\n\n&quot;Late,&quot; she said &#8212; again&#8230;")
    assert meta.title == "Fog & Mist"
    assert meta.body == '"Late," she said — again…'


def test_decode_never_raises_and_reports() -> None:
    text, problems = decode(bytes(range(256)) * 4)
    assert isinstance(text, str) and problems


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"", "stories/empty.txt"),
        (b"  \n\n ", "stories/blank.txt"),
        (bytes(range(32)) * 50, "stories/garbage.txt"),
        (b"just some text", "stories/not-a-zip.epub"),
        (_zip({"word/document.xml": b"<w:document/>"}), "stories/letter.epub"),
    ],
)
def test_unreadable_files_are_reported_not_raised(data: bytes, name: str) -> None:
    meta = parse_story(data, name)
    assert is_unreadable(meta)
    assert meta.problems
    assert tuple(meta.to_json()) == JSON_KEYS


# --- ratings, series, dates -------------------------------------------------------------------

RATINGS = {
    "general": ["G", "PG", "K", "K+", "General Audiences", "gen"],
    "teen": ["PG-13", "PG 13", "PG13", "PG-15", "T", "Teen And Up Audiences", "FR13", "FR15", "teen"],
    "mature": ["R", "PG-16", "M", "Mature", "FR18"],
    "explicit": ["NC-17", "NC17", "NC-21", "MA", "E", "Explicit", "FR21", "FRAO", "Adult"],
    "not_rated": ["Not Rated"],
}


@pytest.mark.parametrize(("label", "level"), [(lb, lv) for lv, labels in RATINGS.items() for lb in labels])
def test_rating_table(label: str, level: str) -> None:
    assert level_of(label) == level
    assert parse_rating(label)[0].level == level
    assert parse_rating(label.lower())[0].level == level


def test_parse_rating_keeps_raw_and_splits_tags() -> None:
    assert parse_rating("PG 13, angst, heartache") == (parse_rating("PG 13")[0], ["angst", "heartache"])
    assert parse_rating("PG 13")[0].raw == "PG 13"
    assert parse_rating("R for language")[0].level == "mature"
    assert parse_rating("PG-13 to R")[0].level == "mature"
    assert parse_rating("Rated: Fiction M")[0].raw == "M"
    for missing in (None, "", "  "):
        rating, tags = parse_rating(missing)
        assert (rating.raw, rating.level, tags) == (None, "not_rated", [])
    assert parse_rating("various")[0].level == "not_rated"
    assert level_of("angst") is None
    assert sorted(RANK, key=RANK.get) == ["general", "teen", "mature", "explicit", "not_rated"]


@pytest.mark.parametrize(
    ("text", "name", "part"),
    [
        ("twelth in Second Best story-line", "Second Best", 12),
        ("twelth in Second Best story-line.", "Second Best", 12),
        ("12th in the Second Best series", "Second Best", 12),
        ("Part 3 of Hearts of Winter", "Hearts of Winter", 3),
        ("Part III of 'Night Shift'", "Night Shift", 3),
        ("Book two of the Slayer Chronicles series", "Slayer Chronicles", 2),
        ("The twenty-first story in the Sunnydale Nights arc", "Sunnydale Nights", 21),
        ("Hearts of Winter, part 4", "Hearts of Winter", 4),
        ('Sequel to "Come Crashing Down"', "Come Crashing Down", None),
        ("Second Best", "Second Best", None),
    ],
)
def test_series_phrases(text: str, name: str, part: int | None) -> None:
    series = parse_series(text)
    assert (series.name, series.part) == (name, part)


def test_roman_numerals_and_headings() -> None:
    assert [roman_to_int(r) for r in ("XIV", "iv", "MMXXIV", "IIII", "", "abc")] == [
        14,
        4,
        2024,
        None,
        None,
        None,
    ]
    cases = {
        "Part XIV": 14, "Chapter Three": 3, "Chapter 7": 7, "Part 2: Title": 2, "~ Part 5 ~": 5,
        "Chapter Twenty-One": 21, "Chapter 1 of 5": 1, "## Part Two - The Crypt": 2,
        "Part of me wanted to stay.": None, "Chapter and verse, he said.": None, "": None,
    }  # fmt: skip
    assert {line: part_from_heading(line) for line in cases} == cases


def test_status_and_dates() -> None:
    assert [
        normalise_status(s) for s in ("Complete", "Completed", "In-Progress", "WIP", "Ongoing", None)
    ] == [
        "complete",
        "complete",
        "in-progress",
        "in-progress",
        "in-progress",
        None,
    ]
    assert normalise_date("3/4/2005") == "2005-03-04"
    assert normalise_date("25/12/2004") == "2004-12-25"
    assert normalise_date("March 4th, 2005") == "2005-03-04"
    assert normalise_date("2010-01-01 12:00") == "2010-01-01"
    assert normalise_date("sometime in 2003") is None


# --- the bundled samples say what they were written to say ------------------------------------


def _sample(relative: str, roster: Roster) -> StoryMeta:
    path = SAMPLES_DIR / relative
    meta = parse_story(path.read_bytes(), f"stories/{relative}", roster)
    assert meta.problems == [], meta.problems
    return meta


def test_sample_mailing_list(roster: Roster) -> None:
    meta = _sample("mailing-list/the-quiet-part.txt", roster)
    assert (meta.format, meta.title, meta.author, meta.rating.level) == (
        "mailing-list",
        "The Quiet Part",
        "Moth Lantern",
        "general",
    )
    assert [r.characters for r in meta.relationships] == [("Tara Maclay", "Willow Rosenberg")]
    assert meta.spoilers == 'Up to "Hush" (season 4)'
    assert meta.summary is not None and meta.summary.endswith("Gentlemen came to town.")
    assert meta.body.startswith("Willow had practised the sentence eleven times")


def test_sample_cp1252(roster: Roster) -> None:
    raw_bytes = (SAMPLES_DIR / "mailing-list/rain-check-cp1252.txt").read_bytes()
    assert b"\x93" in raw_bytes and b"\r\n" in raw_bytes
    meta = _sample("mailing-list/rain-check-cp1252.txt", roster)
    assert (meta.title, meta.rating.level) == ("Rain Check", "teen")
    assert [r.characters for r in meta.relationships] == [("Anya Jenkins", "Xander Harris")]
    assert meta.body.startswith("“This is a terrible umbrella,” Anya said.")
    assert "\r" not in meta.body and "…" in meta.body


def test_sample_ffnet(roster: Roster) -> None:
    meta = _sample("ffnet/coffee-at-the-espresso-pump.txt", roster)
    assert (meta.format, meta.title, meta.author, meta.rating.raw) == (
        "ffnet",
        "Coffee at the Espresso Pump",
        "Quillfeather",
        "T",
    )
    assert [r.characters for r in meta.relationships] == [("Buffy Summers", "Spike")]
    assert "Dawn Summers" in {c.name for c in meta.characters if c.source == "header"}
    assert (meta.published, meta.status, meta.tags) == ("2006-03-14", "complete", ["Family", "Hurt/Comfort"])
    assert meta.body.startswith("Dawn had decided")


def test_sample_fanficfare(roster: Roster) -> None:
    meta = _sample("fanficfare/The_Second_Set-ll4471.txt", roster)
    assert (meta.format, meta.title, meta.author, meta.status) == (
        "fanficfare-txt",
        "The Second Set",
        "Lowercase Larkspur",
        "complete",
    )
    assert {"Oz", "Xander Harris"} <= {c.name for c in meta.characters if c.source == "header"}
    assert meta.body.startswith("Chapter 1: Fan Belt\n\nThe van had been making the noise for forty miles")
    assert "\nChapter 2: Open Mind\n" in meta.body and "End file." not in meta.body
    assert meta.words == sum(1 for _ in meta.body.split()) - 8  # stated count excludes chapter titles


@pytest.mark.parametrize(("name", "part"), [("part01.txt", 1), ("part02.txt", 2)])
def test_sample_headerless_chapters(roster: Roster, name: str, part: int) -> None:
    meta = _sample(f"The Long Night/{name}", roster)
    assert (meta.format, meta.title, meta.part) == ("headerless", "The Long Night", part)
    assert {"Angel", "Wesley Wyndam-Pryce"} <= {c.name for c in meta.characters if c.source == "text"}
    assert not meta.body.startswith("Part")


def test_text_inference_only_for_the_rosters_fandom(roster: Roster) -> None:
    """A story of another fandom keeps its own names: the Doctor's 'Master' is not the Buffyverse's."""
    prose = "The Master smiled. Adam watched the Master leave, and Adam said nothing.\n\n" * 3
    other = parse(f"Title: Regeneration\nAuthor: Someone\nFandom: Doctor Who\n\n{prose}", roster=roster)
    assert [c.name for c in other.characters if c.source == "text"] == []
    ours = parse(f"Title: Regeneration\nAuthor: Someone\nFandom: BtVS\n\n{prose}", roster=roster)
    assert {"Adam", "The Master"} <= {c.name for c in ours.characters if c.source == "text"}


def test_bracketed_notes_on_character_tags() -> None:
    """AO3 character tags carry notes in brackets: `Sherlock Holmes (again)` beside `Sherlock
    Holmes` is the same person, listed once (it made `Sherlock` ambiguous in searches), and
    `Tenth Doctor (Doctor Who)` in a Doctor Who story is the Tenth Doctor; other brackets stay."""
    text = (
        "Title: Two Doctors\nAuthor: Test Quill\nFandom: Doctor Who\n"
        "Characters: Sherlock Holmes, Tenth Doctor (Doctor Who), Sherlock Holmes (again), Rose Tyler, "
        "Original Character(s), Jack Harkness (again)\nRating: G\n\n~~~\n\n" + STORY
    )
    meta = parse_story(text.encode(), "two.txt")
    assert [c.name for c in meta.characters if c.source == "header"] == [
        "Sherlock Holmes", "Tenth Doctor", "Rose Tyler", "Original Character(s)", "Jack Harkness (again)"
    ]  # fmt: skip


def test_a_status_tag_is_the_status_when_no_header_gives_one() -> None:
    """An author's tag `incomplete` (or `WIP`, `Complete`, `one-shot`) is the story's status when no
    header states one; a tag only starting with such a word, or tags that disagree, say nothing."""
    from archive.parse import status_from_tags

    assert status_from_tags(["genre:crossover", "incomplete", "school"]) == "in-progress"
    assert status_from_tags(["Work-in-Progress"]) == "in-progress"
    assert status_from_tags(["One-Shot", "fluff"]) == "complete"
    assert status_from_tags(["Done Right", "no"]) is None
    assert status_from_tags(["complete", "wip"]) is None
    tagged = "Title: Teatime\nAuthor: Test Quill\nTags: angst, incomplete\n\n~~~\n\n" + STORY
    assert parse_story(tagged.encode(), "teatime.txt").status == "in-progress"
    stated = "Title: Teatime\nAuthor: Test Quill\nStatus: Complete\nTags: incomplete\n\n~~~\n\n" + STORY
    assert parse_story(stated.encode(), "teatime.txt").status == "complete"  # the header wins


def test_a_title_gives_the_series_part_a_header_left_out() -> None:
    """`Owned 4: A Day at the Office` in the series Owned is its part 4, `1. The Idiot` part 1; a year
    or a number that does not follow the series name is no part."""
    from archive.parse import part_in_title

    assert part_in_title("Owned 4: A Day at the Office", "Owned") == 4
    assert part_in_title("owned #10", "Owned") == 10
    assert part_in_title("Reconnection, part 3", "Reconnection") == 3
    assert part_in_title("1. The Idiot", "The Idiot") == 1
    assert part_in_title("Owned 2015", "Owned") is None
    assert part_in_title("1984: A Story", "Dystopias") is None
    assert part_in_title("The 4 Horsemen", "Owned") is None
    text = "Title: Owned 4: A Day at the Office\nAuthor: Test Quill\nSeries: Owned\n\n~~~\n\n" + STORY
    assert parse_story(text.encode(), "owned.txt").series == Series("Owned", 4)


def test_a_warnings_value_of_none_is_no_warning() -> None:
    """`Warnings: none` says there are none: no warning called "none" (a `--tag none` search found
    such stories, and similar gave it weight)."""
    for value in ("none", "None.", "N/A", "no warnings"):
        text = f"Title: Calm\nAuthor: Test Quill\nWarnings: {value}\n\n~~~\n\n" + STORY
        assert parse_story(text.encode(), "calm.txt").warnings == [], value
    text = "Title: Calm\nAuthor: Test Quill\nWarnings: character death, none\n\n~~~\n\n" + STORY
    assert parse_story(text.encode(), "calm.txt").warnings == ["character death"]


def test_tag_slugs_read_as_names_are_written() -> None:
    """Front-matter tag slugs become names as people write them: small words stay small inside a
    name (`f:the-thick-of-it` is The Thick of It, not The Thick Of It) and `Mc` names keep their
    second capital (`c:ace-mcshane` is Ace McShane)."""
    from archive.formats.frontmatter import from_slug

    assert from_slug("the-thick-of-it", acronyms=True) == "The Thick of It"
    assert from_slug("buffy-the-vampire-slayer", acronyms=True) == "Buffy the Vampire Slayer"
    assert from_slug("ace-mcshane") == "Ace McShane"
    assert from_slug("clara-oswald") == "Clara Oswald"
    assert from_slug("btvs", acronyms=True) == "BTVS"
    assert from_slug("of-mice") == "Of Mice"  # the first word is always capitalised
    assert from_slug("Malcolm-Tucker") == "Malcolm Tucker"  # capitals kept as written


def test_a_pairing_of_a_fandom_no_roster_covers_is_capitalised() -> None:
    """`eleven/river` (a front-matter tag slug) in a story of a fandom no roster covers reads
    `Eleven/River`, never lower case on cards and in stats; `OFC` is written out."""
    text = (
        "Title: Solar Flares\nAuthor: Test Quill\nFandom: Doctor Who\nPairing: eleven/river, Rory/OFC\n\n~~~\n\n"
        + STORY
    )
    meta = parse_story(text.encode(), "flares.txt")
    assert [r.characters for r in meta.relationships] == [
        ("Eleven", "River"),
        ("Original Female Character", "Rory"),
    ]
