"""A generation of a tantivy index: its key, and the order of its live records kept beside it.

An index made with bulk postings (bulk.py) numbers its live records in the order of their seqs
(postings.py). Finding that order means listing every live record through tantivy's hit lists, a
Python object per hit: 1.2-1.8 s at a million sections, in every process that opens the
generation. So the writer keeps it after each commit (`seq-order-<generation>.npz` in the slot),
and a process opening the generation reads it back (about 20 ms) when it is whole, written for
that generation, and tantivy agrees with it; otherwise the process lists the records itself.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from ...files import write_npz
from .. import read_small
from . import bulk

SeqOrder = tuple[np.ndarray, np.ndarray, np.ndarray]  # (seq, segment, doc) of every live record, by seq
ORDER_CHECKS = 64  # records of a kept order whose seq is read back from tantivy before it is used
_PREFIX = "seq-order-"


def generation_key(path: Path) -> int:
    """The generation of the tantivy index in a slot folder: its meta.json (changed by every
    commit and merge), the slot's name and whether it numbers by seq (bulk postings: a removed
    postings folder changes the numbering). 0 when there is no index yet."""
    data = read_small(path / "meta.json")
    if data is None:
        return 0
    bulk_flag = b"bulk" if (path / bulk.FOLDER).is_dir() else b""
    digest = hashlib.blake2b(data + bulk_flag, digest_size=8, person=path.name.encode()[:16])
    return int.from_bytes(digest.digest(), "big") >> 1


def _path(slot: Path, key: int) -> Path:
    return slot / f"{_PREFIX}{key:016x}.npz"


def _digest(key: int, seqs: np.ndarray, segs: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """A kept order's checksum, with its generation's key: a file cut short or changed is not used."""
    h = hashlib.blake2b(key.to_bytes(8, "big"), digest_size=16)
    for array in (seqs, segs, docs):
        h.update(np.ascontiguousarray(array).tobytes())
    return np.frombuffer(h.digest(), dtype=np.uint8)


def save_seq_order(slot: Path, key: int, order: SeqOrder) -> Path:
    """Keep generation `key`'s order (postings.records_by_seq) in its slot, by the writer after
    its commit. Written aside and renamed into place (a reader finds the whole file or none),
    readable by whoever may read tantivy's own files; the orders of other generations, and files
    left by a writer killed while writing one, are removed."""
    path = _path(slot, key)
    seqs = np.ascontiguousarray(order[0], dtype=np.int64)
    segs = np.ascontiguousarray(order[1], dtype=np.int32)
    docs = np.ascontiguousarray(order[2], dtype=np.int32)  # (tantivy's doc ids are u32)
    arrays = {"seqs": seqs, "segs": segs, "docs": docs, "digest": _digest(key, seqs, segs, docs)}
    write_npz(path, arrays, mode_of=slot / "meta.json")
    for other in slot.iterdir():
        name = other.name
        if other != path and name.lstrip(".").startswith(_PREFIX) and name.endswith(".npz"):
            other.unlink(missing_ok=True)
    return path


def load_seq_order(slot: Path, key: int, searcher: Any, live_count: int) -> SeqOrder | None:
    """The order kept for generation `key`, when there is one, it is whole and tantivy agrees
    with it (the seqs of ORDER_CHECKS of its records, spread over it, read back), else None."""
    try:
        with open(_path(slot, key), "rb") as f, np.load(f) as z:  # (closed on every error)
            seqs, segs, docs, digest = z["seqs"], z["segs"], z["docs"], z["digest"]
    except Exception:  # a damaged zip raises many kinds (NotImplementedError for an unknown
        return None  # compression method, MemoryError for a huge shape...): the records are listed
    if seqs.dtype != np.int64 or segs.dtype != np.int32 or docs.dtype != np.int32:
        return None
    if not len(seqs) == len(segs) == len(docs) == live_count or not np.array_equal(
        digest, _digest(key, seqs, segs, docs)
    ):
        return None  # (damaged, or written for another generation)
    segs, docs = segs.astype(np.int64), docs.astype(np.int64)
    if not live_count:
        return seqs, segs, docs
    if np.any(np.diff(seqs) <= 0) or int(segs.min()) < 0 or int(segs.max()) >= int(searcher.num_segments):
        return None
    at = np.unique(np.linspace(0, live_count - 1, min(live_count, ORDER_CHECKS)).astype(np.int64))
    try:
        found = searcher.fast_field_values("seq", [tantivy.DocAddress(int(segs[i]), int(docs[i])) for i in at.tolist()])
    except BaseException as exc:  # tantivy-py panics (pyo3's PanicException) on a doc past a segment's end
        if isinstance(exc, (ValueError, OSError)) or type(exc).__name__ == "PanicException":
            return None
        raise
    if [int(v) for v in found] != seqs[at].tolist():
        return None
    return seqs, segs, docs
