"""Age gating: which rating levels a channel may show, and how to say what was left out.

Owns the rule: stories rated mature, explicit or not rated appear only in age-restricted (NSFW)
channels; threads follow their parent; DMs and unknown channels count as not age-restricted. It must
not query anything: it returns the `allowed_levels` a service call takes, and the words for the reply.
"""

from __future__ import annotations

from typing import Any

from archive.ratings import SAFE_LEVELS as RATINGS_SAFE

SAFE_LEVELS: frozenset[str] = RATINGS_SAFE
"""What every channel may show. `None` (everything) is reserved for age-restricted channels."""

GATED_WORDS = "rated mature, explicit or not rated"


def is_age_restricted(channel: Any) -> bool:
    """True only for a channel Discord marks NSFW (a thread asks its parent; a DM is never one)."""
    if channel is None:
        return False
    is_nsfw = getattr(channel, "is_nsfw", None)
    if not callable(is_nsfw):  # DMs, group DMs, partial channels
        return False
    try:
        return bool(is_nsfw())
    except AttributeError:  # a partial thread whose parent is not cached
        return False


def allowed_levels_for(channel: Any) -> frozenset[str] | None:
    """The rating levels a reply in `channel` may show: None (all) in NSFW channels, else general+teen."""
    return None if is_age_restricted(channel) else SAFE_LEVELS


def hidden_note(hidden: int) -> str | None:
    """One sentence saying how many matches were left out here and why, or None when none were."""
    if hidden <= 0:
        return None
    what = "story" if hidden == 1 else "stories"
    verb = "is" if hidden == 1 else "are"
    return (
        f"{hidden:,} more {what} {GATED_WORDS} {verb} hidden here: "
        "they are shown only in age-restricted channels."
    )


def gated_refusal() -> str:
    """What to say when the one story asked for is rated beyond what this channel shows."""
    return f"That story is {GATED_WORDS}, so it is available only in age-restricted channels."
