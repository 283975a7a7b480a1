"""The engine's loops over postings: numpy, or the same loops compiled (kernels.py) once the
engine warms up (indexer/compiled.py).

A new question at a million sections reads several hundred thousand postings per common word.
numpy takes a pass per step (look each record up, filter the dead ones, cast, scale; four passes
to score them); the compiled loops take one, with the same floating-point operations in the same
order, so both give the same scores bit for bit (tests/test_engines.py compares them).
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from ...compiled import Twin, variants, within


def _check(kernels: ModuleType) -> None:
    """Each loop once with the kinds of arrays questions give it (read-only when kept)."""
    mask, scores = np.zeros(2, dtype=bool), np.zeros(2)
    for ids, values in variants(np.zeros(1, dtype=np.int64), np.ones(1)):
        kernels.add_into(mask, scores, ids, values)
        kernels.max_into(mask, scores, ids, values)
        for norms in (scores, values):  # (kept norms are read-only)
            kernels.bm25_at(1.0, 2.0, values, norms, ids)
    numbers, freqs = np.zeros(2, dtype=np.int64), np.zeros(2)
    for seqs, tfs in variants(np.zeros(1, dtype=np.uint32), np.ones(1, dtype=np.uint16)):
        for numbering in (np.zeros(1, dtype=np.int32), np.zeros(1, dtype=np.int64)):
            kernels.live_postings(numbering, seqs, tfs, 2.0, numbers, freqs, 0)


twin = Twin(".kernels", __package__, _check)
use_compiled = twin.use  # (the engine's warm-up calls it)


def live_postings(
    numbering: np.ndarray,
    seqs: np.ndarray,
    tfs: np.ndarray,
    scale: float,
    numbers: np.ndarray,
    freqs: np.ndarray,
    at: int,
) -> int:
    """Write the record number (`numbering[seq]`, -1: not live) and frequency / `scale` of each
    posting whose record is live into `numbers` and `freqs` from position `at` (an empty
    `freqs`: numbers only); the position after the last written."""
    if (k := twin.active) is not None:
        within(seqs, len(numbering))
        if at + len(seqs) > len(numbers) or (len(freqs) and at + len(seqs) > len(freqs)) or len(tfs) != len(seqs):
            raise IndexError("no room for the postings")
        return int(k.live_postings(numbering, seqs, tfs, scale, numbers, freqs, at))
    n = numbering.take(seqs)  # (`take` gathers faster than indexing)
    keep = n >= 0
    if not keep.all():
        n, tfs = n[keep], tfs[keep]
    end = at + len(n)
    numbers[at:end] = n
    if len(freqs):  # (uint16 to float64 is exact: the same values as a cast, then dividing)
        np.divide(tfs, scale, out=freqs[at:end])
    return end


def combine_into(mask: np.ndarray, scores: np.ndarray, ids: np.ndarray, values: np.ndarray, best: bool) -> None:
    """mask[ids] = True; scores[ids] += values, in order (`best`: keep the larger of the two)."""
    if (k := twin.active) is not None:
        within(ids, min(len(mask), len(scores)))
        if len(values) != len(ids):
            raise IndexError("a value per record")
        (k.max_into if best else k.add_into)(mask, scores, ids, values)
        return
    mask[ids] = True
    # (ufunc.at, fast since numpy 1.25: about 1.5x gathering and scattering)
    (np.maximum if best else np.add).at(scores, ids, values)


def bm25_at(factor: float, k1_plus_1: float, weights: np.ndarray, norms: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """ranking.bm25_normed(idf, weights, norms[ids], boost) with `factor` = boost x idf."""
    if (k := twin.active) is not None:
        within(ids, len(norms))
        if len(weights) != len(ids):
            raise IndexError("a weight per record")
        return k.bm25_at(factor, k1_plus_1, weights, norms, ids)  # type: ignore[no-any-return]
    out = np.asarray(weights, dtype=np.float64) * factor
    out *= k1_plus_1
    out /= weights + norms[ids]
    return out
