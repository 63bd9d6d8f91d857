"""Settings: an empty environment gives exactly the defaults, a bad value is refused with its name,
0 bytes of upload is refused (not silently 2 MiB), and the README table, `.env.example` and what
`Settings.from_env` reads list the same settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from settings import ROOT, Settings, SettingsError


class Recorder(dict[str, str]):
    """An environment that remembers every name the settings asked for."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        super().__init__(values or {})
        self.asked: set[str] = set()

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)


def test_an_empty_environment_gives_the_defaults() -> None:
    assert Settings.from_env({}, dotenv=False) == Settings()


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("READ_FOLLOWUPS", "abc", "READ_FOLLOWUPS must be a whole number, not 'abc'"),
        ("READ_FOLLOWUPS", "-1", "READ_FOLLOWUPS must be at least 0"),
        ("UPLOAD_MAX_BYTES", "0", "UPLOAD_MAX_BYTES must be at least 1, not '0' (a size in bytes; to stop"),
        ("UPLOAD_MAX_BYTES", "2MB", "UPLOAD_MAX_BYTES must be a whole number"),
        ("ADDS_PER_DAY", "-3", "ADDS_PER_DAY must be at least 0"),
        ("DAILYREC_TICK_SECONDS", "0", "DAILYREC_TICK_SECONDS must be at least 1"),
        ("INDEX_ON_START", "maybe", "INDEX_ON_START must be true or false, not 'maybe'"),
        ("TEST_GUILD_ID", "my-server", "TEST_GUILD_ID must be a whole number"),
    ],
)
def test_a_bad_value_is_refused_naming_the_setting(name: str, value: str, words: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: value}, dotenv=False)
    assert str(caught.value).startswith(words)
    assert caught.value.advice().endswith("fix it in .env or the environment, then run again.")


def test_zero_is_taken_at_its_word_where_it_means_something() -> None:
    settings = Settings.from_env({"READ_FOLLOWUPS": "0", "ADDS_PER_DAY": "0"}, dotenv=False)
    assert settings.read_followups == 0 and settings.adds_per_day == 0
    assert Settings.from_env({"UPLOAD_MAX_BYTES": "1"}, dotenv=False).upload_max_bytes == 1


def test_relative_paths_are_relative_to_the_project(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "STORIES_DIR": "elsewhere/fic",
            "DATABASE_URL": "sqlite+aiosqlite:///x/lib.db",
            "REMOVED_DIR": str(tmp_path),
        },
        dotenv=False,
    )
    assert settings.stories_dir == ROOT / "elsewhere" / "fic"
    assert settings.database_url == f"sqlite+aiosqlite:///{ROOT / 'x' / 'lib.db'}"
    assert settings.removed_dir == tmp_path


def _example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.M))


def test_env_example_lists_every_setting_read() -> None:
    env = Recorder()
    Settings.from_env(env, dotenv=False)
    assert env.asked == _example_names()


def test_readme_table_lists_every_setting_in_env_example() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme, re.M))
    missing = _example_names() - table
    assert not missing, f"README's settings table lacks {sorted(missing)}"
