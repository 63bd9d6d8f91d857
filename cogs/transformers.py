"""The options that are more than text: `Story` (a story option: autocomplete, resolve, age gate, in
one `app_commands.Transformer`), `TimeZone` (an IANA zone, suggested and checked), and autocomplete
for every other name-like option (character, pairing, author).

Owns the shape Discord accepts (at most 25 choices, names and values at most 100 characters) and
age gating of suggested and resolved stories (mature/explicit/unrated stories only in age-restricted
channels, the refusal naming a story only when its title was typed). Autocomplete must stay fast
and never raise: a failure logs and offers no choices. The lookups themselves are the service's
(`service.choices`, `service.stories.resolve_story`, `service.dailytime`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from cogs.embeds import shorten
from cogs.gating import allowed_levels_for
from service import choices, stories
from service.dailytime import parse_timezone, timezone_names
from service.hits import StoryHit

if TYPE_CHECKING:
    from service.library import Library

log = logging.getLogger(__name__)

MAX_CHOICES = 25
CHOICE_MAX = 100

Choices = list[app_commands.Choice[str]]
Fetch = Callable[..., Awaitable[list[tuple[str, str]]]]
Autocomplete = Callable[[discord.Interaction, str], Awaitable[Choices]]


def to_choices(pairs: Iterable[tuple[str, str]]) -> Choices:
    """(name, value) pairs as Discord choices: at most 25, both sides at most 100 characters."""
    out: Choices = []
    seen: set[str] = set()
    for name, value in pairs:
        value = str(value)[:CHOICE_MAX]
        if not name or not value or value in seen:
            continue
        seen.add(value)
        out.append(app_commands.Choice(name=shorten(name, CHOICE_MAX), value=value))
        if len(out) == MAX_CHOICES:
            break
    return out


def _lib(interaction: discord.Interaction) -> Library:
    return interaction.client.lib  # type: ignore[attr-defined]


async def title_autocomplete(interaction: discord.Interaction, current: str) -> Choices:
    """Titles starting with / close to what was typed; the value is the story id."""
    try:
        lib = _lib(interaction)
        allowed = allowed_levels_for(interaction.channel)
        matches = await choices.title_choices(lib, current, limit=MAX_CHOICES, allowed_levels=allowed)
        return to_choices(matches)
    except Exception:
        log.exception("title autocomplete failed for %r", current)
        return []


def service_autocomplete(fetch: Fetch, what: str) -> Autocomplete:
    """An autocomplete callback asking `fetch(lib, typed, limit=25)` for (name, value) pairs."""

    async def autocomplete(interaction: discord.Interaction, current: str) -> Choices:
        try:
            return to_choices(await fetch(_lib(interaction), current, limit=MAX_CHOICES))
        except Exception:
            log.exception("%s autocomplete failed for %r", what, current)
            return []

    autocomplete.__name__ = f"{what}_autocomplete"
    return autocomplete


character_autocomplete = service_autocomplete(choices.character_choices, "character")
pairing_autocomplete = service_autocomplete(choices.pairing_choices, "pairing")
author_autocomplete = service_autocomplete(choices.author_choices, "author")


class StoryTransformer(app_commands.Transformer):
    """A story option: suggests the titles the channel may show (the value sent is the story id) and
    turns what was sent (an id, or a title typed by hand) into the story, refusing one the channel
    may not show (`QueryError`, explained by the one error handler)."""

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction, value: str
    ) -> Choices:
        return await title_autocomplete(interaction, str(value))

    async def transform(self, interaction: discord.Interaction, value: str) -> StoryHit:
        allowed = allowed_levels_for(interaction.channel)
        return await stories.resolve_story(_lib(interaction), value, allowed_levels=allowed)


Story = app_commands.Transform[StoryHit, StoryTransformer]
"""`title: Story` in a command's signature: the callback receives the resolved, age-gated `StoryHit`."""

COMMON_ZONES = ("UTC", "Europe/London", "America/New_York", "America/Los_Angeles", "Australia/Sydney")


async def timezone_autocomplete(interaction: discord.Interaction, current: str) -> Choices:
    """IANA zone names: those starting with what was typed first, then those containing it."""
    typed = current.strip().casefold().replace(" ", "_")
    if not typed:
        return to_choices((z, z) for z in COMMON_ZONES)
    names = timezone_names()
    starts = [z for z in names if z.casefold().startswith(typed)]
    within = [z for z in names if typed in z.casefold() and z not in starts]
    return to_choices((z, z) for z in starts + within)


class TimeZoneTransformer(app_commands.Transformer):
    """A time zone option: suggests IANA zone names and turns what was sent into one (`europe/london`
    -> `Europe/London`), refusing an unknown zone with the closest names."""

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction, value: str
    ) -> Choices:
        return await timezone_autocomplete(interaction, str(value))

    async def transform(self, interaction: discord.Interaction, value: str) -> str:
        return parse_timezone(value)


TimeZone = app_commands.Transform[str, TimeZoneTransformer]
"""`timezone: TimeZone` in a command's signature: the callback receives a valid zone name."""
