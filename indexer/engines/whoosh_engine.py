"""Whoosh 2.7.4 behind the Engine interface."""

from __future__ import annotations

import heapq
import itertools
import math
import re
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis import plain_analyzer, text_analyzer
from ..errors import IndexLockedError, QueryError, SchemaMismatchError
from ..schema import SCHEMA_VERSION, build_schema, infobox_slug
from ..search.query import (
    MAX_EXPANSION,
    Bool,
    DateRange,
    Filter,
    Fuzzy,
    MatchAll,
    Node,
    Phrase,
    Prefix,
    Term,
    parse,
)
from .base import Hit

with warnings.catch_warnings():
    # Whoosh 2.7.4 has invalid escape sequences in old regex literals; the warning fires only
    # when its modules are first compiled and means nothing at run time.
    warnings.filterwarnings("ignore", category=SyntaxWarning, message=r"invalid escape sequence")
    from whoosh import index as whoosh_index
    from whoosh import query, scoring
    from whoosh.codec.whoosh3 import W3LeafMatcher
    from whoosh.index import LockError
    from whoosh.matching import WrappingMatcher
    from whoosh.reading import TermNotFound

INDEX_NAME = "sections"
_VERSION_FILE = "schema_version"
BM25_K1 = 2.0
BM25_B = 0.75
# Coordination: records containing every one of 2-8 OR-ed clauses score their sum once more,
# times COORD_BOOST (Whoosh's own CoordMatcher divides by zero on one-term groups).
COORD_BOOST = 0.5
COORD_MAX_CLAUSES = 8
PROXIMITY_SLOP = 3
PROXIMITY_MAX_WORDS = 4
PROXIMITY_BOOST = 0.3  # bench/quality.py: 0.0 -> 0.3655, 0.1 -> 0.3700, 0.3 -> 0.3717, 1.0 -> 0.3559 nDCG@10


class WhooshBatch:
    """One Whoosh writer; the only code that calls it is indexer/writer.py."""

    def __init__(self, ix: Any, index_dir: str, workers: int = 1) -> None:
        try:
            if workers > 1:
                # Sub-processes analyse batches of records into their own segments while this
                # process keeps producing records; nothing is visible before commit().
                self._w = ix.writer(timeout=0.0, procs=workers, multisegment=True)
            else:
                self._w = ix.writer(timeout=0.0)
        except LockError:
            raise IndexLockedError(index_dir) from None

    def add(self, record: Mapping[str, Any]) -> None:
        self._w.add_document(**record)

    def delete_document(self, doc_id: str) -> None:
        self._w.delete_by_term("doc_id", doc_id)

    def replace_document(self, doc_id: str, records: Iterable[Mapping[str, Any]]) -> None:
        self.delete_document(doc_id)
        for record in records:
            self.add(record)

    def commit(self) -> None:
        self._w.commit()

    def cancel(self) -> None:
        self._w.cancel()


class Okapi(scoring.BM25F):  # type: ignore[misc]
    """BM25 with the Robertson-Sparck Jones idf, log(1 + (N - n + 0.5) / (n + 0.5)).

    Whoosh's own idf, log(N / (n + 1)) + 1, keeps common words at a third of a rare word's
    weight; with this one they fade out, which matters for long questions typed in plain
    language (bench/quality.py)."""

    def idf(self, searcher: Any, fieldname: str, text: Any) -> float:
        parent = searcher.get_parent()
        n = parent.doc_frequency(fieldname, text)
        total = parent.doc_count_all()
        return math.log(1 + (total - n + 0.5) / (n + 0.5))


WEIGHTING = Okapi(B=BM25_B, K1=BM25_K1)


class WhooshEngine:
    """A Whoosh index in `<index_dir>/whoosh`.

    Record numbers are Whoosh document numbers: stable for one generation (`generation()`),
    so callers map them to their own rows once per generation through `record_id_column()`."""

    def __init__(self, index_dir: str | Path, create: bool = False) -> None:
        self.index_dir = str(index_dir)
        self.path = Path(index_dir) / "whoosh"
        version_file = self.path / _VERSION_FILE
        if whoosh_index.exists_in(str(self.path), indexname=INDEX_NAME):
            found = int(version_file.read_text().strip()) if version_file.exists() else 0
            if found != SCHEMA_VERSION:
                raise SchemaMismatchError(self.index_dir, found, SCHEMA_VERSION)
            self.ix = whoosh_index.open_dir(str(self.path), indexname=INDEX_NAME)
        elif create:
            self.path.mkdir(parents=True, exist_ok=True)
            self.ix = whoosh_index.create_in(str(self.path), build_schema(), indexname=INDEX_NAME)
            version_file.write_text(f"{SCHEMA_VERSION}\n")
        else:
            raise FileNotFoundError(f"no index in {self.index_dir}")
        # One open searcher per thread (Whoosh readers keep file positions), refreshed after commits.
        self._local = threading.local()
        self._open: list[Any] = []
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[Any, Any]] = {}

    def begin(self, workers: int = 1) -> WhooshBatch:
        return WhooshBatch(self.ix, self.index_dir, workers)

    def _searcher(self) -> Any:
        s = getattr(self._local, "searcher", None)
        if s is not None and s.up_to_date():
            return s
        fresh = self.ix.searcher(weighting=WEIGHTING) if s is None else s.refresh()
        with self._lock:
            if s is not None and s in self._open:
                self._open.remove(s)
            self._open.append(fresh)
        self._local.searcher = fresh
        return fresh

    def _cached(self, name: str, s: Any, build: Any) -> Any:
        key = s.reader().generation()
        hit = self._cache.get(name)
        if hit is not None and hit[0] == key and key is not None:
            return hit[1]
        value = build()
        self._cache[name] = (key, value)
        return value

    def search(
        self,
        tree: Node | str,
        latest_only: bool = True,
        limit: int = 10,
        within: np.ndarray | None = None,
        rerank: Mapping[str, float] | None = None,
    ) -> list[Hit]:
        """The best `limit` records, best first; ties by record id, so the order never depends on
        segment layout. BM25F over the weighted zones of `body` (or the field a query names);
        OR-ed words get a coordination and a proximity bonus. `within` restricts the search to
        those record numbers; `rerank` adds analysed terms with weights that only re-rank records
        the query matches (query expansion)."""
        if isinstance(tree, str):
            tree = parse(tree).tree
        s = self._searcher()
        q, restricts = self._ranking_query(s, tree, rerank)
        if q is None or limit <= 0:
            return []
        if within is None and restricts:
            within = self.match(tree, latest_only)
        allow = None if within is None else set(within.tolist())
        if allow is not None and not allow:
            return []
        # Older versions are left out with a mask of their (few) records, not a filter of all others.
        hide = self._older(s) if latest_only and allow is None else None
        ids = self.record_id_column()
        want = limit + 8
        while True:
            results = s.search(q, limit=want, filter=allow, mask=hide or None, terms=False)
            top = results.top_n  # [(score, docnum)], best first
            # Every record tied with the last one kept must be seen before ties are broken.
            if len(top) < want or top[-1][0] < top[min(limit, len(top)) - 1][0]:
                break
            want *= 4
        hits = [Hit(ids[n], float(score), int(n)) for score, n in top]
        return heapq.nsmallest(limit, hits, key=lambda h: (-h.score, h.record_id))

    def score(
        self, tree: Node | str, numbers: Sequence[int], rerank: Mapping[str, float] | None = None
    ) -> dict[int, float]:
        """Scores of the given record numbers for the query (records it does not match are left out)."""
        if isinstance(tree, str):
            tree = parse(tree).tree
        s = self._searcher()
        q, _restricts = self._ranking_query(s, tree, rerank)
        if q is None or not len(numbers):
            return {}
        out: dict[int, float] = {}
        for sub, offset in _leaves(s):
            m = q.matcher(sub)
            stop = offset + sub.doc_count_all()
            for n in sorted(int(x) for x in numbers if offset <= x < stop):
                if not m.is_active():
                    break
                m.skip_to(n - offset)
                if m.is_active() and m.id() == n - offset:
                    out[n] = float(m.score())
        return out

    def match(self, tree: Node | str, latest_only: bool = True) -> np.ndarray:
        """Every record number the query matches (sorted), unscored: for totals and facets."""
        if isinstance(tree, str):
            tree = parse(tree).tree
        s = self._searcher()
        q = _Translator(s).query(tree)
        if q is None:
            return np.zeros(0, dtype=np.int64)
        mask = _Matcher(s).mask(q)
        if latest_only:
            mask &= _Matcher(s).mask(query.Term("is_latest", True))
        mask &= self._live(s)
        return np.flatnonzero(mask)

    def _ranking_query(self, s: Any, tree: Node, rerank: Mapping[str, float] | None) -> tuple[Any, bool]:
        """(the ranking query or None, whether its matches must be restricted to the exact ones)."""
        translator = _Translator(s, scoring=True)
        q = translator.query(tree)
        if q is None:
            return None, False
        if rerank:
            extra = [query.Term("body", t, boost=w) for t, w in sorted(rerank.items())]
            q = query.AndMaybe(q, query.Or(extra) if len(extra) > 1 else extra[0])
        return q, translator.restricts

    def _older(self, s: Any) -> set[int]:
        """Record numbers of versions that are not the latest (cached per generation)."""

        def build() -> set[int]:
            latest = _Matcher(s).mask(query.Term("is_latest", True))
            return set(np.flatnonzero(~latest & self._live(s)).tolist())

        return self._cached("older", s, build)

    def _live(self, s: Any) -> np.ndarray:
        def build() -> np.ndarray:
            mask = np.zeros(s.doc_count_all(), dtype=bool)
            mask[np.fromiter(s.reader().all_doc_ids(), dtype=np.int64)] = True
            return mask

        return self._cached("live", s, build)

    def generation(self) -> int:
        """Changes with every commit (readers cache per generation)."""
        return int(self.ix.latest_generation())

    def record_id_column(self) -> list[str]:
        """The record id of every record number of the current generation."""
        s = self._searcher()

        def build() -> list[str]:
            reader = s.reader()
            try:
                return list(reader.column_reader("record_id"))
            except NotImplementedError:  # an empty index has no columns
                return [f["record_id"] for f in reader.all_stored_fields()]

        return self._cached("ids", s, build)

    def vocabulary(self) -> tuple[list[str], np.ndarray]:
        """Every unstemmed word of the index (sorted) and the number of records containing it."""
        s = self._searcher()

        def build() -> tuple[list[str], np.ndarray]:
            words: list[str] = []
            freqs: list[int] = []
            for term, info in s.reader().iter_field("words"):
                words.append(term.decode("utf-8") if isinstance(term, bytes) else term)
                freqs.append(info.doc_frequency())
            return words, np.asarray(freqs, dtype=np.int64)

        return self._cached("vocabulary", s, build)

    def terms_near(self, word: str, maxdist: int = 2, prefix: int = 1) -> list[tuple[str, int]]:
        """Vocabulary words within `maxdist` edits of `word`, with their record frequency."""
        r = self._searcher().reader()
        out = []
        for t in r.terms_within("words", word.lower(), maxdist, prefix=prefix):
            t = t.decode("utf-8") if isinstance(t, bytes) else t
            out.append((t, int(r.doc_frequency("words", t))))
        return out

    def word_frequency(self, word: str) -> int:
        """Records containing `word` (unstemmed vocabulary)."""
        return int(self._searcher().reader().doc_frequency("words", word.lower()))

    def term_stats(self, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """(records in the index, record frequency of each analysed body term)."""
        s = self._searcher()
        r = s.reader()
        return int(s.doc_count()), {t: int(r.doc_frequency("body", t)) for t in terms}

    def record_ids(self) -> set[str]:
        s = self._searcher()
        return {fields["record_id"] for fields in s.all_stored_fields()}

    def doc_count(self) -> int:
        return int(self._searcher().doc_count())

    def close(self) -> None:
        with self._lock:
            for s in self._open:
                s.close()
            self._open.clear()
        self._local = threading.local()
        self.ix.close()


def _leaves(s: Any) -> list[tuple[Any, int]]:
    return list(s.leaf_searchers()) if not s.is_atomic() else [(s, 0)]


class _Matcher:
    """Which records a Whoosh query matches, as a boolean mask over record numbers.

    Terms are read a posting block at a time and combined with numpy; any other query kind
    (phrases, ranges) goes through Whoosh's own matcher. Nothing is scored."""

    def __init__(self, s: Any) -> None:
        self.s = s
        self.size = s.doc_count_all()

    def mask(self, q: Any) -> np.ndarray:
        if isinstance(q, query.Term):
            return self.term(q.fieldname, q.text)
        if isinstance(q, query.Or):
            out = np.zeros(self.size, dtype=bool)
            for sub in q.subqueries:
                out |= self.mask(sub)
            return out
        if isinstance(q, query.And):
            out = np.ones(self.size, dtype=bool)
            for sub in q.subqueries:
                out &= self.mask(sub)
            return out
        if isinstance(q, query.AndNot):
            return self.mask(q.a) & ~self.mask(q.b)
        if isinstance(q, query.AndMaybe):
            return self.mask(q.a)
        if isinstance(q, query.Every):
            return np.ones(self.size, dtype=bool)
        if q is query.NullQuery:
            return np.zeros(self.size, dtype=bool)
        out = np.zeros(self.size, dtype=bool)
        ids = np.fromiter(self.s.docs_for_query(q), dtype=np.int64)
        out[ids] = True
        return out

    def term(self, field: str, text: Any) -> np.ndarray:
        out = np.zeros(self.size, dtype=bool)
        for sub, offset in _leaves(self.s):
            reader = sub.reader()
            try:
                m = reader.postings(field, text)
            except TermNotFound:
                continue
            blocks = _posting_blocks(m)
            if blocks is None:
                ids = np.fromiter(m.all_ids(), dtype=np.int64)
            else:
                ids = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int64)
            out[ids + offset] = True
        return out


def _posting_blocks(m: Any) -> list[np.ndarray] | None:
    """Document numbers of a Whoosh 2.7 on-disk posting list, one array per block, without
    stepping through postings one by one; None for any other matcher (then callers iterate)."""
    if not isinstance(m, W3LeafMatcher):
        return None
    blocks = []
    while m.is_active():
        m._read_ids()
        blocks.append(np.asarray(m._ids, dtype=np.int64))
        m._next_block()
    return blocks


class _Translator:
    """Query tree -> Whoosh query, with the limits that need the index (expansions)."""

    def __init__(self, searcher: Any, scoring: bool = False) -> None:
        """`scoring=False`: the exact query, for matching. `scoring=True`: the ranking query,
        which drops the filters, dates and exclusions that merely restrict (then `restricts` is
        set and the caller restricts to the exact matches) and adds the ranking bonuses."""
        self.s = searcher
        self.scoring = scoring
        self.restricts = False
        self.reader = searcher.reader()
        self.analyzer = text_analyzer()
        self.plain = plain_analyzer()
        self.schema = searcher.schema

    def tokens(self, text: str) -> list[str]:
        return [t.text for t in self.analyzer(text)]

    def query(self, node: Node) -> Any:
        if isinstance(node, MatchAll):
            return query.Every()
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, Phrase):
            return self.phrase(node.words, node.field)
        if isinstance(node, Prefix):
            return self.expand(node, "prefix")
        if isinstance(node, Fuzzy):
            return self.expand(node, "fuzzy")
        if isinstance(node, Filter):
            return _ZeroScore(self.filter(node)) if self.scoring else self.filter(node)
        if isinstance(node, DateRange):
            return _ZeroScore(self.date_range(node)) if self.scoring else self.date_range(node)
        assert isinstance(node, Bool)
        return self.boolean(node)

    def field(self, field: str | None) -> str:
        return "body" if field is None else field

    def term(self, node: Term) -> Any:
        toks = self.tokens(node.text)
        if not toks:
            return None  # a stop word
        return self.analysed(toks, node.field)

    def phrase(self, words: tuple[str, ...], field: str | None) -> Any:
        toks = self.tokens(" ".join(words))
        return self.analysed(toks, field) if toks else None

    def analysed(self, toks: list[str], field: str | None, slop: int = 1) -> Any:
        """One analysed token, or the tokens as a phrase, in `body` or the named field."""
        if len(toks) == 1:
            return query.Term(self.field(field), toks[0])
        return query.Phrase(self.field(field), toks, slop=slop)

    def expand(self, node: Prefix | Fuzzy, kind: str) -> Any:
        folded = [t.text for t in self.plain(node.text)]
        if not folded:
            raise QueryError(f"'{node.text}' has no letters to expand", position=node.position)
        word = folded[0]
        if kind == "prefix":
            terms = itertools.islice(self.reader.expand_prefix("words", word), MAX_EXPANSION + 1)
        else:
            maxdist = getattr(node, "maxdist", 1)
            terms = itertools.islice(self.reader.terms_within("words", word, maxdist, prefix=1), MAX_EXPANSION + 1)
        found = sorted({t.decode("utf-8") if isinstance(t, bytes) else t for t in terms})
        if len(found) > MAX_EXPANSION:
            what = f"{node.text}*" if kind == "prefix" else f"{node.text}~"
            raise QueryError(
                f"'{what}' matches more than {MAX_EXPANSION} words; type more letters", position=node.position
            )
        # Each vocabulary word is searched as a word (stemmed, every text field).
        stems = sorted({tok for w in found for tok in self.tokens(w)})
        if not stems:
            return query.NullQuery
        name = self.field(node.field)
        return query.Or([query.Term(name, t) for t in stems])

    def filter(self, node: Filter) -> Any:
        value = node.value
        if node.field == "section":
            v = re.sub(r"\s+", " ", value).strip().lower()
            return query.Or([query.Term("section", v), query.Term("subsection", v)])
        if node.field in ("language", "doc_type"):
            return query.Term(node.field, value.lower())
        if node.field == "source":
            return query.Term("source", value)
        key = infobox_slug(node.field.removeprefix("infobox."))
        field = "ib_" + key
        toks = self.tokens(value)
        if not toks:
            return query.NullQuery
        if len(toks) == 1:
            return query.Term(field, toks[0])
        return query.Phrase(field, toks)

    def date_range(self, node: DateRange) -> Any:
        ends = [v for v in (node.lo, node.hi) if v]
        grain = min(v.count("-") for v in ends)
        field = ("date_year", "date_month", "date_day")[grain]
        width = (4, 7, 10)[grain]
        lo = node.lo[:width] if node.lo else None
        hi = node.hi[:width] if node.hi else None
        if lo is not None and lo == hi:
            return query.Term(field, lo)
        return query.TermRange(field, lo, hi, startexcl=False, endexcl=False)

    def boolean(self, node: Bool) -> Any:
        should = [q for q in (self.query(n) for n in node.should) if q is not None]
        restricting = [n for n in node.must if isinstance(n, Filter | DateRange)]
        if self.scoring and (restricting or node.must_not):
            # Exact matches come from the matching query; ranking needs only what scores.
            self.restricts = True
            must = [q for q in (self.query(n) for n in node.must if n not in restricting) if q is not None]
            must_not: list[Any] = []
        else:
            must = [q for q in (self.query(n) for n in node.must) if q is not None]
            must_not = [q for q in (self.query(n) for n in node.must_not) if q is not None]
        if not should and not must:
            if not must_not and not (self.scoring and self.restricts):
                return None
            must = [query.Every()]
        parts = list(must)
        if should and any(not isinstance(n, Filter | DateRange) for n in node.must):
            # `+steamer harbour`: the required word decides, the others only rank.
            group = query.Or(should) if len(should) > 1 else should[0]
            q = query.AndMaybe(parts[0] if len(parts) == 1 else query.And(parts), group)
            return query.AndNot(q, _any(must_not)) if must_not else q
        if should:
            group = query.Or(should) if len(should) > 1 else should[0]
            if self.scoring:
                group = self.bonuses(group, should, node)
            parts.append(group)
        q = parts[0] if len(parts) == 1 else query.And(parts)
        if must_not:
            q = query.AndNot(q, _any(must_not))
        return q

    def bonuses(self, group: Any, should: list[Any], node: Bool) -> Any:
        """Coordination (all of 2-8 clauses) and proximity (neighbouring query words close together)."""
        if 2 <= len(should) <= COORD_MAX_CLAUSES:
            group = query.AndMaybe(group, query.And(should, boost=COORD_BOOST))
        words = [n.text for n in node.should if isinstance(n, Term) and n.field is None]
        toks = self.tokens(" ".join(words))
        if len(toks) > PROXIMITY_MAX_WORDS:
            return group  # in a long question, neighbouring words are rarely a phrase
        pairs = [query.Phrase("body", [a, b], slop=PROXIMITY_SLOP) for a, b in itertools.pairwise(toks) if a != b]
        if pairs and PROXIMITY_BOOST > 0:
            bonus = query.Or(pairs, boost=PROXIMITY_BOOST) if len(pairs) > 1 else pairs[0].with_boost(PROXIMITY_BOOST)
            group = query.AndMaybe(group, bonus)
        return group


def _any(queries: list[Any]) -> Any:
    return queries[0] if len(queries) == 1 else query.Or(queries)


class _ZeroScore(query.WrappingQuery):  # type: ignore[misc]
    """Matches what its child matches with score 0: a filter inside an OR restricts, never ranks.
    (A zero boost breaks Whoosh's block-quality skipping with a division by zero, and its
    ConstantScoreQuery mis-steps inside AndNot with phrases.)"""

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        return _ZeroMatcher(self.child.matcher(searcher, context))


class _ZeroMatcher(WrappingMatcher):  # type: ignore[misc]
    def _replacement(self, newchild: Any) -> Any:
        return _ZeroMatcher(newchild)

    def supports_block_quality(self) -> bool:
        return False

    def score(self) -> float:
        return 0.0
