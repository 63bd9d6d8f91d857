"""Discord JSON shapes the fake sends: users, members, roles, channels, the guild, messages, the
application, and the skeleton of an INTERACTION_CREATE payload.

Owns only pure builders (dicts in, dicts out) modelled on the fields discord.py 2.7 reads. It must
not hold state, do I/O, or know about the bot under test.
"""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

# Permission bits the fake hands out (see discord.Permissions).
VIEW_AND_SEND = (
    (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31)
)  # view, send, embed, attach, history, app cmds
MANAGE_MESSAGES = 1 << 13
MANAGE_GUILD = 1 << 5

EPHEMERAL = 1 << 6
LOADING = 1 << 7

_counter = itertools.count(1)


def snowflake() -> str:
    """A fresh, increasing snowflake (as Discord sends them: a string)."""
    ms = int(datetime.now(UTC).timestamp() * 1000) - DISCORD_EPOCH_MS
    return str((ms << 22) | (next(_counter) & 0x3FFFFF))


def token() -> str:
    """An interaction token: opaque, URL-safe."""
    return "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(24)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name,
        "global_name": name.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
    }


def role(role_id: str, name: str, *, permissions: int, position: int) -> dict[str, Any]:
    return {
        "id": role_id,
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def member(user_data: dict[str, Any], roles: list[str], *, permissions: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "user": user_data,
        "nick": None,
        "avatar": None,
        "roles": list(roles),
        "joined_at": "2024-01-01T00:00:00+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def text_channel(channel_id: str, guild_id: str, name: str, *, nsfw: bool, position: int) -> dict[str, Any]:
    return {
        "id": channel_id,
        "type": 0,
        "guild_id": guild_id,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": nsfw,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "parent_id": None,
        "flags": 0,
    }


def guild(
    guild_id: str,
    name: str,
    *,
    owner_id: str,
    roles: list[dict[str, Any]],
    channels: list[dict[str, Any]],
    members: list[dict[str, Any]],
) -> dict[str, Any]:
    """A full GUILD_CREATE payload."""
    return {
        "id": guild_id,
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": owner_id,
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": roles,
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "joined_at": "2024-01-01T00:00:00+00:00",
        "large": False,
        "unavailable": False,
        "member_count": len(members),
        "voice_states": [],
        "members": members,
        "channels": channels,
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def application(app_id: str, owner: dict[str, Any], bot_user: dict[str, Any]) -> dict[str, Any]:
    """GET /oauth2/applications/@me."""
    return {
        "id": app_id,
        "name": bot_user["username"],
        "icon": None,
        "description": "Fake application for end-to-end tests",
        "rpc_origins": [],
        "bot_public": False,
        "bot_require_code_grant": False,
        "bot": bot_user,
        "owner": owner,
        "team": None,
        "verify_key": "0" * 64,
        "flags": 0,
        "interactions_endpoint_url": None,
        "tags": [],
        "redirect_uris": [],
        "approximate_guild_count": 1,
    }


def message(
    message_id: str,
    channel_id: str,
    author: dict[str, Any],
    body: dict[str, Any],
    *,
    guild_id: str | None,
    application_id: str | None = None,
    webhook_id: str | None = None,
    flags: int = 0,
    message_type: int = 0,
) -> dict[str, Any]:
    """A message as Discord returns it, built from what the bot sent (`body`)."""
    data: dict[str, Any] = {
        "id": message_id,
        "channel_id": channel_id,
        "author": author,
        "content": body.get("content") or "",
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": bool(body.get("tts", False)),
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": list(body.get("embeds") or []),
        "components": list(body.get("components") or []),
        "pinned": False,
        "type": message_type,
        "flags": flags | int(body.get("flags") or 0),
    }
    if guild_id is not None:
        data["guild_id"] = guild_id
    if application_id is not None:
        data["application_id"] = application_id
    if webhook_id is not None:
        data["webhook_id"] = webhook_id
    return data


def attachment(
    attachment_id: str, filename: str, size: int, url: str, content_type: str | None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": attachment_id,
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
        "flags": 0,
    }
    if content_type:
        data["content_type"] = content_type
    return data


def interaction(
    *,
    interaction_type: int,
    data: dict[str, Any],
    application_id: str,
    guild_id: str,
    channel: dict[str, Any],
    member_data: dict[str, Any],
    app_permissions: int,
    message_data: dict[str, Any] | None = None,
    locale: str = "en-US",
) -> dict[str, Any]:
    """A full INTERACTION_CREATE payload (guild context) as discord.py 2.7 expects it."""
    payload: dict[str, Any] = {
        "id": snowflake(),
        "application_id": application_id,
        "type": interaction_type,
        "data": data,
        "guild_id": guild_id,
        "guild": {"id": guild_id, "locale": "en-US", "features": []},
        "channel_id": channel["id"],
        "channel": dict(channel),
        "member": member_data,
        "token": token(),
        "version": 1,
        "app_permissions": str(app_permissions),
        "locale": locale,
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild_id},
        "context": 0,
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if message_data is not None:
        payload["message"] = message_data
    return payload
