"""The members' full-text query language, parsed once and rendered for either engine.

Members type one query language (words, "quoted phrases", AND/OR/NOT, `word*` prefixes,
parentheses, `title:`/`author:`/`summary:`/`tag:`/`text:` column filters). `parse_query` is the
only door for user text: it turns any input into a small tree, rendered either as an SQLite FTS5
MATCH expression (`to_match_query`, `parse_text`) or as a PostgreSQL tsquery built from SQL
functions over bound parameters (`to_tsquery_sql`); user text is always a bound parameter, never
part of the SQL. Pure functions: no database, no Discord. `db.fts` runs the searches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PG_FOLD = "librarian_fold"
"""PostgreSQL: an IMMUTABLE text -> text function folding diacritics (unaccent when available)."""
PG_CONFIG = "'simple'::regconfig"
PG_COLUMN_WEIGHTS = {"title": "A", "author": "B", "summary": "C", "tags": "C", "body": "D"}
"""PostgreSQL: a column filter (`title:`) is a weight filter (summary and tags share weight C)."""

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
        weight = PG_COLUMN_WEIGHTS.get(term.column or "", "")
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
