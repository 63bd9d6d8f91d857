"""Every shipped data file loads and every bundled story parses cleanly; on failure, ONE combined report
lists everything wrong (bad roster entries, stories with problems), so a host editing data sees it all."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.parse import is_unreadable, parse_story
from archive.roster import Roster, RosterError
from service.tags import TAGS_FILE, TagFileError, load_synonyms
from settings import ROOT
from tests.conftest import ROSTER_FILE, SAMPLES_DIR

FANDOMS_DIR = ROOT / "fandoms"


def roster_problems(path: Path) -> list[str]:
    try:
        roster = Roster.load(path)
    except RosterError as exc:
        return [f"{path.name}: {problem}" for problem in exc.problems]
    problems = []
    if len(roster.names) < 2:
        problems.append(f"{path.name}: a roster needs characters")
    for name in roster.names:
        if roster.resolve(name) != name:
            problems.append(f"{path.name}: {name!r} does not resolve to itself")
    return problems


def story_problems(path: Path, roster: Roster, root: Path = SAMPLES_DIR) -> list[str]:
    where = path.relative_to(root)
    meta = parse_story(path.read_bytes(), str(path), roster)
    problems = [f"{where}: {p}" for p in meta.problems]
    if is_unreadable(meta):
        return problems or [f"{where}: unreadable"]
    if meta.title.startswith("Untitled"):
        problems.append(f"{where}: no title found")
    if meta.words < 100:
        problems.append(f"{where}: only {meta.words} words of story text")
    if not meta.characters:
        problems.append(f"{where}: names no character of the {roster.fandom} roster")
    return problems


def tag_file_problems(path: Path) -> list[str]:
    try:
        synonyms = load_synonyms(path)
    except TagFileError as exc:
        return [f"{path.name}: {problem}" for problem in exc.problems]
    return [] if synonyms.of else [f"{path.name}: no synonyms"]


def test_every_data_file_and_story_is_clean() -> None:
    roster_files = sorted(p for p in FANDOMS_DIR.glob("*.yaml") if p.name != TAGS_FILE)
    assert ROSTER_FILE in roster_files
    report = [p for path in roster_files for p in roster_problems(path)]
    report += tag_file_problems(FANDOMS_DIR / TAGS_FILE)
    stories = sorted(p for p in SAMPLES_DIR.rglob("*") if p.is_file() and not p.name.startswith("."))
    assert stories, "stories/ should hold the bundled sample stories"
    if not any(p.startswith(ROSTER_FILE.name) for p in report):
        roster = Roster.load(ROSTER_FILE)
        report.extend(p for path in stories for p in story_problems(path, roster))
    assert not report, "data files with problems:\n  " + "\n  ".join(report)


# -- the checker itself finds what a careless edit breaks ---------------------------------------------------


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("name: X\ncharacters:\n  Ann Lee: [Red]\n  Bo Tam: [Red]\n", "also means 'Ann Lee'"),
        (
            "name: X\ncharacters:\n  Ann Lee: [Annie]\n  Bo Tam: null\nships:\n  Annbo: [Ann Lee, Cy]\n",
            "'Cy'",
        ),
        ("name: X\ncolor: red\ncharacters:\n  Ann Lee: null\n  Bo Tam: null\n", "unknown key 'color'"),
        ("name: X\ncharacters:\n  Ann Lee: {alias: [A]}\n  Bo Tam: null\n", "unknown key 'alias'"),
        ("name: X\ncharacters:\n  Ann Lee: null\n  Ann Lee: [Annie]\n", "written twice"),
        ("name: X\ncharacters:\n  Ann Lee: [annie]\n  Bo Tam: null\n", "capital letter"),
        ("name: X\ncharacters: [Ann, Bo]\n", "mapping"),
    ],
)
def test_roster_checker_reports_bad_entries(tmp_path: Path, yaml_text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    problems = roster_problems(path)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("bad.yaml: ") for p in problems)


def test_story_checker_reports_a_broken_story(tmp_path: Path) -> None:
    roster = Roster.load(ROSTER_FILE)
    broken = tmp_path / "broken.epub"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    short = tmp_path / "short.txt"
    short.write_text("Title: Short\n\nA line or two.\n", encoding="utf-8")
    assert story_problems(broken, roster, tmp_path)[0].startswith("broken.epub: ")
    assert any("words" in p for p in story_problems(short, roster, tmp_path))


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("synonyms:\n  angst: [sad]\n  drama: [sad]\n", "already means 'angst'"),
        ("synonyms:\n  angst: sad\n", "expected a list"),
        ("tags:\n  angst: [sad]\n", "one key"),
    ],
)
def test_tag_file_checker_reports_bad_entries(tmp_path: Path, yaml_text: str, expected: str) -> None:
    path = tmp_path / TAGS_FILE
    path.write_text(yaml_text, encoding="utf-8")
    assert any(expected in p for p in tag_file_problems(path))
