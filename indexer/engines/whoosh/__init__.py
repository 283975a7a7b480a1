"""Whoosh 2.7.4 behind the engine contract (engines/base.py).

    schema.py     the index's fields, and a SectionRecord as a Whoosh document (analysed terms)
    translate.py  query tree -> Whoosh query, words analysed in the index's languages
    evaluate.py   BM25F over every record at once with numpy (and its constants)
    postings.py   posting lists and field lengths read from Whoosh's segments as arrays
    flatpostings.py  each segment's `body` postings as flat arrays in a file beside it

Record numbers are Whoosh document numbers: stable for one generation (`generation()`), so
callers map them to their own rows once per generation through `record_id_column()`.
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import IndexLockedError, SchemaMismatchError
from ...models import SectionRecord
from ...querytree import Node
from .. import live_slot, slot_number
from ..base import Hit
from ..ranking import required_languages, top_hits
from . import flatpostings
from .evaluate import Evaluator
from .flatpostings import SegmentPostings
from .postings import field_lengths, term_postings
from .schema import FACET_PREFIX, INDEX_SCHEMA_VERSION, build_schema, whoosh_document
from .translate import Translator

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=SyntaxWarning, message=r"invalid escape sequence")
    from whoosh import index as whoosh_index
    from whoosh import query
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import LockError

INDEX_NAME = "sections"
_VERSION_FILE = "schema_version"
RESULT_CACHE = 8  # evaluated queries kept (one search asks for the same query several times)
POSTING_CACHE = 8_000_000  # postings kept in memory across queries (about 16 bytes each)
FLAT_RECHECK = 5.0  # seconds before a segment without a flat postings file is looked at again
WARM_POSTINGS = 4_000_000  # postings of the most frequent terms a server reads at start


def _storage(path: Path) -> Any:
    """The folder of a Whoosh index, its segment files read through file handles: with mmap,
    Whoosh 2.7 copies each segment's term and posting files into memory whenever a reader opens
    (0.15 s and 350 MB at 111,000 sections, bench/search_latency.py); the body postings come
    from the flat postings files anyway."""
    return FileStorage(str(path), supports_mmap=False)


class WhooshBatch:
    """One Whoosh writer; the only code that calls it is indexer/writer.py."""

    def __init__(self, ix: Any, index_dir: str, workers: int = 1) -> None:
        self._ix = ix
        self._folder = ix.storage.folder
        try:
            if workers > 1:
                # Sub-processes write batches of records into their own segments while this
                # process keeps producing records; nothing is visible before commit().
                self._w = ix.writer(timeout=0.0, procs=workers, multisegment=True)
            else:
                self._w = ix.writer(timeout=0.0)
        except LockError:
            raise IndexLockedError(index_dir) from None

    def add(self, record: SectionRecord) -> None:
        self._w.add_document(**whoosh_document(record))

    def delete_document(self, doc_id: str) -> None:
        self._w.delete_by_term("doc_id", doc_id)

    def replace_document(self, doc_id: str, records: Iterable[SectionRecord]) -> None:
        self.delete_document(doc_id)
        for record in records:
            self.add(record)

    def commit(self) -> None:
        self._w.commit()
        # The new segments' flat postings files; a failure here (a full disk) leaves segments
        # read through Whoosh, slower but the same, and the next commit tries again.
        with contextlib.suppress(OSError):
            flatpostings.complete(self._folder, self._ix)

    def cancel(self) -> None:
        self._w.cancel()


class WhooshEngine:
    """A Whoosh index in a slot of the index directory (`whoosh`, or `whoosh-<n>` after rebuilds:
    see engines/__init__.py); it follows the live slot when none is given."""

    name = "whoosh"

    def __init__(self, index_dir: str | Path, create: bool = False, slot: str | None = None) -> None:
        self.index_dir = str(index_dir)
        self.follow = slot is None
        self.slot = slot or live_slot(index_dir)
        self.path = Path(index_dir) / self.slot
        self.ix = self._open_ix(self.path, create)
        self._retired: list[Any] = []  # indexes of slots swapped out, closed with the engine
        # One open searcher per thread (Whoosh readers keep file positions), refreshed after commits.
        self._local = threading.local()
        self._open: list[Any] = []
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[Any, Any]] = {}
        self._results: dict[Any, tuple[np.ndarray, np.ndarray]] = {}
        self._posting_cache: OrderedDict[Any, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._posting_cache_size = 0
        self._flat_files: dict[tuple[str, str], SegmentPostings] = {}
        self._flat_missing: dict[str, float] = {}  # segment id -> when its file was last looked for

    def _open_ix(self, path: Path, create: bool) -> Any:
        version_file = path / _VERSION_FILE
        if whoosh_index.exists_in(str(path), indexname=INDEX_NAME):
            found = int(version_file.read_text().strip()) if version_file.exists() else 0
            if found != INDEX_SCHEMA_VERSION:
                raise SchemaMismatchError(self.index_dir, found, INDEX_SCHEMA_VERSION)
            return _storage(path).open_index(INDEX_NAME)
        if create:
            path.mkdir(parents=True, exist_ok=True)
            ix = _storage(path).create_index(build_schema(), indexname=INDEX_NAME)
            version_file.write_text(f"{INDEX_SCHEMA_VERSION}\n")
            return ix
        raise FileNotFoundError(f"no index in {self.index_dir}")

    def begin(self, workers: int = 1) -> WhooshBatch:
        return WhooshBatch(self.ix, self.index_dir, workers)

    def _follow(self) -> None:
        """Open the live slot when a rebuild has swapped another one in (one small read)."""
        if not self.follow:
            return
        slot = live_slot(self.index_dir)
        if slot == self.slot:
            return
        with self._lock:
            if slot != self.slot:
                ix = self._open_ix(Path(self.index_dir) / slot, False)
                self._retired.append(self.ix)
                self.ix, self.slot, self.path = ix, slot, Path(self.index_dir) / slot

    def _searcher(self) -> Any:
        self._follow()
        s = getattr(self._local, "searcher", None)
        if s is not None and s._palimpsest_slot == self.slot and s.up_to_date():
            return s
        from .evaluate import WEIGHTING

        if s is None or s._palimpsest_slot != self.slot:
            fresh = self.ix.searcher(weighting=WEIGHTING)
        else:
            fresh = s.refresh()
        fresh._palimpsest_slot = self.slot
        with self._lock:
            if s is not None and s in self._open:
                self._open.remove(s)
                if s is not fresh and s._palimpsest_slot != self.slot:
                    s.close()
            self._open.append(fresh)
        self._local.searcher = fresh
        return fresh

    @staticmethod
    def _generation_of(s: Any) -> tuple[int, int]:
        """A searcher's (slot number, Whoosh generation): generations restart in a new slot."""
        return slot_number(s._palimpsest_slot), s.reader().generation()

    def _cached(self, name: str, s: Any, build: Callable[[], Any]) -> Any:
        key = self._generation_of(s)
        hit = self._cache.get(name)
        if hit is not None and hit[0] == key and key is not None:
            return hit[1]
        value = build()
        self._cache[name] = (key, value)
        return value

    def languages(self) -> dict[str, int]:
        """The languages of the index's sections, with how many records each has."""
        s = self._searcher()

        def build() -> dict[str, int]:
            field = FACET_PREFIX + "language"
            try:
                terms = list(s.reader().iter_field(field))
            except (KeyError, ValueError):  # nothing indexed yet
                return {}
            return {
                (t.decode("utf-8") if isinstance(t, bytes) else t): self._df(s, field, t, info.doc_frequency())
                for t, info in terms
            }

        return self._cached("languages", s, build)

    def evaluate(self, tree: Node, latest_only: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(every matching record number, sorted; their scores).

        BM25F over the weighted zones of `body` (or the field a query names), computed with
        numpy over whole posting lists; OR-ed words get a coordination and a proximity bonus.
        The last few results are kept, so a search that asks for the ranking, the scores of
        some records and the match set evaluates the query once."""
        s = self._searcher()
        key = (self._generation_of(s), repr(tree), latest_only)
        with self._lock:
            cached = self._results.get(key)
        if cached is not None:
            return cached
        q = Translator(s, self.languages(), required_languages(tree), self._df).query(tree)
        if q is None:
            out = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
        else:
            ev = Evaluator(s, self._postings, self._lengths(s), self._live(s), self._df)
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

    def search(self, tree: Node, latest_only: bool = True, limit: int = 10) -> list[Hit]:
        """The best `limit` matching records, best first; ties by record id."""
        numbers, scores = self.evaluate(tree, latest_only)
        return top_hits(numbers, scores, self.record_id_column(), limit)

    def match(self, tree: Node, latest_only: bool = True) -> np.ndarray:
        """Every record number the query matches (sorted): for totals and facets. Reuses a
        kept evaluation; otherwise computes the match alone, without scores."""
        s = self._searcher()
        key = (self._generation_of(s), repr(tree), latest_only)
        with self._lock:
            cached = self._results.get(key)
        if cached is not None:
            return cached[0]
        q = Translator(s, self.languages(), required_languages(tree), self._df).query(tree)
        if q is None:
            return np.zeros(0, dtype=np.int64)
        ev = Evaluator(s, self._postings, self._lengths(s), self._live(s), self._df, scoring=False)
        mask = ev.evaluate(q)[0] & self._live(s)
        if latest_only:
            mask &= ev.evaluate(query.Term("is_latest", True))[0]
        return np.flatnonzero(mask)

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
        """Per-field (length of every record, average length over the live records), read once
        per generation. The average is of the lengths as Whoosh codes them per record, never of
        its running total, which keeps deleted records: an index with deletions and one without
        (the same records) must score alike (issue 17, finding 2)."""

        def build(field: str) -> tuple[np.ndarray, float]:
            lengths = field_lengths(s, field)
            live = lengths[self._live(s)]
            return lengths, float(live.mean()) if len(live) and live.any() else 1.0

        def get(field: str) -> tuple[np.ndarray, float]:
            return self._cached("len:" + field, s, lambda: build(field))

        return get

    def _df(self, s: Any, field: str, term: Any, whoosh_df: int | None = None) -> int:
        """Live records containing `term`: Whoosh's document frequency counts deleted records
        until their segment is merged, so with deletions the posting list is counted."""
        if s.doc_count() == s.doc_count_all():
            if whoosh_df is not None:
                return whoosh_df
            return int(s.reader().doc_frequency(field, term))
        key = term if isinstance(term, bytes) else s.schema[field].to_bytes(term)
        ids = self._postings(s, field, key)[0]
        return int(np.count_nonzero(self._live(s)[ids]))

    def _postings(self, s: Any, field: str, text: bytes) -> tuple[np.ndarray, np.ndarray]:
        """(record numbers, weights) of one term, across segments; cached per generation."""
        key = (self._generation_of(s), field, text)
        with self._lock:
            hit = self._posting_cache.get(key)
            if hit is not None:
                self._posting_cache.move_to_end(key)
                return hit
        out = term_postings(s, field, text, lambda sub: self._flat(s, sub))
        with self._lock:
            self._posting_cache[key] = out
            self._posting_cache_size += len(out[0])
            while self._posting_cache_size > POSTING_CACHE and len(self._posting_cache) > 1:
                _k, old = self._posting_cache.popitem(last=False)
                self._posting_cache_size -= len(old[0])
        return out

    def _flat(self, s: Any, sub: Any) -> SegmentPostings | None:
        """The flat postings file of a segment of searcher `s`, None when there is none (yet) or
        it does not match its segment (flatpostings.py)."""
        reader = sub.reader()
        segment = reader.segment() if hasattr(reader, "segment") else None
        if segment is None:  # an empty index
            return None
        segment_id = segment.segment_id()
        key = (s._palimpsest_slot, segment_id)
        found = self._flat_files.get(key)
        if found is not None:
            return found
        # A segment without a file is looked at again after FLAT_RECHECK seconds: the writer
        # adds the file just after its commit, which a server may already have opened.
        checked = self._flat_missing.get(segment_id)
        if checked is not None and time.monotonic() - checked < FLAT_RECHECK:
            return None
        path = flatpostings.path_for(Path(self.index_dir) / s._palimpsest_slot, segment_id)
        try:
            found = SegmentPostings(path, segment_id, reader.doc_count_all())
        except (OSError, ValueError):
            with self._lock:
                if len(self._flat_missing) > 10_000:
                    self._flat_missing.clear()
                self._flat_missing[segment_id] = time.monotonic()
            return None
        with self._lock:
            if key in self._flat_files:
                found.close()
                return self._flat_files[key]
            self._flat_files[key] = found
        return found

    def _live(self, s: Any) -> np.ndarray:
        def build() -> np.ndarray:
            reader = s.reader()
            if not reader.has_deletions():  # every record live: no walk over 100,000 documents
                return np.ones(s.doc_count_all(), dtype=bool)
            mask = np.zeros(s.doc_count_all(), dtype=bool)
            mask[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
            return mask

        return self._cached("live", s, build)

    def generation(self) -> int:
        """Changes with every commit and every swap of slots (readers cache per generation)."""
        self._follow()
        return slot_number(self.slot) * 10**9 + int(self.ix.latest_generation())

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
                freqs.append(self._df(s, "words", term, info.doc_frequency()))
            return words, np.asarray(freqs, dtype=np.int64)

        return self._cached("vocabulary", s, build)

    def word_frequency(self, word: str) -> int:
        """Records containing `word` (a word of the unstemmed vocabulary, as `plain_terms` gives it)."""
        return self._df(self._searcher(), "words", word)

    def term_stats(self, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """(records in the index, number of records containing each analysed term)."""
        s = self._searcher()
        return int(s.doc_count()), {t: self._df(s, "body", t) for t in terms}

    def record_ids(self) -> set[str]:
        """Every record id in the index (for `palimpsest verify`)."""
        s = self._searcher()
        return {fields["record_id"] for fields in s.all_stored_fields()}

    def doc_count(self) -> int:
        return int(self._searcher().doc_count())

    def close(self) -> None:
        with self._lock:
            for s in self._open:
                s.close()
            self._open.clear()
            for flat in self._flat_files.values():
                flat.close()
            self._flat_files.clear()
        self._local = threading.local()
        self.ix.close()
        for ix in self._retired:
            ix.close()
