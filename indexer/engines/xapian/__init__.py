"""Xapian (xapian-bindings 1.4) behind the engine contract (engines/base.py), on one machine or
over a cluster of shard servers.

    schema.py     a SectionRecord as a Xapian document (terms, positions, wdf, the record id)
    translate.py  query tree -> xapian.Query (the product's reading; prefix, fuzzy and date ranges
                  expanded from the index's terms: Xapian 1.4 has no fuzzy or term-range query)
    cluster.py    the cluster file, connections to shard servers (timeouts, replicas), and
                  `up`/`down`/`status` of local shard servers

A slot folder of the index directory (`xapian`, `xapian-<n>` after rebuilds) holds either a
local Xapian database (`db/`) or a cluster file (`cluster.toml`): the shard servers that hold the
records. A new slot is a cluster when the index directory has a `cluster.toml` (`palimpsest index
--cluster FILE` puts it there; an operator who adds a shard edits it, or runs `palimpsest rebuild
--cluster FILE`, and the rebuild writes every record of the store into the new shard list).

Ranking: Xapian's BM25 (k1 and b as the product's BM25F, BM25_K1 and BM25_B) over the weighted
body (zone weights as wdf); field weights and the product's bonuses with OP_SCALE_WEIGHT. The
differences with the other engines (BM25 over the whole record rather than per field, Xapian's
idf) are measured in bench/RESULTS.md. Over a cluster, the reader is one Database over every
shard: statistics are global, the scores one local index's.

Record numbers are the combined database's document ids (fixed for one generation); the record
id of each comes back as the collapse key of a match-all query (one request per shard, no
document fetches).

Writes: one flushed transaction per shard per batch (nothing visible before `commit`; `cancel`
forgets it); a rebuild into a cluster clears each shard in the same transaction, so each shard
moves from the old records to the new in one commit. The shards commit one after the other:
between two commits a reader may see one shard's new records with another's old.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import xapian

from ...errors import EngineUnavailableError, IndexLockedError, SchemaMismatchError
from ...models import SectionRecord
from ...querytree import Node
from .. import live_slot
from ..base import Hit
from ..ranking import required_languages, top_hits, words_with_prefix, words_within
from .cluster import CLUSTER_FILE, Cluster, open_shard, open_writable, read_cluster, shard_of
from .schema import ALL, DOC, FACET, INDEX_SCHEMA_VERSION, LATEST, RECORD_ID_SLOT, WORD, xapian_document
from .translate import Translator

__all__ = ["XapianBatch", "XapianEngine"]

_VERSION_FILE = "schema_version"
_DB = "db"
GENERATION_KEY = "palimpsest.generation"  # metadata each commit sets, on every shard
RESULT_CACHE = 8  # evaluated queries kept (one search asks for the same query several times)
# The product's ranking constants (bench/ranking_study.py) for Xapian's BM25 (k2 = 0: no
# query-length correction; k3 = 1: a repeated query word counts once more; min_normlen 0.5).
BM25_K1 = 1.2
BM25_B = 0.6
# Significant bits a score keeps. Xapian adds a record's weights in an order that depends on the
# database (over a cluster, on each shard's own term statistics), so a sum can differ in its last
# bit or two (relative 1e-16) between a cluster and one index; records whose scores are equal
# must stay equal for ties to go by record id, not by that noise. 32 bits (relative 2e-10) are
# far above the noise and far below any difference that ranks.
SCORE_BITS = 32
T = TypeVar("T")


def steady(scores: np.ndarray) -> np.ndarray:
    """Scores rounded to SCORE_BITS significant bits (exactly: the mantissa is scaled by a
    power of two, rounded to an integer and scaled back)."""
    mantissa, exponent = np.frexp(scores)
    return np.ldexp(np.round(mantissa * 2.0**SCORE_BITS) / 2.0**SCORE_BITS, exponent)


def read_matches(mset: xapian.MSet) -> tuple[np.ndarray, np.ndarray]:
    """Every match of an MSet: (record numbers, weights), in the MSet's order. Read through the
    bindings' own iterator (`MSet._begin`): iterating the MSet gives an MSetItem, which reads six
    fields of each match (docid, weight, rank, percent, collapse key and count), and that took
    0.17 s of a 32,000-match query against 0.02 s this way."""
    n = mset.size()
    numbers = np.empty(n, dtype=np.int64)
    weights = np.empty(n, dtype=np.float64)
    item = mset._begin()
    for i in range(n):
        numbers[i] = item.get_docid()
        weights[i] = item.get_weight()
        next(item)
    return numbers, weights


def _unavailable(exc: xapian.Error, what: str) -> EngineUnavailableError:
    return EngineUnavailableError(f"{what}: {exc.get_msg()} ({exc.get_context() or type(exc).__name__})")


class XapianBatch:
    """One write transaction per shard (one for a local index)."""

    def __init__(self, engine: XapianEngine) -> None:
        self.engine = engine
        self.dbs: list[xapian.WritableDatabase] = []
        try:
            if engine.cluster is None:
                self.dbs.append(xapian.WritableDatabase(str(engine.path / _DB), xapian.DB_CREATE_OR_OPEN))
            else:
                self.dbs += [open_writable(engine.cluster, i) for i in range(len(engine.cluster.shards))]
            for db in self.dbs:
                db.begin_transaction(True)
                if engine.fresh:
                    db.delete_document(ALL)  # a new slot over a cluster: the shards' old records go
        except xapian.DatabaseLockError:
            self._close()
            raise IndexLockedError(engine.index_dir) from None
        except xapian.NetworkError as exc:
            self._close()
            raise _unavailable(exc, "a shard server failed while a write began") from None

    def _db(self, doc_id: str) -> xapian.WritableDatabase:
        return self.dbs[shard_of(doc_id, len(self.dbs))] if len(self.dbs) > 1 else self.dbs[0]

    def _write(self, fn: Callable[[], object]) -> None:
        try:
            fn()
        except xapian.NetworkError as exc:
            raise _unavailable(exc, "a shard server failed during a write") from None

    def add(self, record: SectionRecord) -> None:
        doc = xapian_document(record)
        db = self._db(record.doc_id)
        self._write(lambda: db.add_document(doc))

    def delete_document(self, doc_id: str) -> None:
        db = self._db(doc_id)
        self._write(lambda: db.delete_document(DOC + doc_id))

    def replace_document(self, doc_id: str, records: Iterable[SectionRecord]) -> None:
        self.delete_document(doc_id)
        for record in records:
            self.add(record)

    def commit(self) -> None:
        token = uuid.uuid4().hex
        try:
            for db in self.dbs:
                db.set_metadata(GENERATION_KEY, token)
                db.commit_transaction()
        except xapian.NetworkError as exc:
            raise _unavailable(exc, "a shard server failed during a commit") from None
        finally:
            self._close()
        self.engine.fresh = False

    def cancel(self) -> None:
        try:
            for db in self.dbs:
                db.cancel_transaction()
        except xapian.Error:
            pass  # a connection that is gone has nothing to keep
        finally:
            self._close()

    def _close(self) -> None:
        for db in self.dbs:
            with contextlib.suppress(xapian.Error):
                db.close()
        self.dbs = []


class View:
    """One generation of the index: its key and the columns built from it."""

    def __init__(self, key: int, size: int, count: int) -> None:
        self.key = key
        self.size = size
        self.count = count
        self.cache: dict[str, Any] = {}


class XapianEngine:
    """A Xapian index in a slot of the index directory: a local database or a cluster of shards."""

    name = "xapian"

    def __init__(self, index_dir: str | Path, create: bool = False, slot: str | None = None) -> None:
        self.index_dir = str(index_dir)
        self.follow = slot is None
        self._lock = threading.RLock()
        self._results: dict[Any, tuple[np.ndarray, np.ndarray]] = {}
        self._db: xapian.Database | None = None
        self._shards: list[xapian.Database] = []
        self.endpoints: list[str] = []
        self._view_now: View | None = None
        self._open_slot(slot or live_slot(index_dir), create)

    # -- opening -----------------------------------------------------------------------------
    def _open_slot(self, slot: str, create: bool) -> None:
        path = Path(self.index_dir) / slot
        version_file = path / _VERSION_FILE
        self.fresh = False
        if (path / CLUSTER_FILE).is_file() or (path / _DB).is_dir():
            found = int(version_file.read_text().strip()) if version_file.exists() else 0
            if found != INDEX_SCHEMA_VERSION:
                raise SchemaMismatchError(self.index_dir, found, INDEX_SCHEMA_VERSION)
        elif create:
            path.mkdir(parents=True, exist_ok=True)
            wanted = Path(self.index_dir) / CLUSTER_FILE
            if wanted.is_file():
                read_cluster(wanted)
                shutil.copyfile(wanted, path / CLUSTER_FILE)
                self.fresh = True
            else:
                xapian.WritableDatabase(str(path / _DB), xapian.DB_CREATE_OR_OPEN).close()
            version_file.write_text(f"{INDEX_SCHEMA_VERSION}\n")
        else:
            raise FileNotFoundError(f"no index in {self.index_dir}")
        self.slot, self.path = slot, path
        self.cluster: Cluster | None = read_cluster(path / CLUSTER_FILE) if (path / CLUSTER_FILE).is_file() else None
        self._disconnect()

    def _follow(self) -> None:
        """Open the live slot when a rebuild has swapped another one in (one small read)."""
        if not self.follow:
            return
        slot = live_slot(self.index_dir)
        if slot != self.slot:
            with self._lock:
                if slot != self.slot:
                    self._open_slot(slot, False)

    def _connect(self) -> xapian.Database:
        if self._db is not None:
            return self._db
        if self.cluster is None:
            try:
                db = xapian.Database(str(self.path / _DB))
            except xapian.DatabaseOpeningError:
                raise FileNotFoundError(f"no index in {self.index_dir}") from None
            self._shards, self.endpoints = [db], [str(self.path / _DB)]
        else:
            db = xapian.Database()
            self._shards, self.endpoints = [], []
            for i in range(len(self.cluster.shards)):
                shard, endpoint = open_shard(self.cluster, i)
                db.add_database(shard)
                self._shards.append(shard)
                self.endpoints.append(endpoint)
        self._db = db
        return db

    def _disconnect(self) -> None:
        for db in self._shards:
            with contextlib.suppress(xapian.Error):
                db.close()
        self._db, self._shards, self._view_now = None, [], None
        self._results.clear()

    def _call(self, fn: Callable[[xapian.Database], T]) -> T:
        """Run `fn` on the reader; a server that stopped answering is replaced by its replica
        (once: a second failure is a clear EngineUnavailableError, after at most the timeouts)."""
        with self._lock:
            for attempt in range(2):
                try:
                    return fn(self._connect())
                except (xapian.NetworkError, xapian.DatabaseModifiedError) as exc:
                    self._disconnect()
                    if attempt:
                        where = ", ".join(self.endpoints) or "the cluster"
                        raise _unavailable(exc, f"the index's shard servers ({where}) failed") from None
        raise AssertionError("unreachable")

    def begin(self, workers: int = 1) -> XapianBatch:
        self._follow()
        return XapianBatch(self)

    # -- generations -------------------------------------------------------------------------
    def _key(self, db: xapian.Database) -> int:
        db.reopen()
        parts = [self.slot, str(db.get_doccount()), str(db.get_lastdocid())]
        parts += [s.get_metadata(GENERATION_KEY).decode() for s in self._shards]
        digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=8)
        return int.from_bytes(digest.digest(), "big") >> 1

    def generation(self) -> int:
        """Changes with every commit (each sets a new token on every shard) and every swap of slots."""
        self._follow()
        return self._call(self._key)

    def _view(self) -> View:
        self._follow()

        def build(db: xapian.Database) -> View:
            key = self._key(db)
            view = self._view_now
            if view is None or view.key != key:
                view = View(key, db.get_lastdocid() + 1, db.get_doccount())
                self._view_now = view
                self._results.clear()
            return view

        return self._call(build)

    def _cached(self, view: View, name: str, build: Callable[[xapian.Database], T]) -> T:
        if name not in view.cache:
            view.cache[name] = self._call(build)
        return view.cache[name]  # type: ignore[no-any-return]

    def _enquire(self, db: xapian.Database, query: xapian.Query) -> xapian.Enquire:
        enquire = xapian.Enquire(db)
        enquire.set_weighting_scheme(xapian.BM25Weight(BM25_K1, 0, 1, BM25_B, 0.5))
        enquire.set_query(query)
        return enquire

    # -- terms of the index ------------------------------------------------------------------
    def _terms(self, view: View, prefix: str) -> tuple[list[str], np.ndarray]:
        """Every term with a prefix (the prefix taken off, sorted) and how many records have it."""

        def build(db: xapian.Database) -> tuple[list[str], np.ndarray]:
            words, counts = [], []
            for item in db.allterms(prefix):
                words.append(item.term.decode("utf-8")[len(prefix) :])
                counts.append(item.termfreq)
            return words, np.asarray(counts, dtype=np.int64)

        return self._cached(view, "terms:" + prefix, build)

    def _prefixed(self, view: View, word: str, limit: int) -> list[str]:
        return words_with_prefix(self._terms(view, WORD)[0], word, limit)

    def _within(self, view: View, word: str, maxdist: int, limit: int) -> list[str]:
        return words_within(self._terms(view, WORD)[0], word, maxdist, limit)

    def _between(self, view: View, prefix: str, lo: str, hi: str) -> list[str]:
        values, _ = self._terms(view, prefix)
        return [prefix + v for v in values[bisect.bisect_left(values, lo) : bisect.bisect_right(values, hi)]]

    def _termfreq(self, term: str) -> int:
        return self._call(lambda db: db.get_termfreq(term))

    # -- the contract ------------------------------------------------------------------------
    def languages(self) -> dict[str, int]:
        words, counts = self._terms(self._view(), FACET + "language:")
        return {w: int(n) for w, n in zip(words, counts.tolist(), strict=True)}

    def evaluate(self, tree: Node, latest_only: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(every matching record number, sorted; their scores): Xapian's BM25 over every match."""
        view = self._view()
        key = (view.key, repr(tree), latest_only)
        with self._lock:
            cached = self._results.get(key)
        if cached is not None:
            return cached
        query = Translator(
            self.languages(),
            self._termfreq,
            view.count,
            lambda w, n: self._prefixed(view, w, n),
            lambda w, d, n: self._within(view, w, d, n),
            lambda p, lo, hi: self._between(view, p, lo, hi),
            required_languages(tree),
        ).query(tree)
        if query is None:
            out = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
        else:

            def run(db: xapian.Database) -> tuple[np.ndarray, np.ndarray]:
                count = db.get_doccount()
                numbers, scores = read_matches(self._enquire(db, query).get_mset(0, count, count))
                scores = steady(scores)
                order = np.argsort(numbers, kind="stable")
                return numbers[order], scores[order]

            out = self._call(run)
            if latest_only:
                # The latest versions are kept here, not by an OP_FILTER in the query: through
                # xapian-tcpsrv 1.4.22, a proximity bonus (OP_PHRASE with a window, under
                # OP_AND_MAYBE) under a filter lost some of its matches, so a cluster and a
                # local index ranked apart (tests/test_xapian.py).
                keep = self._latest(view)[out[0]]
                out = (out[0][keep], out[1][keep])
        with self._lock:
            self._results[key] = out
            while len(self._results) > RESULT_CACHE:
                self._results.pop(next(iter(self._results)))
        return out

    def _latest(self, view: View) -> np.ndarray:
        """Whether each record number is of its document's latest version."""

        def build(db: xapian.Database) -> np.ndarray:
            enquire = xapian.Enquire(db)
            enquire.set_query(xapian.Query(LATEST))
            enquire.set_weighting_scheme(xapian.BoolWeight())
            count = db.get_doccount()
            out = np.zeros(view.size, dtype=bool)
            numbers, _scores = read_matches(enquire.get_mset(0, count, count))
            out[numbers[numbers < view.size]] = True
            return out

        return self._cached(view, "latest", build)

    def search(self, tree: Node, latest_only: bool = True, limit: int = 10) -> list[Hit]:
        """The best `limit` matching records, best first; ties by record id."""
        numbers, scores = self.evaluate(tree, latest_only)
        return top_hits(numbers, scores, self.record_id_column(), limit)

    def match(self, tree: Node, latest_only: bool = True) -> np.ndarray:
        return self.evaluate(tree, latest_only)[0]

    def record_id_column(self) -> list[str]:
        """The record id of every record number ("" where there is none): the collapse key
        (the record id's value slot) of every match of a match-all query."""
        view = self._view()

        def build(db: xapian.Database) -> list[str]:
            enquire = xapian.Enquire(db)
            enquire.set_query(xapian.Query.MatchAll)
            enquire.set_weighting_scheme(xapian.BoolWeight())
            enquire.set_collapse_key(RECORD_ID_SLOT)
            count = db.get_doccount()
            out = [""] * view.size
            mset = enquire.get_mset(0, count, count)
            item = mset._begin()  # see read_matches
            for _ in range(mset.size()):
                number = item.get_docid()
                if number < view.size:
                    out[number] = item.get_collapse_key().decode("utf-8")
                next(item)
            return out

        return self._cached(view, "ids", build)

    def vocabulary(self) -> tuple[list[str], np.ndarray]:
        """Every unstemmed word of the index (sorted) and the number of records containing it."""
        return self._terms(self._view(), WORD)

    def word_frequency(self, word: str) -> int:
        return self._termfreq(WORD + word)

    def term_stats(self, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        view = self._view()
        return view.count, {t: self._termfreq(t) for t in terms}

    def record_ids(self) -> set[str]:
        return {r for r in self.record_id_column() if r}

    def doc_count(self) -> int:
        return self._view().count

    def warm(self) -> int:
        """Read the record numbering, the vocabulary and the languages (returns the records)."""
        view = self._view()
        self.record_id_column()
        self._latest(view)
        self.vocabulary()
        self.languages()
        return view.count

    def close(self) -> None:
        with self._lock:
            self._disconnect()
