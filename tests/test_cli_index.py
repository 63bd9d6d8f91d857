"""`bot.py parse` and `bot.py index` as the host runs them: real subprocesses, real files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import cli
from archive.model import JSON_KEYS
from settings import ROOT
from tests.conftest import SAMPLES_DIR as SAMPLES
from tests.sample_archive import TRIO


def bot(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """`bot.py ARGS` run in this process (the same `cli.main` the script calls): code, stdout, stderr."""
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_parse_json_has_exactly_the_interface_keys_and_needs_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = sorted(TRIO.iterdir())
    db_file = tmp_path / "never.db"
    code, out, err = bot(capsys, "--db", db_file, "parse", TRIO, "--json")
    assert code == 0, err
    stories = json.loads(out)
    assert isinstance(stories, list) and len(stories) == len(files)
    for story, file in zip(stories, files, strict=True):
        assert tuple(story) == JSON_KEYS
        assert story["path"].endswith(file.name)
        assert story["title"] and story["opening"]
    code, out, err = bot(capsys, "--db", db_file, "parse", files[0], "--json")
    assert code == 0, err
    assert json.loads(out) == stories[0]
    assert not db_file.exists()


def test_parse_card_is_readable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    story = sorted(TRIO.iterdir())[0]
    data = json.loads(bot(capsys, "parse", story, "--json")[1])
    code, card, err = bot(capsys, "parse", story)
    assert code == 0, err
    for label in (
        "Title:",
        "Author:",
        "Rating:",
        "Relationships:",
        "Characters:",
        "Tags:",
        "Series:",
        "Words:",
    ):
        assert label in card
    assert data["title"] in card
    assert f"({data['rating']['level']})" in card
    for character in data["characters"]:
        assert f"{character['name']} [{character['source']}" in card
    assert data["opening"].splitlines()[0] in card
    code, _, err = bot(capsys, "parse", tmp_path / "nope.txt")
    assert code == 1 and "nope.txt" in err


def test_index_prints_a_summary_with_failure_reasons_and_exits_1_when_files_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stories = tmp_path / "stories"
    shutil.copytree(TRIO, stories / "trio")
    (stories / "blank.txt").write_bytes(b"")
    db_file = tmp_path / "data" / "lib.db"

    code, out, err = bot(capsys, "--db", db_file, "index", stories, "--quiet")
    assert code == 1, err  # the run finished, but a file failed
    lines = out.splitlines()
    n = len(list(TRIO.iterdir()))
    for line in (f"added: {n}", "updated: 0", "unchanged: 0", "removed: 0", "failed: 1"):
        assert line in lines
    assert any(line.strip().startswith("blank.txt: ") and "empty" in line for line in lines)

    (stories / "blank.txt").unlink()
    code, out, err = bot(capsys, "--db", db_file, "--stories", stories, "index", "--quiet")
    assert code == 0, err
    assert "added: 0" in out.splitlines() and f"unchanged: {n}" in out.splitlines()

    code, _, err = bot(capsys, "--db", db_file, "index", tmp_path / "nowhere")
    assert code == 2 and "nowhere" in err


def test_index_json_reports_every_outcome(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stories = tmp_path / "stories"
    shutil.copytree(TRIO, stories / "trio")
    (stories / "blank.txt").write_bytes(b"")
    code, out, _ = bot(capsys, "--db", tmp_path / "lib.db", "--stories", stories, "index", stories, "--json")
    report = json.loads(out)
    assert code == 1
    assert list(report) == [
        "added",
        "updated",
        "unchanged",
        "removed",
        "failed",
        "skipped",
        "same_work",
        "returned",
        "held_back",
        "stopped",
        "notes",
        "seconds",
        "bytes_parsed",
        "ranked_words",
        "ranked_pairs",
    ]
    assert report["added"] == sorted(f"trio/{p.name}" for p in TRIO.iterdir())
    assert [f["path"] for f in report["failed"]] == ["blank.txt"] and "empty" in report["failed"][0]["reason"]
    (stories / "trio" / sorted(TRIO.iterdir())[0].name).unlink()
    (stories / "blank.txt").unlink()
    code, out, _ = bot(capsys, "--db", tmp_path / "lib.db", "--stories", stories, "index", "--json")
    report = json.loads(out)
    assert code == 0 and report["removed"] == [f"trio/{sorted(TRIO.iterdir())[0].name}"]
    assert report["unchanged"] == 2 and report["failed"] == []


def test_a_reader_that_leaves_early_is_not_an_error() -> None:
    """`bot.py parse --json … | head -1`: the closed pipe ends the command quietly, no traceback."""
    files = sorted(str(p) for p in SAMPLES.rglob("*") if p.is_file())
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bot.py"), "parse", *files, "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first byte is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_index_of_an_empty_folder_or_a_mass_removal_removes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 11: `index` of an empty folder printed `removed: N`; a mass removal went ahead unasked."""
    from tests.test_index_identity import write_stories

    stories = tmp_path / "stories"
    files = write_stories(stories, 30)
    db = tmp_path / "lib.db"
    assert bot(capsys, "--db", db, "--stories", stories, "index", "--quiet")[0] == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, _ = bot(capsys, "--db", db, "--stories", empty, "index", "--quiet")
    assert code == 0 and "removed: 0" in out and "nothing was removed" in out
    for file in files[:25]:
        file.unlink()
    code, out, err = bot(capsys, "--db", db, "--stories", stories, "index", "--quiet")
    assert code == 3 and "removed: 0" in out and "--prune" in err
    code, out, _ = bot(capsys, "--db", db, "--stories", stories, "index", "--quiet", "--prune")
    assert code == 0 and "removed: 25" in out
