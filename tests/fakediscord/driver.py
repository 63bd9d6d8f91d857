"""The half of `FakeDiscord` tests drive the bot with: slash commands, autocomplete, button presses,
modal submissions and raw gateway dispatches, each sent as a full INTERACTION_CREATE.

Owns building interaction payloads for a member in a channel and registering the returned `Sent`.
It must not answer REST calls; it only reads the world `FakeDiscord` holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakediscord import commands, payloads
from tests.fakediscord.sent import Sent, button, buttons

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord


class Driver:
    """Mixed into `FakeDiscord`: the methods a test calls to act as a member of the guild."""

    async def dispatch(
        self: FakeDiscord, event: str, data: dict[str, Any], *, guild: str | None = None
    ) -> int:
        """Send a gateway event to the bot (to the shard `guild` is on); its sequence number."""
        session = self.session_for(guild) if guild else self.session
        if session is None:
            raise AssertionError(f"the bot is not connected to the fake gateway (for guild {guild})")
        return await session.dispatch(event, data)

    async def send_command(
        self: FakeDiscord,
        path: str,
        values: dict[str, Any] | None = None,
        *,
        user: str = "alice",
        channel: str = "general",
        guild: str | None = None,
        **options: Any,
    ) -> Sent:
        """A slash command as `user` types it in `channel`: `send_command("search", character="Willow")`;
        subcommands by path: `send_command("story add", file=fake.add_attachment(...))`. Options named
        like this method's own arguments go in `values`: `send_command("dailyrec set", {"channel": "recs"})`.
        `guild` (an id; default the first guild) picks the server, and so the shard it arrives on.
        """
        self._guild_in_use = guild
        try:
            data = commands.build_data(
                self._visible_commands(guild), path, {**(values or {}), **options}, self._resolve
            )
        finally:
            self._guild_in_use = None
        return await self.send_interaction(2, data, user, channel, guild=guild)

    async def send_autocomplete(
        self: FakeDiscord,
        path: str,
        focused: str,
        values: dict[str, Any] | None = None,
        *,
        user: str = "alice",
        channel: str = "general",
        **options: Any,
    ) -> Sent:
        """An autocomplete request while option `focused` holds the partly typed value."""
        merged = {**(values or {}), **options}
        data = commands.build_data(self._visible_commands(), path, merged, self._resolve, focused=focused)
        return await self.send_interaction(4, data, user, channel)

    async def press(
        self: FakeDiscord,
        message: dict[str, Any],
        *,
        label: str | None = None,
        custom_id: str | None = None,
        values: list[str] | None = None,
        user: str = "alice",
    ) -> Sent:
        """A click on a button (by `label` or `custom_id`) or a choice in a select on `message`, a
        message as the fake stores it (`sent.message()`, `sent.last_message()`, `fake.messages[id]`)."""
        if "id" not in message or "channel_id" not in message:
            raise ValueError("press() needs a stored message (sent.message()), not a request body")
        if custom_id is None:
            if label is None:
                raise ValueError("press() needs a label or a custom_id")
            component = button(message, label)
        else:
            component = next((b for b in buttons(message) if b.get("custom_id") == custom_id), None)
            if component is None:
                raise AssertionError(f"no component {custom_id!r} on message {message.get('id')}")
        if component.get("disabled"):
            raise AssertionError(f"component {component.get('label') or custom_id!r} is disabled")
        data: dict[str, Any] = {"custom_id": component["custom_id"], "component_type": component["type"]}
        if values is not None:
            data["values"] = values
        channel = next(n for n, c in self.channels.items() if c["id"] == message["channel_id"])
        return await self.send_interaction(
            3, data, user, channel, message=self.messages.get(message["id"], message)
        )

    async def submit_modal(
        self: FakeDiscord, opened: Sent, fields: dict[str, str], *, user: str = "alice"
    ) -> Sent:
        """Fill the modal the bot opened in answer to `opened` (text inputs by custom_id) and submit it."""
        modal = (await opened.response()).get("data") or {}
        rows = []
        for row in modal.get("components") or []:
            if row.get("type") == 18:  # a Label wrapping one input
                inner = row["component"]
                rows.append({"type": 18, "component": {**inner, "value": fields.get(inner["custom_id"], "")}})
            else:
                inputs = [{**c, "value": fields.get(c["custom_id"], "")} for c in row.get("components") or []]
                rows.append({"type": 1, "components": inputs})
        channel = next(n for n, c in self.channels.items() if c["id"] == opened.payload["channel_id"])
        return await self.send_interaction(
            5, {"custom_id": modal["custom_id"], "components": rows}, user, channel
        )

    _guild_in_use: str | None = None

    def _visible_commands(self: FakeDiscord, guild: str | None = None) -> dict[str, dict[str, Any]]:
        return {**self.commands.get(None, {}), **self.commands.get(guild or self.guild_id, {})}

    def _resolve(self: FakeDiscord, kind: int, value: Any, resolved: dict[str, dict[str, Any]]) -> str:
        if kind == commands.ATTACHMENT:
            item = value if isinstance(value, dict) else self.add_attachment(str(value), b"")
            resolved.setdefault("attachments", {})[item["id"]] = item
            return item["id"]
        if kind == commands.CHANNEL:
            channel = self.channels_of(self._guild_in_use)[value] if isinstance(value, str) else value
            resolved.setdefault("channels", {})[channel["id"]] = {
                **channel,
                "permissions": str(self.app_permissions),
            }
            return channel["id"]
        if kind == commands.ROLE:
            role = self.roles[value] if isinstance(value, str) else value
            resolved.setdefault("roles", {})[role["id"]] = role
            return role["id"]
        entry = self.members[value]
        member = {k: v for k, v in entry["member"].items() if k != "user"}
        resolved.setdefault("users", {})[entry["member"]["user"]["id"]] = entry["member"]["user"]
        resolved.setdefault("members", {})[entry["member"]["user"]["id"]] = {
            **member,
            "permissions": str(entry["permissions"]),
        }
        return entry["member"]["user"]["id"]

    async def send_interaction(
        self: FakeDiscord,
        kind: int,
        data: dict[str, Any],
        user: str = "alice",
        channel: str = "general",
        *,
        message: dict[str, Any] | None = None,
        guild: str | None = None,
    ) -> Sent:
        """Any INTERACTION_CREATE (type `kind`, raw `data`) from `user` in `channel` of `guild`
        (default: the first guild), over the gateway connection of that guild's shard."""
        entry = self.members[user]
        payload = payloads.interaction(
            interaction_type=kind,
            data=data,
            application_id=self.app_id,
            guild_id=guild or self.guild_id,
            channel=self.channels_of(guild)[channel],
            member_data={**entry["member"], "permissions": str(entry["permissions"])},
            app_permissions=self.app_permissions,
            message_data=message,
        )
        sent = Sent(fake=self, payload=payload, dispatched_at=self.clock())
        self.interactions[sent.token] = sent
        await self.dispatch("INTERACTION_CREATE", payload, guild=guild or self.guild_id)
        return sent
