"""Bulk postings beside tantivy (`postings/` in the index's slot): flat arrays numpy reads at once.

tantivy-py hands a term's postings over only as a search's hit list, a Python object per posting
(about 1 µs each on a term's first read): a word in 100,000 records costs 100 ms or more, and at a
million sections a question reads several such words. So the engine keeps, beside tantivy, the
postings it gives tantivy in the fields of FIELDS (the weighted body terms, the facet keys), in
flat files:

- Every record added gets a sequence number (`seq`, a tantivy fast field) that is never used again.
  A batch writes its *delta* (`postings/<first>-<end>/`, the seqs first..end-1) before tantivy's
  commit, so every committed record's seq is in a delta; a run killed between the two leaves a
  delta of seqs no live record has, which nothing reads.
- A delta holds every key (field and term) in sorted order with its seqs and frequencies, and for
  every seq the record id, whether it is the latest version and the body length (immutable: a
  changed document's records are deleted and added again with new seqs).
- The deltas cover consecutive ranges from seq 0. After a commit, while there are more than
  MAX_DELTAS, the two adjacent ones with the fewest postings are merged key by key (streamed:
  memory is a few buffers), leaving out the seqs no longer live; the merged delta is renamed in before its
  parts are removed, and a reader that finds both takes the merged one (`chain`). A generation
  older than the commit a merge followed may still have records the merge dropped (their ids are
  empty there): it reads tantivy's hit lists, as it does when a delta is missing or damaged.
- A generation numbers its live records in seq order (postings.py), so a key's postings read from
  the deltas in order are record numbers in order, with no sort.
"""

from __future__ import annotations

import bisect
import os
import re
import shutil
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import loops

FIELDS = ("bodyw", "facet")  # the fields whose postings are kept here
MAX_DELTAS = 8  # more after a commit: the smallest adjacent pair is merged
MAX_TF = 65_535  # frequencies are kept as uint16 (BM25 saturates long before)
FOLDER = "postings"
_SEP = "\x1f"
_NAME = re.compile(r"^(\d{12})-(\d{12})$")
_STRIDE = 64  # keys per block of a delta's key lookup
_FLUSH = 4_000_000  # postings (or bytes) buffered when merging before they are written
_PIECES = 50_000  # pieces of posting lists buffered when merging before they are written


def key(field: str, term: Any) -> str:
    return f"{field}{_SEP}{term}"


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _read(path: Path, dtype: Any) -> np.ndarray:
    """A raw array file, memory-mapped (an empty file is an empty array: mmap refuses those), as
    a plain array: slicing a np.memmap costs several times more (a memmap per slice)."""
    if path.stat().st_size == 0:
        return np.zeros(0, dtype=dtype)
    return np.asarray(np.memmap(path, dtype=dtype, mode="r"))


class _Strings(Sequence[str]):
    """Strings in one blob with int64 offsets, decoded one at a time (for bisect)."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray) -> None:
        self.blob = memoryview(np.ascontiguousarray(blob)) if len(blob) else memoryview(b"")
        self.offsets = memoryview(np.ascontiguousarray(offsets, dtype=np.int64))
        self.n = max(0, len(offsets) - 1)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> str:  # type: ignore[override]
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.raw(i).decode("utf-8", "surrogatepass")

    def raw(self, i: int) -> bytes:
        """The i-th string's UTF-8 bytes."""
        return bytes(self.blob[self.offsets[i] : self.offsets[i + 1]])


class _Out:
    """The files of a delta being written, in a temporary folder renamed into place when complete."""

    def __init__(self, folder: Path, first: int, end: int) -> None:
        self.folder, self.first, self.end = folder, first, end
        self.tmp = folder / f".tmp-{first:012d}-{end:012d}-{os.getpid()}"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)
        self.files = {name: open(self.tmp / name, "wb") for name in _FILES}  # noqa: SIM115 - closed in finish

    def write(self, name: str, data: np.ndarray | bytes) -> None:
        self.files[name].write(data if isinstance(data, bytes) else np.ascontiguousarray(data).tobytes())

    def finish(self) -> Path:
        for f in self.files.values():
            f.flush()
            os.fsync(f.fileno())
            f.close()
        final = self.folder / f"{self.first:012d}-{self.end:012d}"
        os.rename(self.tmp, final)
        _sync_dir(self.folder)
        return final

    def abandon(self) -> None:
        for f in self.files.values():
            f.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


_FILES = ("keys", "key_offsets", "starts", "seqs", "tfs", "ids", "id_offsets", "latest", "lengths")


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DeltaWriter:
    """The postings of one batch's records, kept compactly until the batch writes them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.first = next_seq(folder)
        self.next = self.first
        self._names: list[str] = []  # key number -> key (field and term)
        self._numbers: dict[str, dict[Any, int]] = {}  # field -> term -> key number
        self._key_ids = array("I")
        self._seqs = array("I")
        self._tfs = array("H")
        self._ids: list[str] = []
        self._latest = bytearray()
        self._lengths = array("I")

    def add(self, record_id: str, is_latest: bool, length: int, terms: dict[str, dict[Any, int]]) -> int:
        """Keep one record's postings; returns its seq."""
        seq = self.next
        self.next += 1
        rel = seq - self.first
        names = self._names
        for field, counts in terms.items():
            numbers = self._numbers.setdefault(field, {})
            known = numbers.get
            kids = []
            for term in counts:
                kid = known(term)
                if kid is None:
                    kid = numbers[term] = len(names)
                    names.append(f"{field}{_SEP}{term}")
                kids.append(kid)
            self._key_ids.extend(kids)
            self._seqs.extend(array("I", [rel]) * len(kids))
            tfs = counts.values()
            self._tfs.extend(tfs if not tfs or max(tfs) <= MAX_TF else [min(n, MAX_TF) for n in tfs])
        self._ids.append(record_id)
        self._latest.append(1 if is_latest else 0)
        self._lengths.append(min(length, 2**32 - 1))
        return seq

    def write(self) -> Path | None:
        """Write the delta (before tantivy's commit); None when no record was added."""
        if self.next == self.first:
            return None
        by_name = sorted(range(len(self._names)), key=self._names.__getitem__)
        names = [self._names[i] for i in by_name]
        rank = np.empty(len(names), dtype=np.int64)  # key number -> its place among the sorted keys
        rank[np.asarray(by_name, dtype=np.int64)] = np.arange(len(names))
        kid = rank[np.frombuffer(self._key_ids, dtype=np.uint32)] if len(self._key_ids) else np.zeros(0, np.int64)
        order = np.argsort(kid, kind="stable")  # by key, then seq (records were added in seq order)
        counts = np.bincount(kid, minlength=len(names))
        out = _Out(self.folder, self.first, self.next)
        try:
            blob = [_encode(k) for k in names]
            out.write("keys", b"".join(blob))
            out.write("key_offsets", _offsets(len(b) for b in blob))
            out.write("starts", np.concatenate(([0], np.cumsum(counts))).astype(np.int64))
            out.write("seqs", np.frombuffer(self._seqs, dtype=np.uint32)[order] if len(order) else b"")
            out.write("tfs", np.frombuffer(self._tfs, dtype=np.uint16)[order] if len(order) else b"")
            ids = [_encode(i) for i in self._ids]
            out.write("ids", b"".join(ids))
            out.write("id_offsets", _offsets(len(b) for b in ids))
            out.write("latest", bytes(self._latest))
            out.write("lengths", np.frombuffer(self._lengths, dtype=np.uint32))
            return out.finish()
        except BaseException:
            out.abandon()
            raise


def _offsets(lengths: Iterable[int]) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(np.fromiter(lengths, dtype=np.int64)))).astype(np.int64)


class Delta:
    """One delta, memory-mapped."""

    def __init__(self, path: Path, first: int, end: int) -> None:
        self.path, self.first, self.end = path, first, end
        self.keys = _Strings(_read(path / "keys", np.uint8), _read(path / "key_offsets", np.int64))
        self.starts = _read(path / "starts", np.int64)
        self.seqs = _read(path / "seqs", np.uint32)
        self.tfs = _read(path / "tfs", np.uint16)
        self.ids = _Strings(_read(path / "ids", np.uint8), _read(path / "id_offsets", np.int64))
        self.latest = _read(path / "latest", np.uint8)
        self.lengths = _read(path / "lengths", np.uint32)
        size = end - first
        if len(self.ids) != size or len(self.latest) != size or len(self.lengths) != size:
            raise ValueError(f"{path}: {size} seqs but {len(self.ids)} ids")
        if len(self.starts) != len(self.keys) + 1 or len(self.seqs) != len(self.tfs):
            raise ValueError(f"{path}: inconsistent postings")
        # Every _STRIDE-th key, decoded: a lookup decodes a few keys of one block, not log2(n).
        self._sample = [self.keys[i] for i in range(0, len(self.keys), _STRIDE)]

    @property
    def postings(self) -> int:
        return len(self.seqs)

    def find(self, k: str) -> tuple[int, int] | None:
        """The posting range of a key, or None."""
        block = bisect.bisect_right(self._sample, k) - 1
        if block < 0:
            return None
        lo = block * _STRIDE
        i = bisect.bisect_left(self.keys, k, lo, min(lo + _STRIDE, len(self.keys)))
        if i < len(self.keys) and self.keys[i] == k:
            return int(self.starts[i]), int(self.starts[i + 1])
        return None


def _listing(folder: Path) -> list[tuple[int, int, Path]]:
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    out = []
    for name in names:
        m = _NAME.match(name)
        if m:
            out.append((int(m.group(1)), int(m.group(2)), folder / name))
    return sorted(out, key=lambda d: (d[0], -d[1]))


def chain(folder: Path) -> tuple[list[tuple[int, int, Path]], list[Path]]:
    """(the deltas covering seqs 0.. without a gap, widest first where two start together;
    the deltas left over: parts of a merged one, or after a gap)."""
    used: list[tuple[int, int, Path]] = []
    rest: list[Path] = []
    end = 0
    for first, last, path in _listing(folder):
        if first == end and last > first:
            used.append((first, last, path))
            end = last
        else:
            rest.append(path)
    return used, rest


def next_seq(folder: Path) -> int:
    """The first seq a new batch may use: after every delta ever written (committed or not)."""
    return max((last for _f, last, _p in _listing(folder)), default=0)


class Bulk:
    """The deltas of one generation: postings by key, and per-seq record facts."""

    def __init__(self, deltas: list[Delta]) -> None:
        self.deltas = deltas
        self.end = deltas[-1].end if deltas else 0

    @classmethod
    def open(cls, folder: Path) -> Bulk:
        """The chain of deltas (a merge removing its parts while this reads: read again); a delta
        that cannot be read (damaged) ends it there, so the generation reads hit lists."""
        for _attempt in range(3):
            try:
                return cls([Delta(p, f, e) for f, e, p in chain(folder)[0]])
            except FileNotFoundError:
                continue
            except ValueError:
                break
        return cls(_intact(chain(folder)[0]))

    def postings(self, k: str, seq_number: np.ndarray, scale: float | None = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(record numbers, frequencies / `scale`; None: every frequency 1) of a key:
        `seq_number` maps a seq to its record number (-1: not live); ascending when record
        numbers follow seqs. A new question reads several hundred thousand postings for a
        common word at a million sections: each delta's list is looked up, filtered and scaled
        straight into the arrays returned (loops.live_postings: one pass once compiled)."""
        spans = [(d, span) for d in self.deltas if (span := d.find(k)) is not None]
        size = sum(e - s for _d, (s, e) in spans)
        numbers = np.empty(size, dtype=np.int64)
        freqs = np.empty(size if scale is not None else 0, dtype=np.float64)
        at = 0
        for d, (s, e) in spans:  # (a delta's seqs count from its first)
            part = seq_number[d.first : d.end]
            at = loops.live_postings(
                part, d.seqs[s:e], d.tfs[s:e], 1.0 if scale is None else float(scale), numbers, freqs, at
            )
        if scale is None:
            return numbers[:at], np.ones(at)
        return numbers[:at], freqs[:at]

    def has_ids(self, seqs: np.ndarray) -> bool:
        """Whether every given seq (< end) still has its record id: a merge after a later commit
        drops the seqs that commit deleted, with their postings, from the merged delta."""
        if not self.deltas:
            return not len(seqs)
        sizes = np.concatenate([np.diff(np.asarray(d.ids.offsets, dtype=np.int64)) for d in self.deltas])
        return bool(np.all(sizes[seqs] > 0))

    def per_seq(self, name: str) -> np.ndarray:
        """`latest` or `lengths` of every seq 0..end-1."""
        parts = [np.asarray(getattr(d, name)) for d in self.deltas]
        return np.concatenate(parts) if parts else np.zeros(0)

    def record_ids(self, seqs: np.ndarray) -> RecordIds:
        """The record ids of the given seqs (sorted), read from the deltas on demand."""
        return RecordIds(self.deltas, seqs)


class RecordIds(Sequence[str]):
    """Record ids of some seqs, read from the deltas' memory maps when asked (a million ids as
    Python strings would take about 100 MB in every process that searches or snapshots)."""

    def __init__(self, deltas: list[Delta], seqs: np.ndarray) -> None:
        self.deltas = deltas
        self.seqs = seqs
        self.which = np.searchsorted(np.asarray([d.end for d in deltas], dtype=np.int64), seqs, side="right")

    def __len__(self) -> int:
        return len(self.seqs)

    def __getitem__(self, n: int) -> str:  # type: ignore[override]
        if not -len(self.seqs) <= n < len(self.seqs):
            raise IndexError(n)
        d = self.deltas[int(self.which[n])]
        return d.ids[int(self.seqs[n]) - d.first]

    def __iter__(self) -> Iterator[str]:
        lo = 0
        for i, hi in enumerate(np.searchsorted(self.which, np.arange(1, len(self.deltas) + 1)).tolist()):
            d = self.deltas[i]
            for seq in self.seqs[lo:hi].tolist():
                yield d.ids[seq - d.first]
            lo = hi


def _intact(used: list[tuple[int, int, Path]]) -> list[Delta]:
    """The deltas of a chain up to the first that cannot be read."""
    out: list[Delta] = []
    for first, end, path in used:
        try:
            out.append(Delta(path, first, end))
        except (OSError, ValueError):
            break
    return out


class _Appender:
    """One file of a delta written in pieces: int64 values kept in a buffer, flushed when large."""

    def __init__(self, out: _Out, name: str) -> None:
        self.out, self.name = out, name
        self.buf = array("q", [0])

    def add(self, value: int) -> None:
        self.buf.append(value)
        if len(self.buf) >= _FLUSH:
            self.flush()

    def flush(self) -> None:
        if self.buf:
            self.out.write(self.name, self.buf.tobytes())
            self.buf = array("q")


def merge(folder: Path, a: Delta, b: Delta, live: np.ndarray) -> Path:
    """Write one delta for two adjacent ones, leaving out the seqs not live (`live[seq]`); returns
    its folder (its parts are still there). Streamed: the two key lists are walked side by side
    as bytes (UTF-8 sorts as the strings do) and everything is written as it is found, so the
    memory held is a few buffers, not the keys or ids of either delta."""
    out = _Out(folder, a.first, b.end)
    try:
        alive = (_live_part(live, a), _live_part(live, b))
        shifts = (np.uint32(0), np.uint32(b.first - a.first))
        key_offsets, starts = _Appender(out, "key_offsets"), _Appender(out, "starts")
        key_blob = bytearray()
        key_bytes = postings = buffered = 0
        seq_buf: list[np.ndarray] = []
        tf_buf: list[np.ndarray] = []
        na, nb = len(a.keys), len(b.keys)
        i = j = 0
        ka = a.keys.raw(0) if na else b""
        kb = b.keys.raw(0) if nb else b""
        while i < na or j < nb:
            take_a = i < na and (j >= nb or ka <= kb)
            take_b = j < nb and (i >= na or kb <= ka)
            key = ka if take_a else kb
            count = 0
            for side, d, n in ((0, a, i), (1, b, j)):
                if not (take_a if side == 0 else take_b):
                    continue
                s, e = int(d.starts[n]), int(d.starts[n + 1])
                seqs = d.seqs[s:e]
                keep = alive[side][seqs]
                kept = seqs[keep]
                if len(kept):
                    seq_buf.append(kept + shifts[side])
                    tf_buf.append(d.tfs[s:e][keep])
                    count += len(kept)
            if take_a:
                i += 1
                ka = a.keys.raw(i) if i < na else b""
            if take_b:
                j += 1
                kb = b.keys.raw(j) if j < nb else b""
            if not count:
                continue
            key_blob += key
            key_bytes += len(key)
            key_offsets.add(key_bytes)
            postings += count
            starts.add(postings)
            buffered += count
            if buffered >= _FLUSH or len(seq_buf) >= _PIECES:  # (a small array costs ~100 bytes)
                out.write("seqs", np.concatenate(seq_buf))
                out.write("tfs", np.concatenate(tf_buf))
                seq_buf, tf_buf, buffered = [], [], 0
            if len(key_blob) >= _FLUSH:
                out.write("keys", bytes(key_blob))
                key_blob.clear()
        if seq_buf:
            out.write("seqs", np.concatenate(seq_buf))
            out.write("tfs", np.concatenate(tf_buf))
        out.write("keys", bytes(key_blob))
        key_offsets.flush()
        starts.flush()
        id_offsets = _Appender(out, "id_offsets")
        id_blob = bytearray()
        id_bytes = 0
        for d, flags in ((a, alive[0]), (b, alive[1])):
            for n, keep in enumerate(flags.tolist()):
                if keep:
                    piece = d.ids.raw(n)
                    id_blob += piece
                    id_bytes += len(piece)
                id_offsets.add(id_bytes)
                if len(id_blob) >= _FLUSH:
                    out.write("ids", bytes(id_blob))
                    id_blob.clear()
        out.write("ids", bytes(id_blob))
        id_offsets.flush()
        out.write("latest", np.concatenate((np.asarray(a.latest), np.asarray(b.latest))).astype(np.uint8))
        out.write("lengths", np.concatenate((np.asarray(a.lengths), np.asarray(b.lengths))).astype(np.uint32))
        return out.finish()
    except BaseException:
        out.abandon()
        raise


def _live_part(live: np.ndarray, d: Delta) -> np.ndarray:
    """Whether each seq of a delta is live."""
    return live[d.first : d.end] if len(live) >= d.end else _padded(live, d.first, d.end)


def _padded(live: np.ndarray, first: int, end: int) -> np.ndarray:
    out = np.zeros(end - first, dtype=bool)
    part = live[first:end]
    out[: len(part)] = part
    return out


def compact(folder: Path, live_seqs: np.ndarray) -> int:
    """After a commit: remove left-over parts and unfinished deltas, then merge while there are
    more than MAX_DELTAS. `live_seqs`: the seqs of the committed generation's live records.
    Returns the number of merges."""
    used, rest = chain(folder)
    for path in rest:
        if path.is_dir() and any(f <= _bounds(path)[0] and _bounds(path)[1] <= e for f, e, _p in used):
            shutil.rmtree(path, ignore_errors=True)
    for name in os.listdir(folder) if folder.is_dir() else []:
        if name.startswith(".tmp-"):
            shutil.rmtree(folder / name, ignore_errors=True)
    if len(used) <= MAX_DELTAS:
        return 0
    deltas = _intact(used)  # a damaged delta and the ones after it are left as they are
    if len(deltas) <= MAX_DELTAS:
        return 0
    seqs = np.asarray(live_seqs, dtype=np.int64)
    live = np.zeros(deltas[-1].end, dtype=bool)
    live[seqs[seqs < len(live)]] = True
    merges = 0
    while len(deltas) > MAX_DELTAS:
        sizes = [deltas[i].postings + deltas[i + 1].postings for i in range(len(deltas) - 1)]
        i = int(np.argmin(sizes))
        a, b = deltas[i], deltas[i + 1]
        path = merge(folder, a, b, live)
        deltas[i : i + 2] = [Delta(path, a.first, b.end)]
        shutil.rmtree(a.path, ignore_errors=True)
        shutil.rmtree(b.path, ignore_errors=True)
        merges += 1
    return merges


def _bounds(path: Path) -> tuple[int, int]:
    m = _NAME.match(path.name)
    return (int(m.group(1)), int(m.group(2))) if m else (0, -1)
