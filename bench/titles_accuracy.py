"""Title matching accuracy on the corpus generator's titles: autocomplete and `find` against a plain
lower-casing rapidfuzz scan, top-1 and top-5, per kind of typed query. `python -m
bench.titles_accuracy --titles 10000 100000 --queries 300`.

Owns the realistic typed-query generator (one typo or two, a dropped word, two words swapped, the
first 3-8 characters, all lower case; the lower-case share a member types) and the accuracy table.
Titles come from `bench.spec.Drawer.title`, exactly the titles `bench.gen_corpus` writes (cached in
the temp folder: drawing 100,000 takes minutes). It must not touch the database or Discord.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process, utils

from service.titles import TitleIndex

KINDS = ("typo", "typo2", "drop", "swap", "prefix", "lower")
SEED = 7


def generator_titles(n: int, seed: int = SEED) -> list[str]:
    """The titles of the first `n` stories `bench.gen_corpus --seed seed` writes (headerless skipped)."""
    from bench import material
    from bench.spec import Drawer

    m = material.load()
    folder = Path(tempfile.gettempdir())
    stem = f"librarian-gen-titles-{seed}-{len(m.title_words)}-"
    for cached in sorted(folder.glob(stem + "*.json"), key=lambda p: int(p.stem.rsplit("-", 1)[1])):
        if int(cached.stem.rsplit("-", 1)[1]) >= n:
            drawn = json.loads(cached.read_text(encoding="utf-8"))[:n]
            return [t for t in drawn if t]
    drawer = Drawer(m)
    drawn = [drawer.title(seed, i) for i in range(n)]
    (folder / f"{stem}{n}.json").write_text(json.dumps(drawn), encoding="utf-8")
    return [t for t in drawn if t]


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice("dist")
    if op == "d":
        return word[:i] + word[i + 1 :]
    if op == "i":
        return word[:i] + rng.choice("aeiourstln") + word[i:]
    if op == "s":
        return word[:i] + rng.choice("aeiourstln") + word[i + 1 :]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def typed(title: str, kind: str, rng: random.Random) -> str:
    """What a member types when looking for `title`, by kind; half of it in lower case."""
    words = title.split()
    if kind in ("typo", "typo2"):
        long = [i for i, w in enumerate(words) if len(w) >= 4] or [0]
        for i in rng.sample(long, min(len(long), 1 if kind == "typo" else 2)):
            words[i] = _typo(words[i], rng)
        if kind == "typo2" and len(long) == 1:
            words[long[0]] = _typo(words[long[0]], rng)
    elif kind == "drop" and len(words) >= 3:
        words.pop(rng.randrange(len(words)))
    elif kind == "swap" and len(words) >= 2:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    elif kind == "prefix":
        return title[: rng.randint(3, 8)].lower()
    elif kind == "lower":
        return title.lower()
    query = " ".join(words)
    return query.lower() if rng.random() < 0.5 else query


def make_queries(titles: list[str], n: int, seed: int = 11) -> list[tuple[str, str, str]]:
    """`n` (query, intended title, kind), kinds in turn, from titles of 2-60 characters (a dropped
    word needs three words, a swap two); a query equal to its title is kept only for `lower`."""
    rng = random.Random(seed)
    pool = [t for t in titles if 2 <= len(t) <= 60]
    out: list[tuple[str, str, str]] = []
    attempts = 0
    while len(out) < n and pool and attempts < n * 50:
        attempts += 1
        kind = KINDS[len(out) % len(KINDS)]
        title = rng.choice(pool)
        need = {"drop": 3, "swap": 2}.get(kind, 1)
        if len(title.split()) < need:
            continue
        query = typed(title, kind, rng)
        if query.strip() and (query != title or kind == "lower"):
            out.append((query, title, kind))
    return out


Ranker = Callable[[str], list[str]]


def rankers(titles: list[str], index: TitleIndex) -> dict[str, Ranker]:
    """The three ways to find a title: autocomplete, `find`, and the plain scan to beat."""

    def scan(q: str) -> list[str]:
        return [
            t
            for t, _s, _i in process.extract(
                q, titles, scorer=fuzz.WRatio, processor=utils.default_process, limit=5
            )
        ]

    return {
        "autocomplete": lambda q: [m.title for m in index.complete(q)][:5],
        "find": lambda q: [m.title for m in index.find(q, limit=5)],
        "scan": scan,
    }


def measure(
    titles: list[str],
    queries: list[tuple[str, str, str]],
    names: tuple[str, ...] = ("autocomplete", "find", "scan"),
) -> dict:
    """Top-1 / top-5 (overall and per kind) and p50/p99 milliseconds of each ranker."""
    index = TitleIndex(enumerate(titles))
    out: dict = {}
    for name, rank in rankers(titles, index).items():
        if name not in names:
            continue
        top1: Counter[str] = Counter()
        top5: Counter[str] = Counter()
        took, cpu = [], []
        for query, wanted, kind in queries:
            c0, t0 = time.process_time(), time.perf_counter()
            found = [t.casefold() for t in rank(query)]
            took.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            top1[kind] += bool(found) and found[0] == wanted.casefold()
            top5[kind] += wanted.casefold() in found
        per = Counter(k for _q, _t, k in queries)
        out[name] = {
            "top1": round(sum(top1.values()) / len(queries), 3),
            "top5": round(sum(top5.values()) / len(queries), 3),
            "by_kind": {k: [round(top1[k] / per[k], 2), round(top5[k] / per[k], 2)] for k in KINDS if per[k]},
            "p50_ms": round(float(np.percentile(took, 50)), 2),
            "p99_ms": round(float(np.percentile(took, 99)), 2),
            "cpu_p50_ms": round(float(np.percentile(cpu, 50)), 2),
            "cpu_p99_ms": round(float(np.percentile(cpu, 99)), 2),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--titles", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--only", nargs="+", default=["autocomplete", "find", "scan"])
    args = parser.parse_args(argv)
    report = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "date": datetime.now(UTC).date().isoformat(),
    }
    for n in args.titles:
        titles = generator_titles(n)
        queries = make_queries(titles, args.queries)
        report[str(n)] = {"titles": len(titles), **measure(titles, queries, tuple(args.only))}
        print(json.dumps({str(n): report[str(n)]}), flush=True)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
