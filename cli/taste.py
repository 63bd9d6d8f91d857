"""The host's twins of the members' commands: `shelf add|show|remove|move|privacy|export`, `kudos`,
`forget-me` and `top` (with `--chart FILE`), each acting for `--member ID` (a Discord user id).

Owns their flags and how answers print (text, or `--json`). It must not build SQL: the same service
functions as `/shelf`, the Kudos button, `/forget-me` and `/top` answer, so the CLI and Discord
agree. The host sees every rating (no age gating), as elsewhere on the CLI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING

from cli.common import print_json
from cli.query import _filters, print_hit, query_from_args, with_library

if TYPE_CHECKING:  # imported when a command runs, so that `bot.py --help` starts at once
    from service.library import Library


async def _story_id(lib: Library, text: str) -> int:
    from service import stories

    return (await stories.resolve_story(lib, text)).id


async def _shelf(lib: Library, args: argparse.Namespace) -> int:
    from service import members, shelves

    member = args.member
    if args.action == "add":
        done = await shelves.add(lib, member, await _story_id(lib, args.story), args.shelf)
        print(f"{'already on' if done.already else 'added to'} {done.label}")
    elif args.action == "remove":
        left = await shelves.remove(lib, member, await _story_id(lib, args.story), args.shelf)
        print("removed from " + ", ".join(left))
    elif args.action == "move":
        source, done = await shelves.move(
            lib, member, await _story_id(lib, args.story), args.to, args.from_shelf
        )
        print(f"moved from {source} to {done.label}")
    elif args.action == "privacy":
        await shelves.set_privacy(lib, member, args.setting == "public")
        print(f"shelves are {args.setting}")
    elif args.action == "export":
        data = json.dumps(await members.export(lib, member), ensure_ascii=False, indent=2)
        if args.out:
            await asyncio.to_thread(Path(args.out).write_text, data + "\n", encoding="utf-8")
            print(f"wrote {args.out}")
        else:
            print(data)
    else:
        view = await shelves.show(lib, member, args.shelf)
        if args.json:
            print_json({"public": view.public, "stories": [i.to_json() for i in view.items]})
            return 0
        print(f"{view.shelf or 'every shelf'} ({'public' if view.public else 'private'}): {len(view.items)}")
        for n, item in enumerate(view.items, 1):
            bits = [item.label] + ([item.progress() or ""] if item.progress() else [])
            print_hit(item.hit, n, extra=" · ".join(bits))
    return 0


async def _kudos(lib: Library, args: argparse.Namespace) -> int:
    from service import kudos

    story = await _story_id(lib, args.story)
    state = await (kudos.toggle if args.toggle else kudos.give)(lib, args.member, story)
    print(f"{'given' if state.given else 'taken back'}; {state.count} kudos")
    return 0


async def _forget(lib: Library, args: argparse.Namespace) -> int:
    from service import members

    if not args.yes:
        print("forget-me deletes every shelf, kudos and reading place of that member: add --yes to do it")
        return 2
    removed = await members.forget(lib, args.member)
    print(", ".join(f"{table} {n}" for table, n in removed.items()))
    return 0


async def _top(lib: Library, args: argparse.Namespace) -> int:
    from service import top

    result = await top.top(lib, query_from_args(args), period=args.period, limit=args.limit)
    if args.chart:
        from service import charts

        png = await asyncio.to_thread(charts.render_top, result, title=f"Top stories ({result.period})")
        await asyncio.to_thread(Path(args.chart).write_bytes, png)
    if args.json:
        print_json(result.to_json())
        return 0
    if not result.rows:
        print(f"no kudos or shelvings ({result.period})")
    for n, row in enumerate(result.rows, 1):
        print_hit(row.hit, n, extra=f"{row.kudos} kudos · {row.shelved} shelved")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add shelf, kudos, forget-me and top."""
    p = subparsers.add_parser("shelf", help="a member's shelves (as /shelf)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        ("add", "put a story on a shelf (default to-read)"),
        ("remove", "take a story off a shelf (or every shelf)"),
        ("move", "move a story to another shelf"),
        ("show", "list a shelf (or every shelf)"),
        ("privacy", "public or private"),
        ("export", "everything kept about the member, as JSON"),
    ):
        a = actions.add_parser(name, help=text)
        a.add_argument("--member", type=int, required=True, help="the member's Discord id")
        if name in ("add", "remove", "move"):
            a.add_argument("story", help="the story's title or id")
        if name in ("add", "remove", "show"):
            a.add_argument("--shelf", help="to-read, reading, read, favourites, or a member-made name")
        if name == "move":
            a.add_argument("--to", required=True, help="the shelf to move it to")
            a.add_argument("--from", dest="from_shelf", help="the shelf it is on (when on several)")
        if name == "privacy":
            a.add_argument("setting", choices=("public", "private"))
        if name == "export":
            a.add_argument("--out", help="write the JSON to this file")
        if name == "show":
            a.add_argument("--json", action="store_true", help="print JSON")
        a.set_defaults(handler=with_library(_shelf))

    p = subparsers.add_parser("kudos", help="give a member's kudos to a story (as the Kudos button)")
    p.add_argument("story", help="the story's title or id")
    p.add_argument("--member", type=int, required=True, help="the member's Discord id")
    p.add_argument("--toggle", action="store_true", help="take them back when already given (the button)")
    p.set_defaults(handler=with_library(_kudos))

    p = subparsers.add_parser("forget-me", help="delete everything kept about a member (as /forget-me)")
    p.add_argument("--member", type=int, required=True, help="the member's Discord id")
    p.add_argument("--yes", action="store_true", help="really delete")
    p.set_defaults(handler=with_library(_forget))

    p = subparsers.add_parser("top", help="the most-kudos'd and most-shelved stories (as /top)")
    _filters(p)
    p.add_argument("--period", choices=("week", "month", "ever"), default="week")
    p.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    p.add_argument("--chart", metavar="FILE", help="also draw /top's chart into FILE (PNG)")
    p.set_defaults(handler=with_library(_top))
