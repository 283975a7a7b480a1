"""tantivy (tantivy-py 0.27) behind the engine contract (engines/base.py).

    schema.py     the index's fields, and a SectionRecord as a tantivy document (analysed terms)
    translate.py  query tree -> query plan, words analysed in the index's languages
    evaluate.py   the plan's BM25F over every record at once, with numpy (the product's constants)
    loops.py      its loops over postings: numpy, or compiled with numba (kernels.py) once warm
    postings.py   one generation as arrays: record numbers, lengths, weighted posting lists
    bulk.py       the body's and facets' postings beside tantivy, in flat files read with numpy
    order.py      a generation's key, and its records' order kept beside it by the writer
    batch.py      the writer of one batch, and what follows its commit

tantivy stores, matches (terms, phrases over positions, ranges) and keeps the statistics; the
ranking is the product's own, computed as the Whoosh engine computes it, so both engines rank
alike. Record numbers are fixed for one generation (the content of tantivy's meta.json: a commit
or a merge changes it); callers map them to their rows once per generation through
`record_id_column()`.

Writes: one tantivy writer per batch (tantivy's own lock; the pipeline's index lock comes first),
its threads merging segments before the batch returns. A commit replaces meta.json atomically, so a
process killed at any point leaves the previous generation readable, and the store's pending
documents are written again by the next run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from ... import compiled
from ...errors import SchemaMismatchError
from ...querytree import Node
from .. import live_slot
from ..base import Hit
from ..ranking import required_languages, top_hits, words_with_prefix, words_within
from . import bulk, loops
from .batch import TantivyBatch
from .evaluate import Evaluator, PhraseQ, RangeQ
from .order import generation_key
from .postings import PostingCache, View, term_postings
from .schema import INDEX_SCHEMA_VERSION, SCORED_FIELDS, WEIGHT_SCALE, build_schema
from .translate import Translator

_VERSION_FILE = "schema_version"
RESULT_CACHE = 8  # evaluated queries kept (one search asks for the same query several times)
POSTING_CACHE = 8_000_000  # postings kept in memory across queries (about 16 bytes each)
WARM_POSTINGS = 4_000_000  # postings of the most frequent body terms a server reads at start
# A proximity bonus's phrase is matched among its candidates only when its rarest word is in more
# than this many records per candidate. Looking 200 candidates' ids up costs tantivy-py 0.27 about
# 2.4 ms at 111,255 sections (1 segment) and 4.6 ms at 999,553 (9 segments), whatever the words;
# a whole phrase costs about 0.15-0.2 ms per 1,000 records of its rarest word (at a million
# sections: 1.5 ms below 35,000, 5.3 ms at 35,000-100,000, 15 ms above) and is kept for later
# queries, which favours it where the two are close.
PHRASE_AMONG = 250


class TantivyEngine:
    """A tantivy index in a slot of the index directory (`tantivy`, or `tantivy-<n>` after rebuilds)."""

    name = "tantivy"

    def __init__(self, index_dir: str | Path, create: bool = False, slot: str | None = None) -> None:
        self.index_dir = str(index_dir)
        # `tantivy`, or `tantivy-<n>` after rebuilds (engines/__init__.py). Opened without a slot,
        # the engine follows the live one: a rebuild's swap is seen by the next search.
        self.follow = slot is None
        self.slot = slot or live_slot(index_dir)
        self.path = Path(index_dir) / self.slot
        self.ix = self._open_ix(self.path, create)
        self.schema = self.ix.schema
        self._lock = threading.Lock()
        self._view_now: View | None = None
        self._results: dict[Any, tuple[np.ndarray, np.ndarray]] = {}
        self._postings = PostingCache(POSTING_CACHE)

    def _open_ix(self, path: Path, create: bool) -> Any:
        version_file = path / _VERSION_FILE
        if (path / "meta.json").exists():
            found = int(version_file.read_text().strip()) if version_file.exists() else 0
            if found != INDEX_SCHEMA_VERSION:
                raise SchemaMismatchError(self.index_dir, found, INDEX_SCHEMA_VERSION)
            ix = tantivy.Index.open(str(path))
        elif create:
            path.mkdir(parents=True, exist_ok=True)
            (path / bulk.FOLDER).mkdir(exist_ok=True)
            version_file.write_text(f"{INDEX_SCHEMA_VERSION}\n")
            ix = tantivy.Index(build_schema(), path=str(path))
        else:
            raise FileNotFoundError(f"no index in {self.index_dir}")
        # The reader moves to a new generation only when we ask (see _view), so record numbers
        # never change under a caller.
        ix.config_reader(reload_policy="manual")
        return ix

    def _follow(self) -> None:
        """Open the live slot when a rebuild has swapped another one in (one small read)."""
        if not self.follow:
            return
        slot = live_slot(self.index_dir)
        if slot == self.slot:
            return
        with self._lock:
            if slot != self.slot:
                path = Path(self.index_dir) / slot
                self.ix, self.slot, self.path = self._open_ix(path, False), slot, path
                self._view_now = None
                self._results.clear()

    def begin(self, workers: int = 1) -> TantivyBatch:
        return TantivyBatch(self.ix, self.index_dir, self.path, workers)

    # -- generations -------------------------------------------------------------------------
    def _meta_key(self) -> int:
        return generation_key(self.path)

    def generation(self) -> int:
        """Changes with every commit (and merge) and every swap of slots: the live slot's name
        and the content of its meta.json."""
        self._follow()
        return self._meta_key()

    def _view(self) -> View:
        self._follow()
        key = self._meta_key()
        view = self._view_now
        if view is not None and view.key == key:
            return view
        with self._lock:
            view = self._view_now
            if view is not None and view.key == key:
                return view
            while True:
                self.ix.reload()
                searcher = self.ix.searcher()
                after = self._meta_key()
                if after == key:
                    break
                key = after
            view = View(key, searcher, self.schema, self.path)
            self._view_now = view
            self._results.clear()
        self._postings.forget_before(key)
        return view

    # -- postings ----------------------------------------------------------------------------
    def _term(self, view: View, field: str, term: Any) -> tuple[np.ndarray, np.ndarray]:
        """(record numbers, weighted frequencies) of one term; cached across queries."""
        key = (view.key, field, term)
        hit = self._postings.get(key)
        if hit is not None:
            return hit
        scale = WEIGHT_SCALE if field == "bodyw" else 1
        numbers, tf = term_postings(view, field, term, field in SCORED_FIELDS, scale)
        self._postings.put(key, (numbers, tf))
        return numbers, tf

    def _scores(self, view: View, field: str, term: Any, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """A word's BM25 at boost 1 in the records of its postings (`compute`: the evaluator's),
        kept with the postings across queries: a common word's scores are computed once per
        generation, not once per question."""
        key = (view.key, field, ("bm25", term))
        hit = self._postings.get(key)
        if hit is not None:
            return hit[1]
        scores = compute()
        self._postings.put(key, (scores, scores))  # (counted by its length, as a posting list)
        return scores

    def _phrase(self, view: View, q: PhraseQ, among: np.ndarray | None) -> np.ndarray:
        """The records with a phrase (`among`: the only records asked about, or None).

        A whole phrase costs tantivy a pass over the positions of every record with all its
        words; it is kept across queries with the postings (the same phrases come back as a user
        refines a question). A proximity bonus asks about its few best candidates only: when
        its words are common (see PHRASE_AMONG), tantivy checks the positions of those records
        alone (the phrase and a set of their ids, both required). Only with bulk postings, whose
        record ids are read one at a time: without, the ids are tantivy's stored documents, read
        all at once (seconds at a million sections)."""
        key = (view.key, q.field, ("phrase", tuple(q.words), q.slop))
        hit = self._postings.get(key)
        if hit is not None:
            return hit[0]
        limit = min((view.doc_freq(q.field, w) for w in q.words), default=0)
        if limit == 0:
            return np.zeros(0, dtype=np.int64)
        query = tantivy.Query.phrase_query(self.schema, q.field, list(q.words), slop=max(0, q.slop - 1))
        if among is not None and view.bulk is not None and limit > PHRASE_AMONG * len(among):
            if not len(among):
                return np.zeros(0, dtype=np.int64)
            ids = view.record_ids()
            wanted = tantivy.Query.term_set_query(self.schema, "record_id", [ids[int(n)] for n in among])
            both = tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, wanted)])
            return view.matches(both, limit=len(among))[0]
        found = view.matches(query, limit=limit)[0]
        self._postings.put(key, (found, found))
        return found

    def _range(self, view: View, q: RangeQ) -> np.ndarray:
        query = tantivy.Query.range_query(
            self.schema, q.field, tantivy.FieldType.Integer, lower_bound=q.lo, upper_bound=q.hi
        )
        return view.matches(query)[0]

    def _vocabulary(self, view: View) -> tuple[list[str], np.ndarray]:
        def build() -> tuple[list[str], np.ndarray]:
            pairs = view.searcher.terms_with_prefix("words", "", limit=None)
            pairs.sort()
            return [w for w, _ in pairs], np.asarray([n for _, n in pairs], dtype=np.int64)

        return view.cached("vocabulary", build)  # type: ignore[no-any-return]

    def _prefixed(self, view: View, word: str, limit: int) -> list[str]:
        return words_with_prefix(self._vocabulary(view)[0], word, limit)

    def _within(self, view: View, word: str, maxdist: int, limit: int) -> list[str]:
        return words_within(self._vocabulary(view)[0], word, maxdist, limit)

    # -- the contract ------------------------------------------------------------------------
    def languages(self) -> dict[str, int]:
        """The languages of the index's sections, with how many records each has."""
        view = self._view()

        def build() -> dict[str, int]:
            pairs = view.searcher.terms_with_prefix("facet", "language:", limit=None)
            return {t.removeprefix("language:"): int(n) for t, n in sorted(pairs)}

        return view.cached("languages", build)  # type: ignore[no-any-return]

    def evaluate(self, tree: Node, latest_only: bool = True, scoring: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(every matching record number, sorted; their scores): the product's BM25F with numpy
        over the posting lists; the last few results are kept. Without `scoring`, the same
        records with zeros, from the kept scored result when there is one."""
        view = self._view()
        key = (view.key, repr(tree), latest_only)
        with self._lock:
            cached = self._results.get(key) or (None if scoring else self._results.get((*key, "unscored")))
        if cached is not None:
            return cached
        if not scoring:
            key = (*key, "unscored")
        plan = Translator(
            self.languages(),
            lambda f, t: view.doc_freq(f, t),
            view.total,
            lambda w, n: self._prefixed(view, w, n),
            lambda w, d, n: self._within(view, w, d, n),
            required_languages(tree),
        ).query(tree)
        if plan is None:
            out = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
        else:
            ev = Evaluator(
                view.size,
                view.total,
                lambda f, t: self._term(view, f, t),
                view.norms,
                lambda q, among: self._phrase(view, q, among),
                lambda q: self._range(view, q),
                lambda f: f in SCORED_FIELDS,
                lambda f, t: view.doc_freq(f, t),
                lambda f, t, compute: self._scores(view, f, t, compute),
                scoring=scoring,
            )
            numbers, values = ev.records(plan)
            keep = view.live[numbers] if view.live is not None else None
            if latest_only:
                latest = self._latest(view)[numbers]
                keep = latest if keep is None else keep & latest
            out = (numbers, values) if keep is None else (numbers[keep], values[keep])
        with self._lock:
            self._results[key] = out
            while len(self._results) > RESULT_CACHE:
                self._results.pop(next(iter(self._results)))
        return out

    def _latest(self, view: View) -> np.ndarray:
        def build() -> np.ndarray:
            out = view.latest()
            if out is None:
                out = np.zeros(view.size, dtype=bool)
                out[self._term(view, "is_latest", True)[0]] = True
            return out

        return view.cached("latest", build)  # type: ignore[no-any-return]

    def search(self, tree: Node, latest_only: bool = True, limit: int = 10) -> list[Hit]:
        """The best `limit` matching records, best first; ties by record id."""
        numbers, scores = self.evaluate(tree, latest_only)
        return top_hits(numbers, scores, self.record_id_column(), limit)

    def match(self, tree: Node, latest_only: bool = True) -> np.ndarray:
        """Every record number the query matches (sorted): for totals and suggestions."""
        return self.evaluate(tree, latest_only, scoring=False)[0]

    def warm(self, postings: int = WARM_POSTINGS) -> int:
        """Read the record numbering, the body lengths and the posting lists of the most frequent
        body terms (up to `postings` postings) into memory and, on an index of
        compiled.COMPILE_FROM records or more, load the compiled loops (loops.py), so the first
        queries are about as fast as later ones. Returns the number of postings read. For
        long-running servers."""
        view = self._view()
        if view.size >= compiled.COMPILE_FROM:
            loops.use_compiled()
        view.norms("bodyw")
        if view.bulk is None:
            view.length_factor("bodyw")
        self.record_id_column()
        self._latest(view)
        frequent = sorted(
            ((n, t) for t, n in view.searcher.terms_with_prefix("bodyw", "", limit=None) if t != "\x01"),
            reverse=True,
        )
        total = 0
        for df, term in frequent:
            if total + df > postings:
                break
            self._term(view, "bodyw", term)
            total += df
        return total

    def record_id_column(self) -> Sequence[str]:
        """The record id of every record number of the current generation."""
        return self._view().record_ids()

    def vocabulary(self) -> tuple[list[str], np.ndarray]:
        """Every unstemmed word of the index (sorted) and the number of records containing it."""
        return self._vocabulary(self._view())

    def word_frequency(self, word: str) -> int:
        return self._view().doc_freq("words", word)

    def term_stats(self, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """(records in the index, number of records containing each analysed term)."""
        view = self._view()
        return view.live_count, {t: view.doc_freq("bodyw", t) for t in terms}

    def record_ids(self) -> set[str]:
        """Every record id in the index (for `palimpsest verify`): tantivy's stored documents', and
        the bulk postings' where they differ (an id only there is reported as not in the store)."""
        view = self._view()
        stored = {r for r in view.stored_record_ids() if r}
        return stored | {r for r in view.record_ids() if r}

    def doc_count(self) -> int:
        return self._view().live_count

    def close(self) -> None:
        with self._lock:
            self._view_now = None
            self._results.clear()
