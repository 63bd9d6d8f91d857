"""Small stories written for the end-to-end tests (original text, made up here), so the tests
know exactly what the archive holds whatever else `stories/` contains.

Owns their titles, ratings and pairings: `LONG_TITLE` (general, Willow/Tara, long enough for several
2000-character parts and a Continue button, with a line that would ping everyone), `EXPLICIT_TITLE`
(NC-17, Willow/Tara) and eight general Willow drabbles. It must not read or copy any shared corpus or
seed text.
"""

from __future__ import annotations

from pathlib import Path

LONG_TITLE = "The Quiet Hours of the Magic Box"
EXPLICIT_TITLE = "Lanterns Under Crestwood Hill"
PAIRING = "Willow/Tara"
AUTHOR = "Marginalia Fixture"
RARE_WORD = "quillfeather"
"""A word only the long story uses, for a full-text search."""
PING_LINE = "Giles wrote @everyone and <@&1234> on the notice board, and nobody came."
"""A line of the long story that would ping the whole server if the bot posted it raw."""
DRABBLE_TITLES = tuple(f"Willow's Errand Number {n}" for n in range(1, 9))
"""Eight short general stories about Willow alone, so a Willow search has more than one page."""

_PLACES = ["the counter", "the back room", "the training room", "the stairs", "the window", "the register"]
_THINGS = ["a jar of newt eyes", "a ledger", "a box of candles", "an old map", "a teapot", "a crystal"]
_ACTS = ["sorted", "dusted", "counted twice", "wrapped in paper", "labelled", "put back on the shelf"]


def _long_text() -> str:
    paragraphs = []
    for i in range(48):
        place, thing, act = _PLACES[i % 6], _THINGS[(i * 5) % 6], _ACTS[(i * 7) % 6]
        who, other = ("Willow", "Tara") if i % 2 == 0 else ("Tara", "Willow")
        paragraphs.append(
            f"In quiet hour number {i + 1}, {who} stood by {place} and {act} {thing}, while {other} "
            f"hummed a tune neither of them could name. The shop smelled of sage and old paper. "
            f"Outside, Sunnydale kept its secrets for one more night, and the bell over the door stayed still."
        )
        if i == 20:
            paragraphs.append(f"Tara found the {RARE_WORD} pen under the till, and Willow laughed.")
        if i == 2:
            paragraphs.append(PING_LINE)
    return "\n\n".join(paragraphs)


def _explicit_text() -> str:
    lines = [
        "The lanterns on Crestwood Hill were lit one by one, and Willow counted them aloud.",
        "Tara took her hand at the top of the path. What followed is for grown-up readers only.",
    ]
    return "\n\n".join(lines * 6)


def _story(title: str, rating: str, summary: str, body: str, pairing: str | None = PAIRING) -> str:
    header = f"Title: {title}\nAuthor: {AUTHOR}\nRating: {rating}\n"
    if pairing:
        header += f"Pairing: {pairing}\n"
    return f"{header}Summary: {summary}\n\n~*~*~*~*~\n\n{body}\n"


def _drabble(n: int) -> str:
    errand = _THINGS[n % 6]
    body = (
        f"Willow went out for {errand} on evening number {n}. "
        f"She took the long way past the school, and Willow was home again before the streetlights came on."
    )
    return _story(DRABBLE_TITLES[n - 1], "G", f"Willow runs errand {n}.", body, pairing=None)


def write_stories(folder: Path) -> list[Path]:
    """Write the two test stories into `folder`; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    long_story = folder / "quiet_hours.txt"
    long_story.write_text(
        _story(LONG_TITLE, "G", "An evening of small chores after closing time.", _long_text()),
        encoding="utf-8",
    )
    explicit = folder / "lanterns.txt"
    explicit.write_text(
        _story(EXPLICIT_TITLE, "NC-17", "A walk up the hill at night.", _explicit_text()), encoding="utf-8"
    )
    written = [long_story, explicit]
    for n in range(1, len(DRABBLE_TITLES) + 1):
        drabble = folder / f"errand_{n}.txt"
        drabble.write_text(_drabble(n), encoding="utf-8")
        written.append(drabble)
    return written
