"""The shared views: only the invoking member may press, timeouts disable the buttons, Confirm answers."""

from __future__ import annotations

import asyncio

import discord

from cogs.views import Confirm, Paginator
from tests.conftest import make_interaction


async def _pages(page: int) -> discord.Embed:
    return discord.Embed(title=f"page {page}")


async def test_someone_else_pressing_gets_a_polite_private_refusal() -> None:
    owner = make_interaction(user_id=1)
    view = Paginator(owner.user.id, 3, _pages)
    await view.start(owner)
    stranger = make_interaction(user_id=2)
    assert await view.interaction_check(stranger) is False
    [refusal] = stranger.sent
    assert refusal["ephemeral"] is True and "run it yourself" in refusal["content"]
    assert await view.interaction_check(make_interaction(user_id=1)) is True


async def test_paginator_moves_and_stops_at_both_ends() -> None:
    owner = make_interaction(user_id=1)
    view = Paginator(1, 2, _pages)
    await view.start(owner)
    assert owner.sent[0]["embed"].title == "page 1" and view.position.label == "1 / 2"
    press = make_interaction(user_id=1)
    await view.next.callback(press)
    assert press.sent[0]["embed"].title == "page 2" and view.next.disabled and not view.previous.disabled
    assert view.position.label == "2 / 2" and view.position.disabled


async def test_a_single_page_is_sent_without_buttons() -> None:
    owner = make_interaction(user_id=1)
    await Paginator(1, 1, _pages).start(owner)
    [sent] = owner.sent
    assert "view" not in sent and sent["embed"].title == "page 1"


async def test_after_a_defer_the_first_page_is_a_followup() -> None:
    owner = make_interaction(user_id=1)
    await owner.response.defer(thinking=True)
    await Paginator(1, 4, _pages).start(owner)
    assert [s["via"] for s in owner.sent] == ["defer", "followup"]


async def test_on_timeout_every_button_is_disabled_on_the_message() -> None:
    owner = make_interaction(user_id=1)
    view = Paginator(1, 3, _pages)
    await view.start(owner)
    await view.on_timeout()
    edit = owner.sent[-1]
    assert edit["via"] == "edit_original" and edit["view"] is view
    assert all(item.disabled for item in view.children if isinstance(item, discord.ui.Button))


async def test_confirm_records_the_answer_and_disables_itself() -> None:
    for button, expected in (("confirm", True), ("cancel", False)):
        view = Confirm(7, confirm_label="Remove")
        assert view.confirm.label == "Remove"
        press = make_interaction(user_id=7)
        await getattr(view, button).callback(press)
        assert view.value is expected and view.is_finished()
        assert press.sent[0]["via"] == "edit"
        assert all(item.disabled for item in view.children if isinstance(item, discord.ui.Button))


async def test_confirm_ask_waits_for_the_answer() -> None:
    owner = make_interaction(user_id=7)
    view = Confirm(7)
    asking = asyncio.create_task(view.ask(owner, "Remove it?"))
    await asyncio.sleep(0)
    assert owner.sent[0]["ephemeral"] is True and owner.sent[0]["view"] is view
    await view.cancel.callback(make_interaction(user_id=7))
    assert await asyncio.wait_for(asking, 5) is False


async def test_confirm_unanswered_is_none_and_disabled() -> None:
    owner = make_interaction(user_id=7)
    view = Confirm(7)
    await owner.response.send_message("Remove it?", view=view)
    view.interaction = owner
    await view.on_timeout()
    assert view.value is None
    assert all(item.disabled for item in view.children if isinstance(item, discord.ui.Button))
