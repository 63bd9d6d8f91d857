"""The benchmark never rots: the smoke run produces every row of the table with a figure, and the
synthetic archive generator is deterministic and writes files the real parser and indexer read back
as generated (title, rating level, relationships).

Owns the checks on `bench/`. No timing assertions: speed is what BENCHMARKS.md reports, not what
tests enforce.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from bench import gen_corpus
from settings import ROOT
from tests.conftest import make_settings

# Every measure the table must carry (prefixes of the "Measure" column), by section.
EXPECTED_ROWS = {
    "Index": ["full build", "re-index, archive unchanged", "peak memory during build"],
    "Queries": [
        "character",
        "pairing",
        "rating ceiling",
        "tag",
        "combined filters",
        "full-text, single word",
        "full-text, common word",
        "full-text, phrase, 2 words",
        "full-text, phrase, 3 words",
        "full-text, boolean",
        "result sets vs reference",
        "title find, misspelt",
        "rec, one character",
        "similar",
        "excerpt chunking, longest story",
        "title autocomplete",
        "title find vs full scan",
    ],
    "Bot": [
        "start to ready",
        "ack /search character",
        "ack /search text",
        "ack /fic",
        "ack /read",
        "ack /rec",
        "ack /stats",
        "ack /pairings",
        "ack title autocomplete",
        "resident memory",
    ],
}
BASELINE_ROWS = (
    "tag",
    "full-text, single word",
    "title find, misspelt",
    "title find vs full scan",
    "re-index",
)


def _relationship_keys(rels: list[dict]) -> list[tuple[str, str]]:
    return sorted(
        ((" & " if r["kind"] == "platonic" else "/").join(sorted(r["characters"])), r["kind"]) for r in rels
    )


def test_generator_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    one = gen_corpus.generate(tmp_path / "one", 60, seed=7, workers=2)
    two = gen_corpus.generate(tmp_path / "two", 60, seed=7, workers=1)
    other = gen_corpus.generate(tmp_path / "other", 60, seed=8, workers=1)
    files_one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    files_two = sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*") if p.is_file())
    assert files_one == files_two
    for rel in files_one:
        if rel.name != gen_corpus.INFO:  # the info file records the run's duration
            assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes(), rel
    assert one.bytes == two.bytes and one.formats == two.formats
    assert gen_corpus.read_manifest(tmp_path / "one") != gen_corpus.read_manifest(tmp_path / "other")
    assert other.stories == 60


def test_generated_archive_has_realistic_shape(tmp_path: Path) -> None:
    report = gen_corpus.generate(tmp_path / "a", 400, seed=2)
    manifest = gen_corpus.read_manifest(tmp_path / "a")
    assert len(manifest) == 400 == report.stories
    assert {"mailing-list", "ao3-html", "yaml-markdown", "ffnet", "fanficfare-txt"} <= set(report.formats)
    assert report.formats["mailing-list"] + report.formats["ao3-html"] > 400 / 2  # mostly those two
    words = sorted(m["words"] for m in manifest)
    assert words[len(words) // 2] < 5_000 < words[-1]  # a short median and a long tail
    titles = [m["title"] for m in manifest if m["title"]]
    assert len(set(titles)) > 0.9 * len(titles)
    levels = {m["level"] for m in manifest}
    assert {"general", "teen", "mature", "explicit"} <= levels


async def test_generated_files_index_as_generated(tmp_path: Path) -> None:
    from db.models import Story, StoryRelationship
    from service.indexer import index_directory
    from service.library import Library

    archive = tmp_path / "stories"
    gen_corpus.generate(archive, 150, seed=11)
    manifest = {m["path"]: m for m in gen_corpus.read_manifest(archive)}
    lib = await Library.open(make_settings(tmp_path, stories_dir=archive))
    try:
        report = await index_directory(lib)
        assert report.failed == []
        assert sorted(report.added) == sorted(manifest)
        async with lib.sessions() as session:
            stories = {s.path: s for s in (await session.scalars(select(Story))).all()}
            rels: dict[int, list[tuple[str, str]]] = {}
            for r in (await session.scalars(select(StoryRelationship))).all():
                rels.setdefault(r.story_id, []).append((r.key, r.kind))
    finally:
        await lib.close()
    wrong = []
    for path, want in manifest.items():
        got = stories[path]
        if want["title"] is not None and got.title != want["title"]:
            wrong.append(f"{path}: title {got.title!r}, generated {want['title']!r}")
        if got.rating_level != want["level"]:
            wrong.append(f"{path}: rating {got.rating_level} ({got.rating_raw!r}), generated {want['level']}")
        if sorted(rels.get(got.id, [])) != _relationship_keys(want["relationships"]):
            wrong.append(
                f"{path}: relationships {sorted(rels.get(got.id, []))}, generated {want['relationships']}"
            )
    assert not wrong, f"{len(wrong)} mismatches:\n" + "\n".join(wrong[:30])


def test_smoke_benchmark_fills_every_row(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,  # under pytest-timeout's 600 s, so a slow run fails here with the bench's output
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "results-300-smoke.json").read_text(encoding="utf-8"))
    rows = result["rows"]
    markdown = (tmp_path / "results-300-smoke.md").read_text(encoding="utf-8")
    assert markdown.count("\n| ") == len(rows) + 1  # header + one line per row, printed once
    assert done.stdout.count("| Section |") == 1
    problems = []
    for section, measures in EXPECTED_ROWS.items():
        for measure in measures:
            found = [r for r in rows if r["section"] == section and r["measure"].startswith(measure)]
            if not found:
                problems.append(f"{section} / {measure}: row missing")
            elif found[0]["figure"].startswith("not measured") or not re.search(r"\d", found[0]["figure"]):
                problems.append(f"{section} / {measure}: {found[0]['figure']}")
            elif found[0]["target"] and found[0]["result"] not in ("pass", "miss", "judged at 50k only"):
                problems.append(f"{section} / {measure}: target without a verdict")
    for measure in BASELINE_ROWS:
        row = next((r for r in rows if r["measure"].startswith(measure)), None)
        if row is not None and not re.search(r"\d", row["baseline"]):
            problems.append(f"{measure}: baseline missing ({row['baseline']!r})")
    assert not problems, "\n".join(problems) + "\n\n" + markdown
