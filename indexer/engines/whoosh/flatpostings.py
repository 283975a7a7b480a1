"""The `body` postings of a Whoosh segment as flat arrays in a file beside it.

Whoosh 2.7 stores a block of up to 128 postings as one compressed pickle of their ids, weights
and positions: reading a posting list costs about 1 microsecond per posting, most of it
unpickling positions a ranking never looks at. A 30-word question over 100,000 sections reads
100,000-200,000 postings (bench/search_latency.py). After every commit the writer stores each
new segment's `body` postings (record numbers as uint32, weights as float32, which is how Whoosh
keeps them) in `<segment id>.postings`; searches slice those arrays through a memory map.

Only segments of MIN_RECORDS records or more get a file. The file is an accelerator, never
the truth: it is written after Whoosh's commit, under a temporary name and renamed into place,
and checked against its segment when opened (segment id, record count, number of terms and
postings). A missing or mismatched file means the segment
is read through Whoosh as before, so a run killed between the two writes loses nothing, and
the next commit writes what is missing. Files of segments that merges removed are deleted.

Layout: a header line (JSON, padded to HEADER bytes), then the arrays, each 8-byte aligned:
`starts` (int64, terms + 1: each term's first posting), `term_ends` (int64, terms: end of each
term in the term blob), `ids` (uint32), `weights` (float32), the term blob (sorted UTF-8 terms).
"""

from __future__ import annotations

import bisect
import contextlib
import json
import mmap
import os
from pathlib import Path
from typing import Any

import numpy as np

from .postings import raw_matcher, read_matcher

FIELD = "body"
SUFFIX = ".postings"
# Segments smaller than this are read through Whoosh: writing a file costs about 1.7 us per
# posting plus 50 us per term (a fifth of the index stage for the 1,400 Cranfield abstracts), and
# a small segment's posting lists are short enough to unpickle (bench/search_latency.py).
MIN_RECORDS = 10_000
MAGIC = "palimpsest-postings"
FORMAT = 1
HEADER = 512


def path_for(folder: str | Path, segment_id: str) -> Path:
    return Path(folder) / f"{segment_id}{SUFFIX}"


class SegmentPostings:
    """A segment's `body` postings read from its file (memory-mapped)."""

    def __init__(self, path: Path, segment_id: str, doc_count_all: int) -> None:
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            head = json.loads(bytes(self._map[:HEADER]).decode("ascii").strip())
            if head.get("magic") != MAGIC or head.get("format") != FORMAT:
                raise ValueError("not a postings file of this format")
            if head["segment"] != segment_id or head["doc_count_all"] != doc_count_all:
                raise ValueError("written for another segment")
            terms, postings = int(head["terms"]), int(head["postings"])
            buf = memoryview(self._map)
            at = HEADER
            self.starts, at = _array(buf, at, np.int64, terms + 1)
            self.term_ends, at = _array(buf, at, np.int64, terms)
            self.ids, at = _array(buf, at, np.uint32, postings)
            self.weights, at = _array(buf, at, np.float32, postings)
            blob_len = int(self.term_ends[-1]) if terms else 0
            if at + blob_len != len(self._map) or (terms and int(self.starts[-1]) != postings):
                raise ValueError("truncated or inconsistent")
            self._blob = bytes(buf[at : at + blob_len])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
            self.close()
            raise ValueError(f"{path.name}: {e}") from None
        self.terms = terms
        self._ends = self.term_ends.tolist()

    def _term(self, i: int) -> bytes:
        return self._blob[self._ends[i - 1] if i else 0 : self._ends[i]]

    def get(self, term: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        """(record numbers, weights) of `term` in this segment; None when it has no postings."""
        i = bisect.bisect_left(range(self.terms), term, key=self._term)
        if i == self.terms or self._term(i) != term:
            return None
        a, b = int(self.starts[i]), int(self.starts[i + 1])
        return self.ids[a:b].astype(np.int64), self.weights[a:b].astype(np.float64)

    def close(self) -> None:
        for name in ("starts", "term_ends", "ids", "weights"):
            self.__dict__.pop(name, None)  # the arrays view the map: drop them first
        with contextlib.suppress(BufferError):  # a view still held elsewhere: the map goes with it
            self._map.close()


def _array(buf: memoryview, at: int, dtype: Any, count: int) -> tuple[np.ndarray, int]:
    size = np.dtype(dtype).itemsize * count
    if at + size > len(buf):
        raise ValueError("truncated")
    arr = np.frombuffer(buf, dtype=dtype, count=count, offset=at)
    return arr, at + _aligned(size)


def _aligned(n: int) -> int:
    return (n + 7) // 8 * 8


def write(folder: str | Path, segment_reader: Any) -> Path:
    """Write the postings file of one segment (a Whoosh SegmentReader), streamed: the arrays
    are filled term by term through a memory map, so memory stays that of one posting list."""
    segment_id = segment_reader.segment().segment_id()
    infos = [(t, info.doc_frequency()) for t, info in segment_reader.iter_field(FIELD)]
    counts = np.fromiter((n for _t, n in infos), dtype=np.int64, count=len(infos))
    starts = np.zeros(len(infos) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    blob = b"".join(t for t, _n in infos)
    term_ends = np.cumsum(np.fromiter((len(t) for t, _n in infos), dtype=np.int64, count=len(infos)))
    postings = int(starts[-1])
    head = {
        "magic": MAGIC,
        "format": FORMAT,
        "segment": segment_id,
        "doc_count_all": segment_reader.doc_count_all(),
        "terms": len(infos),
        "postings": postings,
    }
    header = json.dumps(head).encode("ascii")
    if len(header) >= HEADER:
        raise ValueError("postings file header too long")
    layout = [starts.nbytes, term_ends.nbytes, 4 * postings, 4 * postings]
    size = HEADER + sum(_aligned(n) for n in layout) + len(blob)
    final = path_for(folder, segment_id)
    tmp = final.with_name(final.name + f".{os.getpid()}.tmp")
    try:
        with open(tmp, "wb+") as f:
            f.truncate(size)
            with mmap.mmap(f.fileno(), size) as out:
                out[:HEADER] = header.ljust(HEADER - 1) + b"\n"
                at = HEADER
                views = []
                for arr in (starts, term_ends):
                    out[at : at + arr.nbytes] = arr.tobytes()
                    at += _aligned(arr.nbytes)
                for dtype in (np.uint32, np.float32):
                    views.append(np.frombuffer(out, dtype=dtype, count=postings, offset=at))
                    at += _aligned(4 * postings)
                ids_out, weights_out = views
                for i, (term, n) in enumerate(infos):
                    if not n:
                        continue
                    ids, weights = read_matcher(raw_matcher(segment_reader, FIELD, term))
                    if len(ids) != n:
                        raise ValueError(f"term {term!r}: {len(ids)} postings, its info says {n}")
                    a = int(starts[i])
                    ids_out[a : a + n] = ids
                    weights_out[a : a + n] = weights
                out[at : at + len(blob)] = blob
                del ids_out, weights_out, views
                out.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def complete(folder: str | Path, ix: Any, min_records: int | None = None) -> list[str]:
    """Write the postings files the index's current segments of at least `min_records` records
    (default MIN_RECORDS) lack, and delete those of segments it no longer has. Returns the
    segment ids written."""
    floor = MIN_RECORDS if min_records is None else min_records
    written: list[str] = []
    for stale in Path(folder).glob(f"*{SUFFIX}.*.tmp"):  # a write killed midway (the writer holds the index lock)
        stale.unlink(missing_ok=True)
    reader = ix.reader()
    try:
        subs = [r for r, _offset in reader.leaf_readers()] if not reader.is_atomic() else [reader]
        keep = set()
        for sub in subs:
            segment = sub.segment() if hasattr(sub, "segment") else None
            if segment is None:  # an empty index
                continue
            segment_id = segment.segment_id()
            keep.add(f"{segment_id}{SUFFIX}")
            if sub.doc_count_all() >= floor and not path_for(folder, segment_id).exists():
                write(folder, sub)
                written.append(segment_id)
    finally:
        reader.close()
    for path in Path(folder).glob(f"*{SUFFIX}"):
        if path.name not in keep:
            path.unlink(missing_ok=True)
    return written
