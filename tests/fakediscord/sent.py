"""What a test holds after sending an interaction: `Sent`, with the bot's answers to it, plus small
readers for message bodies (embeds, buttons, text).

Owns the view of one interaction's traffic (its callback, followups, edits of the original). It must
not send anything itself except through the `FakeDiscord` it came from.
"""

# ruff: noqa: ASYNC109  (tests wait with an explicit timeout argument, as the e2e API promises)

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord, Recorded

DEFERRED = (5, 6)
MESSAGE_CALLBACKS = (4, 7)


@dataclass(eq=False)
class Sent:
    """One interaction the fake dispatched, and everything the bot did in answer to it."""

    fake: FakeDiscord
    payload: dict[str, Any]
    dispatched_at: float
    callback: dict[str, Any] | None = None
    original_id: str | None = None
    message_ids: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.payload["id"]

    @property
    def token(self) -> str:
        return self.payload["token"]

    @property
    def type(self) -> int:
        return self.payload["type"]

    def requests(self) -> list[Recorded]:
        """The bot's requests about this interaction (callback, followups, edits), in order."""
        return [r for r in self.fake.requests if r.interaction is self]

    def bodies(self) -> list[dict[str, Any]]:
        """Every message body the bot sent for this interaction: callback data, followups, edits."""
        out = []
        for r in self.requests():
            if r.route == "callback" and r.status < 300 and r.json.get("type") in (4, 7):
                out.append(r.json.get("data") or {})
            elif r.route in ("webhook_post", "webhook_patch") and r.status < 300:
                out.append(r.json or {})
        return out

    async def response(self, timeout: float = 10.0) -> dict[str, Any]:
        """The callback body ({"type": ..., "data": ...}) once the bot has answered."""
        await self.fake.wait_for(
            lambda: self.callback is not None, timeout, f"a callback for {self.describe()}"
        )
        assert self.callback is not None
        return self.callback

    async def reply(self, timeout: float = 15.0) -> dict[str, Any]:
        """The first message the user sees: the callback message, or after a defer the first
        followup or edit of the original."""
        callback = await self.response(timeout)
        if callback.get("type") in MESSAGE_CALLBACKS:
            return callback.get("data") or {}
        if callback.get("type") not in DEFERRED:
            raise AssertionError(f"{self.describe()} got callback type {callback.get('type')}, not a message")
        await self.fake.wait_for(lambda: len(self.bodies()) > 0, timeout, f"a followup for {self.describe()}")
        return self.bodies()[0]

    async def settle(self, quiet: float = 0.4, timeout: float = 15.0) -> list[dict[str, Any]]:
        """Wait until the bot has answered and sent nothing more for `quiet` seconds; the bodies."""
        await self.response(timeout)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = -1
        while loop.time() < deadline:
            count = len(self.requests())
            if count == seen:
                return self.bodies()
            seen = count
            await asyncio.sleep(quiet)
        raise AssertionError(f"{self.describe()} kept sending for {timeout}s")

    def message(self) -> dict[str, Any]:
        """The current state of the interaction's original message (for pressing its buttons)."""
        if self.original_id is None:
            raise AssertionError(f"{self.describe()} has no original message")
        return self.fake.messages[self.original_id]

    def last_message(self) -> dict[str, Any]:
        """The newest message this interaction created (original or followup), as stored now."""
        if not self.message_ids:
            raise AssertionError(f"{self.describe()} created no message")
        return self.fake.messages[self.message_ids[-1]]

    def describe(self) -> str:
        data = self.payload.get("data") or {}
        what = data.get("name") or data.get("custom_id") or "?"
        return f"interaction {self.id} (type {self.type}, {what})"


def embeds(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body.get("embeds") or [])


def buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every interactive component in a message body, rows flattened."""
    found: list[dict[str, Any]] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("components"):
                walk(item["components"])
            elif "accessory" in item:
                walk([item["accessory"]])
            elif item.get("type") in (2, 3, 5, 6, 7, 8):
                found.append(item)

    walk(list(body.get("components") or []))
    return found


def button(body: dict[str, Any], label: str) -> dict[str, Any]:
    """The component labelled `label`, or else the one whose label contains it (case-insensitive):
    "Read" is the Read button even beside "Mark read"."""
    every = buttons(body)
    matches = [b for b in every if label.lower() == str(b.get("label") or "").lower()]
    if not matches:
        matches = [b for b in every if label.lower() in str(b.get("label") or "").lower()]
    if len(matches) != 1:
        labels = [b.get("label") for b in buttons(body)]
        raise AssertionError(f"expected one button labelled like {label!r}, found {labels}")
    return matches[0]


def text(body: dict[str, Any]) -> str:
    """All the words in a message body: content, embed titles, descriptions, fields, footers."""
    parts = [body.get("content") or ""]
    for embed in embeds(body):
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [
            (embed.get("author") or {}).get("name") or "",
            (embed.get("footer") or {}).get("text") or "",
        ]
        for f in embed.get("fields") or []:
            parts += [f.get("name") or "", f.get("value") or ""]
    return "\n".join(p for p in parts if p)
