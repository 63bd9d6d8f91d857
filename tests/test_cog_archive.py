"""/stats, /characters and /pairings over the bundled test archive: what a member sees, age gated."""

from __future__ import annotations

import re

import discord
import pytest

from cogs.archive import Archive
from cogs.views import Paginator
from service import archive_stats
from tests.conftest import assert_within_limits, make_bot, make_interaction


def _number(text: str, label: str) -> int:
    match = re.search(rf"([\d,]+)\** {label}", text)
    assert match, f"no {label!r} count in {text!r}"
    return int(match.group(1).replace(",", ""))


@pytest.fixture
def cog(archive_library: object) -> Archive:
    return Archive(make_bot(archive_library))


async def test_stats_defers_then_counts_only_safe_stories_outside_nsfw(cog: Archive) -> None:
    sfw, nsfw = make_interaction(nsfw=False), make_interaction(nsfw=True)
    await cog.stats.callback(cog, sfw)
    await cog.stats.callback(cog, nsfw)
    assert [s["via"] for s in sfw.sent] == ["defer", "followup"]
    safe, every = sfw.sent[-1]["embed"], nsfw.sent[-1]["embed"]
    assert_within_limits(sfw.sent + nsfw.sent)

    full = await archive_stats.stats(cog.lib)
    assert _number(every.description, "stories") == full.stories
    hidden = full.stories - _number(safe.description, "stories")
    assert hidden > 0, "the sample archive has mature/explicit stories"
    assert f"{hidden:,} more stories" in safe.footer.text and "age-restricted" in safe.footer.text
    safe_ratings = safe.fields[0].value
    assert "Mature" not in safe_ratings and "Explicit" not in safe_ratings
    assert "Mature" in every.fields[0].value
    assert every.footer.text is None or "hidden" not in every.footer.text


async def test_stats_by_rating_lists_levels_in_strictness_order(cog: Archive) -> None:
    interaction = make_interaction(nsfw=True)
    await cog.stats.callback(cog, interaction)
    lines = interaction.sent[-1]["embed"].fields[0].value.splitlines()
    order = ["General", "Teen", "Mature", "Explicit", "Not Rated"]
    seen = [next(i for i, name in enumerate(order) if line.startswith(name)) for line in lines]
    assert seen == sorted(seen) and len(seen) >= 3


@pytest.mark.parametrize("command", ["pairings", "characters"])
async def test_rankings_page_with_buttons_and_counts(cog: Archive, command: str) -> None:
    interaction = make_interaction(nsfw=True)
    await getattr(cog, command).callback(cog, interaction)
    deferred, sent = interaction.sent  # counting can be slow: the command defers first
    assert deferred["via"] == "defer" and deferred.get("thinking")
    assert sent["via"] == "followup" and not sent.get("ephemeral")
    lines = sent["embed"].description.splitlines()
    assert lines[0].startswith("**1.**") and len(lines) == 15
    counts = [int(re.search(r"— ([\d,]+) stor", line).group(1).replace(",", "")) for line in lines]
    assert counts == sorted(counts, reverse=True) and counts[0] > 1
    view = sent["view"]
    assert isinstance(view, Paginator)
    labels = [c.label for c in view.children if isinstance(c, discord.ui.Button)]
    assert labels[0] == "Previous" and labels[-1] == "Next"
    assert view.previous.disabled and not view.next.disabled
    assert_within_limits(interaction.sent)


async def test_ranking_outside_nsfw_counts_fewer_and_says_so(cog: Archive) -> None:
    sfw, nsfw = make_interaction(nsfw=False), make_interaction(nsfw=True)
    await cog.pairings.callback(cog, sfw)
    await cog.pairings.callback(cog, nsfw)
    safe, every = sfw.sent[-1]["embed"], nsfw.sent[-1]["embed"]
    assert "age-restricted" in safe.footer.text
    assert "age-restricted" not in every.footer.text
    assert safe.description != every.description


def test_the_stats_line_counts_in_words_people_read() -> None:
    """`1 story · 1 author`, never `1 stories · 1 authors`."""
    from cogs.archive import stats_embed
    from service.archive_stats import ArchiveStats

    one = ArchiveStats(1, 1, {"general": 1}, [("Doctor Who", 1)], {"mailing-list": 1}, 1, 0)
    assert stats_embed(one, gated=False).description == "**1** story · **1** word · **1** author"
    many = ArchiveStats(208, 897_426, {"general": 208}, [("Doctor Who", 208)], {"yaml-markdown": 208}, 2, 0)
    assert stats_embed(many, gated=False).description == "**208** stories · **897,426** words · **2** authors"
