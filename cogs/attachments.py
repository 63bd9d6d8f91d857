"""Downloading a member's attachment, bounded in time and in size.

Owns `download`: the bytes of a Discord attachment, read from its URL a chunk at a time, given up
after `seconds` in all (a server that trickles bytes cannot keep a mod waiting past Discord's
follow-up window) and as soon as more than `limit` bytes arrived (a file bigger than announced is
never read whole). Each failure is a `CurateError` saying, in plain words, what happened and that
nothing was added. It must not parse, check or store what it read (`service.uploads` does).
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord

from service.curate import CurateError

log = logging.getLogger(__name__)

DOWNLOAD_SECONDS = 20.0
"""The longest an attachment's download may take, from the request to its last byte."""
CHUNK = 64 * 1024


async def download(file: discord.Attachment, *, limit: int, seconds: float | None = None) -> bytes:
    """The attachment's bytes: at most `limit` of them, within `seconds` (default DOWNLOAD_SECONDS)."""
    seconds = DOWNLOAD_SECONDS if seconds is None else seconds
    name = discord.utils.escape_markdown(file.filename)
    try:
        async with asyncio.timeout(seconds):
            return await _read(str(file.url), name, limit)
    except TimeoutError:
        log.warning("gave up downloading %s after %.0f s", file.url, seconds)
        raise CurateError(
            f"Downloading {name} from Discord took longer than {seconds:.0f} seconds, so I stopped: "
            "nothing was added. Try again in a moment."
        ) from None
    except aiohttp.ClientError as exc:
        log.warning("could not download %s: %s", file.url, exc)
        raise CurateError(f"I could not download {name} from Discord ({exc}): nothing was added.") from exc


async def _read(url: str, name: str, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        if response.status != 200:
            raise CurateError(
                f"I could not download {name} from Discord ({response.status}): nothing was added."
            )
        async for chunk in response.content.iter_chunked(CHUNK):
            size += len(chunk)
            if size > limit:
                raise CurateError(
                    f"{name} is bigger than Discord announced (more than {limit:,} bytes); stories may be "
                    f"at most {limit:,} bytes: nothing was added."
                )
            chunks.append(chunk)
    return b"".join(chunks)
