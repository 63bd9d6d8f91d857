"""`FakeDiscord`: a small Discord for end-to-end tests, served with aiohttp on 127.0.0.1 (REST under
`/api/v10`, the gateway at `/ws`, attachment downloads at `/attachments/...`).

Owns the fake world (one guild, its channels, roles and members, the bot's application), the
record of every request the bot made, the message store, and the async API tests drive it with.
It must not import the bot's code: the bot is a separate process that only sees HTTP and a socket.
"""

# ruff: noqa: ASYNC109  (tests wait with an explicit timeout argument, as the e2e API promises)

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakediscord import gateway, payloads, rest
from tests.fakediscord.driver import Driver
from tests.fakediscord.sent import Sent

log = logging.getLogger(__name__)

UNAUTHENTICATED_ROUTES = {"callback", "webhook_post", "webhook_get", "webhook_patch", "webhook_delete"}


@dataclass
class Recorded:
    """One request the bot made, and what the fake answered."""

    index: int
    method: str
    path: str  # below /api/v10, e.g. /channels/1/messages
    query: dict[str, str]
    json: Any  # the JSON body, or the multipart `payload_json`
    files: list[tuple[str, str, bytes]] = field(default_factory=list)  # (field, filename, bytes)
    route: str = "unknown"
    status: int = 0
    reply: Any = None
    interaction: Sent | None = None
    at: float = 0.0

    def __str__(self) -> str:
        return f"#{self.index} {self.method} {self.path} -> {self.status} {self.route}"


async def _read_body(request: web.Request) -> tuple[Any, list[tuple[str, str, bytes]]]:
    if request.content_type.startswith("multipart/"):
        body: Any = None
        files: list[tuple[str, str, bytes]] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            raw = await part.read()  # type: ignore[union-attr]
            if part.name == "payload_json":  # type: ignore[union-attr]
                body = json.loads(raw)
            else:
                files.append((part.name or "", part.filename or "", bytes(raw)))  # type: ignore[union-attr]
        return body, files
    raw = await request.read()
    return (json.loads(raw) if raw else None), []


def _json(status: int, body: Any) -> web.Response:
    if status == 204 or body is None:
        return web.Response(status=status)
    # discord.py compares the header with "application/json" exactly: no charset suffix.
    return web.Response(
        status=status, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )


class FakeDiscord(Driver):
    """One guild with channels `general`, `recs` (not NSFW) and `after-dark` (NSFW); members `alice`,
    `bob` (plain members) and `mia` (role `Mods`, Manage Server); the bot's user and application.
    With `guilds=N`, N guilds alike (each on its own shard when the bot runs N shards): a shard's
    connection hears of its guilds only, and interactions reach the connection of their guild's shard."""

    def __init__(
        self, *, callback_deadline: float = 3.0, bot_token: str = "fake-bot-token", guilds: int = 1
    ) -> None:
        self.bot_token = bot_token
        self.callback_deadline = callback_deadline
        self.clock: Callable[[], float] = time.monotonic
        self.app_id = payloads.snowflake()
        self.bot_user = payloads.user(self.app_id, "Librarian", bot=True)
        self.owner = payloads.user(payloads.snowflake(), "owner")
        self.guild_id = payloads.snowflake()
        self.roles = {
            "everyone": payloads.role(
                self.guild_id, "@everyone", permissions=payloads.VIEW_AND_SEND, position=0
            ),
            "mods": payloads.role(
                payloads.snowflake(), "Mods", permissions=payloads.MANAGE_GUILD, position=1
            ),
            "bot": payloads.role(
                payloads.snowflake(), "Librarian", permissions=payloads.VIEW_AND_SEND, position=2
            ),
        }
        self.channels = {
            name: payloads.text_channel(payloads.snowflake(), self.guild_id, name, nsfw=nsfw, position=i)
            for i, (name, nsfw) in enumerate([("general", False), ("recs", False), ("after-dark", True)])
        }
        plain, mod = (
            payloads.VIEW_AND_SEND,
            payloads.VIEW_AND_SEND | payloads.MANAGE_GUILD | payloads.MANAGE_MESSAGES,
        )
        self.members: dict[str, dict[str, Any]] = {}
        for name, roles, perms in [("alice", [], plain), ("bob", [], plain), ("mia", ["mods"], mod)]:
            user = payloads.user(payloads.snowflake(), name)
            role_ids = [self.roles[r]["id"] for r in roles]
            self.members[name] = {"member": payloads.member(user, role_ids), "permissions": perms}
        bot_member = payloads.member(self.bot_user, [self.roles["bot"]["id"]])
        self.members["librarian"] = {"member": bot_member, "permissions": plain}
        self.app_permissions = plain
        # More guilds (for sharded bots): the same channel names, roles and members, new ids. Guild n's
        # id is the first's plus n milliseconds, so with `guilds` shards each guild is on its own shard.
        self.other_guilds: dict[str, dict[str, Any]] = {}
        for n in range(1, guilds):
            gid = str(int(self.guild_id) + (n << 22))
            self.other_guilds[gid] = {
                "name": f"Sunnydale Library {n + 1}",
                "roles": {
                    **self.roles,
                    "everyone": payloads.role(
                        gid, "@everyone", permissions=payloads.VIEW_AND_SEND, position=0
                    ),
                },
                "channels": {
                    name: payloads.text_channel(payloads.snowflake(), gid, name, nsfw=c["nsfw"], position=i)
                    for i, (name, c) in enumerate(self.channels.items())
                },
            }
        self.sessions: dict[int, gateway.GatewaySession] = {}  # shard id -> its connection
        self.shard_count = 1
        self.commands: dict[str | None, dict[str, dict[str, Any]]] = {}
        self.requests: list[Recorded] = []
        self.interactions: dict[str, Sent] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.attachments: dict[str, tuple[str, bytes, str | None]] = {}
        self.gateway_connections: list[dict[str, str]] = []
        self.session: gateway.GatewaySession | None = None
        self.ready = asyncio.Event()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/ws", self._gateway)
        app.router.add_get("/attachments/{attachment}/{filename}", self._attachment)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._api)
        app.router.add_route("*", "/{tail:.*}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def close(self) -> None:
        for session in {id(s): s for s in [*self.sessions.values(), self.session] if s is not None}.values():
            await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- HTTP --------------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        tail = "/" + request.match_info.get("tail", "")
        prefixed = request.path.startswith("/api/v10/")
        body, files = await _read_body(request)
        rec = Recorded(
            len(self.requests), request.method, tail, dict(request.query), body, files, at=self.clock()
        )
        self.requests.append(rec)
        found = rest.match(request.method, tail) if prefixed else None
        if found is None:
            status, reply = rest.error(
                404, 0, f"404: Not Found (the fake has no route {request.method} {tail})"
            )
        else:
            rec.route, handler, params = found
            auth = request.headers.get("Authorization")
            if rec.route not in UNAUTHENTICATED_ROUTES and auth != f"Bot {self.bot_token}":
                status, reply = rest.error(401, 0, "401: Unauthorized")
            else:
                try:
                    status, reply = await handler(self, rec, **params)
                except Exception:
                    log.exception("fake discord failed on %s", rec)
                    rec.route = "fake-bug"
                    status, reply = rest.error(400, 0, "fake discord bug: " + traceback.format_exc())
        rec.status, rec.reply = status, reply
        await self._notify()
        return _json(status, reply)

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        return await gateway.handle(self, request)

    async def _attachment(self, request: web.Request) -> web.Response:
        found = self.attachments.get(request.match_info["attachment"])
        rec = Recorded(len(self.requests), "GET", request.path, {}, None, route="attachment", at=self.clock())
        self.requests.append(rec)
        rec.status = 200 if found else 404
        await self._notify()
        if found is None:
            return _json(404, {"message": "404: Not Found", "code": 0})
        return web.Response(body=found[1], content_type=found[2] or "application/octet-stream")

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- the world, as the handlers see it ---------------------------------------------------------

    @property
    def guild_ids(self) -> list[str]:
        """Every guild's id, the first (`guild_id`) first."""
        return [self.guild_id, *self.other_guilds]

    def channels_of(self, guild_id: str | None = None) -> dict[str, dict[str, Any]]:
        """A guild's channels by name (default: the first guild's)."""
        if guild_id is None or guild_id == self.guild_id:
            return self.channels
        return self.other_guilds[guild_id]["channels"]

    def shard_of(self, guild_id: str) -> int:
        """The shard Discord routes `guild_id` to: (guild_id >> 22) % shard_count."""
        return (int(guild_id) >> 22) % max(1, self.shard_count)

    def session_for(self, guild_id: str) -> gateway.GatewaySession | None:
        """The connection of the shard `guild_id` is on (the only one for an unsharded bot)."""
        return self.sessions.get(self.shard_of(guild_id), self.session if not self.sessions else None)

    def guild_payload(self, guild_id: str | None = None) -> dict[str, Any]:
        other = self.other_guilds.get(guild_id or self.guild_id)
        roles = other["roles"] if other else self.roles
        return payloads.guild(
            guild_id or self.guild_id,
            other["name"] if other else "Sunnydale Library",
            owner_id=self.owner["id"],
            roles=list(roles.values()),
            channels=list(self.channels_of(guild_id).values()),
            members=[m["member"] for m in self.members.values()],
        )

    def channel_by_id(self, channel_id: str) -> dict[str, Any] | None:
        return next(
            (c for g in self.guild_ids for c in self.channels_of(g).values() if c["id"] == channel_id), None
        )

    def new_message(
        self,
        channel_id: str,
        body: dict[str, Any],
        *,
        flags: int = 0,
        interaction: Sent | None = None,
        files: list[tuple[str, str, bytes]] | tuple[()] = (),
    ) -> dict[str, Any]:
        msg = payloads.message(
            payloads.snowflake(),
            channel_id,
            self.bot_user,
            body,
            guild_id=(self.channel_by_id(channel_id) or {}).get("guild_id", self.guild_id),
            application_id=self.app_id if interaction else None,
            webhook_id=self.app_id if interaction else None,
            flags=flags,
            message_type=20 if interaction else 0,
        )
        msg["attachments"] = [self._file_payload(f) for f in files]
        self.messages[msg["id"]] = msg
        if interaction is not None:
            interaction.message_ids.append(msg["id"])
        return msg

    def edit_message(
        self,
        message_id: str,
        body: dict[str, Any],
        *,
        files: list[tuple[str, str, bytes]] | tuple[()] = (),
        clear_loading: bool = False,
    ) -> dict[str, Any]:
        msg = self.messages[message_id]
        for key in ("content", "embeds", "components"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        if "flags" in body and body["flags"] is not None:
            msg["flags"] = (msg["flags"] & (payloads.EPHEMERAL | payloads.LOADING)) | int(body["flags"])
        if clear_loading:
            msg["flags"] &= ~payloads.LOADING
        if files:
            msg["attachments"] = [self._file_payload(f) for f in files]
        msg["edited_timestamp"] = payloads.now_iso()
        return msg

    def _file_payload(self, file: tuple[str, str, bytes]) -> dict[str, Any]:
        _, filename, data = file
        attachment_id = payloads.snowflake()
        self.attachments[attachment_id] = (filename, data, None)
        url = f"{self.base_url}/attachments/{attachment_id}/{filename}"
        return payloads.attachment(attachment_id, filename, len(data), url, None)

    # -- the API tests use -------------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Wait until `predicate()` holds (checked after every request); fail after `timeout`."""
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
        except TimeoutError:
            recent = "\n".join(str(r) for r in self.requests[-8:])
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what}; last requests:\n{recent}"
            ) from None

    async def wait_for_request(
        self,
        predicate: Callable[[Recorded], bool],
        timeout: float = 10.0,
        *,
        since: int = 0,
    ) -> Recorded:
        """The first recorded request from index `since` on that satisfies `predicate`."""

        def first() -> Recorded | None:
            return next((r for r in self.requests[since:] if predicate(r)), None)

        await self.wait_for(lambda: first() is not None, timeout, "a matching request")
        found = first()
        assert found is not None
        return found

    async def wait_until_ready(self, timeout: float = 30.0) -> None:
        await asyncio.wait_for(self.ready.wait(), timeout)

    async def wait_for_commands(
        self, names: tuple[str, ...] = (), *, timeout: float = 30.0, guild: str | None = None
    ) -> dict[str, Any]:
        """The commands synced to the guild (default: the first), once it holds at least `names`."""
        guild = guild or self.guild_id
        await self.wait_for(
            lambda: set(names) <= set(self.commands.get(guild, {})) and guild in self.commands,
            timeout,
            f"commands {names} synced to guild {guild}",
        )
        return self.commands[guild]

    def errors(self) -> list[Recorded]:
        """Requests the fake refused (4xx/5xx): each one is something real Discord would refuse too."""
        return [r for r in self.requests if r.status >= 400]

    def posts(self, channel: str, *, guild: str | None = None) -> list[dict[str, Any]]:
        """Bodies the bot posted to `channel` (name in `guild`, default the first, or id) with
        POST /channels/{id}/messages."""
        named = self.channels_of(guild)
        channel_id = named[channel]["id"] if channel in named else channel
        return [
            r.json for r in self.requests if r.route == "channel_post" and r.path.split("/")[2] == channel_id
        ]

    async def wait_for_post(
        self, channel: str, timeout: float = 10.0, *, since: int = 0, guild: str | None = None
    ) -> dict[str, Any]:
        """The body of the next message the bot posts to `channel` (name in `guild`, default the
        first, or id) from request `since` on."""
        named = self.channels_of(guild)
        channel_id = named[channel]["id"] if channel in named else channel
        rec = await self.wait_for_request(
            lambda r: r.route == "channel_post" and r.path.split("/")[2] == channel_id and r.status < 300,
            timeout,
            since=since,
        )
        return rec.json

    def add_attachment(self, filename: str, data: bytes, content_type: str | None = None) -> dict[str, Any]:
        """An uploaded file, served from the fake; pass the dict as an attachment option's value."""
        attachment_id = payloads.snowflake()
        self.attachments[attachment_id] = (filename, data, content_type)
        url = f"{self.base_url}/attachments/{attachment_id}/{filename}"
        return payloads.attachment(attachment_id, filename, len(data), url, content_type)
