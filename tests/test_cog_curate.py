"""`/story …` called through the cog's callbacks with spec'd interaction mocks, over a real SQLite
archive: who is a mod, the upload checks before and after the download, preview then Confirm / Cancel,
edit, reset, remove, restore and the paged history."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import MagicMock

import discord
import pytest
from sqlalchemy import func, select

from cogs import attachments
from cogs.curate import Curate, is_mod
from cogs.views import Confirm, Paginator
from db.models import AuditEntry, Story
from service import curate
from service.library import Library
from tests.cdn import serve
from tests.conftest import assert_within_limits, invoke, make_bot, make_interaction, make_settings

STORY = (
    "Title: Rain on the Bronze Roof\nAuthor: Gutter Spout\nRating: PG\nPairing: Xander/Anya\n"
    "Summary: A wet night at the club.\n\n~*~\n\n"
    + "Xander held the umbrella while Anya counted the raindrops out loud. "
    * 30
)
EPHEMERAL_OK = {"defer", "edit", "delete_original"}


@pytest.fixture
def cog(library: Library) -> Curate:
    return Curate(make_bot(library))


def member(*, mod: bool = False, role: str | None = None, client: object = None) -> MagicMock:
    """An interaction from a member with the Manage Server permission (`mod`) and/or a role."""
    interaction = make_interaction(client=client)
    interaction.permissions = discord.Permissions(manage_guild=mod, send_messages=True)
    roles = []
    if role:
        roles.append(MagicMock(spec=discord.Role, id=9001, name=role))
        roles[-1].name = role
    interaction.user.roles = roles
    interaction.user.name = "mia"
    return interaction


def attachment(name: str, data: bytes, size: int | None = None, **how: Any) -> MagicMock:
    """An attachment announced as `size` bytes whose URL serves `data` (`how`: see `tests.cdn.serve`);
    `.served` counts the downloads and bytes sent."""
    file = MagicMock(spec=discord.Attachment)
    file.filename, file.size = name, len(data) if size is None else size
    file.url, file.served = serve(data, name, **how)
    return file


async def stories_count(lib: Library) -> int:
    async with lib.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Story)) or 0)


async def run(command: Any, cog: Curate, interaction: MagicMock, **options: Any) -> None:
    """Run a command as the tree does (checks, then callback; errors to the one error handler)."""
    await invoke(command, cog, interaction, **options)


async def answered(
    command: Any, cog: Curate, interaction: MagicMock, *, press: str | None, **options: Any
) -> None:
    """Run a command; when it asks Confirm / Cancel, press `press` (None: let it time out)."""
    task = asyncio.create_task(run(command, cog, interaction, **options))
    for _ in range(500):
        views = [m["view"] for m in interaction.sent if isinstance(m.get("view"), Confirm)]
        if views or task.done():
            break
        await asyncio.sleep(0.01)
    if views:
        view = views[0]
        if press is None:
            view.stop()
        else:
            await getattr(view, press).callback(make_interaction(user_id=interaction.user.id))
    await asyncio.wait_for(task, 10)


def private(interaction: MagicMock) -> None:
    """Everything sent is ephemeral (a defer counts by its own flag)."""
    for message in interaction.sent:
        if message["via"] not in EPHEMERAL_OK:
            assert message.get("ephemeral") is True, message
        if message["via"] == "defer":
            assert message.get("ephemeral") is True


# ---- who is a mod ---------------------------------------------------------------------------------


def test_mods_are_the_role_or_manage_server() -> None:
    assert is_mod(member(mod=True), None)
    assert is_mod(member(role="Mods"), "mods")
    assert is_mod(member(role="Mods"), "9001")  # the role's id works too
    assert not is_mod(member(role="Readers"), "Mods")
    assert not is_mod(member(), "Mods") and not is_mod(member(role="Mods"), None)


async def test_a_member_is_refused_and_nothing_changes(cog: Curate) -> None:
    lib = cog.lib
    story_id = (
        await curate.commit_add(
            lib, await curate.prepare_add(lib, "r.txt", STORY.encode()), curate.Actor(5, "Mod")
        )
    ).id
    before = await curate.history(lib)
    file = attachment("other.txt", STORY.replace("Bronze", "Tin").encode())
    calls = [
        (cog.add, {"file": file}),
        (cog.edit, {"story": str(story_id), "field": "title", "value": "Hijacked"}),
        (cog.reset, {"story": str(story_id)}),
        (cog.remove, {"story": str(story_id)}),
        (cog.restore, {"story": str(story_id)}),
        (cog.history, {}),
    ]
    for command, kwargs in calls:
        interaction = member(role="Readers")
        await run(command, cog, interaction, **kwargs)
        [reply] = interaction.sent
        assert reply["ephemeral"] is True and "Only moderators" in reply["content"]
    assert file.served.requests == 0  # never downloaded
    assert await curate.history(lib) == before and await stories_count(lib) == 1
    assert lib.titles.title_of(story_id) == "Rain on the Bronze Roof"


# ---- add ------------------------------------------------------------------------------------------


async def test_add_previews_then_confirm_saves_and_shows_the_card(cog: Curate) -> None:
    interaction = member(mod=True)
    file = attachment("../../rain.txt", STORY.encode())
    await answered(cog.add, cog, interaction, file=file, rating="Mature", press="confirm")
    defer, preview, done = interaction.sent
    assert defer["via"] == "defer"
    embed = preview["embed"]
    assert embed.title == "Rain on the Bronze Roof" and "Mature" in embed.fields[0].value
    assert any(f.name == "Opening" and "umbrella" in f.value for f in embed.fields)
    assert "nothing is saved" in embed.footer.text
    assert "Added" in done["content"] and done["embed"].title == "Rain on the Bronze Roof"
    assert {getattr(b, "item", b).label for b in done["view"].children} >= {"Read", "More like this"}
    story_id = int(done["embed"].footer.text.split("#")[1].split()[0])
    assert (cog.lib.settings.uploads_dir / "rain.txt").read_bytes() == STORY.encode()
    assert cog.lib.titles.title_of(story_id) == "Rain on the Bronze Roof"
    [entry] = await curate.history(cog.lib)
    assert (entry.action, entry.actor_id, entry.actor_name) == ("add", 1001, "Reader One")
    assert entry.detail["overrides"] == {"rating": "Mature"}
    private(interaction)
    assert_within_limits(interaction.sent)


async def test_the_preview_tells_the_mod_what_could_not_be_read(cog: Curate) -> None:
    interaction = member(mod=True)
    story = STORY.replace("umbrella", "umbrella “café”").encode()
    broken = story[:300] + b"\xff\xfe" + story[300:]  # two bytes that are not UTF-8
    await answered(cog.add, cog, interaction, file=attachment("broken.txt", broken), press="cancel")
    preview = next(m["embed"] for m in interaction.sent if m.get("embed"))
    [field] = [f for f in preview.fields if f.name == "Problems reading the file"]
    assert "not valid UTF-8 in 2 places" in field.value
    assert any(f.name == "Opening" and "“café”" in f.value for f in preview.fields)  # read as UTF-8
    private(interaction)


@pytest.mark.parametrize("press", ["cancel", None])
async def test_cancel_or_no_answer_adds_nothing(cog: Curate, press: str | None) -> None:
    interaction = member(mod=True)
    file = attachment("rain.txt", STORY.encode())
    await answered(cog.add, cog, interaction, file=file, press=press)
    assert "nothing was added" in interaction.sent[-1]["content"]
    assert await stories_count(cog.lib) == 0 and not (cog.lib.settings.uploads_dir).exists()
    assert await curate.history(cog.lib) == []


async def test_oversized_attachment_is_refused_before_downloading(cog: Curate) -> None:
    interaction = member(mod=True)
    file = attachment("big.txt", STORY.encode(), size=cog.lib.settings.upload_max_bytes + 1)
    await run(cog.add, cog, interaction, file=file)
    [reply] = interaction.sent
    assert "at most" in reply["content"] and reply["ephemeral"] is True
    assert file.served.requests == 0  # never downloaded


async def test_a_download_longer_than_announced_is_refused(cog: Curate) -> None:
    interaction = member(mod=True)
    data = b"x" * (cog.lib.settings.upload_max_bytes + 10)
    await run(cog.add, cog, interaction, file=attachment("liar.txt", data, size=100))
    assert "at most" in interaction.sent[-1]["content"] and interaction.sent[-1]["ephemeral"]
    assert await stories_count(cog.lib) == 0


async def test_a_trickling_download_is_given_up_and_the_mod_is_told_why(
    cog: Curate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attachments, "DOWNLOAD_SECONDS", 1.0)
    interaction = member(mod=True)
    file = attachment("slow.txt", STORY.encode(), trickle=0.1)  # 10 bytes a second: over 3 minutes
    await run(cog.add, cog, interaction, file=file)
    reply = interaction.sent[-1]["content"]
    assert "took longer than 1 seconds" in reply and "nothing was added" in reply
    private(interaction)
    assert file.served.requests == 1 and 0 < file.served.sent < len(STORY)
    assert await stories_count(cog.lib) == 0


async def test_an_endless_download_stops_at_the_size_limit(cog: Curate) -> None:
    interaction = member(mod=True)
    file = attachment("endless.txt", b"word " * 20_000, size=100, endless=True)
    await run(cog.add, cog, interaction, file=file)
    assert (
        "at most" in interaction.sent[-1]["content"]
        and "nothing was added" in interaction.sent[-1]["content"]
    )
    private(interaction)
    assert file.served.sent < 8 * cog.lib.settings.upload_max_bytes  # never read whole (it has no end)
    assert await stories_count(cog.lib) == 0


async def test_a_failed_download_says_so(cog: Curate) -> None:
    interaction = member(mod=True)
    await run(cog.add, cog, interaction, file=attachment("gone.txt", STORY.encode(), status=500))
    assert "could not download gone.txt" in interaction.sent[-1]["content"]
    private(interaction)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [("story.docx", STORY.encode(), "not a story file"), ("book.epub", STORY.encode(), "not an EPUB")],
)
async def test_unreadable_attachment_is_refused_with_the_reason(
    cog: Curate, name: str, data: bytes, reason: str
) -> None:
    interaction = member(mod=True)
    await run(cog.add, cog, interaction, file=attachment(name, data))
    assert reason in interaction.sent[-1]["content"]
    private(interaction)
    assert await stories_count(cog.lib) == 0


async def test_adds_per_day_refusal_says_when(tmp_path: Any) -> None:
    lib = await Library.open(make_settings(tmp_path, adds_per_day=1))
    try:
        cog = Curate(make_bot(lib))
        first = member(mod=True)
        await answered(cog.add, cog, first, file=attachment("a.txt", STORY.encode()), press="confirm")
        second = member(mod=True)
        other = STORY.replace("Bronze", "Copper").encode()
        await run(cog.add, cog, second, file=attachment("b.txt", other))
        [reply] = second.sent
        assert "1 stories in the last 24 hours" in reply["content"] and "<t:" in reply["content"]
        async with lib.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 1
    finally:
        await lib.close()


# ---- edit, reset, remove, restore, history ----------------------------------------------------------


async def test_edit_reset_remove_restore_and_history(cog: Curate) -> None:
    lib = cog.lib
    card = await curate.commit_add(
        lib, await curate.prepare_add(lib, "r.txt", STORY.encode()), curate.Actor(5, "Mod")
    )

    edit = member(mod=True)
    await run(cog.edit, cog, edit, story="bronze roof", field="rating", value="Explicit")
    assert edit.sent[-1]["embed"].fields[0].value.startswith("Explicit")
    private(edit)

    bad = member(mod=True)
    await run(cog.edit, cog, bad, story=str(card.id), field="rating", value="spicy")
    assert "rating" in bad.sent[-1]["content"]

    reset = member(mod=True)
    await run(cog.reset, cog, reset, story=str(card.id))
    assert reset.sent[-1]["embed"].fields[0].value.startswith("General")

    remove = member(mod=True, client=cog.bot)
    await answered(cog.remove, cog, remove, story=str(card.id), press="confirm")
    assert "Removed" in remove.sent[-1]["content"] and card.id not in lib.titles
    choices = await cog.restore._params["story"].autocomplete(remove, "rain")  # type: ignore[misc]
    assert [c.value for c in choices] == [str(card.id)]

    restore = member(mod=True)
    await run(cog.restore, cog, restore, story="Rain on the Bronze")
    assert "Restored" in restore.sent[-1]["content"] and lib.titles.title_of(card.id) == card.title

    history = member(mod=True)
    await run(cog.history, cog, history, story=str(card.id))
    [page] = history.sent
    lines = page["embed"].description.splitlines()
    assert [line.split("**")[2].split()[0] for line in lines] == [
        "restored",
        "removed",
        "reset",
        "edited",
        "added",
    ]
    assert all(line.startswith("<t:") and line.split(":")[2].startswith("R>") for line in lines)
    private(history)


async def test_history_pages_with_the_paginator(cog: Curate) -> None:
    lib = cog.lib
    card = await curate.commit_add(
        lib, await curate.prepare_add(lib, "r.txt", STORY.encode()), curate.Actor(5, "Mod")
    )
    for n in range(12):
        await curate.edit_story(lib, card.id, "tags", f"rain, night {n}", curate.Actor(5, "Mod"))
    interaction = member(mod=True)
    await cog.history.callback(cog, interaction)
    [page] = interaction.sent
    view = page["view"]
    assert isinstance(view, Paginator) and view.pages == 2
    assert len(page["embed"].description.splitlines()) == 10 and "13 entries" in page["embed"].footer.text
    press = make_interaction(user_id=interaction.user.id)
    await view.next.callback(press)
    assert len(press.sent[-1]["embed"].description.splitlines()) == 3
    assert_within_limits(interaction.sent + press.sent)


async def test_role_named_in_settings_is_a_mod(tmp_path: Any) -> None:
    lib = await Library.open(make_settings(tmp_path, mod_role="Librarians"))
    try:
        cog = Curate(make_bot(lib))
        interaction = member(role="librarians")
        await cog.history.callback(cog, interaction)
        assert "Archive history" in interaction.sent[0]["embed"].title
    finally:
        await lib.close()


async def test_mods_are_offered_every_title_whatever_the_channel(cog: Curate) -> None:
    explicit = STORY.replace("Rating: PG", "Rating: NC-17")
    upload = await curate.prepare_add(cog.lib, "x.txt", explicit.encode())
    card = await curate.commit_add(cog.lib, upload, curate.Actor(5, "Mod"))
    interaction = member(mod=True, client=cog.bot)  # a channel that is not age-restricted
    for command in (cog.edit, cog.reset, cog.remove, cog.history):
        choices = await command._params["story"].autocomplete(interaction, "bronze roof")  # type: ignore[misc]
        assert [c.value for c in choices] == [str(card.id)], command.name
