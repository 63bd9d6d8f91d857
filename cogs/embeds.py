"""Embeds: the story card, result lists, and the one helper that fits anything into Discord's limits.

Owns how a story looks in Discord (rating colours as AO3 readers expect, field order, escaping) and
the limits (title 256, description 4096, field 256/1024, 25 fields, footer 2048, 6000 in all, message
2000). Everything the cogs send goes through `fit()` / `fit_message()`, so Discord never rejects a
reply for its size. It must not query the archive: it renders plain objects the service returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import discord
from discord.utils import escape_markdown

from archive.ratings import SHORT_NAMES
from service.hits import StoryHit
from service.similar import SimilarHit
from service.stories import StoryCard

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FIELDS_MAX = 25
FOOTER_MAX = 2048
AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
MESSAGE_MAX = 2000
EMPTY = "—"

RATING_NAMES: dict[str, str] = SHORT_NAMES
"""Each level as a card or list shows it (spelt in `archive.ratings`)."""
RATING_COLOURS: dict[str, discord.Colour] = {
    "general": discord.Colour(0x6AA84F),  # green
    "teen": discord.Colour(0xF1C232),  # yellow / amber
    "mature": discord.Colour(0xE69138),  # orange
    "explicit": discord.Colour(0xCC0000),  # red
    "not_rated": discord.Colour(0xB7B7B7),  # grey
}
LIST_COLOUR = discord.Colour(0x5865F2)

_SPACES = re.compile(r"\s+")


def shorten(text: str | None, limit: int, *, placeholder: str = "…") -> str:
    """`text` cut to at most `limit` characters, at a word break when one is near, ending in "…"."""
    text = (text or "").strip()
    if len(text) <= limit:
        return text
    cut = text[: max(limit - len(placeholder), 0)]
    space = cut.rfind(" ")
    if space >= limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + placeholder


def one_line(text: str | None, limit: int = 160) -> str:
    """Whitespace collapsed to single spaces and shortened: a summary that fits one line."""
    return shorten(_SPACES.sub(" ", text or ""), limit)


def fit_message(text: str | None, limit: int = MESSAGE_MAX) -> str:
    """Message content Discord accepts: never empty, never over `limit` characters."""
    return shorten(text, limit) or EMPTY


def fit(embed: discord.Embed) -> discord.Embed:
    """Shorten every part of `embed` to Discord's limits (in place) and return it.

    Fields past the 25th are dropped; when the total is still over 6000 characters the description
    gives way first, then fields from the end.
    """
    if embed.title:
        embed.title = shorten(embed.title, TITLE_MAX)
    if embed.description:
        embed.description = shorten(embed.description, DESCRIPTION_MAX)
    if embed.author and embed.author.name:
        embed.set_author(
            name=shorten(embed.author.name, AUTHOR_MAX), url=embed.author.url, icon_url=embed.author.icon_url
        )
    if embed.footer and embed.footer.text:
        embed.set_footer(text=shorten(embed.footer.text, FOOTER_MAX), icon_url=embed.footer.icon_url)
    fields = embed.fields[:FIELDS_MAX]
    embed.clear_fields()
    for field in fields:
        embed.add_field(
            name=shorten(field.name, FIELD_NAME_MAX) or EMPTY,
            value=shorten(field.value, FIELD_VALUE_MAX) or EMPTY,
            inline=bool(field.inline),
        )
    while len(embed) > EMBED_TOTAL_MAX:
        excess = len(embed) - EMBED_TOTAL_MAX
        description = embed.description or ""
        if len(description) - excess >= 200:
            embed.description = shorten(description, len(description) - excess)
        elif embed.fields:
            embed.remove_field(len(embed.fields) - 1)
        else:
            embed.description = shorten(description, max(len(description) - excess, 1))
    return embed


def joined(items: Iterable[str], limit: int = FIELD_VALUE_MAX, sep: str = ", ") -> str:
    """Names joined for one field, stopping (with "and N more") before `limit` characters."""
    texts = [escape_markdown(item) for item in items if item]
    out: list[str] = []
    size = 0
    for n, text in enumerate(texts):
        more = f"{sep}and {len(texts) - n} more"
        if size + len(sep) + len(text) + len(more) > limit:
            return sep.join(out) + (more if out else shorten(text, limit))
        out.append(text)
        size += len(text) + len(sep)
    return sep.join(out)


def rating_label(level: str | None, raw: str | None = None) -> str:
    """`Teen And Up (PG-13)`: the level's name, with the rating as written when it differs."""
    name = RATING_NAMES.get(level or "not_rated", RATING_NAMES["not_rated"])
    if raw and raw.strip().casefold() not in {name.casefold(), (level or "").casefold()}:
        return f"{name} ({shorten(raw, 40)})"
    return name


def rating_colour(level: str | None) -> discord.Colour:
    return RATING_COLOURS.get(level or "not_rated", RATING_COLOURS["not_rated"])


def words_label(words: int | None) -> str:
    return f"{words or 0:,} words"


def hit_field(number: int, hit: StoryHit) -> tuple[str, str]:
    """(name, value) of one search result: title; author, rating, words; relationships; summary."""
    name = f"{number}. {hit.title}"
    rating = rating_label(hit.rating.level, hit.rating.raw)
    facts = " · ".join([f"by {escape_markdown(hit.author or 'anonymous')}", rating, words_label(hit.words)])
    lines = [facts]
    relationships = joined(hit.relationships, 300)
    if relationships:
        lines.append(relationships)
    summary = one_line(hit.summary)
    if summary:
        lines.append(f"*{escape_markdown(summary)}*")
    return shorten(name, FIELD_NAME_MAX), shorten("\n".join(lines), FIELD_VALUE_MAX)


def results_embed(
    hits: Sequence[StoryHit],
    *,
    heading: str,
    first_number: int = 1,
    footer: str | None = None,
    notes: Sequence[str] = (),
) -> discord.Embed:
    """One page of results, each hit a field; `notes` (resolutions, hidden counts) lead the page."""
    embed = discord.Embed(title=heading, colour=LIST_COLOUR, description="\n".join(notes) or None)
    for n, hit in enumerate(hits, start=first_number):
        name, value = hit_field(n, hit)
        embed.add_field(name=name, value=value, inline=False)
    if footer:
        embed.set_footer(text=footer)
    return fit(embed)


def card_embed(card: StoryCard) -> discord.Embed:
    """The story card: everything known about one story, coloured by its rating."""
    level = card.rating.level
    summary = escape_markdown(card.summary) if card.summary else "*No summary.*"
    title = shorten(escape_markdown(card.title), 256)
    embed = discord.Embed(title=title, description=summary, colour=rating_colour(level))
    embed.set_author(name=f"by {card.author or 'anonymous'}")
    embed.add_field(name="Rating", value=rating_label(level, card.rating.raw), inline=True)
    embed.add_field(name="Length", value=words_label(card.words), inline=True)
    if card.status:
        embed.add_field(name="Status", value=card.status.replace("-", " ").capitalize(), inline=True)
    for name, names in (
        ("Relationships", card.relationships),
        ("Characters", card.characters),
        ("Fandoms", card.fandoms),
        ("Warnings", card.warnings),
        ("Tags", card.tags),
    ):
        value = joined(names)
        if value:
            embed.add_field(name=name, value=value, inline=False)
    if card.series.name:
        part = f", part {card.series.part}" if card.series.part else ""
        embed.add_field(name="Series", value=escape_markdown(card.series.name) + part, inline=True)
    for name, value in (("Published", card.published), ("Season", card.season), ("Spoilers", card.spoilers)):
        if value:
            embed.add_field(name=name, value=escape_markdown(value), inline=True)
    if card.id:  # a preview of an upload has no id yet
        embed.set_footer(text=f"Story #{card.id}")
    return fit(embed)


def notice_embed(text: str, *, title: str | None = None) -> discord.Embed:
    """A plain notice (nothing found, explanations) in the list colour."""
    return fit(discord.Embed(title=title, description=text, colour=LIST_COLOUR))


def similar_embed(source: StoryHit, similar: Sequence[SimilarHit]) -> discord.Embed:
    """Stories like `source`, each with the reason it was picked (why it is "like" this one)."""
    embed = discord.Embed(title=f"More like “{source.title}”", colour=LIST_COLOUR)
    if not similar:
        embed.description = "I found nothing close enough to recommend here."
    for n, item in enumerate(similar, start=1):
        name, value = hit_field(n, item.hit)
        if item.reason:
            value = f"↳ {escape_markdown(one_line(item.reason, 200))}\n{value}"
        embed.add_field(name=name, value=value, inline=False)
    return fit(embed)
