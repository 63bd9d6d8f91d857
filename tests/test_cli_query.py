"""The query CLI (`search`, `title`, `excerpt`, `rec`, `similar`, `stats`): same answers as the
service, the JSON interface keys exactly, plain errors on stderr with exit code 1."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import cli.query
from service.archive_stats import top_pairings
from service.hits import HIT_KEYS
from service.query import SearchQuery
from service.search import search
from service.stories import excerpt
from settings import ROOT
from tests.conftest import ROSTER_FILE
from tests.test_search import Mini
from tests.test_search import mini as mini


def _parser() -> argparse.ArgumentParser:
    """The global flags plus this module's commands (the other command modules are not needed)."""
    parser = argparse.ArgumentParser(prog="bot.py")
    parser.add_argument("--db")
    parser.add_argument("--stories")
    parser.add_argument("--roster")
    cli.query.register(parser.add_subparsers(dest="command"))
    return parser


async def run(lib: Any, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    url = lib.settings.database_url
    db = url.split(":///", 1)[1] if url.startswith("sqlite") else url  # a bare file path, or a URL
    args = _parser().parse_args(["--db", db, "--roster", str(ROSTER_FILE), *argv])
    code = await args.handler(args)
    out, err = capsys.readouterr()
    return code, out, err


async def test_search_json_matches_the_service(mini: Mini, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = await run(mini.lib, capsys, "search", "--pairing", "W/S", "--sort", "title", "--json")
    assert code == 0
    printed = json.loads(out)
    expected = await search(mini.lib, SearchQuery(pairings=["Spike/Willow"], sort="title"))
    assert printed == [h.to_json() for h in expected.hits]
    assert all(tuple(item) == HIT_KEYS for item in printed)


async def test_search_readable_output_and_flags(mini: Mini, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await run(
        mini.lib, capsys, "search", "--character", "wilow", "--not-character", "Spike", "--max-rating", "teen"
    )
    assert code == 0
    assert "wilow → Willow Rosenberg" in out and "2 stories" in out
    assert "Library Dust" in out and "Witchy Women" in out and "Red Thread" not in out
    code, out, _ = await run(
        mini.lib, capsys, "search", "--tag", "angst", "--wip", "--words-min", "4000", "--json"
    )
    assert [h["title"] for h in json.loads(out)] == ["Three's Company"]


async def test_search_explains_an_empty_list(mini: Mini, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await run(mini.lib, capsys, "search", "--pairing", "Spillow", "--rating", "general")
    assert code == 0 and "without the rating filter" in out


async def test_errors_go_to_stderr_with_suggestions(mini: Mini, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = await run(mini.lib, capsys, "search", "--character", "Gilez Rupurt", "--json")
    assert code == 1 and out == ""
    assert "Gilez Rupurt" in err and "Did you mean" in err and "Rupert Giles" in err
    code, _, err = await run(mini.lib, capsys, "excerpt", "zqxj vvkw pplm")
    assert code == 1 and err
    code, out, _ = await run(mini.lib, capsys, "title", "zqxj vvkw pplm")  # no such story: "no"
    assert code == 1 and "No story title matches 'zqxj vvkw pplm'." in out


async def test_title_excerpt_similar_rec_stats(mini: Mini, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await run(mini.lib, capsys, "title", "red thred", "--json")
    assert code == 0 and json.loads(out)[0]["id"] == mini.ids["A"]

    code, out, _ = await run(mini.lib, capsys, "excerpt", "Red Thread", "--chunk", "2", "--json")
    chunks = await excerpt(mini.lib, mini.ids["A"])
    data = json.loads(out)
    assert code == 0 and data["text"] == chunks[1].text and data["total"] == len(chunks)

    code, out, _ = await run(mini.lib, capsys, "similar", "Library Dust", "--json")
    assert code == 0 and json.loads(out)[0]["id"] == mini.ids["E"]
    code, out, _ = await run(mini.lib, capsys, "similar", "Library Dust")
    assert "why: also Tara Maclay/Willow Rosenberg" in out

    code, out, _ = await run(mini.lib, capsys, "rec", "--pairing", "Spillow", "--json")
    picked = json.loads(out)
    assert code == 0 and tuple(picked) == HIT_KEYS
    assert picked["id"] in {mini.ids[x] for x in "ABC"}

    code, out, _ = await run(mini.lib, capsys, "stats", "--json")
    data = json.loads(out)
    assert data["stories"] == 11 and data["top_pairings"]["Spike/Willow Rosenberg"] == 3
    code, out, _ = await run(mini.lib, capsys, "stats")
    assert "11 stories" in out


async def test_real_archive_cli_agrees_with_service(
    any_archive: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, _n in await top_pairings(any_archive, 3):
        code, out, _ = await run(
            any_archive, capsys, "search", "--pairing", key, "--per-page", "10", "--json"
        )
        expected = await search(any_archive, SearchQuery(pairings=[key], per_page=10))
        assert code == 0 and json.loads(out) == [h.to_json() for h in expected.hits]


def test_bot_entry_point_runs_search(tmp_path: Path) -> None:
    """The real `python bot.py search` process, when every CLI module is in place."""
    db = tmp_path / "empty.db"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "--db", str(db), "search", "--character", "Gilez Rupurt"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 1 and "Rupert Giles" in proc.stderr
