"""The labelled real-world set (tests/realworld/, issue 13), scored field by field.

Each file there is written in a shape real archives have (loose mailing-list headers, unlabelled
title/by-line pairs, broken front matter, headerless chapters, fandoms named in disclaimers or
folders, header blocks buried under notes or page clutter, other languages and code pages), and
`labels.yaml` says what a careful reader takes from it. The test prints per-field accuracy
(`pytest -s tests/test_realworld.py`) and fails below the thresholds: overall 0.95, and 0.85 for
any one field. Why those figures: tidy files score above 0.9 on the existing corpus tests; a set
written to be hard should not score below that overall, and one field in seven wrong (a single
shape unsolved) is the most any field may lose before the parser is called weak on it.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from archive.model import StoryMeta
from archive.parse import parse_story
from archive.roster import Roster
from tests.conftest import ROSTER_FILE

HERE = Path(__file__).parent / "realworld"
OVERALL = 0.95
PER_FIELD = 0.85


def _labels() -> list[dict[str, Any]]:
    return yaml.safe_load((HERE / "labels.yaml").read_text(encoding="utf-8"))


def _parse(label: dict[str, Any], roster: Roster) -> StoryMeta:
    text = (HERE / label["file"]).read_text(encoding="utf-8")
    data = text.encode(label.get("encode", "utf-8"))
    return parse_story(data, label.get("path", label["file"]), roster)


def _names(pairing: str) -> list[str]:
    return [n.strip().casefold() for n in pairing.split("/") if n.strip()]


def _has_pairing(meta: StoryMeta, expected: str) -> bool:
    for rel in meta.relationships:
        written = [c.casefold() for c in rel.characters] + [rel.raw.casefold()]
        if all(any(name in w for w in written) for name in _names(expected)):
            return True
    return False


def score(meta: StoryMeta, label: dict[str, Any]) -> dict[str, bool]:
    """field -> right or wrong, for the fields this label states."""
    out: dict[str, bool] = {}
    for field, want in label.items():
        if field in ("file", "path", "encode"):
            continue
        if field == "rating":
            got: Any = meta.rating.level
            out[field] = got == want
        elif field == "part":
            out[field] = meta.part == want or meta.series.part == want
        elif field == "series":
            out[field] = (meta.series.name or "").casefold() == str(want).casefold()
        elif field == "fandom":
            out[field] = all(any(w.casefold() in f.casefold() for f in meta.fandoms) for w in want)
        elif field == "pairing":
            out[field] = all(_has_pairing(meta, p) for p in want)
        elif field == "opening":
            out[field] = meta.body.lstrip().startswith(want)
        elif field == "season":
            out[field] = (meta.season or "").strip(" .").casefold() == str(want).casefold()
        else:
            got = getattr(meta, field)
            out[field] = got == want if want is None else (got or "").casefold() == str(want).casefold()
    return out


def test_realworld_set_per_field_accuracy() -> None:
    roster = Roster.load(ROSTER_FILE)
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    wrong: list[str] = []
    for label in _labels():
        meta = _parse(label, roster)
        for field, ok in score(meta, label).items():
            total[field] += 1
            right[field] += ok
            if not ok:
                got = meta.to_json().get(field if field != "pairing" else "relationships")
                if field == "opening":
                    got = meta.body[:60]
                elif field == "part":
                    got = meta.part
                wrong.append(
                    f"{label.get('path', label['file'])}: {field} = {got!r}, expected {label[field]!r}"
                )
    report = [f"{f:10} {right[f]:3}/{total[f]:<3} {right[f] / total[f]:.2f}" for f in sorted(total)]
    overall = sum(right.values()) / sum(total.values())
    print("\nper-field accuracy on tests/realworld:\n" + "\n".join(report) + f"\noverall    {overall:.3f}")
    print("\n".join(wrong))
    weak = [f for f in total if right[f] / total[f] < PER_FIELD]
    assert overall >= OVERALL and not weak, (
        f"overall {overall:.3f} (need {OVERALL}); weak fields {weak}\n" + "\n".join(report + wrong)
    )


@pytest.mark.parametrize("label", _labels(), ids=lambda lb: lb.get("path", lb["file"]))
def test_realworld_files_parse_without_problems_or_header_in_body(label: dict[str, Any]) -> None:
    meta = _parse(label, Roster.load(ROSTER_FILE))
    head = meta.body[:300]
    for leak in ("Rating:", "Pairing:", "Author:", "Autor:", "Рейтинг:", "Advertising by", "mood:"):
        assert leak not in head, f"header line {leak!r} left in the body: {head!r}"
    assert not any("low confidence" in p for p in meta.problems), meta.problems


@pytest.mark.parametrize(
    ("fandom", "pairing", "names"),
    [
        ("Sherlock (TV)", "J/B", {"J", "B"}),
        ("Harry Potter", "Spuffy", set()),
        ("Doctor Who", "W/S", {"W", "S"}),
    ],
)
def test_roster_names_apply_only_to_its_own_fandom(fandom: str, pairing: str, names: set[str]) -> None:
    text = f"Title: Elsewhere\nFandom: {fandom}\nPairing: {pairing}\n\nBuffy was not here. Willow was not here.\n"
    meta = parse_story(text.encode(), "elsewhere.txt", Roster.load(ROSTER_FILE))
    found = {name for rel in meta.relationships for name in rel.characters}
    assert found == names
    assert not {"Buffy Summers", "Willow Rosenberg", "Spike"} & {c.name for c in meta.characters}


def test_roster_names_still_apply_in_its_fandom() -> None:
    text = "Title: Home\nFandom: BtVS\nPairing: W/S\n\nWillow and Spike argued.\n"
    meta = parse_story(text.encode(), "home.txt", Roster.load(ROSTER_FILE))
    assert [r.characters for r in meta.relationships] == [("Spike", "Willow Rosenberg")]


@pytest.mark.parametrize("label", _labels(), ids=lambda lb: lb.get("path", lb["file"]))
def test_realworld_stories_are_never_taken_for_non_stories(label: dict[str, Any]) -> None:
    from archive.nonstory import non_story_reason

    data = (HERE / label["file"]).read_text(encoding="utf-8").encode(label.get("encode", "utf-8"))
    assert non_story_reason(data, label.get("path", label["file"])) is None


@pytest.mark.parametrize(
    ("text", "summary", "rating", "opening"),
    [
        # a short second line inside the labelled block continues the value before it
        ("Title: X\nSummary: Spike is back.\nBuffy isn't happy.\nRating: PG\n\n", "Spike is back. Buffy isn't happy.", "PG", "The story"),
        # a value is never continued into the story that follows without a blank line
        ("Title: X\nRating: PG\n", None, "PG", "The story"),
        # nor across a blank line
        ("Title: X\nRating: R\n\nfor violence\n\n", None, "R", "for violence"),
        # an indented line continues, a wrapped long line too
        ("Title: X\nSummary: Faith goes back to Cleveland, and finds that Robin kept\n   her room.\n\n",
         "Faith goes back to Cleveland, and finds that Robin kept her room.", None, "The story"),
    ],
)  # fmt: skip
def test_header_values_continue_only_when_clearly_continuing(
    text: str, summary: str | None, rating: str | None, opening: str
) -> None:
    meta = parse_story((text + "The story starts here and goes on for a while.\n").encode(), "x.txt")
    assert (meta.summary, meta.rating.raw) == (summary, rating)
    assert meta.body.startswith(opening)
