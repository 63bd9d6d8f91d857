"""The daily rec's time rules: the clock, typed times of day and IANA time zones, and the one UTC
instant a local post time means on a given day (daylight saving included).

Owns `Clock` (an injectable `Callable[[], datetime]` returning aware UTC), `file_clock` (the test
hook behind `LIBRARIAN_FAKE_NOW_FILE`), `parse_post_time`, `parse_timezone` and `post_instant`. It
must not touch the database or import Discord.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from service.query import QueryError

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""Returns "now" as an aware UTC datetime."""

_TIME = re.compile(r"^\s*(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?\s*$", re.IGNORECASE)


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


def file_clock(path: Path, fallback: Clock = utc_now) -> Clock:
    """TEST HOOK: a clock reading an ISO instant from `path` on every call (the real clock when the
    file is absent or empty). The end-to-end tests move the bot's time by rewriting the file."""

    def now() -> datetime:
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError:
            text = ""
        if not text:
            return fallback()
        parsed = datetime.fromisoformat(text)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)

    return now


def parse_post_time(text: str) -> str:
    """`9:05`, `09:05`, `21.30`, `9pm`, `9:30 am` -> `HH:MM` (24 hours). Raises QueryError."""
    found = _TIME.match(text or "")
    hour, minute = (int(found.group(1)), int(found.group(2) or 0)) if found else (-1, -1)
    ampm = (found.group(3) or "").lower() if found else ""
    if ampm and 1 <= hour <= 12:
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    elif ampm:
        hour = -1
    if not (found and (found.group(2) or ampm) and 0 <= hour <= 23 and 0 <= minute <= 59):
        raise QueryError(f"I can't read {text!r} as a time of day: use HH:MM, e.g. 09:00 or 21:30.")
    return f"{hour:02d}:{minute:02d}"


def parse_timezone(name: str | None) -> str:
    """A valid IANA time zone name (`Europe/London`); empty means UTC. Raises QueryError."""
    text = (name or "").strip() or "UTC"
    if text.upper() == "UTC":
        return "UTC"
    zones = timezone_names()
    if text in zones:
        return text
    folded = {z.casefold(): z for z in zones}
    if text.casefold() in folded:
        return folded[text.casefold()]
    close = [z for z in zones if text.casefold().replace(" ", "_") in z.casefold()][:5]
    raise QueryError(f"I don't know the time zone {text!r}: use a name like Europe/London.", close)


_ZONES: list[str] = []


def timezone_names() -> list[str]:
    """Every IANA zone name zoneinfo knows, sorted (cached)."""
    if not _ZONES:
        _ZONES.extend(sorted(available_timezones()))
    return _ZONES


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r in a daily rec schedule; using UTC", name)
        return ZoneInfo("UTC")


def post_instant(day: date, post_time: str, tz: ZoneInfo) -> datetime:
    """The UTC instant of `post_time` on local `day`: the first occurrence of a repeated wall time,
    and for a wall time that does not exist (spring forward) the instant the clocks jump."""
    hour, minute = (int(p) for p in post_time.split(":"))
    wall = datetime.combine(day, time(hour, minute))
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first
    # In a gap: fold=1 maps to an instant before the jump, fold=0 to one after; find the jump.
    lo = int(wall.replace(tzinfo=tz, fold=1).astimezone(UTC).timestamp())
    hi = int(first.timestamp())
    lo, hi = min(lo, hi), max(lo, hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)
