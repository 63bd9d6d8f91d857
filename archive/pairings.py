"""The grammar of pairings: how one pairing field is cut into relationships, and one relationship
into its members and kind. The parser (with or without a roster) and the queries use it alike.

Owns the separators: between relationships `,` `;` `|` or a new line (`split_pieces`); between
members `/` (romantic), `&` (platonic), ` x ` / `×` / `+` (romantic) (`split_pairing`). Resolving
the members to characters, ship names (`Spuffy`) and qualifiers (`past`, `(platonic)`) is the
roster's job (`archive.roster`); wildcards (`Spike/*`) are the query's (`service.query`). Pure text
in, values out: no I/O, no database, no Discord.
"""

from __future__ import annotations

import re

from archive.model import RelationshipKind

_PIECES = re.compile(r"\s*[,;\n|]\s*")
_CROSS = re.compile(r"\s+[x×]\s+|\s*\+\s*", re.IGNORECASE)
_CAMEL_CROSS = re.compile(r"^([A-Z][a-z]{2,})x([A-Z][a-z]{1,})$")  # `DeanxCas`: one word, two names


def split_pieces(text: str) -> list[str]:
    """The relationships of one pairing field, as written: `W/S, B&D` -> [`W/S`, `B&D`]."""
    return [piece for piece in (p.strip() for p in _PIECES.split(text or "")) if piece]


def split_pairing(text: str) -> tuple[list[str], RelationshipKind] | None:
    """One relationship's members and kind: `Spike/Willow` romantic, `Buffy & Dawn` platonic,
    `Spike x Willow`, `Spike + Willow` or `DeanxCas` romantic. None when there is no separator (a ship name,
    a single name). Members are stripped; empty members are kept (`Spike/` is the caller's error)."""
    if "/" in text:
        return [m.strip() for m in text.split("/")], "romantic"
    if "&" in text:
        return [m.strip() for m in text.split("&")], "platonic"
    if _CROSS.search(text):
        return [m.strip() for m in _CROSS.split(text)], "romantic"
    camel = _CAMEL_CROSS.match(text.strip())
    if camel:
        return [camel.group(1), camel.group(2)], "romantic"
    return None
