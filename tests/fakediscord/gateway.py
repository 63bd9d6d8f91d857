"""The fake's gateway: one websocket per bot connection speaking Discord's gateway protocol (JSON,
uncompressed text frames).

Owns the handshake (HELLO -> IDENTIFY -> READY + GUILD_CREATE for the guilds on the identified shard,
`(guild_id >> 22) % shard_count`), heartbeats, RESUME, member chunk
requests and numbered dispatches. It must not answer REST calls or know about interactions beyond
sending the payload it is handed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tests.fakediscord import payloads

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_MS = 41_250


class GatewaySession:
    """One connected client: its socket, its sequence number and what it identified with."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.seq = 0
        self.session_id = payloads.token()[-32:]
        self.identify: dict[str, Any] | None = None
        self.shard: list[int] = [0, 1]
        self.received: list[dict[str, Any]] = []
        self._lock = asyncio.Lock()

    async def send(self, op: int, data: Any, event: str | None = None) -> int | None:
        async with self._lock:
            seq = None
            if op == 0:
                self.seq += 1
                seq = self.seq
            await self.ws.send_str(json.dumps({"op": op, "d": data, "s": seq, "t": event}))
            return seq

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        seq = await self.send(0, data, event)
        assert seq is not None
        return seq


async def handle(fake: FakeDiscord, request: web.Request) -> web.WebSocketResponse:
    """Serve one gateway connection until the client closes it."""
    ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
    await ws.prepare(request)
    session = GatewaySession(ws)
    fake.gateway_connections.append(dict(request.query))
    await session.send(10, {"heartbeat_interval": HEARTBEAT_INTERVAL_MS})
    try:
        async for msg in ws:
            if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                break
            frame = json.loads(msg.data)
            session.received.append(frame)
            await _on_frame(fake, session, frame)
    finally:
        if fake.session is session:
            fake.session = None
        if fake.sessions.get(session.shard[0]) is session:
            del fake.sessions[session.shard[0]]
    return ws


async def _on_frame(fake: FakeDiscord, session: GatewaySession, frame: dict[str, Any]) -> None:
    op, data = frame.get("op"), frame.get("d")
    if op == 1:  # HEARTBEAT
        await session.send(11, None)
    elif op == 2:  # IDENTIFY
        session.identify = data
        session.shard = list(data.get("shard") or [0, 1])
        fake.shard_count = session.shard[1]
        fake.sessions[session.shard[0]] = session
        mine = [g for g in fake.guild_ids if fake.shard_of(g) == session.shard[0]]
        if fake.session is None or fake.guild_id in mine:
            fake.session = session
        await session.dispatch("READY", _ready(fake, session, mine))
        for guild_id in mine:  # a shard hears only of its own guilds
            await session.dispatch("GUILD_CREATE", fake.guild_payload(guild_id))
        fake.ready.set()
    elif op == 6:  # RESUME
        session.session_id = data.get("session_id") or session.session_id
        session.seq = int(data.get("seq") or 0)
        fake.session = session
        await session.dispatch("RESUMED", {})
        fake.ready.set()
    elif op == 8:  # REQUEST_GUILD_MEMBERS
        members = [m["member"] for m in fake.members.values()]
        chunk: dict[str, Any] = {
            "guild_id": data.get("guild_id") or fake.guild_id,
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await session.dispatch("GUILD_MEMBERS_CHUNK", chunk)
    # op 3 (presence) and op 4 (voice) need no answer.


def _ready(fake: FakeDiscord, session: GatewaySession, guilds: list[str]) -> dict[str, Any]:
    return {
        "v": 10,
        "user": fake.bot_user,
        "guilds": [{"id": guild_id, "unavailable": True} for guild_id in guilds],
        "session_id": session.session_id,
        "resume_gateway_url": fake.gateway_url,
        "shard": session.shard,
        "application": {"id": fake.app_id, "flags": 0},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": [],
        "user_settings": {},
        "_trace": ["fakediscord"],
    }
