"""Fandoms read where fans write them: disclaimers (full names only) and folders (issue 13)."""

from __future__ import annotations

import pytest

from archive.fandoms import fandoms_in_text, fandoms_of_path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Disclaimer: Characters from Buffy the Vampire Slayer and Angel: the Series are Joss's.",
            ["Buffy the Vampire Slayer", "Angel"],
        ),
        ("Disclaimer: Harry Potter belongs to J.K. Rowling.", ["Harry Potter"]),
        ("Disclaimer: Doctor Who is the BBC's.", ["Doctor Who"]),
        ("Disclaimer: BBC Sherlock is not mine.", ["Sherlock (TV)"]),
        ("Angel walked in. Who knew? A supernatural marvel, said Spike.", []),  # names, not fandoms
        ("I do not own them.", []),
        ("Disclaimer: Sherlock and John belong to Conan Doyle.", ["Sherlock Holmes"]),
        ("Les personnages de Sherlock appartiennent à la BBC.", ["Sherlock (TV)"]),
    ],
)
def test_fandoms_in_text(text: str, expected: list[str]) -> None:
    assert fandoms_in_text(text) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("btvs/ch3.txt", ["Buffy the Vampire Slayer"]),
        ("Harry Potter/long fic/ch1.txt", ["Harry Potter"]),
        ("who/ch1.txt", ["Doctor Who"]),
        ("/home/who/stories/ch1.txt", []),  # a short name counts only as the file's own folder
        ("wild/ch15.txt", []),
        ("ch15.txt", []),
    ],
)
def test_fandoms_of_path(path: str, expected: list[str]) -> None:
    assert fandoms_of_path(path) == expected
