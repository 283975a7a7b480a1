"""The search's loops over a question's matching records: numpy, or the same loops compiled
(kernels.py) once a server warms up (`Searcher.warm`; indexer/compiled.py).

At a million sections a common question matches half a million records: putting the engine's
scores in the table's rows, the best record of each document and the facet counts each take
numpy a few passes over them; the compiled loops one. Both give the same results
(tests/test_records.py compares them). Finding the matching rows and their documents' runs is
left to numpy: its flatnonzero is vectorised, where a loop branching on each record of a random
mask took three times as long.
"""

from __future__ import annotations

import weakref
from types import ModuleType

import numpy as np

from ..compiled import Twin, variants, within


def _check(kernels: ModuleType) -> None:
    """Each loop once with the kinds of arrays questions give it (read-only when kept, a
    table's documents numbered in int32 or int64)."""
    rows, bounds, ones = np.arange(2, dtype=np.int64), np.array([0, 2], dtype=np.int64), np.ones(2)
    for dtype in (np.int32, np.int64):
        distinct = np.zeros(1, dtype=dtype)
        kernels.best_per_document(ones, ones, rows, distinct, bounds, 1)
        kernels.count_at(np.zeros(2, dtype=dtype), rows, 1)
        kernels.count_at(np.zeros(2, dtype=np.int64), distinct, 1)
    for maps, numbers, values in variants(rows, rows, ones):
        kernels.scatter_rows(maps, numbers, values, np.zeros(2), np.zeros(2, dtype=bool))


twin = Twin(".kernels", __package__, _check)
use_compiled = twin.use  # (Searcher.warm calls it)


def scatter_rows(
    maps: np.ndarray, numbers: np.ndarray, values: np.ndarray, scores: np.ndarray, matched: np.ndarray
) -> None:
    """scores[maps[n]] = value and matched[maps[n]] = True for each engine record number n and
    its value, except the records the table does not have (maps[n] < 0)."""
    if (k := twin.active) is not None:
        within(numbers, len(maps))
        if len(values) != len(numbers) or len(scores) != len(matched):
            raise IndexError("engine numbers, values and table rows do not fit")
        _rows_within(maps, len(scores))
        k.scatter_rows(maps, numbers, values, scores, matched)
        return
    rows = maps[numbers] if len(numbers) else np.zeros(0, dtype=np.int64)
    if len(rows) and rows.min() < 0:  # records the table does not have yet
        known = np.flatnonzero(rows >= 0)
        rows, values = rows[known], values[known]
    scores[rows] = values
    matched[rows] = True


def best_per_document(
    scores: np.ndarray,
    weights: np.ndarray,
    rows: np.ndarray,
    docs: np.ndarray,
    distinct: np.ndarray,
    bounds: np.ndarray,
    documents: int,
) -> np.ndarray:
    """The best of scores x weights over each document's `rows` (-inf for a document without
    any): `docs`, `distinct`, `bounds`: their documents' runs (facets.Runs)."""
    if (k := twin.active) is not None:
        within(rows, min(len(scores), len(weights)))
        within(distinct, documents)
        within(bounds, len(rows) + 1)
        if len(bounds) != len(distinct) + 1:
            raise IndexError("a bound per document and the end")
        return k.best_per_document(scores, weights, rows, distinct, bounds, documents)  # type: ignore[no-any-return]
    best = np.full(documents, -np.inf)
    np.maximum.at(best, docs, scores[rows] * weights[rows])  # (numpy 2's ufunc.at: faster than reduceat)
    return best


def count_at(values: np.ndarray, at: np.ndarray, size: int) -> np.ndarray:
    """np.bincount(values[at], minlength=size), for values below `size`."""
    if (k := twin.active) is not None:
        within(at, len(values))
        return k.count_at(values, at, size)  # type: ignore[no-any-return]
    return np.bincount(values[at], minlength=size)


# Maps already checked against a table's size (one per table generation; compared by identity).
_CHECKED: weakref.WeakValueDictionary[tuple[int, int], np.ndarray] = weakref.WeakValueDictionary()


def _rows_within(maps: np.ndarray, size: int) -> None:
    """Every table row of a map (-1: none) below `size`: checked once per map."""
    if _CHECKED.get((id(maps), size)) is not maps:
        if len(maps) and int(maps.max()) >= size:
            raise IndexError(f"a table row outside 0..{size - 1}")
        _CHECKED[(id(maps), size)] = maps
