"""The command line starts at once and speaks in one line: `--help`, `parse` and `sync --help` import
no discord.py, SQLAlchemy or Alembic; every command is listed; a bad setting, a rejected token or an
unreachable Discord is one clear line on stderr (exit 2), never a traceback."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bot
import cli
from settings import ROOT
from tests.sample_archive import TRIO

HEAVY = ("discord", "sqlalchemy", "alembic", "aiosqlite", "numpy")


def imported_modules(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `python -X importtime bot.py ARGS`; the top-level packages it imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(ROOT / "bot.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return done, names


@pytest.mark.parametrize(
    "args",
    [["--help"], ["sync", "--help"], ["search", "--help"], ["parse", str(sorted(TRIO.iterdir())[0])]],
    ids=["help", "sync-help", "search-help", "parse"],
)
def test_help_and_parse_import_nothing_heavy(args: list[str]) -> None:
    done, names = imported_modules(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()
    assert not names & set(HEAVY), f"`bot.py {' '.join(args)}` imported {sorted(names & set(HEAVY))}"


def test_every_command_is_listed_in_help_including_sync(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for name in cli.commands():
        assert f"    {name} " in out, name
    assert {"sync", "index", "parse", "search", "add", "remove", "restore"} <= set(cli.commands())


def test_sync_help_prints_help_and_syncs_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "a-token-that-must-not-be-used")
    with pytest.raises(SystemExit) as done:
        cli.main(["sync", "--help"])
    assert done.value.code == 0
    assert "usage: bot.py sync" in capsys.readouterr().out


@pytest.mark.parametrize(
    "command", [["stats"], ["index"], ["sync"], []], ids=["stats", "index", "sync", "bot"]
)
def test_a_bad_setting_is_one_line_naming_it(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("READ_FOLLOWUPS", "abc")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'never.db'}")
    assert bot.main(command) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "READ_FOLLOWUPS must be a whole number, not 'abc': fix it in .env or the environment, then run again."
    ]
    assert not (tmp_path / "never.db").exists()


LAUNCHER = ROOT / "tests" / "e2e" / "launch_bot.py"


def run_bot_against(port: int, token: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The real bot process, pointed at 127.0.0.1:`port` instead of discord.com."""
    env = {
        **os.environ,
        "DISCORD_TOKEN": token,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'lib.db'}",
        "STORIES_DIR": str(tmp_path / "stories"),
        "INDEX_ON_START": "false",
        "TEST_GUILD_ID": "",
    }
    return subprocess.run(
        [sys.executable, str(LAUNCHER), str(port)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )


def _problem_lines(stderr: str) -> list[str]:
    """stderr without discord.py's own start-up log lines (timestamped `INFO`/`WARNING` records)."""
    lines = (re.sub(r"\x1b\[[0-9;]*m", "", line) for line in stderr.splitlines())
    return [line for line in lines if not re.match(r"\d{4}-\d\d-\d\d \d\d:", line)]


async def test_a_rejected_token_is_one_line(tmp_path: Path) -> None:
    from tests.fakediscord.server import FakeDiscord

    async with FakeDiscord() as fake:
        done = await asyncio.to_thread(run_bot_against, fake.port, "not-" + fake.bot_token, tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert _problem_lines(done.stderr) == [
        "DISCORD_TOKEN was rejected by Discord: check the token in .env, then run again."
    ]


def test_an_unreachable_discord_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on once this closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = run_bot_against(port, "some-token", tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    [line] = _problem_lines(done.stderr)
    assert line.startswith("could not reach Discord (") and "network" in line


def test_sync_without_a_token_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "")
    assert cli.main(["sync"]) == 2
    assert capsys.readouterr().err.splitlines() == [bot.NO_TOKEN]


def test_the_cheap_head_revision_agrees_with_alembic() -> None:
    from alembic.script import ScriptDirectory

    from db.migrate import alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_a_query_on_an_up_to_date_archive_imports_no_alembic_or_discord(tmp_path: Path) -> None:
    db = tmp_path / "lib.db"
    first, names = imported_modules("--db", str(db), "index", str(TRIO), "--quiet")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "alembic" in names  # a new database is migrated by Alembic itself
    done, names = imported_modules("--db", str(db), "search", "--text", "rain", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"title"' in done.stdout
    assert not names & {"alembic", "discord"}, sorted(names & {"alembic", "discord"})
