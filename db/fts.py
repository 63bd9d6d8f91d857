"""Full-text search on either engine: the one function that turns user text into a safe query, and
the ranked search itself.

Members type one query language (words, "quoted phrases", AND/OR/NOT, `word*` prefixes,
parentheses). `parse_query` is the only door for user text: it turns any input into a small tree,
which is rendered either as an SQLite FTS5 MATCH expression (`to_match_query`) or as a PostgreSQL
tsquery built from SQL functions over bound parameters (`to_tsquery_sql`); user text is always a
bound parameter, never part of the SQL.

SQLite: `story_fts` is an external-content FTS5 table over `story_texts` (rowid = `story_id`), kept
in step by AFTER INSERT/UPDATE/DELETE triggers (a bulk write defers its inserts to one statement
per transaction: `defer_index`/`flush_index`); ranking is bm25 with column weights. PostgreSQL:
`story_texts.tsv` is a stored generated tsvector (weights A-D for title, author, summary+tags,
body) with a GIN index; ranking is ts_rank with the same weight ratios. Both fold case and
diacritics and do not stem. This module must not import Discord.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from db.rawsql import fetch_all

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

FTS_PENDING = "story_fts_pending"
"""SQLite: story ids whose full-text rows a bulk write adds in one go before it commits. Empty in
every committed state; the row with id 0 marks "this transaction defers" (see `defer_index`)."""
_DEFERRING = f"EXISTS (SELECT 1 FROM {FTS_PENDING} WHERE story_id = 0)"
_PENDING_OLD = f"EXISTS (SELECT 1 FROM {FTS_PENDING} WHERE story_id = old.story_id)"

_NEW_ROW = ", ".join(["new.story_id", *(f"new.{c}" for c in FTS_COLUMNS)])
_OLD_ROW = ", ".join(["'delete'", "old.story_id", *(f"old.{c}" for c in FTS_COLUMNS)])

FTS_V2_DDL: tuple[str, ...] = (
    f"CREATE TABLE {FTS_PENDING} (story_id INTEGER PRIMARY KEY)",
    "DROP TRIGGER IF EXISTS story_texts_ai",
    "DROP TRIGGER IF EXISTS story_texts_ad",
    "DROP TRIGGER IF EXISTS story_texts_au",
    f"CREATE TRIGGER story_texts_ai AFTER INSERT ON story_texts BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, {_COLS}) SELECT {_NEW_ROW} WHERE NOT {_DEFERRING}; "
    f"INSERT OR IGNORE INTO {FTS_PENDING} (story_id) SELECT new.story_id WHERE {_DEFERRING}; END",
    f"CREATE TRIGGER story_texts_ad AFTER DELETE ON story_texts BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLS}) SELECT {_OLD_ROW} WHERE NOT {_PENDING_OLD}; "
    f"DELETE FROM {FTS_PENDING} WHERE story_id = old.story_id; END",
    f"CREATE TRIGGER story_texts_au AFTER UPDATE ON story_texts WHEN NOT {_PENDING_OLD} "
    f"BEGIN {_DELETE_OLD} {_INSERT_NEW} END",
)
"""The SQLite statements migration 0005 runs (frozen). Every writer of `story_texts` still keeps
the full-text index in step by triggers, except inside a transaction that called `defer_index`:
there new rows are only noted in `story_fts_pending` (a row still pending that is updated or deleted
needs no full-text change), and `flush_index` adds them all in one statement before the commit.
FTS5 writes its pending terms to disk at every SAVEPOINT once it is part of a transaction, so a
bulk write of a savepoint per story that fed FTS5 row by row made a tiny segment per story. (One
trigger per event, statements in order: two AFTER DELETE triggers would see each other's work.)"""

FTS_V2_DROP: tuple[str, ...] = (
    "DROP TRIGGER IF EXISTS story_texts_ai",
    "DROP TRIGGER IF EXISTS story_texts_ad",
    "DROP TRIGGER IF EXISTS story_texts_au",
    *FTS_V1_DDL[1:],
    f"DROP TABLE IF EXISTS {FTS_PENDING}",
)
"""Migration 0005's downgrade: back to the version 1 triggers."""


def defer_index(conn: Connection) -> None:
    """From now until `flush_index` in this transaction, stories added to `story_texts` get their
    full-text rows in one go (SQLite; PostgreSQL's generated tsvector needs nothing)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"INSERT OR IGNORE INTO {FTS_PENDING} (story_id) VALUES (0)")


def flush_index(conn: Connection) -> None:
    """Add the full-text rows of every story added since `defer_index`, and stop deferring. Must
    run in the same transaction, before it commits."""
    if conn.dialect.name != "sqlite":
        return
    conn.exec_driver_sql(
        f"INSERT INTO {FTS_TABLE}(rowid, {_COLS}) SELECT t.story_id, {', '.join('t.' + c for c in FTS_COLUMNS)} "
        f"FROM {FTS_PENDING} AS p JOIN story_texts AS t ON t.story_id = p.story_id ORDER BY p.story_id"
    )
    conn.exec_driver_sql(f"DELETE FROM {FTS_PENDING}")


PG_FOLD = "librarian_fold"
"""PostgreSQL: an IMMUTABLE text -> text function folding diacritics (unaccent when available)."""
PG_CONFIG = "'simple'::regconfig"
_PG_COLUMN_WEIGHTS = {"title": "A", "author": "B", "summary": "C", "tags": "C", "body": "D"}
"""PostgreSQL: a column filter (`title:`) is a weight filter (summary and tags share weight C)."""
_PG_WEIGHTS = "'{" + ",".join(str(w / FTS_WEIGHTS[0]) for w in (1.0, 3.0, 5.0, 10.0)) + "}'"
"""ts_rank weights {D, C, B, A}: body 1, summary/tags 3, author 5, title 10 (as FTS_WEIGHTS)."""


def _pg_vector(column: str, weight: str) -> str:
    return f"setweight(to_tsvector({PG_CONFIG}, {PG_FOLD}(coalesce({column}, ''))), '{weight}')"


PG_TSV = " || ".join(
    _pg_vector(column, weight)
    for column, weight in (("title", "A"), ("author", "B"), ("summary", "C"), ("tags", "C"), ("body", "D"))
)
"""The expression `story_texts.tsv` is generated from."""


def pg_fts_ddl(unaccent: bool) -> tuple[str, ...]:
    """The PostgreSQL statements migration 0001 runs: the fold function, the tsvector column, its
    GIN index. `unaccent` says whether the unaccent extension can be used (else diacritics stay)."""
    body = "SELECT public.unaccent('public.unaccent'::regdictionary, $1)" if unaccent else "SELECT $1"
    return (
        *(("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public",) if unaccent else ()),
        f"CREATE OR REPLACE FUNCTION {PG_FOLD}(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT "
        f"PARALLEL SAFE AS $$ {body} $$",
        f"ALTER TABLE story_texts ADD COLUMN tsv tsvector GENERATED ALWAYS AS ({PG_TSV}) STORED",
        "CREATE INDEX ix_story_texts_tsv ON story_texts USING gin (tsv)",
    )


PG_FTS_DROP: tuple[str, ...] = (
    "DROP INDEX IF EXISTS ix_story_texts_tsv",
    "ALTER TABLE story_texts DROP COLUMN IF EXISTS tsv",
    f"DROP FUNCTION IF EXISTS {PG_FOLD}(text)",
)

# --- user text -> query tree ---------------------------------------------------------------------

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
_UNSAFE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates cannot reach a database
_LEXER = re.compile(
    r'(?P<neg>-(?=[^\s()"-]|"))?(?:(?P<col>[^\W\d_]+):(?=[^\s()]))?'
    r'(?:"(?P<phrase>[^"]*)"(?P<pstar>\*?)|(?P<word>[^\s()"]+))'
    r'|(?P<paren>[()])|(?P<stray>")'
)


@dataclass(frozen=True, slots=True)
class Term:
    """Words to find next to each other (one word, or a quoted phrase), in one FTS column or all;
    `prefix`: the last word is a prefix."""

    words: str
    prefix: bool = False
    column: str | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """`items` alternate operand and operator: [operand, "AND"|"OR"|"NOT", operand, ...]."""

    items: tuple[Term | Group | str, ...]


Node = Term | Group


@dataclass(frozen=True, slots=True)
class ParsedText:
    """A text query as trees: stories matching `include` (None: every story) that match none of
    `exclude`."""

    include: Group | None
    exclude: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # term | op | word-op (lowercase and/or/not) | neg | ( | )
    value: str = ""
    node: Node | None = None  # for term and neg


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


def _word_term(word: str) -> Term | None:
    stem = word.rstrip("*")
    prefix = stem != word and "*" not in stem and _searchable(stem)
    return Term(stem if prefix else word, prefix) if _searchable(word) else None


def _terms(m: re.Match[str]) -> list[Term]:
    """The term one lexer match stands for: a `title:` filter searches that column; an unknown
    `name:` (`fandom:buffy`, `rating:pg`) is dropped, leaving the plain words."""
    if m["phrase"] is not None:
        phrase = " ".join(m["phrase"].split())
        term = Term(phrase, bool(m["pstar"])) if _searchable(phrase) else None
    else:
        term = _word_term(m["word"])
    col = m["col"]
    if col is None:
        return [term] if term else []
    column = COLUMN_NAMES.get(col.casefold())
    if column:
        return [Term(term.words, term.prefix, column)] if term else []
    return [term] if term else [Term(col)]


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
            tokens.append(_Tok("neg", node=terms[0]))
        else:
            tokens.extend(_Tok("term", node=t) for t in terms)
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


def _push_words(items: list[Node | str], ops: list[str]) -> None:
    """A misplaced operator is only a word: search for it as one."""
    for op in ops:
        if items:
            items.append("AND")
        items.append(Term(op))


def _group(tokens: list[_Tok], pos: int, negs: list[Node]) -> tuple[Group | None, int]:
    """Normalise tokens from `pos` up to the matching `)` (or the end) into one valid expression.

    Negated operands (`-word`, a leading `NOT word`) go to `negs`: the whole query leaves them out.
    """
    items: list[Node | str] = []  # operand (operator operand)*
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
            assert tok.node is not None
            negs.append(tok.node)
            continue
        operand: Node
        if tok.kind == "(":
            inner, pos = _group(tokens, pos, negs)
            if inner is None:
                continue
            operand = inner
        else:
            assert tok.node is not None
            operand = tok.node
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
    return (Group(tuple(items)) if items else None), pos


def parse_query(user_text: str) -> ParsedText | None:
    """Any user text as query trees, or None when nothing is searchable (the one door for user text).

    Keeps "quoted phrases", `word*` prefixes, balanced parentheses, AND/OR/NOT (lowercase
    `and`/`or`/`not` only when the query is clearly boolean, else they are words), `-word` and a
    leading `NOT word` as "leave out", and `title:`/`author:`/`summary:`/`tag:`/`text:` column
    filters (an unknown `name:` is dropped; `half-demon` is one word). Everything else is
    only words, quoted as strings when rendered, so no input can make a query raise.
    """
    clean = _UNSAFE.sub(" ", user_text or "")
    tokens = _lex(clean)[:MAX_TOKENS]
    boolean = _boolean(tokens)
    tokens = [
        (_Tok("op", t.value.upper()) if boolean else _Tok("term", node=Term(t.value)))
        if t.kind == "word-op"
        else t
        for t in tokens
    ]
    if not _balanced(tokens):
        tokens = [t for t in tokens if t.kind not in "()"]
    negs: list[Node] = []
    include, _ = _group(tokens, 0, negs)
    exclude = tuple(dict.fromkeys(negs))
    if include is None and not exclude:
        return None
    return ParsedText(include, exclude)


# --- SQLite: the trees as FTS5 MATCH expressions --------------------------------------------------


def _fts5(node: Node | str) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, Term):
        quoted = _quote(node.words, node.prefix)
        return f"{node.column} : {quoted}" if node.column else quoted
    return " ".join(f"({_fts5(item)})" if isinstance(item, Group) else _fts5(item) for item in node.items)


def parse_text(user_text: str) -> MatchQuery | None:
    """Any user text as safe FTS5 MATCH expressions (see `parse_query`), or None when nothing is
    searchable."""
    parsed = parse_query(user_text)
    if parsed is None:
        return None
    include = _fts5(parsed.include) if parsed.include else None
    exclude = " OR ".join(f"({_fts5(n)})" if isinstance(n, Group) else _fts5(n) for n in parsed.exclude)
    return MatchQuery(include, exclude or None)


def to_match_query(user_text: str) -> str | None:
    """One safe FTS5 MATCH expression for `user_text` (see `parse_text`), or None when there is
    nothing to look for (no words, or only words to leave out)."""
    parsed = parse_text(user_text)
    return parsed.expression if parsed else None


# --- PostgreSQL: the same tree as a tsquery over bound parameters ---------------------------------


def _split(items: tuple[Term | Group | str, ...], op: str) -> list[list[Term | Group | str]]:
    parts: list[list[Term | Group | str]] = [[]]
    for item in items:
        if item == op:
            parts.append([])
        else:
            parts[-1].append(item)
    return parts


class _TsQuery:
    """Renders a tree with FTS5's precedence (NOT binds tightest, then AND, then OR)."""

    def __init__(self) -> None:
        self.params: dict[str, str] = {}

    def _bind(self, value: str) -> str:
        name = f"fts_{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def term(self, term: Term) -> str:
        weight = _PG_COLUMN_WEIGHTS.get(term.column or "", "")
        if not term.prefix and not weight:
            return f"phraseto_tsquery({PG_CONFIG}, {PG_FOLD}({self._bind(term.words)}))"
        # a quoted lexeme with a prefix and/or weight mark: quote_literal doubles quotes,
        # backslashes are dropped first (quote_literal would write E'..'), so the string handed to
        # to_tsquery is always valid; the mark is ours, never user text
        words = term.words.replace("\\", " ")
        mark = "*" * term.prefix + weight
        # (`\\:` keeps SQLAlchemy's text() from reading `:A` as a bound parameter)
        return f"to_tsquery({PG_CONFIG}, quote_literal({PG_FOLD}({self._bind(words)})) || '\\:{mark}')"

    def operand(self, node: Node | str) -> str:
        if isinstance(node, Term):
            return self.term(node)
        assert isinstance(node, Group)
        return self.group(node.items)

    def group(self, items: tuple[Term | Group | str, ...]) -> str:
        alternatives = []
        for alternative in _split(items, "OR"):
            conjuncts = []
            for conjunct in _split(tuple(alternative), "AND"):
                first, *negated = _split(tuple(conjunct), "NOT")
                expr = self.operand(first[0])
                for part in negated:
                    expr = f"({expr} && !!{self.operand(part[0])})"
                conjuncts.append(expr)
            alternatives.append(conjuncts[0] if len(conjuncts) == 1 else "(" + " && ".join(conjuncts) + ")")
        return alternatives[0] if len(alternatives) == 1 else "(" + " || ".join(alternatives) + ")"


def to_tsquery_sql(user_text: str, *, exclude_only: bool = False) -> tuple[str, dict[str, str]] | None:
    """User text as a PostgreSQL tsquery expression plus its bound parameters, or None when there
    is nothing to look for: what the query asks for minus what it leaves out (like
    `to_match_query`), or with `exclude_only` the words it leaves out. The SQL holds only function
    calls and operators; every word is a parameter, so no input can make the query raise."""
    parsed = parse_query(user_text)
    if parsed is None:
        return None
    renderer = _TsQuery()
    left_out = " || ".join(renderer.operand(n) for n in parsed.exclude)
    if exclude_only:
        return (f"({left_out})", renderer.params) if left_out else None
    if parsed.include is None:
        return None
    wanted = renderer.group(parsed.include.items)
    return (f"({wanted} && !!({left_out}))" if left_out else wanted), renderer.params


# --- search ----------------------------------------------------------------------------------------


async def match_ids(session: AsyncSession, user_text: str) -> list[int]:
    """Ids of every story (removed ones too) the text names, unranked: those it asks for, or, when
    it only leaves words out (`-tea`, `NOT tea`), those it leaves out (the caller inverts)."""
    parsed = parse_text(user_text)
    if parsed is None:
        return []
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        rendered = to_tsquery_sql(user_text, exclude_only=parsed.expression is None)
        if rendered is None:
            return []
        sql, params = rendered
        rows = await session.execute(text(f"SELECT story_id FROM story_texts WHERE tsv @@ {sql}"), params)
        return [int(r[0]) for r in rows]
    query = parsed.expression or parsed.exclude
    if query is None:
        return []
    rows = await fetch_all(session, f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?", (query,))
    return [int(r[0]) for r in rows]


async def ranked_matches(session: AsyncSession, user_text: str) -> list[tuple[int, float]]:
    """Every story (removed ones too) the text asks for, each with its rank (lower is better; bm25
    with column weights on SQLite, minus ts_rank on PostgreSQL), unordered: the match and the
    ranking in one statement, one MATCH. Empty when the text only leaves words out."""
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        return await _pg_search(session, user_text, None, True)
    query = to_match_query(user_text)
    if query is None:
        return []
    weights = ", ".join(str(w) for w in FTS_WEIGHTS)
    sql = f"SELECT rowid, bm25({FTS_TABLE}, {weights}) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?"
    return await fetch_all(session, sql, (query,))


ABOUT_COLUMNS = ("title", "author", "summary", "tags")
"""What a story says it is about: every full-text column but the body."""
_PG_ABOUT = "'{a,b,c}'"
"""The same on PostgreSQL: the tsvector's lexemes of weights A-C (title, author, summary and tags)."""


async def fts_search(
    session: AsyncSession,
    user_text: str,
    limit: int | None = None,
    *,
    include_removed: bool = False,
    about_only: bool = False,
) -> list[tuple[int, float]]:
    """Stories matching `user_text`, best first, as (story_id, rank; lower is better).

    Column weights favour title, then author, then summary and tags, then body (bm25 on SQLite,
    minus ts_rank on PostgreSQL). Mod-removed stories are left out unless `include_removed`;
    `about_only` matches titles, authors, summaries and tags only, never the story text.
    """
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        return await _pg_search(session, user_text, limit, include_removed, about_only)
    query = to_match_query(user_text)
    if query is None:
        return []
    if about_only:
        query = f"{{{' '.join(ABOUT_COLUMNS)}}} : ({query})"
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


async def _pg_search(
    session: AsyncSession, user_text: str, limit: int | None, include_removed: bool, about_only: bool = False
) -> list[tuple[int, float]]:
    rendered = to_tsquery_sql(user_text)
    if rendered is None:
        return []
    tsquery, bound = rendered
    params: dict[str, object] = dict(bound)
    removed = "" if include_removed else "JOIN stories AS s ON s.id = t.story_id AND s.removed_at IS NULL "
    vector = f"ts_filter(t.tsv, {_PG_ABOUT})" if about_only else "t.tsv"
    about = f"AND {vector} @@ q.q " if about_only else ""  # the index narrows, the filter decides
    sql = (
        f"SELECT t.story_id, -ts_rank({_PG_WEIGHTS}, {vector}, q.q, 1) AS rank "
        f"FROM (SELECT {tsquery} AS q) AS q JOIN story_texts AS t ON t.tsv @@ q.q {about}{removed}"
        "ORDER BY rank, t.story_id" + (" LIMIT :limit" if limit is not None else "")
    )
    if limit is not None:
        params["limit"] = int(limit)
    rows = await session.execute(text(sql), params)
    return [(int(story_id), float(rank)) for story_id, rank in rows]


PG_INDEX = "ix_story_texts_tsv"
PG_BULK_BEGIN: tuple[str, ...] = (f"DROP INDEX IF EXISTS {PG_INDEX}",)
"""PostgreSQL, before rows are loaded in bulk into an empty `story_texts`: the GIN index goes (one
build at the end costs a fraction of updating it row by row)."""
PG_BULK_END: tuple[str, ...] = (
    "SET LOCAL maintenance_work_mem = '256MB'",
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON story_texts USING gin (tsv)",
)
"""…and after: the index built once over every row (the same definition as migration 0001's)."""


async def check_index(session: AsyncSession, *, recompute: bool = True) -> None:
    """Raise when the full-text index disagrees with `story_texts` (FTS5's integrity check; on
    PostgreSQL, every stored tsvector recomputed, or with `recompute=False` only checked present
    and indexed: right after the rows were written PostgreSQL has just computed them itself)."""
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        if recompute:
            stale = await session.scalar(
                text(f"SELECT count(*) FROM story_texts WHERE tsv IS DISTINCT FROM ({PG_TSV})")
            )
        else:
            stale = await session.scalar(text("SELECT count(*) FROM story_texts WHERE tsv IS NULL"))
        if stale:
            raise RuntimeError(f"{stale} stories have a stale full-text entry")
        valid = await session.scalar(
            text(
                "SELECT i.indisvalid FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid WHERE c.relname = :n"
            ),
            {"n": PG_INDEX},
        )
        if not valid:
            raise RuntimeError(f"the full-text index {PG_INDEX} is missing or invalid")
        return
    await session.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)"))
