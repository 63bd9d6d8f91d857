"""The one error handler: plain private words for what a member can fix, an apology and a log otherwise."""

from __future__ import annotations

import logging

import pytest
from discord import app_commands

from cogs.errors import APOLOGY, on_tree_error
from service.query import QueryError
from tests.conftest import make_interaction


@app_commands.command(name="search", description="A stand-in command.")
async def _search(interaction: object) -> None:
    """Never run: the errors below are handed to the handler directly."""


def _command() -> app_commands.Command:  # type: ignore[type-arg]
    return _search


async def test_query_error_is_private_with_suggestions() -> None:
    interaction = make_interaction()
    error = QueryError("I don't know a character called 'Bufy'.", ["Buffy Summers", "Buffybot"])
    await on_tree_error(interaction, app_commands.CommandInvokeError(_command(), error))
    [sent] = interaction.sent
    assert sent["ephemeral"] is True
    assert sent["content"].startswith("I don't know a character called 'Bufy'.")
    assert "Did you mean: **Buffy Summers**, **Buffybot**?" in sent["content"]


async def test_a_huge_error_message_still_fits_one_message() -> None:
    interaction = make_interaction()
    await on_tree_error(interaction, app_commands.CommandInvokeError(_command(), QueryError("x" * 9000)))
    assert 0 < len(interaction.sent[0]["content"]) <= 2000


async def test_failed_checks_are_explained_in_plain_words() -> None:
    interaction = make_interaction()
    await on_tree_error(interaction, app_commands.MissingPermissions(["manage_guild"]))
    assert interaction.sent[0]["ephemeral"] is True and "permissions" in interaction.sent[0]["content"]


async def test_a_bug_is_logged_with_its_traceback_and_the_member_gets_an_apology(
    caplog: pytest.LogCaptureFixture,
) -> None:
    interaction = make_interaction()
    interaction.command = _command()
    try:
        raise ZeroDivisionError("boom")
    except ZeroDivisionError as exc:
        error = app_commands.CommandInvokeError(_command(), exc)
    with caplog.at_level(logging.ERROR, logger="cogs.errors"):
        await on_tree_error(interaction, error)
    assert interaction.sent[0] == {"via": "response", "content": APOLOGY, "ephemeral": True}
    assert "boom" not in interaction.sent[0]["content"]
    assert "ZeroDivisionError" in caplog.text and "error in search" in caplog.text


async def test_after_a_reply_was_sent_the_error_is_a_private_followup() -> None:
    interaction = make_interaction()
    await interaction.response.send_message("page one")
    await on_tree_error(interaction, app_commands.CommandInvokeError(_command(), QueryError("gone")))
    assert interaction.sent[-1] == {"via": "followup", "content": "gone", "ephemeral": True}
