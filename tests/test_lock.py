"""Reproducible installs: every dependency `pyproject.toml` names (runtime and dev) is pinned to one
exact version in `requirements-dev.lock` (runtime ones in `requirements.lock` too), which is what
`make install` installs. A dependency added without `make lock` fails here, not on a fresh machine."""

from __future__ import annotations

import re
import tomllib

from settings import ROOT


def _name(requirement: str) -> str:
    return (
        re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0]
        .lower()
        .replace("_", "-")
        .replace(".", "-")
    )


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text(encoding="utf-8")
    return {
        m.group(1).lower().replace("_", "-").replace(".", "-"): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, re.M)
    }


def test_every_dependency_is_pinned_in_the_lock_files() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    dev = {_name(r) for r in project["optional-dependencies"]["dev"]}
    locked, locked_runtime = _pins("requirements-dev.lock"), _pins("requirements.lock")
    assert not (runtime | dev) - set(locked), (
        f"not in requirements-dev.lock (run make lock): {sorted((runtime | dev) - set(locked))}"
    )
    assert not runtime - set(locked_runtime), (
        f"not in requirements.lock: {sorted(runtime - set(locked_runtime))}"
    )
    assert all(locked[name] == version for name, version in locked_runtime.items()), (
        "the two lock files disagree"
    )
    ruff = next(r for r in project["optional-dependencies"]["dev"] if _name(r) == "ruff")
    assert "==" in ruff and locked["ruff"] == ruff.split("==")[1].split()[0], "ruff is pinned, and as locked"
