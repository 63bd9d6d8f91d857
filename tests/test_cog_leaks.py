"""Issue 12 items 5 and 7, from the member's side: a gated story's title never reaches a channel that
may not show it unless the member typed that title; mods' autocompletes answer mods only; titles are
escaped wherever they go out; hostile lookups (lone surrogates, 10,000-character filters) get a
plain answer."""

from __future__ import annotations

from typing import Any
from unittest.mock import AsyncMock

import discord
import pytest
from discord.utils import escape_markdown

from cogs.buttons import ReadButton, SimilarButton
from cogs.curate import any_title_autocomplete, removed_autocomplete
from cogs.dailyrec import ChannelPublisher
from cogs.reading import ContinueButton
from cogs.stories import Stories
from db.models import Story, StoryText
from service.library import Library
from service.query import QueryError
from service.stories import resolve_story
from tests.conftest import invoke, make_bot, make_interaction

SECRET = "Crimson Ledger of the Night"
MARKED = "**Loud** _Tale_ ||of|| `Ink` ~~Gone~~"


async def add(lib: Library, title: str, level: str) -> int:
    ranks = {"general": 0, "teen": 1, "mature": 2, "explicit": 3, "not_rated": 4}
    async with lib.transaction() as session:
        story = Story(
            path=f"s/{title[:20]}.txt", file_hash="0" * 64, format="text", title=title,
            title_key=title.casefold(), rating_level=level, rating_rank=ranks[level],
        )  # fmt: skip
        story.text = StoryText(title=title, body="It began in the library. " * 200)
        session.add(story)
        await session.flush()
        story_id = story.id
    await lib.refresh()
    return story_id


@pytest.fixture
async def gated(library: Library) -> tuple[Library, int, int]:
    return library, await add(library, SECRET, "explicit"), await add(library, MARKED, "general")


def said(interaction: Any) -> str:
    out = []
    for message in interaction.sent:
        out.append(str(message.get("content") or ""))
        embed = message.get("embed")
        if embed is not None:
            out.append(f"{embed.title} {embed.description}")
    return "\n".join(out)


async def test_an_id_never_names_a_gated_story(gated: tuple[Library, int, int]) -> None:
    lib, secret, _ = gated
    cog = Stories(make_bot(lib))
    for command in (cog.fic, cog.read):
        asked = make_interaction(nsfw=False, client=cog.bot)
        await invoke(command, cog, asked, title=str(secret))
        assert "age-restricted" in said(asked) and SECRET not in said(asked)


async def test_a_fuzzy_guess_never_names_a_gated_story_but_its_typed_title_may(
    gated: tuple[Library, int, int],
) -> None:
    lib, _, _ = gated
    with pytest.raises(QueryError) as guessed:
        await resolve_story(lib, "crimson", allowed_levels=frozenset({"general", "teen"}))
    assert "age-restricted" in str(guessed.value) and "Crimson Ledger" not in str(guessed.value)
    with pytest.raises(QueryError) as typed:
        await resolve_story(lib, "crimson ledger of the night", allowed_levels=frozenset({"general"}))
    assert SECRET in str(typed.value)


@pytest.mark.parametrize("button", [ReadButton, SimilarButton])
async def test_forged_button_ids_never_name_a_gated_story(
    gated: tuple[Library, int, int], button: type
) -> None:
    lib, secret, _ = gated
    press = make_interaction(nsfw=False, client=make_bot(lib))
    await button(secret).callback(press)
    assert "age-restricted" in said(press) and SECRET not in said(press)
    press = make_interaction(nsfw=False, client=make_bot(lib))
    await ContinueButton(secret, 1).callback(press)
    assert "age-restricted" in said(press) and SECRET not in said(press)


async def test_mods_autocompletes_answer_mods_only(gated: tuple[Library, int, int]) -> None:
    lib, secret, _ = gated
    bot = make_bot(lib)
    member = make_interaction(nsfw=False, client=bot)
    assert await any_title_autocomplete(member, "crim") == []
    assert await removed_autocomplete(member, "") == []
    mod = make_interaction(nsfw=False, client=bot)
    mod.permissions = discord.Permissions(manage_guild=True)
    assert [c.value for c in await any_title_autocomplete(mod, "crim")] == [str(secret)]


async def test_titles_are_escaped_in_the_read_header_the_read_button_and_the_daily_post(
    gated: tuple[Library, int, int],
) -> None:
    lib, _, marked = gated
    cog = Stories(make_bot(lib))
    read = make_interaction(nsfw=False, client=cog.bot)
    await invoke(cog.read, cog, read, title=str(marked))
    pressed = make_interaction(nsfw=False, client=cog.bot)
    await ReadButton(marked).callback(pressed)
    channel = AsyncMock(spec=discord.TextChannel)
    bot = make_bot(lib)
    bot.get_channel = lambda _id: channel  # type: ignore[method-assign]
    await ChannelPublisher(bot).publish(
        type("S", (), {"channel_id": 1, "guild_id": 1})(),  # type: ignore[arg-type]
        marked,
    )
    daily = channel.send.await_args.kwargs
    for text in (read.sent[0]["content"], pressed.sent[0]["content"], daily["content"], daily["embed"].title):
        assert MARKED not in text and escape_markdown(MARKED) in text, text


async def test_a_lone_surrogate_in_a_title_lookup_is_a_plain_answer(gated: tuple[Library, int, int]) -> None:
    lib, _, _ = gated
    cog = Stories(make_bot(lib))
    lone = make_interaction(nsfw=True)
    await invoke(cog.fic, cog, lone, title="\ud800")
    assert "No story title matches" in said(lone)
    found = make_interaction(nsfw=True)
    await invoke(cog.fic, cog, found, title="Crimson \ud800Ledger")
    assert found.sent[0]["embed"].title == SECRET
    from service.choices import title_choices
    from service.stories import find_title

    assert isinstance(await find_title(lib, "\ud800"), list)
    assert isinstance(await title_choices(lib, "cri\ud800"), list)


@pytest.mark.parametrize(
    "option", ["authors", "tags", "exclude_tags", "characters", "exclude_characters", "pairings", "fandoms"]
)
async def test_a_ten_thousand_character_filter_is_refused_in_plain_words(
    gated: tuple[Library, int, int], option: str
) -> None:
    from service.recs import rec
    from service.search import MAX_NAME, SearchQuery, search

    lib, _, _ = gated
    huge = SearchQuery(**{option: ["Spike " * 1700]})  # type: ignore[arg-type]
    with pytest.raises(QueryError, match=f"too long .*at most {MAX_NAME}"):
        await search(lib, huge)
    with pytest.raises(QueryError, match="too long"):
        await rec(lib, huge, place="test")
