"""The daily rec end to end: the real bot process posts into the fake Discord's channel at the
simulated time, once a day, age-gated, and `/dailyrec show|now` answer as mods and members see them.

The bot's clock is moved with the test hook `LIBRARIAN_FAKE_NOW_FILE` (a file holding "now") and its
scheduler ticks every second (`DAILYREC_TICK_SECONDS=1`); after each tick the bot writes the "now" it
handled beside that file (`now.ticked`), so "nothing was posted" is checked once a tick at the new
time has finished, not after a fixed sleep. The simulated day is 8 March 2026, when
New York springs forward: a post set for 02:30 (a time that does not exist that night) goes out when
the clocks jump, 03:00 EDT = 07:00 UTC.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.checks import LIVE_PING, NO_PINGS
from tests.e2e.conftest import E2E
from tests.e2e.stories import EXPLICIT_TITLE
from tests.fakediscord import buttons, embeds, text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

EPHEMERAL = 1 << 6
JUMP = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 02:30 New York does not exist: clocks go 02:00 -> 03:00
TICK_TIMEOUT = 20.0  # seconds a tick at a new simulated time may take to happen, on a loaded machine


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clock") / "now"
    path.write_text("2026-03-08T04:00:00+00:00")
    return path


@pytest.fixture(scope="module")
def bot_settings(clock_file: Path) -> dict[str, str]:
    return {"LIBRARIAN_FAKE_NOW_FILE": str(clock_file), "DAILYREC_TICK_SECONDS": "1"}


def set_now(clock_file: Path, at: str) -> None:
    clock_file.write_text(at)


async def ticked(clock_file: Path, at: str) -> None:
    """Wait until the bot's scheduler has finished a whole tick at simulated time `at` or later."""
    mark = clock_file.with_name(clock_file.name + ".ticked")
    target = datetime.fromisoformat(at)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TICK_TIMEOUT
    while loop.time() < deadline:
        try:
            if datetime.fromisoformat(mark.read_text(encoding="utf-8")) >= target:
                return
        except (OSError, ValueError):  # not written yet, or caught mid-write
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"the daily rec scheduler did not tick at {at} within {TICK_TIMEOUT:.0f} s")


def cycle(body: dict) -> tuple[int, int]:
    """(posted, eligible) from `/dailyrec show`'s "N of M posted this cycle"."""
    found = re.search(r"([\d,]+) of ([\d,]+) posted this cycle", text(body))
    assert found, text(body)
    return int(found.group(1).replace(",", "")), int(found.group(2).replace(",", ""))


async def show(e2e: E2E, user: str = "alice") -> dict:
    sent = await e2e.fake.send_command("dailyrec show", user=user, channel="general")
    body = await sent.reply()
    assert sent.message()["flags"] & EPHEMERAL
    return body


async def test_a_member_may_not_set_the_daily_rec(e2e: E2E) -> None:
    sent = await e2e.fake.send_command("dailyrec set", {"channel": "recs", "time": "09:00"}, user="alice")
    body = await sent.reply()
    assert sent.message()["flags"] & EPHEMERAL and "Manage Server" in body["content"]
    assert "no daily rec yet" in text(await show(e2e))


async def test_age_gating_counts_fewer_stories_outside_an_nsfw_channel(e2e: E2E) -> None:
    fake = e2e.fake
    nsfw = await fake.send_command(
        "dailyrec set", {"channel": "after-dark", "time": "02:30"}, user="mia", pairing="Willow/Tara"
    )
    _, in_nsfw = cycle(await nsfw.reply())
    safe = await fake.send_command(
        "dailyrec set", {"channel": "recs", "time": "02:30"}, user="mia", pairing="Willow/Tara"
    )
    _, in_recs = cycle(await safe.reply())
    assert in_nsfw > in_recs >= 1, "the explicit Willow/Tara story is eligible only after dark"


async def test_the_post_arrives_at_the_simulated_time_once(e2e: E2E, clock_file: Path) -> None:
    fake = e2e.fake
    sent = await fake.send_command(
        "dailyrec set",
        {"channel": "recs", "time": "02:30", "timezone": "America/New_York"},
        user="mia",
        pairing="Willow/Tara",
    )
    body = await sent.reply()
    assert sent.message()["flags"] & EPHEMERAL
    assert f"<t:{int(JUMP.timestamp())}:F>" in text(body), "the next post is when the clocks jump"

    set_now(clock_file, "2026-03-08T06:59:55+00:00")
    await ticked(clock_file, "2026-03-08T06:59:55+00:00")
    assert fake.posts("recs") == [], "nothing before the time"

    since = len(fake.requests)
    set_now(clock_file, "2026-03-08T07:00:01+00:00")
    post = await fake.wait_for_post("recs", timeout=10, since=since)
    [card] = embeds(post)
    assert card["title"] != EXPLICIT_TITLE, "never explicit in a channel that is not age-restricted"
    assert "Today's rec" in post["content"] and "part 1 of" in post["content"]
    assert "has not had yet" in post["content"] or "opened it yet" in post["content"]  # why this one
    assert {b["label"] for b in buttons(post)} >= {"Read"}
    assert post["allowed_mentions"] == NO_PINGS and not LIVE_PING.search(post["content"])

    set_now(clock_file, "2026-03-08T09:30:00+00:00")
    await ticked(clock_file, "2026-03-08T09:30:00+00:00")
    assert len(fake.posts("recs")) == 1, "one post a day"

    shown = await show(e2e)
    assert cycle(shown)[0] == 1 and card["title"] in text(shown)

    since = len(fake.requests)
    set_now(clock_file, "2026-03-09T06:30:02+00:00")  # 02:30 EDT the next day
    second = await fake.wait_for_post("recs", timeout=10, since=since)
    posted = {card["title"], embeds(second)[0]["title"]}
    assert EXPLICIT_TITLE not in posted
    if cycle(shown)[1] > 1:
        assert len(posted) == 2, "no repeat before every eligible story was posted"


async def test_now_posts_at_once_for_a_mod(e2e: E2E) -> None:
    fake = e2e.fake
    before = len(fake.posts("recs"))
    since = len(fake.requests)
    sent = await fake.send_command("dailyrec now", user="mia", channel="general")
    post = await fake.wait_for_post("recs", timeout=10, since=since)
    reply = await sent.reply()
    assert reply["content"].startswith("Posted “") and embeds(post)[0]["title"] in reply["content"]
    assert len(fake.posts("recs")) == before + 1


async def test_off_stops_it_and_show_says_so(e2e: E2E, clock_file: Path) -> None:
    fake = e2e.fake
    off = await fake.send_command("dailyrec off", user="mia", channel="general")
    assert (await off.reply())["content"] == "The daily rec is off."
    before = len(fake.posts("recs"))
    set_now(clock_file, "2026-03-10T07:00:00+00:00")
    await ticked(clock_file, "2026-03-10T07:00:00+00:00")
    assert len(fake.posts("recs")) == before
    assert "turned off by" in text(await show(e2e))
