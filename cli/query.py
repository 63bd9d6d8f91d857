"""The host's read-only commands: `search`, `title`, `excerpt`, `rec`, `similar`, `stats`.

Owns their flags and how answers are printed (readable text, or `--json` where each story carries
exactly `id, title, author, rating {raw, level}, relationships, characters, words, score`). It must
not build SQL or resolve names itself: every answer comes from the same service functions the
slash commands call, so the CLI and Discord agree. A `QueryError` prints its plain message and
suggestions on stderr and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.ratings import level_words
from cli.common import print_json, settings_from_args
from service.filter_table import FILTERS, Filter

if TYPE_CHECKING:  # imported when a command runs, so that `bot.py --help` starts at once
    from service.hits import StoryHit
    from service.library import Library
    from service.query import SearchQuery

log = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace], Awaitable[int]]


def _filters(parser: argparse.ArgumentParser) -> None:
    """The filter flags `search` and `rec` share, made from the one filter table."""
    for f in FILTERS:
        if f.flag is None:
            continue
        if f.kind == "complete":
            status = parser.add_mutually_exclusive_group()
            status.add_argument(f.flag, dest=f.field, action="store_const", const=True, help="finished only")
            status.add_argument(
                "--wip", dest=f.field, action="store_const", const=False, help="works in progress"
            )
        elif f.kind == "words":
            parser.add_argument(f.flag, dest=f.field, type=int, metavar="N", help=_help(f))
        elif f.kind in ("text", "ceiling"):
            parser.add_argument(f.flag, dest=f.field, metavar=METAVARS[f.kind], help=_help(f))
        else:
            parser.add_argument(
                f.flag, dest=f.field, action="append", default=[], help=_help(f) + " (repeatable)"
            )
    parser.add_argument("--json", action="store_true", help="print JSON")


METAVARS = {
    "names": "NAME",
    "name": "NAME",
    "rating": "RATING",
    "ceiling": "RATING",
    "text": "WORDS",
    "words": "N",
}


def _help(f: Filter) -> str:
    """The table's description as a CLI help line (lower case start, no comma-list advice)."""
    text = f.description.replace(" (separate several with commas)", "")
    return text[:1].lower() + text[1:]


def query_from_args(args: argparse.Namespace) -> SearchQuery:
    """The SearchQuery the flags describe (the CLI sees every rating: no age gating)."""
    from service.filter_table import to_query

    return to_query(
        vars(args),
        typed=False,
        sort=getattr(args, "sort", "best"),
        page=getattr(args, "page", 1),
        per_page=getattr(args, "per_page", 5),
    )


def with_library(body: Callable[[Library, argparse.Namespace], Awaitable[int]]) -> Handler:
    """Open the library, run `body`, close it; a QueryError becomes a message and exit code 1."""

    async def handler(args: argparse.Namespace) -> int:
        from service.library import Library
        from service.query import QueryError

        lib = await Library.open(settings_from_args(args))
        try:
            return await body(lib, args)
        except QueryError as exc:
            print(exc.message, file=sys.stderr)
            if exc.suggestions:
                print("Did you mean: " + ", ".join(exc.suggestions), file=sys.stderr)
            return 1
        finally:
            await lib.close()

    return handler


def _line(hit: StoryHit, n: int | None = None) -> str:
    author = hit.author or "unknown author"
    head = f"{n}. " if n is not None else ""
    return f"{head}{hit.title} — {author} [{hit.rating.raw or level_words(hit.rating.level)}] {hit.words:,} words (#{hit.id})"


def print_hit(hit: StoryHit, n: int | None = None, extra: str | None = None) -> None:
    print(_line(hit, n))
    details = hit.relationships or hit.characters[:4]
    if details or hit.tags:
        print("   " + " · ".join([*details, *hit.tags[:5]]))
    if hit.summary:
        summary = " ".join(hit.summary.split())
        print("   " + (summary if len(summary) <= 200 else summary[:199] + "…"))
    if extra:
        print("   " + extra)


def _note(text: str, as_json: bool) -> None:
    """Human notes go to stdout normally, and to stderr when stdout carries JSON."""
    print(text, file=sys.stderr if as_json else sys.stdout)


async def _search(lib: Library, args: argparse.Namespace) -> int:
    from service.search import search

    result = await search(lib, query_from_args(args))
    for note in result.resolved:
        _note(f"({note})", args.json)
    if args.json:
        print_json([h.to_json() for h in result.hits])
    if result.total == 0:
        _note(result.empty_reason or "No stories match.", args.json)
        return 0
    _note(
        f"{result.total} {'story' if result.total == 1 else 'stories'} (page {result.page} of {result.pages})",
        args.json,
    )
    if not args.json:
        start = (result.page - 1) * max(1, min(args.per_page, 50))
        for n, hit in enumerate(result.hits, start + 1):
            print_hit(hit, n)
    return 0


async def _title(lib: Library, args: argparse.Namespace) -> int:
    from service.stories import find_title, shown_text

    hits = await find_title(lib, args.query, limit=args.limit)
    if args.json:
        print_json([h.to_json() for h in hits])
    elif not hits:
        print(f"No story title matches {shown_text(args.query)!r}.")
    for n, hit in enumerate(hits if not args.json else [], 1):
        print(_line(hit, n))
    return 0 if hits else 1  # no such story: "no", as `excerpt` and `similar` say it


async def _excerpt(lib: Library, args: argparse.Namespace) -> int:
    from service.stories import excerpt, resolve_story

    hit = await resolve_story(lib, args.title)
    chunks = await excerpt(lib, hit.id, limit=args.limit)
    total = len(chunks)
    if not 1 <= args.chunk <= max(total, 1):
        from service.query import QueryError

        raise QueryError(f"“{hit.title}” has {total} parts; ask for part 1 to {total}.")
    text = chunks[args.chunk - 1].text if chunks else ""
    if args.json:
        print_json({"id": hit.id, "title": hit.title, "chunk": args.chunk, "total": total, "text": text})
    else:
        print(f"{hit.title} — part {args.chunk} of {total}\n")
        print(text)
    return 0


async def _rec(lib: Library, args: argparse.Namespace) -> int:
    from service.recs import rec
    from service.tasterecs import rec_for_member

    if args.member is not None:  # the member's own rec, leaning on the server's taste (as /rec)
        result = await rec_for_member(lib, query_from_args(args), args.member, place=args.place)
    else:
        result = await rec(lib, query_from_args(args), place=args.place)
    for note in result.resolved:
        _note(f"({note})", args.json)
    if args.json:
        print_json(result.hit.to_json())
        _note(result.line, True)
    else:
        print_hit(result.hit, extra=f"why: {result.reason}")
        print(result.line)
    return 0


async def _similar(lib: Library, args: argparse.Namespace) -> int:
    from service.similar import similar
    from service.stories import resolve_story

    hit = await resolve_story(lib, args.title)
    found = await similar(lib, hit.id, limit=args.limit)
    if args.json:
        print_json([{**s.hit.to_json(), "score": round(s.score, 3)} for s in found])
        return 0
    print(f"Stories like {hit.title}:")
    if not found:
        print("  nothing close enough yet.")
    for n, s in enumerate(found, 1):
        print_hit(s.hit, n, extra=f"why: {s.reason}")
    return 0


async def _stats(lib: Library, args: argparse.Namespace) -> int:
    from service.archive_stats import plural, stats, top_characters, top_pairings

    st = await stats(lib)
    if getattr(args, "chart", None):
        from service import charts

        figures = await charts.stats_figures(lib)
        png = await asyncio.to_thread(charts.render_stats, figures)
        await asyncio.to_thread(Path(args.chart).write_bytes, png)
    if args.json:
        data: dict[str, Any] = st.to_json()
        data["top_characters"] = dict(await top_characters(lib, 10))
        data["top_pairings"] = dict(await top_pairings(lib, 10))
        print_json(data)
        return 0
    stories, words, authors = st.stories, st.words, st.authors
    print(
        f"{stories:,} {plural(stories, 'story', 'stories')}, {words:,} {plural(words, 'word')}, "
        f"{authors:,} {plural(authors, 'author')}"
    )
    print("by rating:  " + ", ".join(f"{level_words(k)} {v}" for k, v in sorted(st.by_rating.items())))
    print("by format:  " + ", ".join(f"{k} {v}" for k, v in st.by_format.items()))
    print("by fandom:  " + ", ".join(f"{k} {v}" for k, v in st.by_fandom[:10]))
    print("characters: " + ", ".join(f"{k} {v}" for k, v in await top_characters(lib, 10)))
    print("pairings:   " + ", ".join(f"{k} {v}" for k, v in await top_pairings(lib, 10)))
    if st.removed:
        print(f"removed by mods: {st.removed}")
    print(f"files the index could not read: {st.failures}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add search, title, excerpt, rec, similar and stats."""
    from service.query import SORTS  # plain data (no database): the sort names are the service's

    p = subparsers.add_parser("search", help="find stories by character, pairing, rating, author, text, ...")
    _filters(p)
    p.add_argument("--sort", choices=SORTS, default="best", help="order of the results (default: best)")
    p.add_argument("--page", type=int, default=1, help="page number (default 1)")
    p.add_argument("--per-page", type=int, default=5, help="stories per page (default 5, at most 50)")
    p.set_defaults(handler=with_library(_search))

    p = subparsers.add_parser("title", help="find a story by (part of) its title")
    p.add_argument("query", help="the title, or what you remember of it")
    p.add_argument("--limit", type=int, default=10, help="at most this many (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=with_library(_title))

    p = subparsers.add_parser("excerpt", help="print one 2000-character part of a story")
    p.add_argument("title", help="the story's title (or its id)")
    p.add_argument("--chunk", type=int, default=1, help="which part, from 1 (default 1)")
    p.add_argument("--limit", type=int, default=2000, help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=with_library(_excerpt))

    p = subparsers.add_parser("rec", help="a random story matching the filters")
    _filters(p)
    p.add_argument("--place", default="cli", help=argparse.SUPPRESS)
    p.add_argument("--member", type=int, help="a member's Discord id: their rec, as /rec gives it to them")
    p.set_defaults(handler=with_library(_rec))

    p = subparsers.add_parser("similar", help="stories like the one named")
    p.add_argument("title", help="the story's title (or its id)")
    p.add_argument("--limit", type=int, default=5, help="at most this many (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=with_library(_similar))

    p = subparsers.add_parser("stats", help="what the archive holds")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--chart", metavar="FILE", help="also draw /stats' chart into FILE (PNG)")
    p.set_defaults(handler=with_library(_stats))
