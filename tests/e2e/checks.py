"""Assertions every end-to-end test makes about what the bot sent: what a member would see break.

Owns the rules for one interaction's messages: no mention can ping (`allowed_mentions` is
`{"parse": []}` on every message), no raw `@everyone`/`@here` in content, content within 2000
characters. It must not drive the bot.
"""

from __future__ import annotations

import re

from tests.fakediscord import Sent

LIVE_PING = re.compile(r"@(everyone|here)\b|<@[!&]?\d+>")
NO_PINGS = {"parse": []}


def assert_safe(sent: Sent) -> None:
    """Every message body the bot sent for `sent` is within limits and can ping nobody."""
    for rec in sent.requests():
        if rec.route not in ("callback", "webhook_post", "webhook_patch") or rec.status >= 300:
            continue
        creates = rec.route == "webhook_post" or (rec.route == "callback" and rec.json.get("type") == 4)
        body = (rec.json.get("data") or {}) if rec.route == "callback" else (rec.json or {})
        if not creates and "allowed_mentions" not in body:
            continue
        assert body.get("allowed_mentions") == NO_PINGS, (
            f"{rec}: allowed_mentions is {body.get('allowed_mentions')}"
        )
        content = body.get("content") or ""
        assert len(content) <= 2000, f"{rec}: content is {len(content)} characters"
        assert not LIVE_PING.search(content), f"{rec}: content holds a live mention: {content!r}"
