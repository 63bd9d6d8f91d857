"""Full-text search: the SQLite FTS5 table `story_fts`, the one function that turns user text into
a safe MATCH expression, and the ranked search itself.

`story_fts` is an external-content FTS5 table over `story_texts` (rowid = `story_id`), kept in
step by AFTER INSERT/UPDATE/DELETE triggers, so a story's text and its index change in the same
transaction. User text reaches MATCH only through `to_match_query`, and always as a bound
parameter. This module must not import Discord. Full text needs SQLite (FTS5): no other database
is supported for it today.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

FTS_TABLE = "story_fts"
FTS_COLUMNS = ("title", "author", "summary", "tags", "body")
FTS_WEIGHTS = (10.0, 5.0, 3.0, 3.0, 1.0)
"""bm25 column weights, in `FTS_COLUMNS` order: a title hit counts ten times a body hit."""

_COLS = ", ".join(FTS_COLUMNS)
_NEW = ", ".join(f"new.{c}" for c in FTS_COLUMNS)
_OLD = ", ".join(f"old.{c}" for c in FTS_COLUMNS)
_DELETE_OLD = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLS}) VALUES ('delete', old.story_id, {_OLD});"
_INSERT_NEW = f"INSERT INTO {FTS_TABLE}(rowid, {_COLS}) VALUES (new.story_id, {_NEW});"

FTS_V1_DDL: tuple[str, ...] = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({_COLS}, content='story_texts', "
    "content_rowid='story_id', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER story_texts_ai AFTER INSERT ON story_texts BEGIN {_INSERT_NEW} END",
    f"CREATE TRIGGER story_texts_ad AFTER DELETE ON story_texts BEGIN {_DELETE_OLD} END",
    f"CREATE TRIGGER story_texts_au AFTER UPDATE ON story_texts BEGIN {_DELETE_OLD} {_INSERT_NEW} END",
)
"""The SQLite statements migration 0001 runs (frozen: a later change needs a new migration)."""

FTS_V1_DROP: tuple[str, ...] = (
    "DROP TRIGGER IF EXISTS story_texts_au",
    "DROP TRIGGER IF EXISTS story_texts_ad",
    "DROP TRIGGER IF EXISTS story_texts_ai",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)

# --- user text -> MATCH expression ---------------------------------------------------------------

MAX_TOKENS = 64
"""Longer input is cut: nobody types more, and it keeps MATCH cheap."""
MAX_DEPTH = 8
"""Deeper parentheses are dropped (FTS5's parser has a bounded stack)."""
_OPERATORS = frozenset({"AND", "OR", "NOT"})
_UNSAFE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates cannot reach SQLite
_LEXER = re.compile(r'"(?P<phrase>[^"]*)"(?P<pstar>\*?)|(?P<paren>[()])|(?P<word>[^\s()"]+)|(?P<stray>")')


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # term | op | ( | )
    value: str = ""


def _searchable(value: str) -> bool:
    return any(ch.isalnum() for ch in value)


def _quote(value: str, prefix: bool = False) -> str:
    return '"' + value.replace('"', '""') + '"' + ("*" if prefix else "")


def _lex(user_text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    for m in _LEXER.finditer(user_text):
        if m["phrase"] is not None:
            if _searchable(m["phrase"]):
                tokens.append(_Tok("term", _quote(" ".join(m["phrase"].split()), bool(m["pstar"]))))
        elif m["paren"]:
            tokens.append(_Tok(m["paren"]))
        elif m["word"]:
            word = m["word"]
            if word in _OPERATORS:
                tokens.append(_Tok("op", word))
                continue
            stem = word.rstrip("*")
            prefix = stem != word and "*" not in stem and _searchable(stem)
            if _searchable(word):
                tokens.append(_Tok("term", _quote(stem if prefix else word, prefix)))
        # a stray (unbalanced) quote is dropped
    return tokens


def _balanced(tokens: list[_Tok]) -> bool:
    """Parentheses that pair up and nest no deeper than `MAX_DEPTH`."""
    depth = 0
    for tok in tokens:
        depth += (tok.kind == "(") - (tok.kind == ")")
        if depth < 0 or depth > MAX_DEPTH:
            return False
    return depth == 0


def _push_words(items: list[str], ops: list[str]) -> None:
    """A misplaced operator is only a word: search for it as one."""
    for op in ops:
        if items:
            items.append("AND")
        items.append(_quote(op))


def _group(tokens: list[_Tok], pos: int) -> tuple[str | None, int]:
    """Normalise tokens from `pos` up to the matching `)` (or the end) into one valid expression."""
    items: list[str] = []  # operand (operator operand)*
    pending: list[str] = []  # operators seen since the last operand
    while pos < len(tokens):
        tok = tokens[pos]
        pos += 1
        if tok.kind == ")":
            break
        if tok.kind == "op":
            pending.append(tok.value)
            continue
        if tok.kind == "(":
            inner, pos = _group(tokens, pos)
            if inner is None:
                continue
            operand = f"({inner})"
        else:
            operand = tok.value
        if items:  # between two operands the last operator wins; none means AND
            items.append(pending[-1] if pending else "AND")
        elif pending:
            _push_words(items, pending)
            items.append("AND")
        pending = []
        items.append(operand)
    _push_words(items, pending)
    return (" ".join(items) or None), pos


def to_match_query(user_text: str) -> str | None:
    """Turn any user text into a safe FTS5 MATCH expression, or None when nothing is searchable.

    Keeps "quoted phrases", AND/OR/NOT (uppercase only; lowercase words are just words), `word*`
    prefixes and balanced parentheses. Everything else is neutralised by quoting each token as a
    string, so no input can make MATCH raise.
    """
    clean = _UNSAFE.sub(" ", user_text or "")
    tokens = _lex(clean)[:MAX_TOKENS]
    if not _balanced(tokens):
        tokens = [t for t in tokens if t.kind not in "()"]
    expr, _ = _group(tokens, 0)
    return expr


async def fts_search(
    session: AsyncSession, user_text: str, limit: int | None = None, *, include_removed: bool = False
) -> list[tuple[int, float]]:
    """Stories matching `user_text`, best first, as (story_id, bm25 rank; lower is better).

    Column weights favour title, then author, then summary and tags, then body. Mod-removed
    stories are left out unless `include_removed`.
    """
    query = to_match_query(user_text)
    if query is None:
        return []
    weights = ", ".join(str(w) for w in FTS_WEIGHTS)
    removed = "" if include_removed else "AND s.removed_at IS NULL "
    join = "" if include_removed else "JOIN stories AS s ON s.id = f.rowid "  # the join costs 2-3x
    sql = (
        f"SELECT f.rowid, bm25({FTS_TABLE}, {weights}) AS rank FROM {FTS_TABLE} AS f "
        f"{join}WHERE {FTS_TABLE} MATCH :query {removed}"
        "ORDER BY rank, f.rowid" + (" LIMIT :limit" if limit is not None else "")
    )
    params: dict[str, object] = {"query": query}
    if limit is not None:
        params["limit"] = int(limit)
    rows = await session.execute(text(sql), params)
    return [(int(story_id), float(rank)) for story_id, rank in rows]
