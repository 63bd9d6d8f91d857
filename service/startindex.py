"""The bot's start-up index, run in a process of its own.

Owns `index_in_child(settings)`: `service.indexer.index_directory` over the configured archive, run
in a child process (spawned, its parse workers at a lower CPU priority, dying with the bot), whose
report comes back through a pipe. Parsing, hashing and writing thousands of new stories then never hold the bot's
interpreter: the bot's event loop only checks a pipe once a second, and commands are answered at
full speed while the archive fills. What the child writes reaches the bot's views through the
archive's change counter, as any other process's writes do (`service.views`). Cancelling the wait
(the bot shutting down) stops the child; its batches are transactions, so the index stays
consistent. The index rules themselves (what is read, retired, refused) are the indexer's; this
module only decides where it runs. It must not import Discord.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from service.indexreport import IndexReport
from service.parsing import _context, _die_with
from settings import Settings

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
"""How often the bot looks at the pipe (and whether the child still lives)."""
STOP_SECONDS = 10.0
"""How long a stopping child may take to go before it is killed."""


class IndexProcessError(RuntimeError):
    """The start-up index's process failed or died; the message says how."""


def _child(conn: Any, settings: Settings, parent: int, level: int) -> None:
    """The child's whole life: index, send the report (or the failure) back."""
    _die_with(parent)
    logging.basicConfig(level=level, format="[%(asctime)s] [%(levelname)-8s] %(name)s: %(message)s")
    try:
        report = asyncio.run(_index(settings))
    except BaseException as exc:  # any failure goes back to the bot, in words
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    else:
        conn.send(("ok", report))
    finally:
        conn.close()


async def _index(settings: Settings) -> IndexReport:
    from service.indexer import index_directory
    from service.library import Library

    lib = await Library.open(settings, load_titles=False)
    try:  # parse workers at a lower priority, and short write transactions: a mod's or a
        # member's write (kudos, a shelf) waits for at most one small batch, never a long one
        return await index_directory(lib, background=True)
    finally:
        await lib.close()


async def index_in_child(settings: Settings) -> IndexReport:
    """Index the archive folder (and uploads) in a child process; its report. Raises
    `IndexProcessError` when the child fails or dies, FileNotFoundError's words included."""
    context = _context()
    receive, send = context.Pipe(duplex=False)
    level = logging.getLogger().getEffectiveLevel()
    child = context.Process(
        target=_child, args=(send, settings, os.getpid(), level), name="librarian-start-up-index"
    )
    await asyncio.to_thread(child.start)  # spawning takes a moment: not on the event loop
    send.close()
    try:
        while not receive.poll():  # a non-blocking look, once a second
            if not child.is_alive() and not receive.poll():
                raise IndexProcessError(f"the index process stopped (exit code {child.exitcode})")
            await asyncio.sleep(POLL_SECONDS)
        try:
            status, value = await asyncio.to_thread(receive.recv)
        except EOFError:
            raise IndexProcessError(f"the index process stopped (exit code {child.exitcode})") from None
    finally:
        await asyncio.shield(asyncio.to_thread(_stop, child))
        receive.close()
    if status != "ok":
        raise IndexProcessError(str(value))
    return value  # type: ignore[no-any-return]


def _stop(child: Any) -> None:
    """Wait for the child to end (it has sent its report); stop it if it is still working."""
    child.join(1.0)
    if child.is_alive():
        child.terminate()  # SIGTERM: the bot is shutting down
        child.join(STOP_SECONDS)
    if child.is_alive():
        child.kill()
        child.join(STOP_SECONDS)
