"""Whoosh 2.7.4 behind the Engine interface."""

from __future__ import annotations

import heapq
import itertools
import math
import re
import threading
import warnings
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis import plain_analyzer, text_analyzer
from ..errors import IndexLockedError, QueryError, SchemaMismatchError
from ..schema import SCHEMA_VERSION, build_schema, category_key, infobox_slug
from ..search.query import (
    MAX_EXPANSION,
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
    parse,
)
from .base import Hit

with warnings.catch_warnings():
    # Whoosh 2.7.4 has invalid escape sequences in old regex literals; the warning fires only
    # when its modules are first compiled and means nothing at run time.
    warnings.filterwarnings("ignore", category=SyntaxWarning, message=r"invalid escape sequence")
    from whoosh import index as whoosh_index
    from whoosh import query, scoring
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
    from whoosh.index import LockError
    from whoosh.reading import TermNotFound
    from whoosh.util.numeric import _length_byte_cache

INDEX_NAME = "sections"
_VERSION_FILE = "schema_version"
# Chosen across the quality suite (bench/ranking_study.py, bench/RESULTS.md): Robertson's k1 and a
# length normalisation between Lucene's 0.75 and Anserini's 0.4.
BM25_K1 = 1.2
BM25_B = 0.6
# Coordination: records containing every one of 2-8 OR-ed clauses score their sum once more,
# times COORD_BOOST (Whoosh's own CoordMatcher divides by zero on one-term groups).
COORD_BOOST = 0.5
COORD_MAX_CLAUSES = 8
PROXIMITY_SLOP = 3
PROXIMITY_MAX_WORDS = 4
PROXIMITY_CANDIDATES = 200  # the proximity bonus is computed for this many best records
RESULT_CACHE = 8  # evaluated queries kept (one search asks for the same query several times)
POSTING_CACHE = 8_000_000  # postings kept in memory across queries (about 16 bytes each)
WARM_POSTINGS = 4_000_000  # postings of the most frequent terms a server reads at start
_BYTE_TO_LENGTH = np.asarray(_length_byte_cache, dtype=np.float64)
# Pasted text and long questions are searched by this many of their most distinctive words
# (bench/ranking_study.py: 32 / 64 / 128 words give a mean nDCG@10 of 0.4484 / 0.4472 / 0.4471;
# 32 reads half the posting lists of 64).
PASSAGE_TERMS = 32
PROXIMITY_BOOST = 0.3  # bench/ranking_study.py: neutral on the suite's long questions, kept for short queries


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
        self._results: dict[Any, tuple[np.ndarray, np.ndarray]] = {}
        self._posting_cache: OrderedDict[Any, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._posting_cache_size = 0

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

    def evaluate(self, tree: Node | str, latest_only: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(every matching record number, sorted; their scores).

        BM25F over the weighted zones of `body` (or the field a query names), computed with
        numpy over whole posting lists; OR-ed words get a coordination and a proximity bonus.
        The last few results are kept, so a search that asks for the ranking, the scores of
        some records and the match set evaluates the query once."""
        if isinstance(tree, str):
            tree = parse(tree).tree
        s = self._searcher()
        key = (s.reader().generation(), repr(tree), latest_only)
        with self._lock:
            cached = self._results.get(key)
        if cached is not None:
            return cached
        q = _Translator(s).query(tree)
        if q is None:
            out = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
        else:
            ev = _Evaluator(s, self._postings, self._lengths(s))
            mask, all_scores = ev.evaluate(q)
            mask &= self._live(s)
            if latest_only:
                mask &= ev.evaluate(query.Term("is_latest", True))[0]
            numbers = np.flatnonzero(mask)
            out = (numbers, all_scores[numbers])
        with self._lock:
            self._results[key] = out
            while len(self._results) > RESULT_CACHE:
                self._results.pop(next(iter(self._results)))
        return out

    def search(self, tree: Node | str, latest_only: bool = True, limit: int = 10) -> list[Hit]:
        """The best `limit` matching records, best first; ties by record id, so the order never
        depends on segment layout."""
        numbers, scores = self.evaluate(tree, latest_only)
        if limit <= 0 or not len(numbers):
            return []
        if len(numbers) > limit:
            # Everything scoring at least the limit-th best score, so ties are all seen.
            kth = np.partition(scores, len(scores) - limit)[len(scores) - limit]
            keep = scores >= kth
            numbers, scores = numbers[keep], scores[keep]
        ids = self.record_id_column()
        hits = [Hit(ids[n], float(sc), int(n)) for n, sc in zip(numbers.tolist(), scores.tolist(), strict=True)]
        return heapq.nsmallest(limit, hits, key=lambda h: (-h.score, h.record_id))

    def match(self, tree: Node | str, latest_only: bool = True) -> np.ndarray:
        """Every record number the query matches (sorted): for totals and facets."""
        return self.evaluate(tree, latest_only)[0]

    def warm(self, postings: int = WARM_POSTINGS) -> int:
        """Read the posting lists of the most frequent body terms (up to `postings` postings) and
        the length columns into memory, so the first queries that use them are as fast as later
        ones. Returns the number of postings read. For long-running servers."""
        s = self._searcher()
        self._lengths(s)("body")
        frequent = sorted(((info.doc_frequency(), t) for t, info in s.reader().iter_field("body")), reverse=True)
        total = 0
        for df, term in frequent:
            if total + df > postings:
                break
            self._postings(s, "body", term)
            total += df
        return total

    def _lengths(self, s: Any) -> Callable[[str], tuple[np.ndarray, float]]:
        """Per-field (length of every record, average length), read once per generation."""

        def get(field: str) -> tuple[np.ndarray, float]:
            def build() -> tuple[np.ndarray, float]:
                parts = []
                for sub, _offset in _leaves(s):
                    perdoc = sub.reader()._perdoc  # Whoosh 2.7 keeps lengths as one byte per record
                    name = "_" + field + "_len"
                    if perdoc.has_column(name):
                        col = perdoc.column_reader(name, LENGTHS_COLUMN)
                        codes = np.fromiter(iter(col), dtype=np.int64, count=sub.doc_count_all())
                    else:
                        codes = np.zeros(sub.doc_count_all(), dtype=np.int64)
                    parts.append(_BYTE_TO_LENGTH[codes])
                lengths = np.concatenate(parts) if parts else np.zeros(0)
                return lengths, float(s.avg_field_length(field) or 1.0)

            return self._cached("len:" + field, s, build)

        return get

    def _postings(self, s: Any, field: str, text: bytes | str) -> tuple[np.ndarray, np.ndarray]:
        """(record numbers, weights) of one term, across segments; cached per generation."""
        key = (s.reader().generation(), field, text)
        with self._lock:
            hit = self._posting_cache.get(key)
            if hit is not None:
                self._posting_cache.move_to_end(key)
                return hit
        ids_parts, weight_parts = [], []
        for sub, offset in _leaves(s):
            try:
                m = sub.reader().postings(field, text)
            except TermNotFound:
                continue
            ids, weights = _read_postings(m)
            ids_parts.append(ids + offset)
            weight_parts.append(weights)
        if ids_parts:
            out = (np.concatenate(ids_parts), np.concatenate(weight_parts))
        else:
            out = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
        with self._lock:
            self._posting_cache[key] = out
            self._posting_cache_size += len(out[0])
            while self._posting_cache_size > POSTING_CACHE and len(self._posting_cache) > 1:
                _k, old = self._posting_cache.popitem(last=False)
                self._posting_cache_size -= len(old[0])
        return out

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


class _Evaluator:
    """Evaluates a Whoosh query over every record at once with numpy: (match mask, scores).

    Scoring is Okapi BM25 (`Okapi`'s idf, BM25_K1, BM25_B) of each term's weighted frequency,
    summed through Or/And, with boosts; AndMaybe adds its optional part where the required part
    matches; AndNot and zero-score wrappers restrict without scoring. Phrases are checked with
    Whoosh's positional matcher, only on records containing all their words; proximity bonuses
    only on the best PROXIMITY_CANDIDATES records. Each subquery object is evaluated once."""

    def __init__(self, s: Any, postings: Any, lengths: Any) -> None:
        self.s = s
        self.size = s.doc_count_all()
        self.postings = postings
        self.lengths = lengths
        self.memo: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def evaluate(self, q: Any, among: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        key = id(q)
        if key in self.memo and among is None:
            return self.memo[key]
        mask, scores = self._evaluate(q, among)
        boost = getattr(q, "boost", 1.0)
        if boost != 1.0 and not isinstance(q, query.Term):
            scores = scores * boost
        if among is None:
            self.memo[key] = (mask, scores)
        return mask, scores

    def _evaluate(self, q: Any, among: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(q, query.Term):
            return self.term(q)
        if isinstance(q, query.Or):
            mask, scores = self.empty()
            for sub in q.subqueries:
                m, sc = self.evaluate(sub, among)
                mask |= m
                scores += sc
            return mask, scores
        if isinstance(q, query.And):
            mask = np.ones(self.size, dtype=bool)
            scores = np.zeros(self.size)
            for sub in q.subqueries:
                m, sc = self.evaluate(sub, among)
                mask &= m
                scores += sc
            return mask, np.where(mask, scores, 0.0)
        if isinstance(q, query.AndMaybe):
            mask, scores = self.evaluate(q.a, among)
            if isinstance(q.b, _Bonus):
                among = _best(mask, scores, PROXIMITY_CANDIDATES)
            m, sc = self.evaluate(q.b, among)
            return mask, scores + np.where(mask & m, sc, 0.0)
        if isinstance(q, query.AndNot):
            mask, scores = self.evaluate(q.a, among)
            excluded = self.evaluate(q.b, among)[0]
            return mask & ~excluded, np.where(excluded, 0.0, scores)
        if isinstance(q, _ZeroScore):
            return self.evaluate(q.child, among)[0], np.zeros(self.size)
        if isinstance(q, _Bonus):
            return self.evaluate(q.child, among)
        if isinstance(q, query.Every):
            return np.ones(self.size, dtype=bool), np.zeros(self.size)
        if isinstance(q, query.Phrase):
            return self.phrase(q, among)
        mask, scores = self.empty()
        if q is not query.NullQuery:  # ranges and anything else: Whoosh's matcher, unscored
            mask[np.fromiter(self.s.docs_for_query(q), dtype=np.int64)] = True
        return mask, scores

    def empty(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(self.size, dtype=bool), np.zeros(self.size)

    def term_postings(self, fieldname: str, text: Any) -> tuple[np.ndarray, np.ndarray]:
        """(record numbers, weighted frequencies) of one term; empty for an unknown field."""
        field = self.s.schema[fieldname] if fieldname in self.s.schema else None  # noqa: SIM401 (glob fields)
        if field is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        key = field.to_bytes(text) if not isinstance(text, bytes) else text
        return self.postings(self.s, fieldname, key)

    def bm25(self, fieldname: str, text: Any, ids: np.ndarray, weights: np.ndarray, boost: float) -> np.ndarray:
        """Okapi BM25 of one term in the records `ids` (its weighted frequencies `weights` there)."""
        lengths, average = self.lengths(fieldname)
        idf = WEIGHTING.idf(self.s, fieldname, text)
        norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[ids] / average)
        return boost * idf * weights * (BM25_K1 + 1) / (weights + norm)

    def term(self, q: Any) -> tuple[np.ndarray, np.ndarray]:
        mask, scores = self.empty()
        ids, weights = self.term_postings(q.fieldname, q.text)
        if not len(ids):
            return mask, scores
        mask[ids] = True
        if self.s.schema[q.fieldname].scorable and q.boost:
            scores[ids] = self.bm25(q.fieldname, q.text, ids, weights, q.boost)
        return mask, scores

    def phrase(self, q: Any, among: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Records with the words in order: candidates from the posting lists, rarest word first
        (a pasted passage of hundreds of words costs a few lookups per word), then checked with
        Whoosh's positional matcher. Scored as the sum of its words."""
        mask, scores = self.empty()
        reader = self.s.reader()
        # Rarest word first, and no more posting lists read once no record is left.
        order = sorted(set(q.words), key=lambda w: (reader.doc_frequency(q.fieldname, w), w))
        postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        todo = np.zeros(0, dtype=np.int64)
        for i, word in enumerate(order):
            postings[word] = ids, _weights = self.term_postings(q.fieldname, word)
            todo = (ids[among[ids]] if among is not None else ids) if i == 0 else todo[_contains(ids, todo)]
            if not len(todo):
                return mask, scores
        parts = [postings[w] for w in q.words]
        plain = query.Phrase(q.fieldname, q.words, slop=q.slop)
        for sub, offset in _leaves(self.s):
            local = todo[(todo >= offset) & (todo < offset + sub.doc_count_all())] - offset
            if not len(local):
                continue
            m = plain.matcher(sub)
            for n in local.tolist():
                if not m.is_active():
                    break
                m.skip_to(n)
                if m.is_active() and m.id() == n:
                    mask[n + offset] = True
        found = np.flatnonzero(mask)
        if len(found) and self.s.schema[q.fieldname].scorable:
            for word, (ids, weights) in zip(q.words, parts, strict=True):
                at = np.searchsorted(ids, found)
                scores[found] += self.bm25(q.fieldname, word, found, weights[at], 1.0)
        return mask, scores


def _contains(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Which of `wanted` are in the sorted array `ids`."""
    at = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
    return ids[at] == wanted


def _best(mask: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
    """Mask of the `n` best-scoring records of `mask`."""
    idx = np.flatnonzero(mask)
    if len(idx) > n:
        idx = idx[np.argpartition(-scores[idx], n - 1)[:n]]
    out = np.zeros(len(mask), dtype=bool)
    out[idx] = True
    return out


def _read_postings(m: Any) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers, weights) of a posting list, a block at a time for Whoosh 2.7's
    on-disk postings (no per-posting Python loop), else through the matcher."""
    if not isinstance(m, W3LeafMatcher):
        ids, weights = [], []
        while m.is_active():
            ids.append(m.id())
            weights.append(m.weight())
            m.next()
        return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64)
    id_blocks, weight_blocks = [], []
    while m.is_active():
        if m._data is None:
            m._read_data()
        raw_ids, raw_weights = m._data[0], m._data[1]
        ids = np.cumsum(np.asarray(raw_ids, dtype=np.int64)) if not m._byteids else np.asarray(raw_ids)
        id_blocks.append(ids)
        if raw_weights is None:
            weight_blocks.append(np.ones(len(ids)))
        elif isinstance(raw_weights, float):
            weight_blocks.append(np.full(len(ids), raw_weights))
        else:
            weight_blocks.append(np.asarray(raw_weights, dtype=np.float64))
        m._next_block()
    if not id_blocks:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(id_blocks), np.concatenate(weight_blocks)


class _Translator:
    """Query tree -> Whoosh query, with the limits that need the index (expansions)."""

    def __init__(self, searcher: Any) -> None:
        self.s = searcher
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
        if isinstance(node, Passage):
            return self.passage(node)
        if isinstance(node, Prefix):
            return self.expand(node, "prefix")
        if isinstance(node, Fuzzy):
            return self.expand(node, "fuzzy")
        if isinstance(node, Filter):
            return _ZeroScore(self.filter(node))
        if isinstance(node, DateRange):
            return _ZeroScore(self.date_range(node))
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

    def passage(self, node: Passage) -> Any:
        """The PASSAGE_TERMS most distinctive words of pasted text (occurrences times idf), each
        weighted by its occurrences, OR-ed: as if the text were typed in full, without its
        commonest words."""
        counts = Counter(self.tokens(" ".join(node.words)))
        total = self.s.doc_count_all()
        weights = {}
        for term, tf in counts.items():
            df = self.reader.doc_frequency("body", term)
            if df:
                weights[term] = tf * math.log(1 + (total - df + 0.5) / (df + 0.5))
        top = sorted(weights, key=lambda t: (-weights[t], t))[:PASSAGE_TERMS]
        if not top:
            return query.NullQuery
        return query.Or([query.Term("body", t, boost=float(counts[t])) for t in sorted(top)])

    def analysed(self, toks: list[str], field: str | None, slop: int = 1) -> Any:
        """One analysed token, or the tokens as a phrase, in `body` or the named field."""
        if len(toks) == 1:
            return query.Term(self.field(field), toks[0])
        if field == "text":
            # `text` keeps no positions (`body` has them): the phrase in body, every word in text.
            words = [_ZeroScore(query.Term("text", t)) for t in toks]
            return query.And([query.Phrase("body", toks, slop=slop), *words])
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
        if node.field == "category":
            return query.Term("category", category_key(value))
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
        required = [(n, self.query(n)) for n in node.must]
        must = [q for _, q in required if q is not None]
        must_not = [q for q in (self.query(n) for n in node.must_not) if q is not None]
        if not should and not must:
            if not must_not:
                return None
            must = [query.Every()]
        parts = list(must)
        # A required stop word (`+the bridge`) is not indexed: it requires nothing.
        if should and any(q is not None and not isinstance(n, Filter | DateRange) for n, q in required):
            # `+steamer harbour`: the required word decides, the others only rank.
            group = query.Or(should) if len(should) > 1 else should[0]
            q = query.AndMaybe(parts[0] if len(parts) == 1 else query.And(parts), group)
            return query.AndNot(q, _any(must_not)) if must_not else q
        if should:
            group = query.Or(should) if len(should) > 1 else should[0]
            parts.append(self.bonuses(group, should, node))
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
            group = query.AndMaybe(group, _Bonus(bonus))
        return group


def _any(queries: list[Any]) -> Any:
    return queries[0] if len(queries) == 1 else query.Or(queries)


class _ZeroScore(query.WrappingQuery):  # type: ignore[misc]
    """Matches what its child matches, with score 0: a filter restricts, it never ranks."""


class _Bonus(query.WrappingQuery):  # type: ignore[misc]
    """A ranking bonus evaluated only on the best candidates (proximity of query words)."""
