"""The record table: one row per section record of every version, with what search needs of it.

Facets, filters, collapsing to documents and the hits themselves read a record's document,
version, dates, display fields and facet values; the table holds them as numpy arrays and
string columns (UTF-8 bytes with offsets, decoded only for the rows a page shows). It is built
from the store (`RecordTable.build`) and, at the end of every index run, saved beside the index
with the engine's vocabulary and its record numbering (`write_snapshot`), so that a search in a
new process loads it in milliseconds (`load_snapshot`) instead of rebuilding it from 100,000
store rows. A snapshot is used only when it was written for the current store generation,
engine generation and facet declarations; otherwise search builds the table in memory and
writes nothing (search only reads).

The snapshot file is a plain `.npz` (no pickled objects) replaced atomically.
"""

from __future__ import annotations

import bisect
import json
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, overload

import numpy as np

from .engines import Engine
from .facets import FACETS, facet_names
from .files import write_npz
from .models import DateMention, SectionRow
from .store import Store

NO_DATE = -1
SNAPSHOT_FILE = "records.npz"
SNAPSHOT_FORMAT = 1  # bump when the arrays change


class StringColumn(Sequence[str]):
    """Strings stored as one UTF-8 buffer and their offsets; a string is decoded when read."""

    def __init__(self, blob: bytes, offsets: np.ndarray) -> None:
        self.blob = blob
        self.offsets = offsets
        # The offsets as a memoryview: an item is a Python int at a third of numpy's cost per read.
        self._at = memoryview(np.ascontiguousarray(offsets, dtype=np.int64))

    @classmethod
    def of(cls, values: Iterable[str]) -> StringColumn:
        encoded = [v.encode("utf-8", "surrogatepass") for v in values]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        if encoded:
            np.cumsum(np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
        return cls(b"".join(encoded), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        at = self._at
        n = len(at) - 1
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        return self.blob[at[i] : at[i + 1]].decode("utf-8", "surrogatepass")

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def bisect_left(self, value: str, lo: int = 0) -> int:
        """Where `value` would go in these strings, sorted (UTF-8 bytes sort as the strings
        do): compared as bytes, nothing decoded."""
        key = value.encode("utf-8", "surrogatepass")
        blob, o = self.blob, self._at
        hi = len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            if blob[o[mid] : o[mid + 1]] < key:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def profile(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(characters, ASCII digits, bytes outside ASCII) of each string start..stop-1, counted
        over the UTF-8 bytes with numpy, nothing decoded."""
        o = np.asarray(self.offsets[start : stop + 1], dtype=np.int64)
        if len(o) < 2:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        raw = np.frombuffer(self.blob, dtype=np.uint8, count=int(o[-1] - o[0]), offset=int(o[0]))
        local = o - o[0]

        def per_string(flags: np.ndarray) -> np.ndarray:
            running = np.zeros(len(flags) + 1, dtype=np.int64)
            np.cumsum(flags, out=running[1:])
            return running[local[1:]] - running[local[:-1]]

        # A character's first byte is anything but a continuation byte (10xxxxxx).
        return per_string((raw & 0xC0) != 0x80), per_string((raw >= 0x30) & (raw <= 0x39)), per_string(raw >= 0x80)

    def take(self, positions: Iterable[int]) -> list[str]:
        """The strings at `positions` (valid indexes), decoded without per-item checks."""
        view = memoryview(self.blob)
        o = self._at
        return [str(view[o[k] : o[k + 1]], "utf-8", "surrogatepass") for k in positions]

    @cached_property
    def values(self) -> list[str]:
        """Every string, decoded once (for the few callers that need them all)."""
        return self.take(range(len(self)))


class _StringBuilder:
    """A StringColumn being built one string at a time: the UTF-8 bytes appended to one buffer,
    the offsets to an array of machine integers (no object kept per string)."""

    def __init__(self) -> None:
        self.blob = bytearray()
        self.offsets = array("q", [0])

    def append(self, value: str) -> None:
        self.blob += value.encode("utf-8", "surrogatepass")
        self.offsets.append(len(self.blob))

    def column(self) -> StringColumn:
        column = StringColumn(bytes(self.blob), _int_array(self.offsets))
        self.blob, self.offsets = bytearray(), array("q", [0])
        return column


def _int_array(values: array) -> np.ndarray:
    """An int64 array of an array('q') (copied: the builder may be reused or freed)."""
    return np.frombuffer(values, dtype=np.int64).copy() if len(values) else np.zeros(0, dtype=np.int64)


class Values:
    """A facet's value keys <-> small ints, with a display label per value (first spelling seen)."""

    def __init__(self, values: Sequence[str] = (), labels: Sequence[str] = ()) -> None:
        self.values: Sequence[str] = list(values)
        self.labels: Sequence[str] = list(labels)

    @cached_property
    def index(self) -> dict[str, int]:
        return {v: i for i, v in enumerate(self.values)}

    def id(self, value: str, label: str | None = None) -> int:
        """The number of a value, given a new one when first seen (while building)."""
        i = self.index.get(value)
        if i is None:
            assert isinstance(self.values, list) and isinstance(self.labels, list)
            i = self.index[value] = len(self.values)
            self.values.append(value)
            self.labels.append(label if label is not None else value)
        return i

    def rank(self) -> np.ndarray:
        """Each value's position in sorted order (computed once)."""
        if getattr(self, "_rank", None) is None or len(self._rank) != len(self.values):
            order = sorted(range(len(self.values)), key=self.values.__getitem__)
            self._rank = np.empty(len(self.values), dtype=np.int64)
            self._rank[order] = np.arange(len(self.values))
        return self._rank


@dataclass(frozen=True)
class RecordInfo:
    """What a hit shows of one record."""

    version_id: str
    title: str
    breadcrumb: str
    anchor: str
    heading: str
    language: str


@dataclass(frozen=True)
class DocumentInfo:
    """What a hit shows of its document."""

    title: str
    version_count: int
    latest_version_id: str


_INFO_FIELDS = ("version_id", "title", "breadcrumb", "anchor", "heading", "language")


class _Infos(Sequence[RecordInfo]):
    def __init__(self, columns: Mapping[str, StringColumn]) -> None:
        self.columns = columns

    def __len__(self) -> int:
        return len(self.columns["version_id"])

    @overload
    def __getitem__(self, i: int) -> RecordInfo: ...
    @overload
    def __getitem__(self, i: slice) -> list[RecordInfo]: ...
    def __getitem__(self, i: int | slice) -> RecordInfo | list[RecordInfo]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        return RecordInfo(*(self.columns[f][i] for f in _INFO_FIELDS))


class _Dates(Sequence[tuple[DateMention, ...]]):
    """Each record's date mentions, kept as JSON and read for the records a page shows."""

    def __init__(self, column: StringColumn) -> None:
        self.column = column

    def __len__(self) -> int:
        return len(self.column)

    @overload
    def __getitem__(self, i: int) -> tuple[DateMention, ...]: ...
    @overload
    def __getitem__(self, i: slice) -> list[tuple[DateMention, ...]]: ...
    def __getitem__(self, i: int | slice) -> tuple[DateMention, ...] | list[tuple[DateMention, ...]]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        raw = self.column[i]
        return tuple(DateMention(*m) for m in json.loads(raw)) if raw else ()


def _dates_json(dates: Sequence[DateMention]) -> str:
    if not dates:
        return ""
    return json.dumps([[m.text, m.start, m.end, m.value, m.inferred] for m in dates], ensure_ascii=False)


class _Documents(Mapping[str, DocumentInfo]):
    def __init__(self, ids: StringColumn, titles: StringColumn, counts: np.ndarray, latest: StringColumn) -> None:
        self.ids, self.titles, self.counts, self.latest = ids, titles, counts, latest

    @cached_property
    def _index(self) -> dict[str, int]:
        return {d: i for i, d in enumerate(self.ids)}

    def __getitem__(self, doc_id: str) -> DocumentInfo:
        i = self._index[doc_id]
        return DocumentInfo(self.titles[i], int(self.counts[i]), self.latest[i])

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)


class RecordTable:
    """Every section record (all versions) with its facet values, as arrays; built from the store."""

    def __init__(self, arrays: Mapping[str, np.ndarray], strings: Mapping[str, StringColumn], meta: dict[str, Any]):
        self.arrays = dict(arrays)
        self.strings = dict(strings)
        self.size = int(meta["size"])
        self.record_ids: Sequence[str] = strings["record_id"]
        self.doc = arrays["doc"]
        # The store lists a document's rows together (by document, version, ordinal), so a
        # document's records are one run of rows: doc_start[d] .. doc_start[d + 1] - 1.
        if len(self.doc) > 1 and not bool(np.all(self.doc[1:] >= self.doc[:-1])):
            raise ValueError("record table rows are not grouped by document")
        ndocs = len(strings["doc_id"])
        self.doc_start = np.zeros(ndocs + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.doc, minlength=ndocs), out=self.doc_start[1:])
        self.latest = arrays["latest"]
        self.auxiliary = arrays["auxiliary"]
        self.newest = arrays["newest"]  # latest day mentioned (ordinal), NO_DATE when none
        self.oldest = arrays["oldest"]
        self.version_rank = arrays["version_rank"]
        self.mention_rec = arrays["mention_rec"]
        self.mention_lo = arrays["mention_lo"]
        self.mention_hi = arrays["mention_hi"]
        self.info: Sequence[RecordInfo] = _Infos({f: strings["info." + f] for f in _INFO_FIELDS})
        self.dates: Sequence[tuple[DateMention, ...]] = _Dates(strings["dates"])
        self.doc_ids: Sequence[str] = strings["doc_id"]
        self.doc_meta: Mapping[str, DocumentInfo] = _Documents(
            strings["doc_id"], strings["doc_title"], arrays["doc_version_count"], strings["doc_latest"]
        )
        self._entries_json: str = meta["entries"]
        self.facet_names: tuple[str, ...] = tuple(meta["facets"])
        # Per facet: its values (keys and labels) and the (record, value) pairs.
        self.facet_values = {
            n: Values(strings[f"facet.{n}.values"], strings[f"facet.{n}.labels"]) for n in self.facet_names
        }
        self.facet_pairs = {n: (arrays[f"facet.{n}.rec"], arrays[f"facet.{n}.val"]) for n in self.facet_names}
        self.infobox_keys = (
            frozenset(self.facet_values["infobox"].values) if "infobox" in self.facet_values else frozenset()
        )

    def info_column(self, name: str) -> Sequence[str]:
        """One field of every record's RecordInfo (`breadcrumb`, `version_id`...), read one
        string at a time without decoding the others."""
        return self.strings["info." + name]

    @cached_property
    def index(self) -> dict[str, int]:
        """Record id -> row."""
        return {r: i for i, r in enumerate(self.record_ids)}

    @cached_property
    def doc_index(self) -> dict[str, int]:
        """Document id -> its number in `doc`."""
        return {d: i for i, d in enumerate(self.doc_ids)}

    @cached_property
    def entries(self) -> dict[str, tuple[int, ...]]:
        """version_id -> the timeline entries carrying its text."""
        return {v: tuple(e) for v, e in json.loads(self._entries_json).items()}

    def date_mask(self, date_from: str | None, date_to: str | None) -> np.ndarray:
        """Records mentioning a day in [date_from, date_to] (ISO days; None is open)."""
        lo = date.fromisoformat(date_from).toordinal() if date_from else -(10**9)
        hi = date.fromisoformat(date_to).toordinal() if date_to else 10**9
        hit = (self.mention_hi >= lo) & (self.mention_lo <= hi)
        out = np.zeros(self.size, dtype=bool)
        out[self.mention_rec[hit]] = True
        return out

    @classmethod
    def build(cls, rows: Iterable[SectionRow], size: int) -> RecordTable:
        """The table of `size` store rows (every declared facet's values read from each row),
        read as a stream: each row once, nothing of it kept but its bytes in the columns being
        built; ValueError when the stream has another number of rows."""
        n = size
        docs = Values()
        arrays: dict[str, np.ndarray] = {
            "doc": np.zeros(n, dtype=np.int64),
            "latest": np.zeros(n, dtype=bool),
            "auxiliary": np.zeros(n, dtype=bool),
            "newest": np.full(n, NO_DATE, dtype=np.int64),
            "oldest": np.full(n, NO_DATE, dtype=np.int64),
            "version_rank": np.zeros(n, dtype=np.int64),
        }
        info = {f: _StringBuilder() for f in _INFO_FIELDS}
        record_ids = _StringBuilder()
        dates = _StringBuilder()
        entries: dict[str, list[int]] = {}
        # Each document's title, latest version and version count, in document-number order.
        doc_titles, doc_latest, doc_counts = _StringBuilder(), _StringBuilder(), array("q")
        values = {spec.name: Values() for spec in FACETS}
        pairs = {spec.name: (array("q"), array("q")) for spec in FACETS}
        mention_rec, mention_lo, mention_hi = array("q"), array("q"), array("q")
        count = 0
        for i, r in enumerate(rows):
            if i >= n:
                raise ValueError(f"more than the {n} rows announced")
            count = i + 1
            record_ids.append(r.record_id)
            arrays["doc"][i] = doc = docs.id(r.doc_id)
            arrays["latest"][i] = r.is_latest
            arrays["auxiliary"][i] = r.auxiliary
            arrays["version_rank"][i] = r.rank
            entries.setdefault(r.version_id, list(r.entries))
            for f in _INFO_FIELDS:
                info[f].append(getattr(r, f))
            if doc == len(doc_counts):  # the document's first row
                doc_titles.append(r.doc_title)
                doc_latest.append(r.latest_version_id)
                doc_counts.append(r.version_count)
            for spec in FACETS:
                recs, vals = pairs[spec.name]
                vs = values[spec.name]
                for key, label in spec.values(r):
                    recs.append(i)
                    vals.append(vs.id(key, label))
            dates.append(_dates_json(r.dates))
            newest = oldest = NO_DATE
            for m in r.dates:
                lo, hi = m.bounds()
                lo_o = date.fromisoformat(lo).toordinal()
                hi_o = date.fromisoformat(hi).toordinal() if hi else lo_o
                mention_rec.append(i)
                mention_lo.append(lo_o)
                mention_hi.append(hi_o)
                newest = max(newest, hi_o)
                oldest = lo_o if oldest == NO_DATE else min(oldest, lo_o)
            arrays["newest"][i] = newest
            arrays["oldest"][i] = oldest
        if count != n:
            raise ValueError(f"{count} rows where {n} were announced")
        arrays["mention_rec"] = _int_array(mention_rec)
        arrays["mention_lo"] = _int_array(mention_lo)
        arrays["mention_hi"] = _int_array(mention_hi)
        arrays["doc_version_count"] = _int_array(doc_counts)
        strings = {
            "record_id": record_ids.column(),
            "dates": dates.column(),
            "doc_id": StringColumn.of(docs.values),
            "doc_title": doc_titles.column(),
            "doc_latest": doc_latest.column(),
            **{"info." + f: b.column() for f, b in info.items()},
        }
        del record_ids, dates, info
        for spec in FACETS:
            recs, vals = pairs.pop(spec.name)
            rec_a = _int_array(recs)
            val_a = _int_array(vals)
            del recs, vals
            # Sorted by (document, value): distinct documents per value are counted in one pass.
            code = arrays["doc"][rec_a] * max(1, len(values[spec.name].values)) + val_a
            order = np.argsort(code, kind="stable")
            arrays[f"facet.{spec.name}.rec"] = rec_a[order]
            arrays[f"facet.{spec.name}.val"] = val_a[order]
            strings[f"facet.{spec.name}.values"] = StringColumn.of(values[spec.name].values)
            strings[f"facet.{spec.name}.labels"] = StringColumn.of(values[spec.name].labels)
        meta = {
            "size": n,
            "entries": json.dumps(entries, separators=(",", ":")),
            "facets": [spec.name for spec in FACETS],
        }
        return cls(arrays, strings, meta)

    def meta(self) -> dict[str, Any]:
        return {"size": self.size, "entries": self._entries_json, "facets": list(self.facet_names)}


@dataclass
class Snapshot:
    """What a search in a new process needs at once, as of one store and engine generation: the
    record table, the engine's record numbering mapped to table rows, and the vocabulary."""

    table: RecordTable
    engine_rows: np.ndarray  # table row of each engine record number (-1: none)
    words: Sequence[str]  # the engine's vocabulary, sorted
    word_freqs: np.ndarray


def snapshot_key(store_generation: int, engine_generation: int) -> str:
    return json.dumps([SNAPSHOT_FORMAT, store_generation, engine_generation, list(facet_names())])


def engine_rows(table: RecordTable, record_id_column: Sequence[str]) -> np.ndarray:
    """The table row of each engine record number (-1 for a record the table does not have).
    Record ids are matched as fixed-width byte strings, sorted and searched (record ids are
    unique and hold no NUL), so no dictionary of a million ids is made."""
    ids = table.record_ids
    if isinstance(ids, StringColumn):
        blob, o = ids.blob, ids._at
        mine = (blob[o[k] : o[k + 1]] for k in range(len(o) - 1))
        width = int(np.diff(ids.offsets).max(initial=0))
    else:
        mine = (r.encode("utf-8", "surrogatepass") for r in ids)
        width = max((len(r.encode("utf-8", "surrogatepass")) for r in ids), default=0)
    keys = np.fromiter(mine, dtype=f"S{max(1, width)}", count=len(ids))
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    theirs = np.fromiter(
        (r.encode("utf-8", "surrogatepass") for r in record_id_column),
        dtype=f"S{max(1, width) + 1}",  # one byte more: an engine id longer than every row's matches none
        count=len(record_id_column),
    )
    if not len(keys):
        return np.full(len(theirs), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, theirs), len(keys) - 1)
    return np.where(keys[at] == theirs, order[at], -1).astype(np.int64)


def build_snapshot(store: Store, engine: Engine) -> Snapshot:
    """The snapshot of an index as it is now (the table built from every store row)."""
    rows, size = store.stream_search_rows()
    with closing(rows):  # ends the store's read transaction, also when the build stops early
        table = RecordTable.build(rows, size)
    words, freqs = engine.vocabulary()
    return Snapshot(table, engine_rows(table, engine.record_id_column()), words, freqs)


def save_snapshot(index_dir: str | Path, store: Store, engine: Engine) -> Path:
    """Build and save the snapshot for the store's and the engine's current generations (by the
    indexer, at the end of a run, holding the index lock)."""
    return write_snapshot(
        index_dir, snapshot_key(store.generation(), engine.generation()), build_snapshot(store, engine)
    )


def write_snapshot(index_dir: str | Path, key: str, snap: Snapshot) -> Path:
    """Save a snapshot beside the index (atomically: readers see the old file or the new one)."""
    path = Path(index_dir) / SNAPSHOT_FILE
    table = snap.table
    words = snap.words if isinstance(snap.words, StringColumn) else StringColumn.of(snap.words)
    payload: dict[str, np.ndarray] = {
        "key": np.frombuffer(key.encode("utf-8"), dtype=np.uint8),
        "meta": np.frombuffer(json.dumps(table.meta()).encode("utf-8"), dtype=np.uint8),
        "engine_rows": snap.engine_rows,
        "word_freqs": snap.word_freqs,
    }
    for name, arr in table.arrays.items():
        payload["a:" + name] = arr
    columns = {**{"s:" + n: c for n, c in table.strings.items()}, "s:words": words}
    for name, col in columns.items():
        payload[name + ":blob"] = np.frombuffer(col.blob, dtype=np.uint8)
        payload[name + ":offsets"] = col.offsets
    return write_npz(path, payload, mode_of=path.parent / "store.sqlite3")  # readable by whoever reads the store


def load_snapshot(index_dir: str | Path, key: str) -> Snapshot | None:
    """The snapshot saved for `key`, or None (missing, older, damaged or for other generations)."""
    path = Path(index_dir) / SNAPSHOT_FILE
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:  # (closed on every error)
            if bytes(z["key"]).decode("utf-8") != key:
                return None
            files = set(z.files)
            arrays = {n[2:]: z[n] for n in files if n.startswith("a:")}
            strings = {
                n[2 : -len(":blob")]: StringColumn(z[n].tobytes(), z[n[: -len(":blob")] + ":offsets"])
                for n in files
                if n.startswith("s:") and n.endswith(":blob")
            }
            meta = json.loads(bytes(z["meta"]).decode("utf-8"))
            words = strings.pop("words")
            return Snapshot(RecordTable(arrays, strings, meta), z["engine_rows"], words, z["word_freqs"])
    except Exception:  # a damaged zip raises many kinds (NotImplementedError for an unknown
        return None  # compression method, MemoryError for a huge shape...): built from the store


def sorted_position(words: Sequence[str], value: str, lo: int = 0) -> int:
    """bisect_left over sorted strings (a StringColumn compares bytes, decoding nothing)."""
    if isinstance(words, StringColumn):
        return words.bisect_left(value, lo)
    return bisect.bisect_left(words, value, lo)


def take_words(words: Sequence[str], positions: Iterable[int]) -> list[str]:
    """The strings at `positions` (a StringColumn decodes them without per-item checks)."""
    if isinstance(words, StringColumn):
        return words.take(positions)
    return [words[i] for i in positions]


def words_starting(words: Sequence[str], letter: str) -> range:
    """The positions of the sorted `words` that start with `letter`."""
    start = sorted_position(words, letter)
    return range(start, sorted_position(words, letter + "\U0010ffff", lo=start))
