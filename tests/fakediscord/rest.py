"""The fake's REST API (`/api/v10/...`): the routes discord.py 2.7 calls for a slash-command bot.

Owns one handler per route, each answering `(status, json)` the way Discord does, including the
errors a real bot meets (unknown interaction after 3 s, already acknowledged, invalid form body).
It must not record requests or dispatch gateway events; `server.py` does both.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tests.fakediscord import payloads, validate

if TYPE_CHECKING:
    from tests.fakediscord.sent import Sent
    from tests.fakediscord.server import FakeDiscord, Recorded

Reply = tuple[int, Any]
Handler = Callable[..., Awaitable[Reply]]

CALLBACKS_BY_INTERACTION = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}


def error(status: int, code: int, message: str, problems: list[str] | None = None) -> Reply:
    body: dict[str, Any] = {"message": message, "code": code}
    if problems:
        body["errors"] = {"_errors": [{"code": "BASE_TYPE_INVALID", "message": p} for p in problems]}
    return status, body


def invalid(problems: list[str]) -> Reply:
    return error(400, 50035, "Invalid Form Body: " + "; ".join(problems), problems)


# -- login -----------------------------------------------------------------------------------------


async def gateway_bot(fake: FakeDiscord, rec: Recorded) -> Reply:
    limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
    return 200, {"url": fake.gateway_url, "shards": 1, "session_start_limit": limit}


async def gateway(fake: FakeDiscord, rec: Recorded) -> Reply:
    return 200, {"url": fake.gateway_url}


async def users_me(fake: FakeDiscord, rec: Recorded) -> Reply:
    return 200, fake.bot_user


async def application_me(fake: FakeDiscord, rec: Recorded) -> Reply:
    return 200, payloads.application(fake.app_id, fake.owner, fake.bot_user)


# -- application commands --------------------------------------------------------------------------


def _stored_command(fake: FakeDiscord, command: dict[str, Any], guild_id: str | None) -> dict[str, Any]:
    scope = fake.commands.setdefault(guild_id, {})
    old = scope.get(command["name"])
    stored = {
        "type": 1,
        "options": [],
        "default_member_permissions": None,
        "nsfw": False,
        **command,
        "id": old["id"] if old else payloads.snowflake(),
        "application_id": fake.app_id,
        "version": payloads.snowflake(),
    }
    if guild_id is not None:
        stored["guild_id"] = guild_id
    return stored


def _check_app(fake: FakeDiscord, app_id: str) -> Reply | None:
    return None if app_id == fake.app_id else error(404, 10002, "Unknown Application")


async def commands_put(fake: FakeDiscord, rec: Recorded, app: str, guild: str | None = None) -> Reply:
    if bad := _check_app(fake, app):
        return bad
    if guild is not None and guild not in fake.guild_ids:
        return error(403, 50001, "Missing Access")
    body = rec.json if isinstance(rec.json, list) else []
    problems = [
        f"command {c.get('name')!r} has a bad name or description" for c in body if not _command_ok(c)
    ]
    if len(body) > 100:
        problems.append(f"{len(body)} commands (limit 100)")
    if problems:
        return invalid(problems)
    stored = [_stored_command(fake, c, guild) for c in body]
    fake.commands[guild] = {c["name"]: c for c in stored}
    return 200, stored


def _command_ok(command: dict[str, Any]) -> bool:
    name, description = command.get("name") or "", command.get("description") or ""
    if not re.fullmatch(r"[-_\w]{1,32}", name) or name != name.lower():
        return False
    if command.get("type", 1) == 1 and not 1 <= len(description) <= 100:
        return False
    options = command.get("options") or []
    return len(options) <= 25 and all(_command_ok({"type": 1, **o}) for o in options)


async def commands_get(fake: FakeDiscord, rec: Recorded, app: str, guild: str | None = None) -> Reply:
    if bad := _check_app(fake, app):
        return bad
    return 200, list(fake.commands.get(guild, {}).values())


async def command_post(fake: FakeDiscord, rec: Recorded, app: str, guild: str | None = None) -> Reply:
    if bad := _check_app(fake, app):
        return bad
    if not _command_ok(rec.json or {}):
        return invalid(["bad command name or description"])
    stored = _stored_command(fake, rec.json, guild)
    fake.commands.setdefault(guild, {})[stored["name"]] = stored
    return 201, stored


# -- interactions ----------------------------------------------------------------------------------


async def callback(fake: FakeDiscord, rec: Recorded, interaction_id: str, token: str) -> Reply:
    sent = fake.interactions.get(token)
    if sent is None or sent.id != interaction_id:
        return error(404, 10062, "Unknown interaction")
    rec.interaction = sent
    if sent.callback is not None:
        return error(400, 40060, "Interaction has already been acknowledged.")
    if fake.clock() - sent.dispatched_at > fake.callback_deadline:
        return error(404, 10062, "Unknown interaction (answered after the 3 second deadline)")
    body = rec.json or {}
    kind = body.get("type")
    if kind not in CALLBACKS_BY_INTERACTION.get(sent.type, set()):
        return invalid([f"callback type {kind} is not valid for interaction type {sent.type}"])
    data = body.get("data") or {}
    problems = _callback_problems(kind, data, len(rec.files))
    if problems:
        return invalid(problems)
    sent.callback = body
    resource: dict[str, Any] = {"type": kind}
    response_id: str | None = None
    if kind in (4, 5):
        flags = payloads.LOADING if kind == 5 else 0
        msg = fake.new_message(
            sent.payload["channel_id"], data, flags=flags, interaction=sent, files=rec.files
        )
        sent.original_id = response_id = msg["id"]
        resource["message"] = msg
    elif kind == 7:
        target = sent.payload["message"]["id"]
        resource["message"] = fake.edit_message(target, data, files=rec.files)
        sent.original_id = response_id = target  # @original of a component press is its message
    elif kind == 6:
        sent.original_id = response_id = sent.payload.get("message", {}).get("id")
    interaction = {
        "id": sent.id,
        "type": sent.type,
        "response_message_id": response_id,
        "response_message_loading": kind == 5,
        "response_message_ephemeral": bool(int(data.get("flags") or 0) & payloads.EPHEMERAL),
    }
    return 200, {"interaction": interaction, "resource": resource if kind != 8 else None}


def _callback_problems(kind: int, data: dict[str, Any], files: int) -> list[str]:
    if kind == 4:
        return validate.message_body(data, files=files)
    if kind == 7:
        return validate.message_body(data, files=files, edit=True)
    if kind == 8:
        return validate.autocomplete_choices(data)
    if kind == 9 and not (data.get("custom_id") and data.get("title") and data.get("components")):
        return ["a modal needs custom_id, title and components"]
    return []


def _webhook_interaction(fake: FakeDiscord, rec: Recorded, app: str, token: str) -> Sent | Reply:
    sent = fake.interactions.get(token)
    if app != fake.app_id or sent is None:
        return error(404, 10015, "Unknown Webhook")
    rec.interaction = sent
    if sent.callback is None:
        return error(404, 10015, "Unknown Webhook (the interaction was never acknowledged)")
    return sent


async def webhook_post(fake: FakeDiscord, rec: Recorded, app: str, token: str) -> Reply:
    found = _webhook_interaction(fake, rec, app, token)
    if isinstance(found, tuple):
        return found
    body = rec.json or {}
    if problems := validate.message_body(body, files=len(rec.files)):
        return invalid(problems)
    original = fake.messages.get(found.original_id or "")
    if original is not None and original["flags"] & payloads.LOADING and not original.get("deleted"):
        # After a "thinking" defer the first followup replaces the loading message, and it keeps
        # the defer's visibility whatever flags the followup asks for (as on real Discord).
        flags = (int(body.get("flags") or 0) & ~payloads.EPHEMERAL) | (original["flags"] & payloads.EPHEMERAL)
        edited = fake.edit_message(
            original["id"], {**body, "flags": flags}, files=rec.files, clear_loading=True
        )
        return 200, edited
    return 200, fake.new_message(found.payload["channel_id"], body, interaction=found, files=rec.files)


def _message_id(sent: Sent, message: str) -> str | None:
    if message == "@original":
        return sent.original_id
    return message if message in sent.message_ids else None


async def webhook_message(fake: FakeDiscord, rec: Recorded, app: str, token: str, message: str) -> Reply:
    found = _webhook_interaction(fake, rec, app, token)
    if isinstance(found, tuple):
        return found
    message_id = _message_id(found, message)
    if message_id is None or message_id not in fake.messages or fake.messages[message_id].get("deleted"):
        return error(404, 10008, "Unknown Message")
    if rec.method == "GET":
        return 200, fake.messages[message_id]
    if rec.method == "DELETE":
        fake.messages[message_id]["deleted"] = True
        return 204, None
    if problems := validate.message_body(rec.json or {}, files=len(rec.files), edit=True):
        return invalid(problems)
    return 200, fake.edit_message(message_id, rec.json or {}, files=rec.files, clear_loading=True)


# -- channels and guild ----------------------------------------------------------------------------


async def channel_get(fake: FakeDiscord, rec: Recorded, channel: str) -> Reply:
    found = fake.channel_by_id(channel)
    return (200, found) if found else error(404, 10003, "Unknown Channel")


async def channel_message_post(fake: FakeDiscord, rec: Recorded, channel: str) -> Reply:
    if fake.channel_by_id(channel) is None:
        return error(404, 10003, "Unknown Channel")
    if problems := validate.message_body(rec.json or {}, files=len(rec.files)):
        return invalid(problems)
    return 200, fake.new_message(channel, rec.json or {}, files=rec.files)


async def channel_message(fake: FakeDiscord, rec: Recorded, channel: str, message: str) -> Reply:
    msg = fake.messages.get(message)
    if msg is None or msg["channel_id"] != channel or msg.get("deleted"):
        return error(404, 10008, "Unknown Message")
    if rec.method == "GET":
        return 200, msg
    if rec.method == "DELETE":
        msg["deleted"] = True
        return 204, None
    if problems := validate.message_body(rec.json or {}, files=len(rec.files), edit=True):
        return invalid(problems)
    return 200, fake.edit_message(message, rec.json or {}, files=rec.files)


async def guild_get(fake: FakeDiscord, rec: Recorded, guild: str) -> Reply:
    if guild not in fake.guild_ids:
        return error(404, 10004, "Unknown Guild")
    return 200, fake.guild_payload(guild)


async def guild_channels(fake: FakeDiscord, rec: Recorded, guild: str) -> Reply:
    if guild not in fake.guild_ids:
        return error(404, 10004, "Unknown Guild")
    return 200, list(fake.channels_of(guild).values())


async def guild_member(fake: FakeDiscord, rec: Recorded, guild: str, user: str) -> Reply:
    for entry in fake.members.values():
        if entry["member"]["user"]["id"] == user:
            return 200, entry["member"]
    return error(404, 10007, "Unknown Member")


ROUTES: list[tuple[str, str, str, Handler]] = [
    ("GET", r"/gateway/bot", "gateway_bot", gateway_bot),
    ("GET", r"/gateway", "gateway", gateway),
    ("GET", r"/users/@me", "users_me", users_me),
    ("GET", r"/oauth2/applications/@me", "application", application_me),
    ("GET", r"/applications/@me", "application", application_me),
    ("PUT", r"/applications/{app}/commands", "commands_put", commands_put),
    ("GET", r"/applications/{app}/commands", "commands_get", commands_get),
    ("POST", r"/applications/{app}/commands", "command_post", command_post),
    ("PUT", r"/applications/{app}/guilds/{guild}/commands", "commands_put", commands_put),
    ("GET", r"/applications/{app}/guilds/{guild}/commands", "commands_get", commands_get),
    ("POST", r"/applications/{app}/guilds/{guild}/commands", "command_post", command_post),
    ("POST", r"/interactions/{interaction_id}/{token}/callback", "callback", callback),
    ("POST", r"/webhooks/{app}/{token}", "webhook_post", webhook_post),
    ("GET", r"/webhooks/{app}/{token}/messages/{message}", "webhook_get", webhook_message),
    ("PATCH", r"/webhooks/{app}/{token}/messages/{message}", "webhook_patch", webhook_message),
    ("DELETE", r"/webhooks/{app}/{token}/messages/{message}", "webhook_delete", webhook_message),
    ("GET", r"/channels/{channel}", "channel_get", channel_get),
    ("POST", r"/channels/{channel}/messages", "channel_post", channel_message_post),
    ("GET", r"/channels/{channel}/messages/{message}", "channel_message_get", channel_message),
    ("PATCH", r"/channels/{channel}/messages/{message}", "channel_message_patch", channel_message),
    ("DELETE", r"/channels/{channel}/messages/{message}", "channel_message_delete", channel_message),
    ("GET", r"/guilds/{guild}", "guild_get", guild_get),
    ("GET", r"/guilds/{guild}/channels", "guild_channels", guild_channels),
    ("GET", r"/guilds/{guild}/members/{user}", "guild_member", guild_member),
]
COMPILED = [
    (method, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"), name, handler)
    for method, path, name, handler in ROUTES
]


def match(method: str, path: str) -> tuple[str, Handler, dict[str, str]] | None:
    """The route for `method path` (path below /api/v10), with its captured parts."""
    for route_method, pattern, name, handler in COMPILED:
        found = pattern.match(path)
        if found and route_method == method:
            return name, handler, found.groupdict()
    return None
