"""One generation of a tantivy index as numpy arrays: record numbers, lengths, posting lists.

Record numbers are fixed for one generation (one `View` each). An index made with bulk postings
(bulk.py) numbers its live records in the order of their seqs; an older one by tantivy's
address (segment, doc): record n is `offsets[segment] + doc`, deleted records included.

Posting lists of the bulk fields (bulk.FIELDS) are read from the bulk postings, with numpy.

Weighted frequencies of the other fields, and of every field of an older index: tantivy-py gives
scores, not postings. A term query scores each record
with tantivy's BM25, s = w x tf / (tf + K), where w = idf x (1 + k1) follows from the term's
document frequency and K from the record's length; SENTINEL is once in every record's scored
fields, so its score gives each record's K. The frequency is then tf = s x K / (w - s) (exact
to the float32 rounding of the scores: rounded to the integer it is), and the engine scores
BM25F with its own constants over these frequencies (evaluate.py), as the Whoosh engine does
over Whoosh's postings. tests/test_engines.py checks the recovered frequencies.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from ..ranking import length_norm
from . import bulk
from .order import load_seq_order
from .schema import LENGTH_FIELD, SENTINEL

SEQ_PAGE = 100_000  # live records listed by seq at a time when a generation is opened
TANTIVY_K1 = np.float32(1.2)  # tantivy's own BM25 constant (its scorer's K1), used to read frequencies back


def tantivy_idf(df: int, total: int) -> np.float32:
    """tantivy's idf in float32, as its scorer computes it: ln(1 + (N - df + 0.5) / (df + 0.5))."""
    x = (np.float32(total - df) + np.float32(0.5)) / (np.float32(df) + np.float32(0.5))
    return np.float32(np.log(np.float32(1.0) + x))


class View:
    """One generation: a searcher, its record numbering and per-generation caches.

    An index made with bulk postings (its slot has a postings folder) numbers its live records
    in the order of their seqs, so the bulk posting lists are in record order as read; when its
    deltas do not cover every live record (the folder was damaged, or a merge after a later
    commit dropped records this generation still has) the generation reads its postings from
    tantivy's hit lists, numbered the same. An index made without them numbers by
    segment (`offsets[segment] + doc`, deleted records included) and reads hit lists."""

    def __init__(self, key: int, searcher: Any, schema: Any, slot: Path | None = None) -> None:
        """`slot`: the index's folder, with its bulk postings (bulk.FOLDER) and each generation's
        order of records kept by the writer (order.py); None: neither is read."""
        self.key = key
        self.searcher = searcher
        self.schema = schema
        self.lock = threading.Lock()
        self.cache: dict[str, Any] = {}
        # Every live record holds SENTINEL once in `bodyw`; its document frequency counts deleted
        # records too, as tantivy's own statistics do (N of its idf).
        self.total = int(searcher.doc_freq("bodyw", SENTINEL))
        self.live_count = int(searcher.num_docs)
        self.bulk: bulk.Bulk | None = None
        self.seqs = np.zeros(0, dtype=np.int64)
        self._rank: np.ndarray | None = None  # tantivy number -> record number (numbered by seq)
        self._sentinel: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if slot is not None and (slot / bulk.FOLDER).is_dir():
            self._number_by_seq(bulk.Bulk.open(slot / bulk.FOLDER), slot)
            return
        segs, docs, scores = self._hits(tantivy.Query.term_query(schema, "bodyw", SENTINEL), self.live_count)
        self.offsets = _segment_offsets(segs, docs, int(searcher.num_segments))
        self.size = int(self.offsets[-1]) if len(self.offsets) else 0
        numbers = self.offsets[segs] + docs if len(segs) else np.zeros(0, dtype=np.int64)
        order = np.argsort(numbers, kind="stable")
        self._sentinel = {"bodyw": (numbers[order], scores[order])}
        # Which record numbers are live (deleted records keep theirs until a merge).
        self.live: np.ndarray | None = np.zeros(self.size, dtype=bool)
        self.live[numbers] = True

    def _number_by_seq(self, deltas: bulk.Bulk, slot: Path) -> None:
        """Number the live records in seq order; use the deltas when they cover them all."""
        kept = load_seq_order(slot, self.key, self.searcher, self.live_count)
        seqs, segs, docs = kept or records_by_seq(self.searcher, self.live_count)
        self.offsets = _segment_offsets(segs, docs, int(self.searcher.num_segments))
        rank = np.full(int(self.offsets[-1]) if len(self.offsets) else 0, -1, dtype=np.int64)
        if len(segs):
            rank[self.offsets[segs] + docs] = np.arange(len(segs))
        self._rank = rank
        self.seqs = seqs
        self.size = len(seqs)
        self.live = None  # every record number is live
        if len(seqs) and (int(seqs[-1]) >= deltas.end or np.any(np.diff(seqs) <= 0)):
            return  # a delta is missing (or seqs repeat): tantivy's hit lists, same numbering
        if not deltas.has_ids(seqs):
            return  # merged after a later commit deleted some of these records: hit lists too
        self.bulk = deltas
        # (int32: every posting read is looked up here, and half the bytes gather about a third
        # faster at a million sections, where a delta's part no longer fits the CPU's cache)
        self.seq_number = np.full(deltas.end, -1, dtype=np.int32 if deltas.end < 2**31 else np.int64)
        self.seq_number[seqs] = np.arange(len(seqs))

    def number(self, segs: np.ndarray, docs: np.ndarray) -> np.ndarray:
        """Record numbers of tantivy addresses (segment, doc)."""
        if not len(segs):
            return np.zeros(0, dtype=np.int64)
        numbers = self.offsets[segs] + docs
        return numbers if self._rank is None else self._rank[numbers]

    # -- reading hits ------------------------------------------------------------------------
    def _hits(self, query: Any, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(segment, doc, score) of every hit of a query (at most `limit`)."""
        if limit <= 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0, dtype=np.float32)
        hits = self.searcher.search(query, limit=limit, count=False).hits
        n = len(hits)
        scores = np.fromiter((h[0] for h in hits), dtype=np.float32, count=n)
        segs = np.fromiter((h[1].segment_ord for h in hits), dtype=np.int64, count=n)
        docs = np.fromiter((h[1].doc for h in hits), dtype=np.int64, count=n)
        return segs, docs, scores

    def matches(self, query: Any, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(record numbers, sorted; tantivy's scores) of every match of a query."""
        segs, docs, scores = self._hits(query, self.live_count if limit is None else min(limit, self.live_count))
        numbers = self.number(segs, docs)
        order = np.argsort(numbers, kind="stable")
        return numbers[order], scores[order]

    def doc_freq(self, field: str, term: Any) -> int:
        return int(self.searcher.doc_freq(field, term))

    # -- per-generation columns --------------------------------------------------------------
    def cached(self, name: str, build: Callable[[], Any]) -> Any:
        with self.lock:
            if name in self.cache:
                return self.cache[name]
        value = build()
        with self.lock:
            self.cache.setdefault(name, value)
            return self.cache[name]

    def length_factor(self, field: str) -> np.ndarray:
        """tantivy's K of every record in a scored field (k1 x (1 - b + b x length / average)),
        from the score of SENTINEL, which every record has once: s = w / (1 + K)."""

        def build() -> np.ndarray:
            numbers, scores = self._sentinel.get(field) or self.matches(
                tantivy.Query.term_query(self.schema, field, SENTINEL)
            )
            w = tantivy_idf(self.doc_freq(field, SENTINEL), self.total) * (np.float32(1.0) + TANTIVY_K1)
            out = np.ones(self.size, dtype=np.float32)
            out[numbers] = w / scores - np.float32(1.0)
            return out

        return self.cached("K:" + field, build)  # type: ignore[no-any-return]

    def lengths(self, field: str) -> tuple[np.ndarray, float]:
        """(the length of a scored field in every record, in words; the average over live records)."""

        def build() -> tuple[np.ndarray, float]:
            out = np.zeros(self.size, dtype=np.float64)
            if self.bulk is not None and field == "bodyw":
                out[:] = self.bulk.per_seq("lengths")[self.seqs]
                return out, float(out.sum() / max(1, self.live_count)) or 1.0
            column = LENGTH_FIELD[field]
            segs, docs, _ = self._hits(tantivy.Query.term_query(self.schema, field, SENTINEL), self.live_count)
            values = self.searcher.fast_field_values(
                column, [tantivy.DocAddress(int(s), int(d)) for s, d in zip(segs.tolist(), docs.tolist(), strict=True)]
            )
            out[self.number(segs, docs)] = np.asarray(values, dtype=np.float64)
            average = float(out.sum() / max(1, self.live_count)) or 1.0
            return out, average

        return self.cached("len:" + field, build)  # type: ignore[no-any-return]

    def norms(self, field: str) -> np.ndarray:
        """BM25's length normalisation of every record in a scored field (ranking.length_norm)."""
        return self.cached("norm:" + field, lambda: length_norm(*self.lengths(field)))  # type: ignore[no-any-return]

    def record_ids(self) -> Sequence[str]:
        """The record id of every record number ("" for a deleted record)."""

        def build() -> Sequence[str]:
            if self.bulk is not None:
                return self.bulk.record_ids(self.seqs)
            return self.stored_record_ids()

        return self.cached("ids", build)  # type: ignore[no-any-return]

    def stored_record_ids(self) -> list[str]:
        """The record id of every record number, read from tantivy's stored documents."""
        out = [""] * self.size
        segs, docs, _ = self._hits(tantivy.Query.all_query(), self.live_count)
        doc = self.searcher.doc
        for n, s, d in zip(self.number(segs, docs).tolist(), segs.tolist(), docs.tolist(), strict=True):
            out[n] = doc(tantivy.DocAddress(s, d)).get_first("record_id")
        return out

    def latest(self) -> np.ndarray | None:
        """Whether each record is its document's latest version, from bulk postings (else None)."""
        if self.bulk is None:
            return None
        return self.bulk.per_seq("latest")[self.seqs].astype(bool)


def records_by_seq(searcher: Any, live_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(seq, segment, doc) of every live record of an index with bulk postings, by seq; read
    SEQ_PAGE hits at a time (a hit is two Python objects: a million at once take over 100 MB)."""
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for offset in range(0, live_count, SEQ_PAGE):
        hits = searcher.search(
            tantivy.Query.all_query(),
            limit=min(SEQ_PAGE, live_count - offset),
            offset=offset,
            count=False,
            order_by_field="seq",
            order=tantivy.Order.Asc,
        ).hits
        n = len(hits)
        parts.append(
            (
                np.fromiter((h[0] for h in hits), dtype=np.int64, count=n),
                np.fromiter((h[1].segment_ord for h in hits), dtype=np.int64, count=n),
                np.fromiter((h[1].doc for h in hits), dtype=np.int64, count=n),
            )
        )
        del hits
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    seqs, segs, docs = (np.concatenate(column) for column in zip(*parts, strict=True))
    return seqs, segs, docs


def _segment_offsets(segs: np.ndarray, docs: np.ndarray, nseg: int) -> np.ndarray:
    """The first tantivy number of each segment, and the end after the last: a record at
    (segment, doc) is number offsets[segment] + doc."""
    sizes = np.zeros(max(nseg, int(segs.max()) + 1 if len(segs) else 0), dtype=np.int64)
    if len(segs):
        np.maximum.at(sizes, segs, docs + 1)
    return np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)


class PostingCache:
    """Posting lists (record numbers, weighted frequencies) kept across queries, bounded by the
    number of postings held; keyed by generation, so a commit never serves stale lists."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.lock = threading.Lock()
        self.items: OrderedDict[tuple[int, str, Any], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self.held = 0

    def get(self, key: tuple[int, str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
        with self.lock:
            hit = self.items.get(key)
            if hit is not None:
                self.items.move_to_end(key)
            return hit

    def put(self, key: tuple[int, str, Any], value: tuple[np.ndarray, np.ndarray]) -> None:
        """Keep `value`; its arrays become read-only (every later query is handed them)."""
        for array in value:
            array.flags.writeable = False
        with self.lock:
            if key in self.items:
                return
            self.items[key] = value
            self.held += len(value[0])
            while self.held > self.capacity and len(self.items) > 1:
                _k, old = self.items.popitem(last=False)
                self.held -= len(old[0])

    def forget_before(self, key: int) -> None:
        """Drop the lists of other generations."""
        with self.lock:
            for k in [k for k in self.items if k[0] != key]:
                self.held -= len(self.items.pop(k)[0])


def term_postings(view: View, field: str, term: Any, scored: bool, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(record numbers, weighted frequencies / `scale`) of one term; frequencies are 1 in
    unscored fields."""
    if view.bulk is not None and field in bulk.FIELDS:
        return view.bulk.postings(bulk.key(field, term), view.seq_number, scale if scored else None)
    df = view.doc_freq(field, term)
    if df == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    numbers, scores = view.matches(tantivy.Query.term_query(view.schema, field, term), limit=df)
    if not scored:
        return numbers, np.ones(len(numbers))
    w = tantivy_idf(df, view.total) * (np.float32(1.0) + TANTIVY_K1)
    k = view.length_factor(field)[numbers]
    tf = np.rint(scores * k / np.maximum(w - scores, np.float32(1e-30))).astype(np.float64)
    return numbers, np.maximum(tf, 1.0) / scale
