"""Result sets of the query mix, kept as a reference, so a faster search can be shown to find exactly
what the slower one found: for every benchmark search, the full set of matching story ids (as a
count and a digest) and the first page's ids in order.

Owns the reference file (`reference-<N>-s<seed>.json` beside the index database, keyed by the
archive's generator fingerprint): the first run on an archive writes it, every later run compares
against it and reports how many queries found the same stories. It must not time anything
(`bench.query_bench` does) or build the index.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path
from typing import Any

from bench.measure import Row

SECTION = "Queries"


def _digest(ids: list[int]) -> str:
    return hashlib.sha1(",".join(map(str, sorted(ids))).encode()).hexdigest()[:16]


async def result_sets(
    lib: Any, kinds: dict[str, tuple[list[Any], list[Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """For every query of every kind (queries, and what the timed `search` returned for each): how
    many stories match, a digest of their ids, and the first page's ids in the order given."""
    from service.query import QueryError
    from service.search import compile_query, matching_ids

    out: dict[str, list[dict[str, Any]]] = {}
    for kind, (queries, results) in kinds.items():
        got = out[kind] = []
        for q, result in zip(queries, results, strict=True):
            if isinstance(result, Exception):
                got.append({"query": repr(q), "error": str(result)})
                continue
            try:
                async with lib.sessions() as session:
                    compiled = await compile_query(lib, session, q)
                    args = (session, compiled.filters, compiled.gate)
                    if "lib" in inspect.signature(matching_ids).parameters:  # before it took the Library
                        args = (lib, *args)
                    ids = await matching_ids(*args, sort="newest")
            except QueryError as exc:
                got.append({"query": repr(q), "error": str(exc)})
                continue
            page = [h.id for h in result.hits]
            got.append({"query": repr(q), "count": len(ids), "digest": _digest(ids), "page": page})
    return out


def compare(path: Path, fingerprint: str, found: dict[str, list[dict[str, Any]]]) -> list[Row]:
    """Rows saying whether `found` equals the reference at `path` (written there when absent)."""
    if not path.exists():
        path.write_text(json.dumps({"fingerprint": fingerprint, "kinds": found}), encoding="utf-8")
        n = sum(len(v) for v in found.values())
        return [Row(SECTION, "result sets vs reference", f"reference written: {n:,} queries ({path.name})")]
    ref = json.loads(path.read_text(encoding="utf-8"))
    if ref.get("fingerprint") != fingerprint:
        return [Row(SECTION, "result sets vs reference", "not compared: the reference is of another archive")]
    same_sets = same_pages = total = 0
    differ: list[str] = []
    for kind, results in found.items():
        wanted = {w.get("query"): w for w in ref["kinds"].get(kind, [])}
        for i, got in enumerate(results):
            want = wanted.get(got.get("query"))
            if want is None:
                continue
            total += 1
            if {k: got.get(k) for k in ("count", "digest", "error")} == {
                k: want.get(k) for k in ("count", "digest", "error")
            }:
                same_sets += 1
            else:
                differ.append(f"{kind} #{i}")
            same_pages += got.get("page") == want.get("page")
    figure = f"same stories for {same_sets:,} of {total:,} queries; same first page for {same_pages:,}"
    if differ:
        figure += f" (sets differ: {', '.join(differ[:5])}{' …' if len(differ) > 5 else ''})"
    return [
        Row(
            SECTION,
            "result sets vs reference",
            figure,
            target="every set the same",
            result="pass" if same_sets == total and total else "miss",
        )
    ]
