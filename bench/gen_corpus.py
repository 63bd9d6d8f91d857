"""Generates a synthetic fandom-scale archive: `python -m bench.gen_corpus --stories N --out DIR
[--seed S]`.

Owns the archive layout (`DIR/<bucket>/<slug>-<n>.<ext>`, a thousand files per bucket), the
manifest of what was generated (`DIR/.bench/manifest.jsonl`: per file the title, rating level and
relationships a correct parser must find) and the parallel generation. Metadata shapes come from
the real AO3 rows (`bench.spec`), prose from reshuffled real sentences (`bench.material`), bytes
from `bench.writers`. Bodies are cut at the real p99 length (73k words), so 50,000 stories are
about 1.6 GB rather than the 2+ GB a full tail would give. Same N and seed, same bytes.
It must not index anything or import the database.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import multiprocessing as mp
import os
import re
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench import material as material_mod
from bench.spec import Drawer
from bench.writers import render

log = logging.getLogger(__name__)

BUCKET = 1000
META_DIR = ".bench"
MANIFEST = "manifest.jsonl"
INFO = "info.json"
DEFAULT_STORIES = 10_000

_drawer: Drawer | None = None  # per process: built before forking, inherited by the workers


@dataclass(slots=True)
class GenReport:
    """What one generation run wrote."""

    out: str
    stories: int
    seed: int
    bytes: int
    words: int
    seconds: float
    formats: dict[str, int]
    prose_source: str
    roster_source: str
    fingerprint: str = ""

    @property
    def megabytes(self) -> float:
        return self.bytes / 1e6


def fingerprint() -> str:
    """A hash of the generator's code and the roster: an archive made by other code is not reused."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in ("gen_corpus.py", "material.py", "spec.py", "writers.py"):
        digest.update((here / name).read_bytes())
    with contextlib.suppress(OSError):
        digest.update(material_mod.ROSTER_PATH.read_bytes())
    return digest.hexdigest()[:12]


def _slug(title: str | None) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", (title or "part").casefold()).strip("-")
    return slug[:40].rstrip("-") or "story"


def _make(args: tuple[Path, int, int, int]) -> list[dict]:
    out, seed, start, stop = args
    assert _drawer is not None
    rows = []
    for index in range(start, stop):
        spec = _drawer.draw(seed, index)
        written = render(spec, _drawer.m.roster, np.random.default_rng([seed, index, 1]))
        rel = f"{index // BUCKET:04d}/{_slug(spec.title)}-{index}{written.suffix}"
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(written.data)
        rows.append(
            {
                "path": rel,
                "index": index,
                "format": spec.format,
                "title": spec.title,
                "author": None if spec.format == "headerless" else spec.author,
                "level": written.level,
                "relationships": [{"characters": list(m), "kind": k} for m, k in written.relationships],
                "characters": spec.characters,
                "words": spec.words,
                "bytes": len(written.data),
                "language": spec.language,
            }
        )
    return rows


def _init_drawer() -> Drawer:
    global _drawer
    if _drawer is None:
        _drawer = Drawer(material_mod.load())
    return _drawer


def generate(
    out: Path,
    stories: int = DEFAULT_STORIES,
    seed: int = 1,
    *,
    workers: int | None = None,
    progress: bool = False,
) -> GenReport:
    """Write an archive of `stories` files into `out` (emptied first) and return what was written."""
    started = time.perf_counter()
    drawer = _init_drawer()
    if out.exists():
        shutil.rmtree(out)
    (out / META_DIR).mkdir(parents=True)
    workers = workers or min(os.cpu_count() or 1, 8)
    step = 200
    jobs = [(out, seed, s, min(s + step, stories)) for s in range(0, stories, step)]
    rows: list[dict] = []
    if workers > 1 and len(jobs) > 1 and "fork" in mp.get_all_start_methods():
        with mp.get_context("fork").Pool(workers) as pool:
            for done, chunk in enumerate(pool.imap(_make, jobs), 1):
                rows += chunk
                if progress and done % 25 == 0:
                    print(f"  {len(rows):,}/{stories:,} stories", file=sys.stderr, flush=True)
    else:
        for job in jobs:
            rows += _make(job)
    with (out / META_DIR / MANIFEST).open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    formats: dict[str, int] = {}
    for row in rows:
        formats[row["format"]] = formats.get(row["format"], 0) + 1
    report = GenReport(
        out=str(out),
        stories=stories,
        seed=seed,
        bytes=sum(r["bytes"] for r in rows),
        words=sum(r["words"] for r in rows),
        seconds=round(time.perf_counter() - started, 2),
        formats=dict(sorted(formats.items())),
        prose_source=drawer.m.prose_source,
        roster_source=drawer.m.roster.source,
        fingerprint=fingerprint(),
    )
    (out / META_DIR / INFO).write_text(json.dumps(asdict(report), indent=2), encoding="utf-8")
    return report


def read_info(out: Path) -> dict | None:
    """The report of the generation that produced `out`, or None when there is none (or it is partial)."""
    try:
        return json.loads((out / META_DIR / INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_manifest(out: Path) -> list[dict]:
    """Per generated file: path (relative to `out`), format, title, level, relationships, words, bytes."""
    with (out / META_DIR / MANIFEST).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def ensure(
    out: Path, stories: int, seed: int = 1, *, progress: bool = False
) -> tuple[GenReport | dict, bool]:
    """Reuse the archive in `out` when the same code generated it for the same N and seed; else generate."""
    info = read_info(out)
    if (
        info
        and info.get("stories") == stories
        and info.get("seed") == seed
        and info.get("fingerprint") == fingerprint()
    ):
        return info, True
    return generate(out, stories, seed, progress=progress), False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gen_corpus", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--stories", type=int, default=DEFAULT_STORIES, help="number of stories (default 10,000)"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write (emptied first)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same archive)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    report = generate(args.out.resolve(), args.stories, args.seed, workers=args.workers, progress=True)
    print(
        f"wrote {report.stories:,} stories to {report.out}: {report.megabytes:,.1f} MB, "
        f"{report.words:,} words in {report.seconds:.1f}s ({report.stories / max(report.seconds, 1e-9):,.0f}/s)"
    )
    print("formats: " + ", ".join(f"{k} {v:,}" for k, v in report.formats.items()))
    print(f"prose: {report.prose_source}")
    print(f"roster: {report.roster_source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
