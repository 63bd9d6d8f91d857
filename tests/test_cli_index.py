"""`bot.py parse` and `bot.py index` as the host runs them: real subprocesses, real files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from archive.model import JSON_KEYS
from settings import ROOT
from tests.conftest import SAMPLES_DIR as SAMPLES
from tests.conftest import SEEDS_DIR, need


def bot(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_parse_json_has_exactly_the_interface_keys_and_needs_no_database(tmp_path: Path) -> None:
    seeds = sorted(need(SEEDS_DIR).iterdir())
    db_file = tmp_path / "never.db"
    many = bot("--db", db_file, "parse", SEEDS_DIR, "--json")
    assert many.returncode == 0, many.stderr
    stories = json.loads(many.stdout)
    assert isinstance(stories, list) and len(stories) == len(seeds)
    for story, seed in zip(stories, seeds, strict=True):
        assert tuple(story) == JSON_KEYS
        assert story["path"].endswith(seed.name)
        assert story["title"] and story["opening"]
    one = bot("--db", db_file, "parse", seeds[0], "--json")
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout) == stories[0]
    assert not db_file.exists()


def test_parse_card_is_readable(tmp_path: Path) -> None:
    seed = sorted(need(SEEDS_DIR).iterdir())[0]
    data = json.loads(bot("parse", seed, "--json").stdout)
    card = bot("parse", seed)
    assert card.returncode == 0, card.stderr
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
        assert label in card.stdout
    assert data["title"] in card.stdout
    assert f"({data['rating']['level']})" in card.stdout
    for character in data["characters"]:
        assert f"{character['name']} [{character['source']}" in card.stdout
    assert data["opening"].splitlines()[0] in card.stdout
    missing = bot("parse", tmp_path / "nope.txt")
    assert missing.returncode == 1 and "nope.txt" in missing.stderr


def test_index_prints_a_summary_with_failure_reasons(tmp_path: Path) -> None:
    stories = tmp_path / "stories"
    shutil.copytree(need(SEEDS_DIR), stories / "seeds")
    (stories / "blank.txt").write_bytes(b"")
    db_file = tmp_path / "data" / "lib.db"

    first = bot("--db", db_file, "index", stories, "--quiet")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    n = len(list(SEEDS_DIR.iterdir()))
    for line in (f"added: {n}", "updated: 0", "unchanged: 0", "removed: 0", "failed: 1"):
        assert line in lines
    assert any(line.strip().startswith("blank.txt: ") and "empty" in line for line in lines)

    second = bot("--db", db_file, "--stories", stories, "index", "--quiet")
    assert second.returncode == 0, second.stderr
    assert "added: 0" in second.stdout.splitlines() and f"unchanged: {n}" in second.stdout.splitlines()

    missing = bot("--db", db_file, "index", tmp_path / "nowhere")
    assert missing.returncode == 1 and "nowhere" in missing.stderr


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
