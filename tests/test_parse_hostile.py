"""Hostile files the parser must survive with bounded cost (issue 12 items 1 and 4).

Every hostile file is generated here, never committed. Costs are checked by what the parser does
(it refuses, it cuts, it says why), not by timing; timings live in bench/ and BENCHMARKS.md.
"""

from __future__ import annotations

import tracemalloc

import pytest
import yaml

from archive.formats.frontmatter import read_frontmatter
from archive.parse import is_unreadable, parse_story
from archive.safeyaml import YAMLBudgetError, load_bounded


def billion_laughs(levels: int = 10, fanout: int = 9) -> str:
    lines = ["---", 'a: &a "lol"']
    previous = "a"
    for level in range(levels - 1):
        name = chr(ord("b") + level)
        lines.append(f"{name}: &{name} [{', '.join(f'*{previous}' for _ in range(fanout))}]")
        previous = name
    lines += [
        "title: Laughs",
        f"author: *{previous}",
        "---",
        "",
        "The story text is here, a few words long.",
    ]
    return "\n".join(lines) + "\n"


def test_billion_laughs_front_matter_is_small_and_refused() -> None:
    text = billion_laughs()
    assert len(text.encode()) < 1500  # the 1.2 KB shape
    tracemalloc.start()
    meta = parse_story(text.encode(), "laughs.md")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 30_000_000  # expanding it would take gigabytes
    assert not is_unreadable(meta)
    assert meta.title == "Laughs"
    assert meta.author is None or len(meta.author) < 100
    assert any("front matter refused" in p for p in meta.problems), meta.problems
    assert meta.body.startswith("The story text is here")


def test_budget_counts_expanded_nodes_not_text() -> None:
    with pytest.raises(YAMLBudgetError):
        load_bounded(billion_laughs(levels=6, fanout=9).split("---")[1])
    # a few honest anchors are fine
    assert load_bounded("base: &b {x: 1}\none: *b\ntwo: *b\n") == {
        "base": {"x": 1},
        "one": {"x": 1},
        "two": {"x": 1},
    }


def test_alias_count_is_capped() -> None:
    text = "a: &a x\nlist: [" + ", ".join(["*a"] * 500) + "]\n"
    with pytest.raises(YAMLBudgetError):
        load_bounded(text)


def test_unsafe_tags_still_refused() -> None:
    with pytest.raises(yaml.YAMLError):
        load_bounded("x: !!python/object/apply:os.system ['true']\n")


def test_a_list_where_a_name_belongs_is_not_stringified() -> None:
    raw = read_frontmatter(
        "---\ntitle: [[1, 2], [3]]\nauthor: [Ann, Bo]\n---\n\nText here and more.\n", "x.md"
    )
    assert raw.author == "Ann, Bo"
    assert raw.title is None or "[" not in raw.title


def nested_html(depth: int) -> bytes:
    return (
        "<html><head><title>Deep</title></head><body><p>Title: Deep Water</p><p>"
        + "<b><i>" * depth
        + "The words at the bottom of the well."
        + "</i></b>" * depth
        + "</p><p>After the well, more story text follows here.</p></body></html>"
    ).encode()


def test_deeply_nested_html_is_cut_and_says_why() -> None:
    data = nested_html(100_000)  # 1.4 MB
    meta = parse_story(data, "deep.html")
    assert not is_unreadable(meta)
    assert "bottom of the well" in meta.body
    assert "After the well" in meta.body
    assert any("nested" in p for p in meta.problems), meta.problems


def test_ordinary_html_is_not_flagged_as_nested() -> None:
    meta = parse_story(nested_html(30), "shallow.html")
    assert not any("nested" in p for p in meta.problems)
    assert "bottom of the well" in meta.body


def test_deep_html_inside_markdown_front_matter_story_is_tamed_too() -> None:
    body = (
        "<p>" + "<b><i>" * 50_000 + "Deep words here." + "</i></b>" * 50_000 + "</p><p>More words after.</p>"
    )
    meta = parse_story(f"---\ntitle: Deep\n---\n{body}\n".encode(), "deep.md")
    assert meta.title == "Deep"
    assert "Deep words here." in meta.body and "More words after." in meta.body
    assert any("nested" in p for p in meta.problems), meta.problems


def test_deep_blocks_fall_back_to_flat_paragraphs() -> None:
    data = (
        "<html><body>" + "<div>" * 5_000 + "<p>Inside all the boxes, a story.</p>" + "</div>" * 5_000
    ).encode()
    meta = parse_story(data + b"<p>And after them.</p></body></html>", "boxes.html")
    assert "Inside all the boxes, a story." in meta.body and "And after them." in meta.body
    assert any("flat" in p for p in meta.problems), meta.problems
