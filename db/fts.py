"""Full-text search: the SQLite FTS5 table `story_fts`, the one function that turns user text into
a safe MATCH expression, and the ranked search itself.

`story_fts` is an external-content FTS5 table over `story_texts` (rowid = `story_id`), kept in
step by AFTER INSERT/UPDATE/DELETE triggers, so a story's text and its index change in the same
transaction. User text reaches MATCH only through `to_match_query`, and always as a bound
parameter. This module must not import Discord; the PostgreSQL equivalent (tsvector) is a TODO.
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
COLUMN_NAMES: dict[str, str] = {
    "title": "title",
    "author": "author",
    "by": "author",
    "summary": "summary",
    "tag": "tags",
    "tags": "tags",
    "genre": "tags",
    "warning": "tags",
    "warnings": "tags",
    "character": "tags",
    "characters": "tags",
    "pairing": "tags",
    "ship": "tags",
    "text": "body",
    "body": "body",
}
"""`name:words` a member may type, and the FTS column it searches (any other `name:` is dropped)."""
_UNSAFE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates cannot reach SQLite
_LEXER = re.compile(
    r'(?P<neg>-(?=[^\s()"-]|"))?(?:(?P<col>[^\W\d_]+):(?=[^\s()]))?'
    r'(?:"(?P<phrase>[^"]*)"(?P<pstar>\*?)|(?P<word>[^\s()"]+))'
    r'|(?P<paren>[()])|(?P<stray>")'
)


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # term | op | word-op (lowercase and/or/not) | neg | ( | )
    value: str = ""


@dataclass(frozen=True, slots=True)
class MatchQuery:
    """What a text query asks for, as MATCH expressions: stories matching `include` (None: every
    story) that do not match `exclude` (None: nothing left out)."""

    include: str | None
    exclude: str | None

    @property
    def expression(self) -> str | None:
        """One MATCH expression for the whole query, or None when it only leaves stories out."""
        if self.include is None:
            return None
        return self.include if self.exclude is None else f"({self.include}) NOT ({self.exclude})"


def _searchable(value: str) -> bool:
    return any(ch.isalnum() for ch in value)


def _quote(value: str, prefix: bool = False) -> str:
    return '"' + value.replace('"', '""') + '"' + ("*" if prefix else "")


def _word_term(word: str) -> str | None:
    stem = word.rstrip("*")
    prefix = stem != word and "*" not in stem and _searchable(stem)
    return _quote(stem if prefix else word, prefix) if _searchable(word) else None


def _terms(m: re.Match[str]) -> list[str]:
    """The quoted term one lexer match stands for: a `title:` filter becomes FTS's column filter;
    an unknown `name:` (`fandom:buffy`, `rating:pg`) is dropped, leaving the plain words."""
    if m["phrase"] is not None:
        phrase = " ".join(m["phrase"].split())
        term = _quote(phrase, bool(m["pstar"])) if _searchable(phrase) else None
    else:
        term = _word_term(m["word"])
    col = m["col"]
    if col is None:
        return [term] if term else []
    column = COLUMN_NAMES.get(col.casefold())
    if column:
        return [f"{column} : {term}"] if term else []
    return [term] if term else [_quote(col)]


def _lex(user_text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    for m in _LEXER.finditer(user_text):
        if m["paren"]:
            tokens.append(_Tok(m["paren"]))
            continue
        if m["stray"]:  # an unbalanced quote is dropped
            continue
        word = m["word"]
        if word is not None and m["col"] is None and not m["neg"]:
            if word in _OPERATORS:
                tokens.append(_Tok("op", word))
                continue
            if word.upper() in _OPERATORS:
                tokens.append(_Tok("word-op", word))
                continue
        terms = _terms(m)
        if m["neg"] and terms:
            tokens.append(_Tok("neg", terms[0]))
        else:
            tokens.extend(_Tok("term", t) for t in terms)
    return tokens


def _boolean(tokens: list[_Tok]) -> bool:
    """A query is clearly boolean when it uses an uppercase operator or parentheses; only then do
    lowercase `and`/`or`/`not` act as operators too."""
    return any(t.kind in ("op", "(") for t in tokens)


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


def _group(tokens: list[_Tok], pos: int, negs: list[str]) -> tuple[str | None, int]:
    """Normalise tokens from `pos` up to the matching `)` (or the end) into one valid expression.

    Negated operands (`-word`, a leading `NOT word`) go to `negs`: the whole query leaves them out.
    """
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
        if tok.kind == "neg":
            negs.append(tok.value)
            continue
        if tok.kind == "(":
            inner, pos = _group(tokens, pos, negs)
            if inner is None:
                continue
            operand = f"({inner})"
        else:
            operand = tok.value
        if items:  # between two operands the last operator wins; none means AND
            items.append(pending[-1] if pending else "AND")
        elif pending and pending[-1] == "NOT":  # `NOT tea` first: leave tea out
            _push_words(items, pending[:-1])
            if items:
                items.append("NOT")
            else:
                negs.append(operand)
                pending = []
                continue
        elif pending:
            _push_words(items, pending)
            items.append("AND")
        pending = []
        items.append(operand)
    _push_words(items, pending)
    return (" ".join(items) or None), pos


def parse_text(user_text: str) -> MatchQuery | None:
    """Turn any user text into safe FTS5 MATCH expressions, or None when nothing is searchable.

    Keeps "quoted phrases", `word*` prefixes, balanced parentheses, AND/OR/NOT (lowercase
    `and`/`or`/`not` only when the query is clearly boolean, else they are words), `-word` and a
    leading `NOT word` as "leave out", and `title:`/`author:`/`summary:`/`tag:`/`text:` column
    filters (an unknown `name:` is dropped; `half-demon` is one word). Everything else is
    neutralised by quoting each token as a string, so no input can make MATCH raise.
    """
    clean = _UNSAFE.sub(" ", user_text or "")
    tokens = _lex(clean)[:MAX_TOKENS]
    boolean = _boolean(tokens)
    tokens = [
        (_Tok("op", t.value.upper()) if boolean else _Tok("term", _quote(t.value)))
        if t.kind == "word-op"
        else t
        for t in tokens
    ]
    if not _balanced(tokens):
        tokens = [t for t in tokens if t.kind not in "()"]
    negs: list[str] = []
    include, _ = _group(tokens, 0, negs)
    negs = list(dict.fromkeys(negs))
    exclude = " OR ".join(negs) if negs else None
    if include is None and exclude is None:
        return None
    return MatchQuery(include, exclude)


def to_match_query(user_text: str) -> str | None:
    """One safe FTS5 MATCH expression for `user_text` (see `parse_text`), or None when there is
    nothing to look for (no words, or only words to leave out)."""
    parsed = parse_text(user_text)
    return parsed.expression if parsed else None


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
