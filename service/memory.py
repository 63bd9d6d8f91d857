"""Handing freed heap memory back to the system.

Owns `give_back_memory()`: glibc's `malloc_trim`, called after work that frees much more than it
keeps (a view's rebuild; the start-up check's database passes, in a database thread), and
`give_back_memory_every()`, the bot's background task that calls it twice a minute for what
commands free in the database threads (about 17 MB after the bench's command mix at 50,000
stories). Without it the process keeps those pages resident, per thread arena. A no-op where the C
library has no such call. It must not import Discord.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
from typing import Any

_TRIM: Any = None
TRIM_SECONDS = 30.0


def give_back_memory() -> None:
    """Return the free pages of every malloc arena to the system (glibc `malloc_trim(0)`)."""
    global _TRIM
    if _TRIM is None:
        try:
            _TRIM = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)


async def give_back_memory_every(seconds: float = TRIM_SECONDS) -> None:
    """Forever: every `seconds`, `give_back_memory()` in a worker thread (under a millisecond of
    walking the heap, never on the event loop)."""
    while True:
        await asyncio.sleep(seconds)
        await asyncio.to_thread(give_back_memory)
