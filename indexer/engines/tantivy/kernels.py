"""loops.py's loops compiled with numba, each in one pass over the postings.

The same floating-point operations in the same order as numpy's (no fast-math; numpy's error
model: a division by zero gives inf or NaN, not an exception), so the scores are bit for bit the
same. Compiled once and cached (`cache=True`: beside this module, or in numba's cache folder
when this one cannot be written); `nogil`: the server's threads search side by side. Positions
are checked by loops.py before a kernel is called.
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def live_postings(
    numbering: np.ndarray,
    seqs: np.ndarray,
    tfs: np.ndarray,
    scale: float,
    numbers: np.ndarray,
    freqs: np.ndarray,
    at: int,
) -> int:
    """loops.live_postings in one pass."""
    with_freqs = freqs.shape[0] > 0
    for j in range(seqs.shape[0]):
        n = numbering[seqs[j]]
        if n >= 0:
            numbers[at] = n
            if with_freqs:
                freqs[at] = tfs[j] / scale
            at += 1
    return at


@_jit
def add_into(mask: np.ndarray, scores: np.ndarray, ids: np.ndarray, values: np.ndarray) -> None:
    """mask[ids] = True; scores[ids] += values, in order (as np.add.at adds them)."""
    for j in range(ids.shape[0]):
        i = ids[j]
        mask[i] = True
        scores[i] += values[j]


@_jit
def max_into(mask: np.ndarray, scores: np.ndarray, ids: np.ndarray, values: np.ndarray) -> None:
    """mask[ids] = True; scores[ids] = the larger of the two (as np.maximum.at: a NaN wins, a
    tie takes the new value)."""
    for j in range(ids.shape[0]):
        i = ids[j]
        mask[i] = True
        s = scores[i]
        if not (s > values[j] or s != s):
            scores[i] = values[j]


@_jit
def bm25_at(factor: float, k1_plus_1: float, weights: np.ndarray, norms: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """ranking.bm25_normed(idf, weights, norms[ids], boost) with `factor` = boost x idf: each
    record's w x factor x (k1 + 1) / (w + norm), rounded after each operation as numpy does."""
    out = np.empty(weights.shape[0])
    for j in range(weights.shape[0]):
        w = weights[j]
        x = w * factor
        x *= k1_plus_1
        out[j] = x / (w + norms[ids[j]])
    return out
