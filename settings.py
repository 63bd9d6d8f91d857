"""Librarian's settings: read once from the environment (and `.env`) into one typed object.

Owns the names and defaults of every setting. It must not connect to anything or import Discord;
everything else receives a `Settings` instead of reading the environment itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent


class SettingsError(ValueError):
    """A setting has a value Librarian cannot use; the message names the setting."""

    def advice(self) -> str:
        """The one line a host sees: what is wrong and where to fix it."""
        return f"{self}: fix it in .env or the environment, then run again."


def _int(
    env: dict[str, str], name: str, default: int | None, *, minimum: int | None = None, hint: str = ""
) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from exc
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {raw!r}{hint}")
    return value


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _shards(env: dict[str, str]) -> tuple[int | None, tuple[int, ...] | None]:
    """SHARD_COUNT (how many shards the bot has in all) and SHARD_IDS (which of them this process
    runs, comma-separated; default: all of them)."""
    count = _int(env, "SHARD_COUNT", None)
    raw = env.get("SHARD_IDS", "").strip()
    if count is None:
        if raw:
            raise SettingsError("SHARD_IDS needs SHARD_COUNT (how many shards there are in all)")
        return None, None
    if count < 1:
        raise SettingsError(f"SHARD_COUNT must be at least 1, not {count}")
    if not raw:
        return count, None
    try:
        ids = tuple(dict.fromkeys(int(part) for part in raw.replace(" ", "").split(",") if part))
    except ValueError as exc:
        raise SettingsError(f"SHARD_IDS must be whole numbers separated by commas, not {raw!r}") from exc
    wrong = [i for i in ids if not 0 <= i < count]
    if wrong or not ids:
        raise SettingsError(f"SHARD_IDS must be between 0 and {count - 1} (SHARD_COUNT={count}), not {raw!r}")
    return count, ids


def _path(env: dict[str, str], name: str, default: Path) -> Path:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    path = Path(raw).expanduser()
    return path if path.is_absolute() else ROOT / path


def _guild_ids(env: dict[str, str], name: str) -> frozenset[int]:
    raw = env.get(name, "").replace(",", " ").split()
    try:
        return frozenset(int(part) for part in raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be server ids separated by commas, not {env[name]!r}") from exc


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting Librarian has, with its default. See `.env.example` for the words."""

    discord_token: str | None = None
    database_url: str = f"sqlite+aiosqlite:///{ROOT / 'data' / 'librarian.db'}"
    stories_dir: Path = ROOT / "stories"
    removed_dir: Path = ROOT / "data" / "removed"
    uploads_dir: Path = ROOT / "data" / "uploads"
    data_dir: Path = ROOT / "data"  # what the database, removed/ and uploads/ default to (DATA_DIR)
    home_guild_ids: frozenset[int] = frozenset()  # the servers that may curate (empty: the only one)
    roster_file: Path = ROOT / "fandoms" / "buffyverse.yaml"
    test_guild_id: int | None = None
    mod_role: str | None = None
    read_followups: int = 2
    upload_max_bytes: int = 2 * 1024 * 1024
    adds_per_day: int = 10
    index_on_start: bool = True
    log_level: str = "INFO"
    dailyrec_tick_seconds: int = 30
    fake_now_file: Path | None = None  # TEST HOOK: the bot's clock reads "now" from this file
    shard_count: int | None = None  # None: one process, Discord's recommended shards
    shard_ids: tuple[int, ...] | None = None  # the shards this process runs (None: all)
    crash_at: str | None = None  # TEST HOOK: the process SIGKILLs itself at this named point
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, *, dotenv: bool = True) -> Settings:
        """Read the settings from `env` (default: the process environment, after loading `.env`)."""
        if env is None:
            if dotenv:
                load_dotenv(ROOT / ".env", override=False)
            env = dict(os.environ)
        d = cls()  # every default is written once, on the fields above
        data_dir = _path(env, "DATA_DIR", d.data_dir)
        moved = data_dir != d.data_dir  # DATA_DIR moves the three below unless each is pinned
        default_db = f"sqlite+aiosqlite:///{data_dir / 'librarian.db'}" if moved else d.database_url
        database_url = env.get("DATABASE_URL", "").strip() or default_db
        if database_url.startswith("sqlite") and ":///" in database_url:
            # Relative SQLite paths are relative to the project, not to the working directory.
            prefix, _, file = database_url.partition(":///")
            if file and not file.startswith("/") and file != ":memory:":
                database_url = f"{prefix}:///{ROOT / file}"
        fake_now = env.get("LIBRARIAN_FAKE_NOW_FILE", "").strip()
        shard_count, shard_ids = _shards(env)
        return cls(
            discord_token=env.get("DISCORD_TOKEN", "").strip() or d.discord_token,
            database_url=database_url,
            stories_dir=_path(env, "STORIES_DIR", d.stories_dir),
            removed_dir=_path(env, "REMOVED_DIR", data_dir / "removed" if moved else d.removed_dir),
            uploads_dir=_path(env, "UPLOADS_DIR", data_dir / "uploads" if moved else d.uploads_dir),
            data_dir=data_dir,
            home_guild_ids=_guild_ids(env, "HOME_GUILD_IDS"),
            roster_file=_path(env, "ROSTER_FILE", d.roster_file),
            test_guild_id=_int(env, "TEST_GUILD_ID", d.test_guild_id, minimum=1),
            mod_role=env.get("MOD_ROLE", "").strip() or d.mod_role,
            read_followups=_int(env, "READ_FOLLOWUPS", d.read_followups, minimum=0),
            # 0 is refused, not read as "no limit" or "the default": members' uploads stop with ADDS_PER_DAY=0.
            upload_max_bytes=_int(
                env,
                "UPLOAD_MAX_BYTES",
                d.upload_max_bytes,
                minimum=1,
                hint=" (a size in bytes; to stop members' uploads set ADDS_PER_DAY=0)",
            ),
            adds_per_day=_int(env, "ADDS_PER_DAY", d.adds_per_day, minimum=0),
            index_on_start=_bool(env, "INDEX_ON_START", d.index_on_start),
            log_level=(env.get("LOG_LEVEL", "").strip() or d.log_level).upper(),
            dailyrec_tick_seconds=_int(env, "DAILYREC_TICK_SECONDS", d.dailyrec_tick_seconds, minimum=1),
            fake_now_file=_path(env, "LIBRARIAN_FAKE_NOW_FILE", ROOT) if fake_now else d.fake_now_file,
            shard_count=shard_count,
            shard_ids=shard_ids,
            crash_at=env.get("LIBRARIAN_CRASH_AT", "").strip() or d.crash_at,
        )

    def owns_guild(self, guild_id: int) -> bool:
        """Whether this process runs the shard `guild_id` is on (always, unless SHARD_IDS is set)."""
        if self.shard_count is None or self.shard_ids is None:
            return True
        return shard_of(guild_id, self.shard_count) in self.shard_ids

    def with_(self, **changes: object) -> Settings:
        """A copy with some settings changed (tests and the CLI's `--db`/`--stories` flags)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard a guild's events arrive on (Discord's rule: (guild_id >> 22) % shard_count)."""
    return (guild_id >> 22) % shard_count
