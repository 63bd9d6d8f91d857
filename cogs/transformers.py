"""Autocomplete for every name-like option: title, like, character, pairing, author.

Owns the shape Discord accepts (at most 25 choices, names and values at most 100 characters) and
age gating of suggested titles (mature/explicit/unrated titles are suggested only in age-restricted
channels). It must stay fast and must never raise: a failure logs and offers no choices. The
lookups themselves are the service's (`lib.titles`, `service.stories.*_choices`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from cogs.embeds import shorten
from cogs.gating import allowed_levels_for
from service import choices

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
