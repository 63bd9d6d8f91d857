"""Benchmark of the title index against a full rapidfuzz scan and difflib.

Owns the synthetic title generator (seeded; word lists written here, no corpus titles) and the
misspelled-query generator that `tests/test_titles.py` reuses. Run it as
`python -m bench.titles_bench --titles 100000`; `run(n_titles, n_queries)` returns the figures as a
dict for `bench/run.py`. It must not touch the database or Discord.
"""

from __future__ import annotations

import argparse
import difflib
import json
import random
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from service.titles import TitleIndex


def _wordlist(text: str) -> list[str]:
    return text.split()


ADJECTIVES = _wordlist("""broken silent golden hollow bitter quiet wicked gentle burning frozen hidden lost
last first final distant restless borrowed stolen crimson scarlet pale dark bright lonely fallen
sacred secret shattered tender savage sweet wild empty endless fragile faded forgotten holy
midnight perfect ordinary strange sleepless careless reckless cold warm small little long deep
velvet silver iron glass paper painted wounded waking dreaming dying living""")

NOUNS = _wordlist("""heart hearts winter summer autumn spring night nights morning dawn dusk shadow shadows
sky skies rain storm fire ash ashes blood bone bones moon stars star light dark darkness road
river sea tide song songs silence memory memories promise promises secret secrets mirror glass
garden house home door window key keys crown wings wing ghost ghosts angel demon slayer stake
library cemetery crypt chapter ending beginning return reckoning hunger thirst wolf wolves raven
storms tears kiss kisses lullaby prayer sin sins grace mercy lies truth dreams dream step steps
world worlds fate hour hours day days year years letter letters thread threads voice voices""")

VERBS = _wordlist("""falling running waiting burning breaking dancing bleeding dreaming hunting haunting
leaving remembering forgetting finding losing chasing holding keeping walking singing""")

ADVERBS = _wordlist("forward backward home away again apart together alone sideways under")

FOREIGN = _wordlist("""café déjà naïve señorita crème brûlée fiancée rosé über noël mañana cliché soirée
résumé façade piñata""")

PATTERNS = (
    "{A} {N}",
    "The {N} of {N}",
    "{N} and {N}",
    "Otherwise a {A} {N}",
    "{V} the {N}",
    "{N} in the {N}",
    "Hearts of {N}",
    "One Step {D}",
    "A {A} {N} of {N}",
    "What the {N} Knew",
    "{A} as {N}",
    "Under a {A} {N}",
    "{V} {D}",
    "{N}, {N}, {N}",
    "The {A} {N}",
    "{F} {N}",
    "{A} {F}",
    "Where the {N} {V}",
    "{N} Like {N}",
    "Songs of {A} {N}",
    "{A} {N}: {A} {N} (Part {P})",
    "All the {A} {N} We Cannot {V}",
)


def make_titles(n: int, seed: int = 7) -> list[str]:
    """`n` plausible fan-fiction titles (a few repeat, as in a real archive), deterministically."""
    rng = random.Random(seed)
    pick = {
        "A": ADJECTIVES,
        "N": NOUNS,
        "V": VERBS,
        "D": ADVERBS,
        "F": FOREIGN,
        "P": [str(i) for i in range(1, 13)],
    }
    titles = []
    for _ in range(n):
        pattern = rng.choice(PATTERNS)
        words = []
        for part in pattern.split("{")[1:]:
            slot, rest = part.split("}", 1)
            words.append((rng.choice(pick[slot]).title() if slot != "P" else rng.choice(pick["P"])) + rest)
        head = pattern.split("{", 1)[0]
        title = head + "".join(words)
        if rng.random() < 0.03:  # an occasional very long title
            title += " — " + " ".join(rng.choice(NOUNS) for _ in range(25))
        titles.append(title)
    return titles


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


def misspell(title: str, rng: random.Random) -> tuple[str, str]:
    """A half-remembered version of `title` and the name of what was done to it."""
    words = title.split()
    kind = rng.choice(["typo", "typo2", "drop", "swap", "article", "case", "accent", "prefix", "extra"])
    if kind in ("typo", "typo2"):
        for _ in range(1 if kind == "typo" else 2):
            i = rng.randrange(len(words))
            words[i] = _typo(words[i], rng)
    elif kind == "drop" and len(words) > 2:
        words.pop(rng.randrange(len(words)))
    elif kind == "swap" and len(words) > 1:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    elif kind == "article":
        words = [w for w in words if w.lower() not in ("the", "a", "an")] or words
    elif kind == "case":
        return (title.lower() if rng.random() < 0.5 else title.upper()), kind
    elif kind == "accent":
        plain = unicodedata.normalize("NFKD", title)
        return "".join(c for c in plain if not unicodedata.combining(c)).lower(), kind
    elif kind == "prefix":
        return title[: max(4, int(len(title) * rng.uniform(0.6, 0.85)))], kind
    elif kind == "extra":
        words.insert(rng.randrange(len(words) + 1), rng.choice(["the", "of", "and", "my", "little"]))
    return " ".join(words), kind


def make_queries(titles: list[str], n: int, seed: int = 11) -> list[tuple[str, str, str]]:
    """`n` (query, intended title, kind) triples, picked from `titles` (short titles only)."""
    rng = random.Random(seed)
    pool = [t for t in titles if len(t) <= 60] or titles
    out: list[tuple[str, str, str]] = []
    for _attempt in range(n * 20 if pool else 0):
        if len(out) >= n:
            break
        title = rng.choice(pool)
        query, kind = misspell(title, rng)
        if query != title:
            out.append((query, title, kind))
    return out


def scan_top1(query: str, titles: list[str]) -> str | None:
    """The plain full scan the index must beat: rapidfuzz WRatio over every title."""
    found = process.extract(query, titles, scorer=fuzz.WRatio, limit=5)
    return found[0][0] if found else None


@dataclass
class Timing:
    p50: float
    p95: float
    p99: float
    cpu_p50: float  # CPU time of this process: what the code costs when the machine is busy
    cpu_p99: float


def _time(fn: Callable[[str], object], queries: list[str]) -> tuple[Timing, list[object]]:
    wall, cpu, out = [], [], []
    for q in queries:
        c0, t0 = time.process_time(), time.perf_counter()
        out.append(fn(q))
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    p = [round(float(x), 3) for x in np.percentile(wall, [50, 95, 99])]
    c50, c99 = (round(float(x), 3) for x in np.percentile(cpu, [50, 99]))
    return Timing(*p, cpu_p50=c50, cpu_p99=c99), out


def _accuracy(found: list[object], wanted: list[str]) -> float:
    return round(sum(f == w for f, w in zip(found, wanted, strict=True)) / max(1, len(wanted)), 4)


def run(n_titles: int = 100_000, n_queries: int = 300) -> dict:
    """Every figure the report needs, as a dict of plain numbers (milliseconds and fractions)."""
    titles = make_titles(n_titles)
    t0 = time.perf_counter()
    index = TitleIndex(enumerate(titles))
    build_s = time.perf_counter() - t0
    queries = make_queries(titles, n_queries)
    qs = [q for q, _t, _k in queries]
    wanted = [t for _q, t, _k in queries]
    typed = [t[: random.Random(i).randint(1, min(len(t), 18))] for i, (_q, t, _k) in enumerate(queries)]
    complete_t, _ = _time(lambda q: index.complete(q), typed)

    def top1(q: str) -> str | None:
        found = index.find(q, limit=1)
        return index.title_of(found[0].story_id) if found else None

    find_t, found = _time(top1, qs)
    # the full scan, at 50k titles (or fewer) on the same kind of queries
    n_scan = min(50_000, n_titles)
    scan_titles = titles[:n_scan]
    scan_queries = make_queries(scan_titles, min(n_queries, 150), seed=13)
    sq = [q for q, _t, _k in scan_queries]
    sw = [t for _q, t, _k in scan_queries]
    scan_t, scan_found = _time(lambda q: scan_top1(q, scan_titles), sq)
    small = TitleIndex(enumerate(scan_titles))
    ours_t, ours_found = _time(
        lambda q: (lambda m: small.title_of(m[0].story_id) if m else None)(small.find(q, 1)), sq
    )
    # difflib on a small sample, extrapolated linearly to the scan size
    n_diff = min(2_000, n_scan // 5)
    diff_titles = scan_titles[:n_diff]
    diff_q = make_queries(diff_titles, max(5, min(20, n_queries // 4)), seed=17)
    diff_t, diff_found = _time(
        lambda q: (difflib.get_close_matches(q, diff_titles, n=1, cutoff=0.0) or [None])[0],
        [q for q, _t, _k in diff_q],
    )
    return {
        "titles": n_titles,
        "queries": n_queries,
        "build_seconds": round(build_s, 2),
        "complete_ms": vars(complete_t),
        "find_ms": vars(find_t),
        "find_top1": _accuracy(found, wanted),
        "scan_titles": n_scan,
        "scan_ms": vars(scan_t),
        "scan_top1": _accuracy(scan_found, sw),
        "find_at_scan_size_ms": vars(ours_t),
        "find_at_scan_size_top1": _accuracy(ours_found, sw),
        "speedup_p50": round(scan_t.p50 / max(ours_t.p50, 1e-6), 1),
        "speedup_cpu_p50": round(scan_t.cpu_p50 / max(ours_t.cpu_p50, 1e-3), 1),
        "difflib_titles": n_diff,
        "difflib_ms": vars(diff_t),
        "difflib_top1": _accuracy(diff_found, [t for _q, t, _k in diff_q]),
        "difflib_ms_extrapolated_to_scan_size": round(diff_t.p50 * n_scan / n_diff, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--titles", type=int, default=100_000, help="how many synthetic titles")
    parser.add_argument("--queries", type=int, default=300, help="how many misspelled queries")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.titles, args.queries), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
