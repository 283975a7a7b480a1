"""loops.py's loops compiled with numba, each in one pass (see indexer/compiled.py).

The same operations in the same order as numpy's (no fast-math; numpy's error model), so the
results are the same bit for bit. Compiled once and cached (`cache=True`: beside this module, or
in numba's cache folder); `nogil`: the server's threads search side by side. Positions are
checked by loops.py before a kernel is called.
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def scatter_rows(
    maps: np.ndarray, numbers: np.ndarray, values: np.ndarray, scores: np.ndarray, matched: np.ndarray
) -> None:
    """scores[maps[n]] = value, matched[maps[n]] = True for each record number n and its value
    (a record the table does not have, maps[n] < 0, is left out)."""
    for j in range(numbers.shape[0]):
        r = maps[numbers[j]]
        if r >= 0:
            scores[r] = values[j]
            matched[r] = True


@_jit
def best_per_document(
    scores: np.ndarray, weights: np.ndarray, rows: np.ndarray, distinct: np.ndarray, bounds: np.ndarray, documents: int
) -> np.ndarray:
    """The best of scores x weights over each document's rows (-inf: none), as np.maximum.at
    takes them in order (a NaN wins, a tie takes the later value)."""
    best = np.full(documents, -np.inf)
    for k in range(distinct.shape[0]):
        d = distinct[k]
        top = best[d]
        for j in range(bounds[k], bounds[k + 1]):
            r = rows[j]
            a = scores[r] * weights[r]
            if not (top > a or top != top):
                top = a
        best[d] = top
    return best


@_jit
def count_at(values: np.ndarray, at: np.ndarray, size: int) -> np.ndarray:
    """np.bincount(values[at], minlength=size) for values in 0..size-1 (others are left out
    rather than written past the end: numba does not check bounds)."""
    out = np.zeros(size, dtype=np.int64)
    for j in range(at.shape[0]):
        v = values[at[j]]
        if 0 <= v < size:
            out[v] += 1
    return out
