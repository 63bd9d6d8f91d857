"""The bundled test archive itself: every file parses cleanly, every format the parser reads is
there, and it holds what the cog and service tests count on (SFW and gated stories, several fandoms,
a story long enough to read in parts). A careless edit of `tests/archive/` fails here, in one report."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from archive.parse import is_unreadable, parse_story
from archive.roster import Roster
from tests.conftest import ROSTER_FILE
from tests.sample_archive import FACTS, build

FORMATS = {
    "mailing-list",
    "headerless",
    "fanficfare-txt",
    "ffnet",
    "ao3-html",
    "ao3-epub",
    "archive-html",
    "yaml-markdown",
}


@pytest.fixture(scope="module")
def metas(tmp_path_factory: pytest.TempPathFactory) -> list:
    root = build(tmp_path_factory.mktemp("sample") / "stories")
    roster = Roster.load(ROSTER_FILE)
    return [
        parse_story(p.read_bytes(), p.relative_to(root).as_posix(), roster)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    ]


def test_every_story_parses_cleanly(metas: list) -> None:
    report = []
    for meta in metas:
        if is_unreadable(meta):
            report.append(f"{meta.path}: unreadable {meta.problems}")
        report += [f"{meta.path}: {p}" for p in meta.problems]
        if meta.title.startswith("Untitled"):
            report.append(f"{meta.path}: no title found")
        if meta.words < 150:
            report.append(f"{meta.path}: only {meta.words} words")
    assert not report, "test archive files with problems:\n  " + "\n  ".join(report)


def test_every_format_both_audiences_and_several_fandoms_are_there(metas: list) -> None:
    assert {m.format for m in metas} >= FORMATS
    levels = Counter(m.rating.level for m in metas)
    assert levels["general"] >= 5 and levels["teen"] >= 5
    assert levels["mature"] >= 3 and levels["explicit"] >= len(FACTS["explicit"]) and levels["not_rated"] >= 1
    fandoms = " ".join(f for m in metas for f in m.fandoms)
    for fandom in FACTS["fandoms"]:
        assert fandom in fandoms
    assert {m.title for m in metas if m.rating.level == "explicit"} == set(FACTS["explicit"])
    longest = max((m for m in metas if m.rating.level == "general"), key=lambda m: m.words)
    assert longest.title == FACTS["longest_general"] and longest.words > 1200
    assert len({m.title for m in metas}) == FACTS["stories"] - 1  # one story is in two parts


def test_the_epubs_are_built_not_committed() -> None:
    assert not list(Path(__file__).parent.joinpath("archive").rglob("*.epub"))
