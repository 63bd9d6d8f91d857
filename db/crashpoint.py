"""TEST HOOK: named points where a process kills itself, so tests can crash it anywhere for real.

Owns `crash_point(settings, name)`: when `LIBRARIAN_CRASH_AT` (the setting `crash_at`) names the
point, the process sends itself SIGKILL there (no clean-up, no `finally`: what `kill -9` does). The
crash tests in `tests/test_crash.py` use it; it is never set in production. The points are listed in
`POINTS`. It must not do anything else, and never imports Discord.
"""

from __future__ import annotations

import logging
import os
import signal
from typing import Any

log = logging.getLogger(__name__)

POINTS: frozenset[str] = frozenset(
    {
        "index:mid-batch",  # inside an index batch's transaction, before it commits
        "index:after-batch",  # after the first index batch committed
        "add:after-write",  # the upload's file is saved, its row not yet stored
        "add:before-commit",  # the upload's row is written, not yet committed
        "remove:after-move",  # the file is in the removed folder, the row not yet committed
        "remove:before-move",  # the row says removed (flushed), the file not moved yet
        "restore:after-move",  # the file is back, the row not yet committed
        "dailyrec:after-claim",  # the day is claimed and the story picked, the post not sent
    }
)


def crash_point(settings: Any, name: str) -> None:
    """SIGKILL this process when LIBRARIAN_CRASH_AT names `name` (see POINTS); otherwise nothing."""
    if getattr(settings, "crash_at", None) == name:
        log.warning("LIBRARIAN_CRASH_AT=%s: killing this process now", name)
        os.kill(os.getpid(), signal.SIGKILL)
