"""Embeds and age gating helpers: anything, however long, fits Discord's limits; colours by rating."""

from __future__ import annotations

from types import SimpleNamespace
from unittest.mock import MagicMock

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.model import Rating, Series
from archive.ratings import parse_rating
from cogs.embeds import card_embed, fit, fit_message, results_embed, shorten
from cogs.gating import SAFE_LEVELS, allowed_levels_for, hidden_note
from service.hits import StoryHit
from service.stories import StoryCard
from tests.conftest import assert_within_limits

text = st.text(min_size=0, max_size=9000)


@settings(max_examples=60, deadline=None)
@given(
    title=text,
    description=text,
    footer=text,
    author=text,
    fields=st.lists(st.tuples(text, text), max_size=40),
)
def test_fit_makes_any_embed_acceptable(
    title: str, description: str, footer: str, author: str, fields: list[tuple[str, str]]
) -> None:
    embed = discord.Embed(title=title, description=description)
    embed.set_footer(text=footer)
    embed.set_author(name=author)
    for name, value in fields:
        embed.add_field(name=name, value=value)
    assert_within_limits([{"via": "response", "embed": fit(embed)}])


@given(st.text(max_size=5000), st.integers(min_value=1, max_value=3000))
def test_shorten_never_exceeds_and_marks_the_cut(value: str, limit: int) -> None:
    out = shorten(value, limit)
    assert len(out) <= limit
    if len(value.strip()) > limit:
        assert out.endswith("…")
    else:
        assert out == value.strip()


@given(st.text(max_size=5000))
def test_fit_message_is_never_empty_nor_over_2000(value: str) -> None:
    out = fit_message(value)
    assert 0 < len(out) <= 2000


def _card(level: str, **changes: object) -> StoryCard:
    base: dict[str, object] = {
        "id": 7,
        "title": "Once More, *With* Feeling",
        "author": "someone_",
        "rating": Rating("PG-13", level),  # type: ignore[arg-type]
        "relationships": ["Spike/Willow Rosenberg", "past Angel/Buffy Summers"],
        "characters": ["Spike", "Willow Rosenberg"],
        "tags": ["angst"] * 400,
        "words": 12345,
        "series": Series("Second Best", 12),
        "summary": "s" * 9000,
        "warnings": [],
        "fandoms": ["Buffy the Vampire Slayer"],
        "status": "in-progress",
        "published": "2003-01-02",
        "season": None,
        "spoilers": None,
        "notes": [],
    }
    base.update(changes)
    return StoryCard(**base)  # type: ignore[arg-type]


def test_card_colours_follow_ao3_and_everything_fits() -> None:
    """A card's colour follows the rating as written in the story, in AO3's colours."""
    written = {"general": "PG", "teen": "Teen And Up Audiences", "mature": "R", "explicit": "NC-17", "": None}
    colours = {}
    for want, raw in written.items():
        level = parse_rating(raw)[0].level
        assert level == (want or "not_rated")
        colours[level] = card_embed(_card(level)).colour
    assert len(set(colours.values())) == 5
    green, amber, orange, red = (colours[k].to_rgb() for k in ("general", "teen", "mature", "explicit"))
    grey = colours["not_rated"].to_rgb()
    assert green[1] > green[0] and green[1] > green[2] and red[0] > 150 > red[1]  # green is green, red red
    assert amber[0] > 200 and amber[1] > 150 and orange[0] > 200 and orange[1] < amber[1]
    assert max(grey) - min(grey) < 30  # not rated: no hue
    embed = card_embed(_card("teen"))
    assert_within_limits([{"via": "response", "embed": embed}])
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Rating"] == "Teen And Up (PG-13)"
    assert fields["Series"] == "Second Best, part 12" and fields["Status"] == "In progress"
    assert "Spike/Willow Rosenberg" in fields["Relationships"]
    assert fields["Tags"].endswith("more")
    assert embed.title == "Once More, *With* Feeling" and "someone" in embed.author.name


def test_results_list_one_field_per_story_with_one_line_summary() -> None:
    hits = [
        StoryHit(
            i,
            f"Title {i}",
            None,
            Rating(None, "general"),
            ["Buffy Summers/Faith Lehane"],
            [],
            900,
            summary="a\n\nb " * 400,
        )
        for i in range(1, 6)
    ]
    embed = results_embed(hits, heading="Search", footer="Page 1/1")
    assert [f.name for f in embed.fields] == [f"{i}. Title {i}" for i in range(1, 6)]
    value = embed.fields[0].value
    assert value.startswith("by anonymous · General Audiences · 900 words")
    assert value.splitlines()[-1].startswith("*a b a b") and len(value.splitlines()) == 3


def test_gating_nsfw_channels_threads_dms() -> None:
    def channel(nsfw: bool) -> MagicMock:
        ch = MagicMock(spec=discord.TextChannel)
        ch.is_nsfw.return_value = nsfw
        return ch

    assert allowed_levels_for(channel(True)) is None
    assert allowed_levels_for(channel(False)) == SAFE_LEVELS == frozenset({"general", "teen"})
    for parent, expected in ((channel(True), None), (channel(False), SAFE_LEVELS), (None, SAFE_LEVELS)):
        thread = MagicMock(spec=discord.Thread)  # discord.py's own rule, over a parent or none
        thread.is_nsfw.side_effect = lambda p=parent: discord.Thread.is_nsfw(SimpleNamespace(parent=p))
        assert allowed_levels_for(thread) == expected
    assert allowed_levels_for(MagicMock(spec=discord.DMChannel)) == SAFE_LEVELS
    assert allowed_levels_for(MagicMock(spec=discord.PartialMessageable)) == SAFE_LEVELS
    assert allowed_levels_for(None) == SAFE_LEVELS


def test_hidden_note_counts_and_says_why() -> None:
    assert hidden_note(0) is None
    assert hidden_note(1).startswith("1 more story") and "age-restricted" in hidden_note(1)
    assert hidden_note(1234).startswith("1,234 more stories")
