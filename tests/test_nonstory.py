"""Files in an archive folder that are not stories are recognised on their content (issue 13).

Each shape is generated here; a story named like a project file is still a story.
"""

from __future__ import annotations

import json

import pytest

from archive.nonstory import non_story_reason

MIT = """MIT License

Copyright (c) 2019 Somebody

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, subject to the following conditions:

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED. IN NO EVENT
SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY.
"""

CC = """Attribution-NonCommercial-ShareAlike 3.0 Unported

CREATIVE COMMONS CORPORATION IS NOT A LAW FIRM AND DOES NOT PROVIDE LEGAL SERVICES. THE WORK (AS
DEFINED BELOW) IS PROVIDED UNDER THE TERMS OF THIS CREATIVE COMMONS PUBLIC LICENSE ("CCPL" OR
"LICENSE"). THE WORK IS PROTECTED BY COPYRIGHT AND/OR OTHER APPLICABLE LAW. ANY USE OF THE WORK
OTHER THAN AS AUTHORIZED UNDER THIS LICENSE OR COPYRIGHT LAW IS PROHIBITED.

1. Definitions. "Adaptation" means a work based upon the Work, or upon the Work and other
pre-existing works, such as a translation, adaptation, derivative work, arrangement of music or
other alterations of a literary or artistic work, shall be construed pursuant to the provisions.
"""

README = """# Fic archive

This repository holds my stories, sorted by fandom.

| folder | what |
|---|---|
| `btvs/` | Buffy stories |
| `who/` | Doctor Who |

## Usage

Clone it with `git clone`, then read the files in any editor. Pull requests welcome.
"""

STORY = (
    "Title: The Long Night\nAuthor: Somebody\nRating: PG\n\n"
    + '"Are you coming?" she asked.\n\n"In a minute," he said, and went on reading the licence '
    "of the old shop, which nobody had renewed.\n\n" * 30
)

NOTES = """- fix the ending of chapter 3
- ask beta about the Giles scene
- chapter 4: the cemetery, then the Bronze
- post by Friday
"""


@pytest.mark.parametrize(
    ("name", "text", "expect"),
    [
        ("LICENSE.txt", MIT, "licence"),
        ("terms.txt", MIT, "licence"),
        ("LICENSE.txt", CC, "licence"),
        ("legal.md", CC, "licence"),
        ("README.md", README, "README"),
        ("about.md", README, "README"),
        ("works.csv", "id,title,words\n1,A,100\n2,B,200\n3,C,300\n4,D,400\n", "CSV"),
        ("export.txt", "id;title;words\n1;A;100\n2;B;200\n3;C;300\n4;D;400\n", "CSV"),
        ("index.json", json.dumps([{"title": "A", "words": 100}] * 5, indent=2), "JSON"),
        ("data.txt", json.dumps({"stories": [1, 2, 3]}), "JSON"),
        ("todo.txt", NOTES, "notes"),
        (
            "LICENSE.txt",
            "Source: example.org/fixtures\nRepository license: GPL-3.0 (LICENSE file). The works are "
            "copyright their authors. Keep as local test fixtures; do not redistribute publicly.\n",
            "licence",
        ),
        ("ideas.md", NOTES, "notes"),
    ],
)
def test_non_stories_are_recognised_with_a_reason(name: str, text: str, expect: str) -> None:
    reason = non_story_reason(text.encode(), name)
    assert reason is not None and expect.lower() in reason.lower(), reason
    assert "not a story" in reason


@pytest.mark.parametrize("name", ["README.txt", "story.txt", "notes.txt", "LICENSE.md"])
def test_a_story_is_a_story_whatever_its_name(name: str) -> None:
    assert non_story_reason(STORY.encode(), name) is None


def test_a_story_with_a_creative_commons_note_is_a_story() -> None:
    text = "Title: Open\nNotes: This work is licensed under a Creative Commons licence.\n\n" + STORY
    assert non_story_reason(text.encode(), "open.txt") is None


def test_a_list_poem_with_dialogue_is_not_notes() -> None:
    poem = "\n".join(f'- "Line {i}," she said, and the night went on.' for i in range(12)) + "\n" + STORY
    assert non_story_reason(poem.encode(), "poem.txt") is None


def test_never_raises_on_odd_bytes() -> None:
    for data in (b"", b"\x00\xff" * 100, b"PK\x03\x04junk", bytes(range(256)) * 10):
        non_story_reason(data, "x.txt")
