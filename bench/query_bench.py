"""The query section: latency percentiles of every kind of search, title lookup, rec, similar and
excerpt chunking over the indexed archive, with the naive baselines timed in the same run (SQL
`LIKE '%…%'` scans for text and tags, a rapidfuzz WRatio scan and difflib for titles).

Owns the query mix, drawn deterministically from the generator's manifest (characters and
pairings the archive really holds, words and phrases its prose really uses). It must not build
the index (`bench.index_bench`) or talk to the bot (`bench.bot_bench`).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench import reference
from bench.measure import Row, Timing, check, ms, not_measured, ratio, time_async, time_calls
from settings import Settings

SECTION = "Queries"
FILTER_P99 = 25.0
TEXT_P99 = 50.0
PHRASE_P99 = 100.0
AUTOCOMPLETE_P99 = 10.0
SPEEDUP = 15.0
_WORD = re.compile(r"[a-z]{5,12}")
_ANY_WORD = re.compile(r"[a-z]+")


class Mix:
    """What to ask: drawn from the manifest and the prose with a fixed seed."""

    def __init__(self, manifest: list[dict[str, Any]], archive: Path, n: int, seed: int = 5) -> None:
        rng = random.Random(seed)
        chars = Counter(c for m in manifest for c in m["characters"])
        pairs = Counter(
            "/".join(r["characters"]) for m in manifest for r in m["relationships"] if r["kind"] == "romantic"
        )
        top_chars = [c for c, _ in chars.most_common(25)] or ["Buffy Summers"]
        top_pairs = [p for p, _ in pairs.most_common(25)] or ["Buffy Summers/Spike"]
        self.characters = [rng.choice(top_chars) for _ in range(n)]
        self.pairings = [rng.choice(top_pairs) for _ in range(n)]
        self.ceilings = [rng.choice(["general", "teen", "mature"]) for _ in range(n)]
        words, phrases, common, triples = _vocabulary(manifest, archive, rng)
        self.words = [rng.choice(words) for _ in range(n)]
        self.phrases = [f'"{rng.choice(phrases)}"' for _ in range(n)]
        self.booleans = [
            f"{rng.choice(words)} AND {rng.choice(words)} NOT {rng.choice(words)}"
            if i % 2
            else f"{rng.choice(words)} OR {rng.choice(words)}"
            for i in range(n)
        ]
        self.tags = [
            rng.choice(["Angst", "Fluff", "Hurt/Comfort", "Humor", "Romance", "Friendship"]) for _ in range(n)
        ]
        # drawn last, from their own generator, so the older kinds keep the queries they always had
        extra = random.Random(seed + 1)
        self.common = [extra.choice(common) for _ in range(n)]
        self.triples = [f'"{extra.choice(triples)}"' for _ in range(n)]


def _vocabulary(
    manifest: list[dict[str, Any]], archive: Path, rng: random.Random
) -> tuple[list[str], list[str], list[str], list[str]]:
    """From a sample of the generated prose: mid-frequency words, two-word phrases, common words
    (in 30-75 % of the sampled stories, so 25-80 % of the archive) and three-word phrases."""
    counts: Counter[str] = Counter()
    everywhere: Counter[str] = Counter()
    phrases: list[str] = []
    triples: list[str] = []
    extra = random.Random(17)  # where the 3-word phrases are taken: not from `rng`, so the rest stay
    txt = [m for m in manifest if m["path"].endswith(".txt")]
    sample = rng.sample(txt, min(60, len(txt)))
    for m in sample:
        body = (archive / m["path"]).read_text(encoding="utf-8", errors="replace").lower()
        tokens = body.split()
        counts.update(sorted(set(_WORD.findall(body))))  # sorted: the same order in every process
        everywhere.update(sorted(set(_ANY_WORD.findall(body))))
        for _ in range(3):
            if len(tokens) > 3:
                i = rng.randrange(len(tokens) - 2)
                pair = [re.sub(r"[^a-z']", "", t) for t in tokens[i : i + 2]]
                if all(pair):
                    phrases.append(" ".join(pair))
        for _ in range(3):
            if len(tokens) > 4:
                i = extra.randrange(len(tokens) - 3)
                three = [re.sub(r"[^a-z']", "", t) for t in tokens[i : i + 3]]
                if all(three):
                    triples.append(" ".join(three))
    ranked = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    words = ranked[len(ranked) // 50 : len(ranked) // 5] or ranked or ["stake"]
    n = max(1, len(sample))
    common = sorted(w for w, k in everywhere.items() if 0.30 <= k / n <= 0.75) or ["said"]
    return words, phrases or ["the library"], common, triples or ["in the library"]


async def run(
    settings: Settings, manifest: list[dict[str, Any]], archive: Path, *, smoke: bool, fingerprint: str = ""
) -> list[Row]:
    try:
        from service.library import Library
        from service.query import SearchQuery
        from service.search import search
    except ImportError as exc:
        return [not_measured(SECTION, "search", f"service not importable ({exc})")]
    n = 15 if smoke else 200
    mix = Mix(manifest, archive, n)
    lib = await Library.open(settings)
    await lib.views.warm()  # as the bot does before it is ready: no timed query builds a view
    label = f"at {len(lib.titles):,} stories"
    rows: list[Row] = []
    answers: dict[str, tuple[list[SearchQuery], list[Any]]] = {}
    try:

        async def timed(measure: str, queries: list[SearchQuery], limit: float, target: str) -> Timing:
            timing, out = await time_async(lambda q: search(lib, q), queries)
            answers[measure] = (queries, out)
            rows.append(
                Row(
                    SECTION,
                    f"{measure} ({label})",
                    timing.text(),
                    target=target,
                    result=check(timing.p99, limit),
                )
            )
            return timing

        flt = f"p99 ≤ {FILTER_P99:g} ms"
        txt = f"p99 ≤ {TEXT_P99:g} ms"
        phr = f"p99 ≤ {PHRASE_P99:g} ms"
        await timed("character", [SearchQuery(characters=[c]) for c in mix.characters], FILTER_P99, flt)
        await timed("pairing", [SearchQuery(pairings=[p]) for p in mix.pairings], FILTER_P99, flt)
        await timed("rating ceiling", [SearchQuery(max_rating=c) for c in mix.ceilings], FILTER_P99, flt)
        tag_t = await timed("tag", [SearchQuery(tags=[t]) for t in mix.tags], FILTER_P99, flt)
        combined = [
            SearchQuery(characters=[c], max_rating=r, complete=True, words_min=1000)
            for c, r in zip(mix.characters, mix.ceilings, strict=True)
        ]
        await timed("combined filters", combined, FILTER_P99, flt)
        word_t = await timed(
            "full-text, single word", [SearchQuery(text=w) for w in mix.words], TEXT_P99, txt
        )
        await timed("full-text, common word", [SearchQuery(text=w) for w in mix.common], TEXT_P99, txt)
        await timed("full-text, phrase, 2 words", [SearchQuery(text=p) for p in mix.phrases], PHRASE_P99, phr)
        await timed("full-text, phrase, 3 words", [SearchQuery(text=p) for p in mix.triples], PHRASE_P99, phr)
        await timed("full-text, boolean", [SearchQuery(text=b) for b in mix.booleans], TEXT_P99, txt)
        await _like_baselines(lib, mix, rows, word_t, tag_t, smoke)
        rows += reference.compare(
            settings.data_dir / f"reference-{len(manifest)}-{archive.name}.json",
            fingerprint,
            await reference.result_sets(lib, answers),
        )
        rows += await _titles_here(lib, smoke)
        rows += await _recs(lib, mix, label, n)
        rows += await _excerpt(lib, smoke)
    finally:
        await lib.close()
    return rows


async def _like_baselines(
    lib: Any, mix: Mix, rows: list[Row], word_t: Timing, tag_t: Timing, smoke: bool
) -> None:
    """SQL LIKE scans doing the same job as FTS and the tag index, as a typical bot would."""
    k = 3 if smoke else 5
    async with lib.sessions() as session:

        async def like(column: str, value: str) -> int:
            sql = text(f"SELECT count(*) FROM story_texts WHERE {column} LIKE :v")
            return int(await session.scalar(sql, {"v": f"%{value}%"}) or 0)

        body_t, _ = await time_async(lambda w: like("body", w), mix.words[:k])
        tags_t, _ = await time_async(lambda t: like("tags", t), mix.tags[:k])
    for measure, ours, base in (("full-text, single word", word_t, body_t), ("tag", tag_t, tags_t)):
        row = next(r for r in rows if r.measure.startswith(measure + " ("))
        row.baseline = f"LIKE '%…%' scan p50 {ms(base.p50)} ms (n={base.n})"
        row.ratio = ratio(base.p50, ours.p50)


async def _titles_here(lib: Any, smoke: bool) -> list[Row]:
    """Title find over this archive's own titles, against a WRatio full scan of the same titles."""
    try:
        from bench.titles_bench import make_queries, scan_top1
    except ImportError as exc:
        return [not_measured(SECTION, "title find", f"bench.titles_bench not importable ({exc})")]
    index = lib.titles
    async with lib.sessions() as session:
        sql = text("SELECT title FROM stories WHERE removed_at IS NULL ORDER BY id")
        titles = [t for t in (await session.scalars(sql)).all() if t]
    if not titles:
        return [not_measured(SECTION, "title find", "title index is empty")]
    queries = make_queries(titles, 15 if smoke else 300, seed=23)

    def top1(q: str) -> str | None:
        found = index.find(q, limit=1)
        return found[0].title if found else None

    find_t, found = time_calls(top1, [q for q, _, _ in queries])
    scan_q = queries[: 5 if smoke else 60]
    scan_t, scanned = time_calls(lambda q: scan_top1(q, titles), [q for q, _, _ in scan_q])
    acc = _accuracy(found, [t for _, t, _ in queries])
    acc_same = _accuracy(found[: len(scan_q)], [t for _, t, _ in scan_q])
    scan_acc = _accuracy(scanned, [t for _, t, _ in scan_q])
    return [
        Row(
            SECTION,
            f"title find, misspelt ({len(titles):,} titles)",
            f"{find_t.text()}; top-1 {acc:.0%}",
            baseline=f"WRatio full scan p50 {ms(scan_t.p50)} ms, top-1 {scan_acc:.0%} (ours on same {len(scan_q)}: {acc_same:.0%})",
            ratio=ratio(scan_t.p50, find_t.p50),
        )
    ]


def _accuracy(found: list[Any], wanted: list[str]) -> float:
    hits = sum(1 for f, w in zip(found, wanted, strict=True) if f and f.casefold() == w.casefold())
    return hits / max(1, len(wanted))


async def _recs(lib: Any, mix: Mix, label: str, n: int) -> list[Row]:
    from service.query import SearchQuery
    from service.recs import rec
    from service.similar import similar

    rng = random.Random(3)
    rec_t, _ = await time_async(
        lambda c: rec(lib, SearchQuery(characters=[c]), place="bench", rng=rng),
        mix.characters[: max(10, n // 2)],
    )
    async with lib.sessions() as session:
        ids = [int(i) for i in (await session.scalars(text("SELECT id FROM stories ORDER BY id"))).all()]
    picks = [ids[rng.randrange(len(ids))] for _ in range(max(10, n // 2))]
    sim_t, _ = await time_async(lambda i: similar(lib, i), picks)
    return [
        Row(
            SECTION,
            f"rec, one character ({label})",
            rec_t.text(),
            target=f"p99 ≤ {FILTER_P99:g} ms",
            result=check(rec_t.p99, FILTER_P99),
        ),
        Row(
            SECTION,
            f"similar ({label})",
            sim_t.text(),
            target=f"p99 ≤ {FILTER_P99:g} ms",
            result=check(sim_t.p99, FILTER_P99),
        ),
    ]


async def _excerpt(lib: Any, smoke: bool) -> list[Row]:
    try:
        from service.excerpts import chunk_text
    except ImportError as exc:
        return [
            not_measured(
                SECTION, "excerpt chunking, longest story", f"service.excerpts not importable ({exc})"
            )
        ]
    async with lib.sessions() as session:
        row = (
            await session.execute(
                text("SELECT story_id, body FROM story_texts ORDER BY length(body) DESC LIMIT 1")
            )
        ).first()
    if row is None:
        return [not_measured(SECTION, "excerpt chunking, longest story", "no story")]
    body = row[1]
    timing, out = time_calls(chunk_text, [body] * (5 if smoke else 30))
    parts = len(out[0]) if out and hasattr(out[0], "__len__") else 0
    return [
        Row(
            SECTION,
            f"excerpt chunking, longest story ({len(body.split()):,} words → {parts:,} parts)",
            timing.text(),
        )
    ]


def titles_at_scale(smoke: bool) -> list[Row]:
    """Autocomplete and find at 100,000 titles, with the WRatio scan and difflib (bench.titles_bench)."""
    try:
        from bench.titles_bench import run as titles_run
    except ImportError as exc:
        why = f"bench.titles_bench not importable ({exc})"
        return [
            not_measured(SECTION, "title autocomplete", why),
            not_measured(SECTION, "title find vs scan", why),
        ]
    n_titles, n_queries = (2_000, 20) if smoke else (100_000, 300)
    got = titles_run(n_titles, n_queries)
    complete = Timing(
        **{k: got["complete_ms"][k] for k in ("p50", "p95", "p99")}, n=n_queries, max=float("nan")
    )
    scan, ours = got["scan_ms"], got["find_at_scan_size_ms"]
    speedup = scan["p50"] / max(ours["p50"], 1e-9)
    accurate = got["find_at_scan_size_top1"] >= got["scan_top1"]
    return [
        Row(
            SECTION,
            f"title autocomplete ({n_titles:,} titles)",
            complete.text(),
            target=f"p99 ≤ {AUTOCOMPLETE_P99:g} ms",
            result=check(complete.p99, AUTOCOMPLETE_P99),
        ),
        Row(
            SECTION,
            f"title find vs full scan ({got['scan_titles']:,} titles)",
            f"p50 {ms(ours['p50'])} / p99 {ms(ours['p99'])} ms, top-1 {got['find_at_scan_size_top1']:.0%}; "
            f"at {n_titles:,}: p99 {ms(got['find_ms']['p99'])} ms, top-1 {got['find_top1']:.0%}",
            baseline=f"WRatio scan p50 {ms(scan['p50'])} ms, top-1 {got['scan_top1']:.0%}; difflib p50 "
            f"{ms(got['difflib_ms_extrapolated_to_scan_size'])} ms (extrapolated from {got['difflib_titles']:,}), "
            f"top-1 {got['difflib_top1']:.0%}",
            ratio=ratio(scan["p50"], ours["p50"]),
            target=f"≥ {SPEEDUP:g}× faster, top-1 ≥ scan",
            result="pass" if speedup >= SPEEDUP and accurate else "miss",
        ),
    ]
