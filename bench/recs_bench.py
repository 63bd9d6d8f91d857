"""The recs benchmark: replays a synthetic server and measures hit rate at 5 for held-out favourites:
`python -m bench.recs_bench [--stories N] [--members M] [--seed S]`.

Owns the synthetic server. Stories are the generated archive's (`bench.spec.Drawer`, the same specs
`bench.gen_corpus` writes for a seed, drawn without their prose). Each member's taste is drawn from
the archive's own features: one or two relationships, two characters and three tags, each picked in
proportion to how often the archive has it. A member favourites 8-40 stories, drawn with odds
`appeal * exp(affinity)`, where appeal is a story's lognormal pull (some stories everyone likes)
and affinity counts the story's features the member likes (relationship 2, character 1, tag 0.7);
one in five favourites is any story at all (noise). For every member with at least 5 favourites,
a fifth of them (at least one) is held out; recommenders see the rest and offer 5 stories each:

- `taste`: `service.tasterecs.score` with `service.tastecontent`'s content scores (what `/rec`
  ranks by), filled up with the most popular when it has fewer than 5 candidates (the real `/rec`
  falls back to today's rec then);
- `popular`: the 5 most-favourited stories the member has not favourited;
- `random`: 5 stories at random the member has not favourited.

Hit rate at 5: the share of members with at least one held-out favourite among their 5. It must not
touch a database: it scores the in-memory likes exactly as `rec_for_member` does after loading them.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from service.tastecontent import FeatureIndex, content_scores
from service.tasterecs import CONTENT_CANDIDATES, score

K = 5


@dataclass(slots=True)
class Story:
    relationships: tuple[str, ...]
    characters: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(slots=True)
class Report:
    stories: int
    members: int
    evaluated: int
    favourites: int
    held_out: int
    hit_rate: dict[str, float]
    taste_ms_per_member: float
    seconds: float


def archive(stories: int, seed: int) -> list[Story]:
    """The generated archive's features (relationships, characters, tags) for `stories` stories."""
    from bench import material
    from bench.spec import Drawer

    drawer = Drawer(material.load())
    drawer.prose = lambda *_args, **_kw: []  # type: ignore[method-assign]  # features only: no text
    out = []
    for index in range(stories):
        spec = drawer.draw(seed, index)
        rels = tuple("/".join(members) for members, _kind in spec.relationships)
        out.append(Story(rels, tuple(spec.characters), tuple(t.casefold() for t in spec.tags)))
    return out


def features(stories: list[Story]) -> FeatureIndex:
    """The same feature index `service.tastecontent` builds from the filter index, over these stories."""
    postings: dict[tuple[str, str], list[int]] = {}
    for position, story in enumerate(stories):
        for kind, names in (
            ("relationship", story.relationships),
            ("character", story.characters),
            ("tag", story.tags),
        ):
            for name in names:
                postings.setdefault((kind, name), []).append(position)
    return FeatureIndex.build(len(stories), ((k, n, np.asarray(p)) for (k, n), p in postings.items()))


def _pick(counter: Counter[str], n: int, rng: np.random.Generator) -> set[str]:
    names = list(counter)
    if not names:
        return set()
    p = np.array([counter[x] for x in names], dtype=float)
    return {names[i] for i in rng.choice(len(names), size=min(n, len(names)), replace=False, p=p / p.sum())}


def server(stories: list[Story], members: int, seed: int) -> dict[int, list[int]]:
    """Each member's favourites, in the order they were made (tastes drawn from the features)."""
    rng = np.random.default_rng(seed)
    rels = Counter(r for s in stories for r in s.relationships)
    chars = Counter(c for s in stories for c in s.characters)
    tags = Counter(t for s in stories for t in s.tags)
    appeal = rng.lognormal(0.0, 1.0, len(stories))
    favourites: dict[int, list[int]] = {}
    for member in range(members):
        liked_rels = _pick(rels, int(rng.integers(1, 3)), rng)
        liked_chars = _pick(chars, 2, rng)
        liked_tags = _pick(tags, 3, rng)
        affinity = np.array(
            [
                2.0 * len(liked_rels.intersection(s.relationships))
                + 1.0 * len(liked_chars.intersection(s.characters))
                + 0.7 * len(liked_tags.intersection(s.tags))
                for s in stories
            ]
        )
        odds = appeal * np.exp(affinity)
        count = int(rng.integers(8, 41))
        noise = round(count * 0.2)
        chosen = list(rng.choice(len(stories), size=count - noise, replace=False, p=odds / odds.sum()))
        while len(chosen) < count:
            extra = int(rng.integers(len(stories)))
            if extra not in chosen:
                chosen.append(extra)
        order = rng.permutation(len(chosen))
        favourites[member] = [int(chosen[i]) for i in order]
    return favourites


def split(
    favourites: dict[int, list[int]], rng: random.Random
) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """(what recommenders see, what each evaluated member holds out)."""
    train: dict[int, set[int]] = {}
    held: dict[int, set[int]] = {}
    for member, liked in favourites.items():
        if len(liked) >= 5:
            out = set(rng.sample(liked, max(1, len(liked) // 5)))
            held[member] = out
            train[member] = set(liked) - out
        else:
            train[member] = set(liked)
    return train, held


def evaluate(stories: int, members: int, seed: int) -> Report:
    started = time.perf_counter()
    items = archive(stories, seed)
    favourites = server(items, members, seed)
    train, held = split(favourites, random.Random(seed))
    popularity = Counter(s for liked in train.values() for s in liked)
    popular = [s for s, _n in popularity.most_common()]
    rng = random.Random(seed + 1)

    def by_popularity(member: int, n: int = K, also_skip: set[int] | None = None) -> list[int]:
        skip = train[member] | (also_skip or set())
        return [s for s in popular if s not in skip][:n]

    def by_random(member: int) -> list[int]:
        out: list[int] = []
        while len(out) < K:
            s = rng.randrange(len(items))
            if s not in train[member] and s not in out:
                out.append(s)
        return out

    spent = 0.0
    index = features(items)

    def by_taste(member: int) -> list[int]:
        nonlocal spent
        t0 = time.perf_counter()
        near = content_scores(index, sorted(train[member]))
        best_near = np.argsort(-near, kind="stable")[:CONTENT_CANDIDATES]
        content = {int(p): float(near[p]) for p in best_near if near[p] > 0}
        scored = score(member, train, content=content)
        spent += time.perf_counter() - t0
        best = [c.story_id for c in sorted(scored.values(), key=lambda c: (-c.score, c.story_id))[:K]]
        return best + by_popularity(member, K - len(best), set(best))

    recommenders: dict[str, Callable[[int], list[int]]] = {
        "taste": by_taste,
        "popular": by_popularity,
        "random": by_random,
    }
    hits = {name: 0 for name in recommenders}
    for member, out in held.items():
        for name, recommend in recommenders.items():
            if out & set(recommend(member)):
                hits[name] += 1
    evaluated = len(held)
    return Report(
        stories=stories,
        members=members,
        evaluated=evaluated,
        favourites=sum(len(v) for v in favourites.values()),
        held_out=sum(len(v) for v in held.values()),
        hit_rate={name: round(n / max(evaluated, 1), 3) for name, n in hits.items()},
        taste_ms_per_member=round(1000 * spent / max(evaluated, 1), 2),
        seconds=round(time.perf_counter() - started, 1),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recs_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=5_000, help="stories in the archive (default 5,000)")
    parser.add_argument("--members", type=int, default=300, help="members of the server (default 300)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    report = evaluate(args.stories, args.members, args.seed)
    if args.json:
        json.dump(asdict(report), sys.stdout, indent=2)
        print()
    else:
        print(
            f"{report.stories:,} stories, {report.members} members ({report.favourites:,} favourites), "
            f"{report.evaluated} members evaluated on {report.held_out:,} held-out favourites"
        )
        for name, rate in report.hit_rate.items():
            print(f"  hit rate at {K} {name:>8}: {rate:.3f}")
        print(f"  taste scoring: {report.taste_ms_per_member} ms per member; {report.seconds} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
