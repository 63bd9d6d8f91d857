"""Handing freed heap memory back to the system.

Owns `give_back_memory()`: glibc's `malloc_trim`, called after work that frees much more than it
keeps (a view's rebuild, the start-up check's full-text integrity pass in a database thread).
Without it the process keeps those pages resident, per thread arena. A no-op where the C library
has no such call. It must not import Discord.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

_TRIM: Any = None


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
