"""Reading Whoosh 2.7's on-disk postings and length columns as numpy arrays.

This is the one place that reads Whoosh's private structures (`_perdoc`, `_terms`, a leaf
matcher's `_data`, `_read_data`, `_read_values`, `_next_block`, `_maxid`, `_byteids`, a length
column's `_dbfile`): reading a posting list a block at a time is
what makes scoring every match with numpy fast (bench/search_latency.py)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=SyntaxWarning, message=r"invalid escape sequence")
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
    from whoosh.reading import TermNotFound
    from whoosh.util.numeric import _length_byte_cache

_BYTE_TO_LENGTH = np.asarray(_length_byte_cache, dtype=np.float64)


def leaves(s: Any) -> list[tuple[Any, int]]:
    """(segment searcher, offset of its first record number) of a searcher."""
    return list(s.leaf_searchers()) if not s.is_atomic() else [(s, 0)]


def field_lengths(s: Any, field: str) -> np.ndarray:
    """The length of `field` in every record (Whoosh keeps one byte per record, a coded length)."""
    parts = []
    for sub, _offset in leaves(s):
        perdoc = sub.reader()._perdoc
        name = "_" + field + "_len"
        if perdoc.has_column(name):
            codes = _length_codes(perdoc.column_reader(name, LENGTHS_COLUMN), sub.doc_count_all())
        else:
            codes = np.zeros(sub.doc_count_all(), dtype=np.int64)
        parts.append(_BYTE_TO_LENGTH[codes])
    return np.concatenate(parts) if parts else np.zeros(0)


def _length_codes(col: Any, count: int) -> np.ndarray:
    """A one-byte length column in one read (Whoosh's reader takes a Python call per record):
    the column's bytes, then the default (0) for records past its end."""
    if getattr(col, "_fixedlen", None) == 1 and hasattr(col, "_dbfile"):
        stored = min(col._count, count)
        codes = np.zeros(count, dtype=np.int64)
        codes[:stored] = np.frombuffer(col._dbfile.get(col._basepos, stored), dtype=np.uint8)
        return codes
    return np.fromiter(iter(col), dtype=np.int64, count=count)


def raw_matcher(reader: Any, field: str, text: bytes) -> Any:
    """A segment's posting list of a term, deleted records included (Whoosh's `postings`
    filters them one posting at a time in Python; callers mask them with the live records).
    Raises TermNotFound."""
    terms = getattr(reader, "_terms", None)
    if terms is None:  # not a segment (an empty index): Whoosh's own
        return reader.postings(field, text)
    return terms.matcher(field, text, reader.schema[field].format)


def term_postings(s: Any, field: str, text: bytes, flat: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """(record numbers, weights) of one term across segments, deleted records included. `flat`
    gives a segment's flat postings file (flatpostings.py) for `body`, or None."""
    ids_parts, weight_parts = [], []
    for sub, offset in leaves(s):
        found = flat(sub) if flat is not None and field == "body" else None
        if found is not None:
            got = found.get(text)
            if got is None:
                continue
            ids, weights = got
        else:
            try:
                m = raw_matcher(sub.reader(), field, text)
            except TermNotFound:
                continue
            ids, weights = read_matcher(m)
        ids_parts.append(ids + offset)
        weight_parts.append(weights)
    if ids_parts:
        return np.concatenate(ids_parts), np.concatenate(weight_parts)
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)


def term_positions(s: Any, field: str, text: bytes, wanted: np.ndarray) -> dict[int, list[int]]:
    """The positions of one term in each of the records `wanted` (sorted record numbers) that
    contain it. Only the posting blocks holding a wanted record are decoded, and only the wanted
    postings' positions: a phrase check costs a few blocks per word, not a walk over every record
    containing both words."""
    out: dict[int, list[int]] = {}
    for sub, offset in leaves(s):
        local = wanted[(wanted >= offset) & (wanted < offset + sub.doc_count_all())] - offset
        if not len(local):
            continue
        try:
            m = raw_matcher(sub.reader(), field, text)
        except TermNotFound:
            continue
        for n, positions in _positions_of(m, local).items():
            out[n + offset] = positions
    return out


def _positions_of(m: Any, wanted: np.ndarray) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    if not isinstance(m, W3LeafMatcher):
        for n in wanted.tolist():
            if not m.is_active():
                break
            m.skip_to(n)
            if m.is_active() and m.id() == n:
                found[n] = list(m.value_as("positions"))
        return found
    j = 0
    while m.is_active() and j < len(wanted):
        if wanted[j] > m._maxid:  # no wanted record in this block: its data stays unread
            m._next_block()
            continue
        if m._data is None:
            m._read_data()
        ids = np.asarray(m._data[0], dtype=np.int64)
        ids = ids if m._byteids else np.cumsum(ids)
        end = int(np.searchsorted(wanted, m._maxid, side="right"))
        block_wanted = wanted[j:end]
        at = np.minimum(np.searchsorted(ids, block_wanted), len(ids) - 1)
        hits = np.flatnonzero(ids[at] == block_wanted)
        if len(hits):
            m._read_values()
            for k in hits.tolist():
                found[int(block_wanted[k])] = list(m.format.decode_as("positions", m._values[int(at[k])]))
        j = end
        m._next_block()
    return found


def read_matcher(m: Any) -> tuple[np.ndarray, np.ndarray]:
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
