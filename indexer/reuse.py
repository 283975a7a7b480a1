"""Text reuse: passages that different documents share, found at index time.

Fingerprints: a section's words (analysis.tokens, lowercased and folded) are hashed in
overlapping shingles of `shingle` words, and winnowing (Schleimer, Wilkerson & Aiken 2003)
keeps the smallest hash of every window of `window` consecutive shingles. Any run of at least
`window + shingle - 1` words that two texts share has a window in common, so both keep the
same fingerprint for it: with 5 and 8, every shared run of 12 words is seen, whatever the
sentences around it.

Candidates: the store keeps an inverted table of fingerprints (hash -> version, section,
word), so a new version is compared with the versions sharing one of its fingerprints only,
never with the whole corpus. A fingerprint found in more than `max_sources` places is a stock
passage (licence text, a site's boilerplate) and finds no candidates.

Verification (`compare`): the fingerprints a pair of sections shares are grouped by where
they sit; around each group an exact alignment of the words (difflib) gives the matching
blocks, blocks separated by at most `max_gap` words on both sides make one passage (a
changed, added or dropped word does not split it), blocks shorter than EDGE_BLOCK words at
its ends are left out (a lone shared word after a gap is chance), and a passage counts when
it has at least `min_words` shared words, at least `min_content_share` of them not function
words of the section's language. Its similarity is its shared words over its longer side.

Only the latest version of each document is compared (versions of one document are never
linked with each other); when a document gets a new latest version its links are found again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

import numpy as np

from .analysis import fold, function_words_for, normalize_word, tokens

EDGE_BLOCK = 3  # matching blocks shorter than this are not a passage's first or last words
_MULT = np.uint64(0x100000001B3)  # shingle hash: a polynomial over the words' hashes
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)  # murmur3's finaliser spreads it over all 64 bits
_S33 = np.uint64(33)


@dataclass(frozen=True)
class ReuseRule:
    """What counts as reuse and how it is found (the `reuse_*` settings)."""

    min_words: int = 12
    min_content_share: float = 0.5
    shingle: int = 5
    window: int = 8
    max_gap: int = 3
    max_sources: int = 50

    @property
    def guaranteed(self) -> int:
        """Every shared run of this many words is found."""
        return self.window + self.shingle - 1


@dataclass(frozen=True)
class Words:
    """One section's words: character spans, comparison keys, which carry content."""

    ordinal: int
    starts: np.ndarray
    ends: np.ndarray
    keys: tuple[str, ...]
    content: np.ndarray  # bool: not a function word

    def __len__(self) -> int:
        return len(self.keys)


@dataclass(frozen=True)
class Passage:
    """A run of words two sections share: character spans on each side (end exclusive)."""

    ordinal_a: int
    start_a: int
    end_a: int
    ordinal_b: int
    start_b: int
    end_b: int
    words: int  # shared words
    similarity: float  # shared words / words of the longer side

    def swapped(self) -> Passage:
        return Passage(
            self.ordinal_b, self.start_b, self.end_b, self.ordinal_a, self.start_a, self.end_a,
            self.words, self.similarity,
        )  # fmt: skip


def section_words(ordinal: int, text: str, language: str | None) -> Words:
    """The words of one section's text, ready to fingerprint and align."""
    found = list(tokens(text))
    function = function_words_for(language)
    lows = [normalize_word(w) for _s, _e, w in found]
    return Words(
        ordinal=ordinal,
        starts=np.fromiter((s for s, _e, _w in found), dtype=np.int64, count=len(found)),
        ends=np.fromiter((e for _s, e, _w in found), dtype=np.int64, count=len(found)),
        keys=tuple(fold(w) for w in lows),
        content=np.fromiter((w not in function for w in lows), dtype=bool, count=len(found)),
    )


@lru_cache(maxsize=500_000)
def _word_hash(key: str) -> int:
    # blake2b, not hash(): the same word has the same fingerprint in every process and run.
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def shingle_hashes(keys: tuple[str, ...], shingle: int) -> np.ndarray:
    """The 64-bit hash of every run of `shingle` words (uint64, one per starting word)."""
    n = len(keys) - shingle + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    words = np.fromiter((_word_hash(k) for k in keys), dtype=np.uint64, count=len(keys))
    h = np.zeros(n, dtype=np.uint64)
    for j in range(shingle):
        h = h * _MULT + words[j : j + n]
    h ^= h >> _S33
    h *= _MIX1
    h ^= h >> _S33
    return h


def fingerprints(words: Words, rule: ReuseRule) -> list[tuple[int, int]]:
    """(hash as a signed 64-bit integer, word position) of the shingles winnowing keeps; none
    for a section too short to hold a passage."""
    if len(words) < rule.min_words:
        return []
    h = shingle_hashes(words.keys, rule.shingle)
    if not len(h):
        return []
    w = min(rule.window, len(h))
    windows = np.lib.stride_tricks.sliding_window_view(h, w)
    # The rightmost smallest hash of each window (robust winnowing: ties keep one position).
    picks = np.unique(np.arange(len(windows)) + (w - 1) - windows[:, ::-1].argmin(axis=1))
    signed = h[picks].view(np.int64)
    return [(int(x), int(p)) for x, p in zip(signed, picks, strict=True)]


def compare(
    a: dict[int, Words], b: dict[int, Words], seeds: Iterable[tuple[int, int, int, int]], rule: ReuseRule
) -> list[Passage]:
    """The passages two versions share, given the fingerprints they have in common as
    (section a, word a, section b, word b); in a deterministic order."""
    by_pair: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for oa, pa, ob, pb in seeds:
        if oa in a and ob in b:
            by_pair.setdefault((oa, ob), []).append((pa, pb))
    out: list[Passage] = []
    for (oa, ob), pairs in sorted(by_pair.items()):
        out.extend(align(a[oa], b[ob], pairs, rule))
    return out


def _clusters(pairs: list[tuple[int, int]], reach: int) -> list[tuple[int, int, int, int]]:
    """Shared fingerprints near each other on both sides, as (lo a, hi a, lo b, hi b)."""
    boxes: list[list[int]] = []
    for pa, pb in sorted(set(pairs)):
        for box in boxes:
            if pa - box[1] <= reach and box[2] - reach <= pb <= box[3] + reach:
                box[1] = max(box[1], pa)
                box[2], box[3] = min(box[2], pb), max(box[3], pb)
                break
        else:
            boxes.append([pa, pa, pb, pb])
    return [(b[0], b[1], b[2], b[3]) for b in boxes]


def align(a: Words, b: Words, pairs: list[tuple[int, int]], rule: ReuseRule) -> list[Passage]:
    """Verify shared fingerprints of two sections by aligning their words around them."""
    reach = rule.guaranteed + 2 * rule.max_gap
    pad = rule.guaranteed + rule.shingle
    found: list[tuple[int, int, int, int, int]] = []  # first a, last a, first b, last b, shared words
    for lo_a, hi_a, lo_b, hi_b in _clusters(pairs, reach):
        a0, a1 = max(0, lo_a - pad), min(len(a), hi_a + rule.shingle + pad)
        b0, b1 = max(0, lo_b - pad), min(len(b), hi_b + rule.shingle + pad)
        matcher = SequenceMatcher(None, a.keys[a0:a1], b.keys[b0:b1], autojunk=False)
        blocks = [(i + a0, j + b0, n) for i, j, n in matcher.get_matching_blocks() if n]
        for chain in _chains(blocks, rule.max_gap):
            while chain and chain[0][2] < EDGE_BLOCK:
                chain = chain[1:]
            while chain and chain[-1][2] < EDGE_BLOCK:
                chain = chain[:-1]
            shared = sum(n for _i, _j, n in chain)
            if shared < rule.min_words:
                continue
            content = sum(int(a.content[i : i + n].sum()) for i, _j, n in chain)
            if content < rule.min_content_share * shared:
                continue
            last = chain[-1]
            found.append((chain[0][0], last[0] + last[2] - 1, chain[0][1], last[1] + last[2] - 1, shared))
    # Neighbouring clusters may find one passage twice: keep the longest of those overlapping.
    kept: list[tuple[int, int, int, int, int]] = []
    for f in sorted(set(found), key=lambda f: (-f[4], f)):
        if not any(f[0] <= k[1] and k[0] <= f[1] and f[2] <= k[3] and k[2] <= f[3] for k in kept):
            kept.append(f)
    out = []
    for fa, la, fb, lb, shared in sorted(kept):
        longer = max(la - fa + 1, lb - fb + 1)
        out.append(
            Passage(
                a.ordinal, int(a.starts[fa]), int(a.ends[la]), b.ordinal, int(b.starts[fb]), int(b.ends[lb]),
                shared, round(shared / longer, 3),
            )
        )  # fmt: skip
    return out


def _chains(blocks: list[tuple[int, int, int]], max_gap: int) -> list[list[tuple[int, int, int]]]:
    """Matching blocks joined while the words between them are few on both sides."""
    chains: list[list[tuple[int, int, int]]] = []
    for blk in blocks:
        if chains:
            i, j, n = chains[-1][-1]
            if 0 <= blk[0] - (i + n) <= max_gap and 0 <= blk[1] - (j + n) <= max_gap:
                chains[-1].append(blk)
                continue
        chains.append([blk])
    return chains
