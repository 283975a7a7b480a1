"""The query language, parsed into an engine-independent tree.

    words               all words preferred, documents missing some still found (ranked lower)
    "a phrase"          the words next to each other, in this order
    a AND b, a OR b     both required / either; NOT a, -a excludes; +a requires one word
    ( ... )             grouping
    title:x  section:x  lang:fr  source:x  type:html  KEY:x (an infobox key, e.g. status:active)
    word*  word~  word~2    prefix, fuzzy (edit distance 1 or 2)
    date:2022  date:2022-09  date:2022-09-12..2022-09-14  date:..2021  date:2021..

A query written entirely in capitals reads AND, OR and NOT as words. Text of more than MAX_CLAUSES
words without AND, OR or NOT (pasted text, a long question) is a `Passage`: searched as a bag of its
most distinctive words, which the engine picks with its own statistics.

Engines translate the tree (see `indexer/engines/`); nothing here knows about Whoosh.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..analysis import FUNCTION_WORDS, is_stop_everywhere
from ..errors import QueryError
from ..facets import facet, query_fields
from ..querytree import (
    Bool,
    DateRange,
    Filter,
    Fuzzy,
    MatchAll,
    Node,
    Passage,
    Phrase,
    Prefix,
    Term,
    date_bounds,
    valid_date,
)

MAX_QUERY_CHARS = 20_000  # pasted text; a quoted passage of any length up to this finds itself
REUSE_FIELD = "reuse"  # reuse:DOC_ID, documents sharing passages with DOC_ID
MAX_CLAUSES = 64  # words, phrases and field values of a query with AND, OR or NOT
MAX_DEPTH = 8

SCORED_FIELDS = {"title": "title", "heading": "heading", "text": "text"}
# In a question typed as plain words (`what are the effects of ...`), these words say how it
# is asked, not what it is about: they are dropped when at least one other word remains.
# (bench/ranking_study.py: +0.005 mean nDCG@10 over the suite, +0.018 on CISI's long questions.)
# Phrases and field values keep them.
QUESTION_WORDS = frozenset(
    [
        "what",
        "how",
        "which",
        "why",
        "where",
        "when",
        "does",
        "do",
        "did",
        "has",
        "have",
        "had",
        "been",
        "being",
        "can",
        "could",
        "would",
        "should",
        "must",
        "might",
        "any",
        "some",
        "from",
        "we",
        "you",
        "our",
        "also",
        "there",
        "were",
    ]
)  # not "who", "us", "may", "i": WHO, the US, May 2022 and World War I are what a text is about
QUESTION_MIN_WORDS = 3
_FIELD = re.compile(r"([A-Za-z_][\w.-]*):")
_OPERATORS = {"AND": "and", "OR": "or", "NOT": "not", "&&": "and", "||": "or"}
_WORD = re.compile(r"\w+(?:[.'’]\w+)*")
_WORD_CHARS = re.compile(r"[^\s()\"]+")


@dataclass
class ParsedQuery:
    """The tree and what snippets, suggestions and the UI need from the text."""

    text: str
    tree: Node
    words: list[str] = field(default_factory=list)  # positive free-text words, in order
    phrases: list[tuple[str, ...]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    reuse: tuple[str, ...] = ()  # `reuse:DOC_ID`: documents sharing passages with one of these


# -- tokens -----------------------------------------------------------------------------------
@dataclass
class _Tok:
    kind: str  # word | phrase | lparen | rparen | and | or | not | minus | plus | field
    text: str
    pos: int


def _tokens(text: str, capitals: bool = False) -> list[_Tok]:
    """The query's tokens; with `capitals` (a query typed in capitals) AND, OR and NOT are words."""
    toks: list[_Tok] = []
    operators = {"&&": "and", "||": "or"} if capitals else _OPERATORS
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "(":
            toks.append(_Tok("lparen", c, i))
            i += 1
        elif c == ")":
            toks.append(_Tok("rparen", c, i))
            i += 1
        elif c in '"“”':
            end = min((j for j in (text.find(q, i + 1) for q in '"“”') if j != -1), default=-1)
            # An unbalanced quote reads as a phrase to the end of the query.
            body = text[i + 1 : end] if end != -1 else text[i + 1 :]
            toks.append(_Tok("phrase", body, i))
            i = end + 1 if end != -1 else n
        elif (
            c in "-+"
            and i + 1 < n
            and not text[i + 1].isspace()
            and (i == 0 or text[i - 1].isspace() or text[i - 1] == "(")
        ):
            toks.append(_Tok("minus" if c == "-" else "plus", c, i))
            i += 1
        else:
            m = _FIELD.match(text, i)
            if m and not m.group(1)[0].isdigit():
                toks.append(_Tok("field", m.group(1), i))
                i = m.end()
                continue
            m = _WORD_CHARS.match(text, i)
            assert m is not None
            word = m.group(0)
            kind = operators.get(word, "word")
            toks.append(_Tok(kind, word, i))
            i = m.end()
    return toks


# -- parser -----------------------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str, infobox_keys: frozenset[str], filters: dict[str, str]) -> None:
        self.text = text
        self.toks = _tokens(text, capitals=_in_capitals(text))
        self.i = 0
        self.clauses = 0
        self.infobox_keys = infobox_keys
        self.filters = filters
        self.words: list[str] = []
        self.phrases: list[tuple[str, ...]] = []
        self.prefixes: list[str] = []
        self.negated = 0
        self.reuse: list[str] = []

    def error(self, message: str, pos: int) -> QueryError:
        return QueryError(message, query=self.text, position=pos)

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def count(self, pos: int) -> None:
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise self.error(
                f"the query has more than {MAX_CLAUSES} clauses with AND, OR or NOT; make it shorter, "
                "or leave out AND, OR and NOT to search it as pasted text",
                pos,
            )

    def parse(self) -> Node:
        node = self.or_expr(0)
        tok = self.peek()
        if tok is not None:
            if tok.kind == "rparen":
                raise self.error("')' has no matching '('", tok.pos)
            raise self.error(f"unexpected '{tok.text}'", tok.pos)  # pragma: no cover - or_expr consumes the rest
        return node

    def or_expr(self, depth: int) -> Node:
        parts = [self.and_expr(depth)]
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.take()
            if self.peek() is None or self.peek().kind in ("or", "and", "rparen"):  # type: ignore[union-attr]
                raise self.error("OR needs something on both sides", tok.pos)
            parts.append(self.and_expr(depth))
        if len(parts) == 1:
            return parts[0]
        return Bool(should=tuple(parts))

    def and_expr(self, depth: int) -> Node:
        should: list[Node] = []
        must: list[Node] = []
        must_not: list[Node] = []
        required_next = False
        start = self.peek()
        while (tok := self.peek()) is not None and tok.kind not in ("or", "rparen"):
            if tok.kind == "and":
                self.take()
                if (
                    not (should or must or must_not)
                    or self.peek() is None
                    or self.peek().kind in ("and", "or", "rparen")
                ):  # type: ignore[union-attr]
                    raise self.error("AND needs something on both sides", tok.pos)
                # `a AND b`: both become required.
                must.extend(should)
                should.clear()
                required_next = True
                continue
            kind, node = self.unary(depth)
            if node is None:
                continue
            if kind == "not":
                must_not.append(node)
            elif kind == "must" or required_next or isinstance(node, Filter | DateRange | MatchAll):
                must.append(node)
            else:
                should.append(node)
            required_next = False
        if not (should or must or must_not):
            pos = start.pos if start else len(self.text)
            raise self.error("expected a word, a phrase or a field:value here", pos)
        if len(should) == 1 and not must and not must_not:
            return should[0]
        if len(must) == 1 and not should and not must_not:
            return must[0]
        return Bool(tuple(should), tuple(must), tuple(must_not))

    def unary(self, depth: int) -> tuple[str, Node | None]:
        tok = self.take()
        if tok.kind in ("not", "minus"):
            if self.peek() is None or self.peek().kind in ("and", "or", "rparen"):  # type: ignore[union-attr]
                raise self.error(f"'{tok.text}' needs a word or group after it", tok.pos)
            self.negated += 1
            _, node = self.unary(depth)
            self.negated -= 1
            return "not", node
        if tok.kind == "plus":
            if self.peek() is None:
                raise self.error("'+' needs a word after it", tok.pos)
            _, node = self.unary(depth)
            return "must", node
        return "should", self.atom(tok, depth, None)

    def atom(self, tok: _Tok, depth: int, fieldname: str | None) -> Node | None:
        if tok.kind == "lparen":
            if depth + 1 > MAX_DEPTH:
                raise self.error(f"parentheses nested deeper than {MAX_DEPTH}", tok.pos)
            if self.peek() is None:
                raise self.error("'(' is never closed", tok.pos)
            if self.peek().kind == "rparen":  # type: ignore[union-attr]
                raise self.error("empty parentheses", tok.pos)
            node = self.or_expr(depth + 1) if fieldname is None else self.field_group(fieldname, depth + 1, tok.pos)
            close = self.peek()
            if close is None or close.kind != "rparen":
                raise self.error("'(' is never closed", tok.pos)
            self.take()
            return node
        if tok.kind == "field":
            return self.field_value(tok, depth)
        if tok.kind == "rparen":
            raise self.error("')' has no matching '('", tok.pos)
        if tok.kind == "phrase":
            return self.phrase(tok, fieldname)
        if tok.kind in ("and", "or"):
            raise self.error(f"{tok.text} needs something on both sides", tok.pos)
        return self.word(tok.text, tok.pos, fieldname)

    def phrase(self, tok: _Tok, fieldname: str | None) -> Node | None:
        words = tuple(w for w in re.findall(r"\w+(?:[.'’]\w+)*", tok.text))
        if not words:
            return None  # `""` reads as nothing
        self.count(tok.pos)
        if len(words) == 1:
            return self.word(words[0], tok.pos, fieldname)
        if not self.negated and fieldname in (None, "title", "heading", "text"):
            self.phrases.append(words)
        return Phrase(words, fieldname, tok.pos)

    def word(self, text: str, pos: int, fieldname: str | None) -> Node | None:
        # `?` is punctuation ("what is lift?"), not a wildcard.
        if text.startswith("*") and re.search(r"\w", text):
            raise self.error("a word cannot start with a wildcard", pos)
        if "*" in text[:-1].lstrip("*"):
            raise self.error("only a trailing * is supported (word*)", pos)
        self.count(pos)
        if text.endswith("*") and not text.startswith("*"):
            stem = text[:-1]
            if not re.search(r"\w", stem):
                raise self.error("a prefix needs at least one letter before *", pos)
            if not self.negated and fieldname in (None, "title", "heading", "text"):
                self.prefixes.append(stem.lower())
            return Prefix(stem.lower(), fieldname, pos)
        m = re.fullmatch(r"(.+?)~([12]?)", text)
        if m and re.search(r"\w", m.group(1)):
            return Fuzzy(m.group(1).lower(), int(m.group(2) or 1), fieldname, pos)
        words = re.findall(r"\w+(?:[.'’]\w+)*", text)
        if not words:
            return None  # punctuation only: nothing to search
        if len(words) > 1:
            # `mach-number`, `3:1`: the parts as a phrase, as they were written together.
            if not self.negated and fieldname in (None, "title", "heading", "text"):
                self.phrases.append(tuple(words))
            return Phrase(tuple(words), fieldname, pos)
        if not self.negated and fieldname in (None, "title", "heading", "text"):
            self.words.append(words[0])
        return Term(words[0], fieldname, pos)

    def field_value(self, tok: _Tok, depth: int) -> Node | None:
        name = tok.text.lower()
        nxt = self.peek()
        value_pos = tok.pos + len(tok.text) + 1
        known = name in ("date", REUSE_FIELD, *SCORED_FIELDS, *self.filters, *self.infobox_keys) or name.startswith(
            "infobox."
        )
        if not known and (nxt is None or nxt.pos != value_pos):
            # "Note: the…", "landscapes: how…": a word followed by a colon, as people write.
            return self.word(tok.text, tok.pos, None)
        if nxt is None or nxt.pos != value_pos or nxt.kind in ("rparen", "or", "and"):
            raise self.error(f"'{tok.text}:' has no value after it", tok.pos)
        if name == "date":
            return self.date_value(self.take())
        if name == REUSE_FIELD:
            return self.reuse_value(self.take())
        if name in SCORED_FIELDS:
            return self.atom(self.take(), depth, SCORED_FIELDS[name])
        if name in self.filters or name in self.infobox_keys or name.startswith("infobox."):
            target = self.filters.get(name) or "infobox." + name.removeprefix("infobox.")
            val = self.take()
            if val.kind == "lparen":
                return self.atom(val, depth, target)
            return self.filter_value(target, val)
        known = ", ".join(sorted({*self.filters, *SCORED_FIELDS, "date", REUSE_FIELD}))
        raise self.error(f"unknown field '{tok.text}:' (fields: {known}, or an infobox key)", tok.pos)

    def field_group(self, target: str, depth: int, pos: int) -> Node:
        # `section:(Background OR Aftermath)`, `title:(bridge OR ferry)`
        parts: list[Node] = []
        while (tok := self.peek()) is not None and tok.kind != "rparen":
            tok = self.take()
            if tok.kind == "or":
                continue
            if tok.kind in ("and", "not", "minus", "plus", "field", "lparen"):
                raise self.error(f"only values joined by OR may follow '{target}:('", tok.pos)
            if target in SCORED_FIELDS.values():
                node = self.atom(tok, depth, target)
            else:
                node = self.filter_value(target, tok)
            if node is not None:
                parts.append(node)
        if not parts:
            raise self.error("empty parentheses", pos)
        return parts[0] if len(parts) == 1 else Bool(should=tuple(parts))

    def filter_value(self, target: str, tok: _Tok) -> Filter:
        if tok.kind not in ("word", "phrase"):
            raise self.error(f"'{tok.text}' is not a value", tok.pos)
        value = " ".join(tok.text.split())
        if not value:
            raise self.error("empty value", tok.pos)
        self.count(tok.pos)
        if target.startswith("infobox."):
            if not self.negated:  # marked where the infobox is shown
                self.words.extend(_WORD.findall(value))
            return Filter(target, value, tok.pos)
        # A facet value is matched by its key (case, accents and spacing folded).
        return Filter(target, facet(target).key(value), tok.pos)

    def reuse_value(self, tok: _Tok) -> MatchAll:
        # Which documents share passages is the store's to say, not the index's: the query
        # matches as if the field were absent and the searcher narrows the whole result to them.
        if self.negated:
            raise self.error("'reuse:' cannot be negated", tok.pos)
        if tok.kind != "word" or not tok.text.strip():
            raise self.error("'reuse:' takes a document id (reuse:DOC_ID)", tok.pos)
        self.count(tok.pos)
        self.reuse.append(tok.text.strip())
        return MatchAll()

    def date_value(self, tok: _Tok) -> DateRange:
        if tok.kind != "word":
            raise self.error("a date looks like 2022, 2022-09, 2022-09-12 or a range a..b", tok.pos)
        lo, sep, hi = tok.text.partition("..")
        lo_v, hi_v = (lo or None), (hi or None) if sep else (lo or None)
        for v in (lo_v, hi_v):
            if v is not None and not valid_date(v):
                raise self.error(f"'{v}' is not a date (use 2022, 2022-09 or 2022-09-12)", tok.pos)
        if lo_v is None and hi_v is None:
            raise self.error("a date range needs at least one end", tok.pos)
        if lo_v and hi_v and date_bounds(lo_v)[0] > date_bounds(hi_v)[1]:
            raise self.error(f"the range {tok.text} ends before it starts", tok.pos)
        self.count(tok.pos)
        return DateRange(lo_v, hi_v, tok.pos)


def parse(
    text: str,
    infobox_keys: frozenset[str] | set[str] = frozenset(),
    languages: tuple[str, ...] = ("en",),
    is_stop: Callable[[str], bool] | None = None,
) -> ParsedQuery:
    """Parse a query string; raises QueryError with a position and a human message. `languages`:
    those of the index, whose stop words are not indexed (a query of only these finds nothing);
    `is_stop(word)`, when given, decides instead (see analysis.is_query_stop)."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"the query is longer than {MAX_QUERY_CHARS} characters", query=text[:80], position=MAX_QUERY_CHARS
        )
    if not text.strip():
        return ParsedQuery(text, MatchAll())
    filters = query_fields()
    keys = frozenset(k.lower() for k in infobox_keys) - {*filters, *SCORED_FIELDS, "date", REUSE_FIELD}
    p = _Parser(text, keys, filters)

    def stop(word: str) -> bool:
        return is_stop(word) if is_stop is not None else is_stop_everywhere(word, languages)

    if _is_passage(p.toks):
        return _passage(text, stop)
    tree = p.parse()
    if not _searchable(tree, stop):
        common = [w for w in dict.fromkeys(w.lower() for w in re.findall(r"\w+", text)) if stop(w)]
        raise QueryError(
            f"the query has only very common words ({', '.join(common)}), which the index leaves out; "
            "add a word that says what you are looking for",
            query=text,
            position=0,
        )
    if _only_negative(tree):
        # `-russia` alone means: everything except it.
        assert isinstance(tree, Bool)
        tree = Bool(must=(MatchAll(),), must_not=tree.must_not)
    words = p.words
    if _is_question(tree):
        assert isinstance(tree, Bool)
        kept = tuple(n for n in tree.should if isinstance(n, Term) and n.text.lower() not in QUESTION_WORDS)
        if any(not stop(n.text) for n in kept):
            tree = Bool(should=kept) if len(kept) > 1 else kept[0]
            words = [w for w in words if w.lower() not in QUESTION_WORDS]
    return ParsedQuery(text, tree, words, p.phrases, p.prefixes, tuple(dict.fromkeys(p.reuse)))


def _in_capitals(text: str) -> bool:
    """Whether every letter of the query is a capital (`I AM INTERESTED IN ... AND ...`)."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and not any(c.islower() for c in letters)


def _is_passage(toks: list[_Tok]) -> bool:
    """More than MAX_CLAUSES words and phrases and no AND, OR or NOT: pasted text. Everything
    else in it is punctuation: parentheses, quotes, `Label:`, `-m`, `--user`, `PyObject*`."""
    if sum(1 for t in toks if t.kind in ("word", "phrase")) <= MAX_CLAUSES:
        return False
    return not any(t.kind in ("and", "or", "not") for t in toks)


def _passage(text: str, stop: Callable[[str], bool]) -> ParsedQuery:
    words = tuple(_WORD.findall(text))
    if all(stop(w) for w in words):
        raise QueryError(
            "the query has only very common words, which the index leaves out; "
            "add a word that says what you are looking for",
            query=text[:80],
            position=0,
        )
    kept = tuple(w for w in words if w.lower() not in QUESTION_WORDS)
    if any(not stop(w) for w in kept):
        words = kept
    # Highlighted in snippets: the words that say what the text is about, each once.
    shown = list(dict.fromkeys(w for w in words if w.lower() not in FUNCTION_WORDS))
    return ParsedQuery(text, Passage(words), shown)


def _is_question(node: Node) -> bool:
    """Three or more plain words and nothing else: a question typed in plain language."""
    return (
        isinstance(node, Bool)
        and not node.must
        and not node.must_not
        and len(node.should) >= QUESTION_MIN_WORDS
        and all(isinstance(n, Term) and n.field is None for n in node.should)
    )


def _searchable(node: Node, stop: Callable[[str], bool]) -> bool:
    """Whether `node` can match anything positively: not only stop words (which are not indexed)."""
    if isinstance(node, Term):
        return not stop(node.text)
    if isinstance(node, Phrase):
        return any(not stop(w) for w in node.words)
    if isinstance(node, Bool):
        return any(_searchable(n, stop) for n in (*node.should, *node.must)) or (
            bool(node.must_not) and not node.should and not node.must
        )
    return True


def _only_negative(node: Node) -> bool:
    return isinstance(node, Bool) and not node.should and not node.must and bool(node.must_not)
