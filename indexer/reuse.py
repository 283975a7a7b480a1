"""Text reuse: passages that different documents share, found at index time.

Fingerprints: a section's words (analysis.tokens, lowercased and folded) are hashed in
overlapping shingles of `shingle` words, and winnowing (Schleimer, Wilkerson & Aiken 2003)
keeps the smallest hash of every window of `window` consecutive shingles. Any run of at least
`window + shingle - 1` words that two texts share has a window in common, so both keep the
same fingerprint for it: with 5 and 8, every shared run of 12 words is seen, whatever the
sentences around it.

Candidates: the store keeps an inverted table of fingerprints (hash -> version, section,
character offset), so a new version is compared with the versions sharing one of its
fingerprints only (at most `max_candidates` of them, those sharing the most and the rarest
fingerprints), never with the whole corpus. A fingerprint found in more than `max_sources`
places is a stock passage (licence text, a site's boilerplate) and finds no candidates. MinHash over windows of two
sentences was measured against winnowing on the benchmark corpus (bench/RESULTS.md, "Text
reuse") and not used: a short quote inside longer, different sentences changes a window's
MinHash too much to collide.

Verification (`compare`): the shared fingerprints of a pair of sections are grouped by where
they sit, and only the text around each group is read (more while a passage reaches the edge
of what was read). From each fingerprint the words are matched exactly, backwards and
forwards, going on over differences of at most `max_gap` words on each side after which
RESYNC words match again (a changed, added or dropped word does not split a passage; linear,
where difflib's alignment was quadratic on repetitive text). Runs shorter than EDGE_BLOCK
words at a passage's ends are left out (a lone shared word after a gap is chance), and so are
stop words at its ends; a passage counts when it has at least `min_words` shared words, at
least `min_content_share` of them not stop words of the section's language
(analysis.analyzer_for). Its similarity is its shared words over its longer side.

Only the latest version of each document is compared (versions of one document are never
linked with each other); when a document gets a new latest version its links are found again.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .analysis import TOKEN_PATTERN, analyzer_for, fold, normalize_word

_TOKEN = re.compile(TOKEN_PATTERN)  # the words analysis.tokens reads
EDGE_BLOCK = 3  # matching blocks shorter than this are not a passage's first or last words
CHARS_PER_WORD = 10  # to turn word counts into lengths of text to read (more than most words)
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
    max_candidates: int = 20

    @property
    def guaranteed(self) -> int:
        """Every shared run of this many words is found."""
        return self.window + self.shingle - 1


@dataclass(frozen=True)
class Words:
    """One section's words (or a piece of them): character spans, comparison keys, and which
    carry content (plain lists: most are read for a few dozen words, where arrays cost more)."""

    ordinal: int
    starts: list[int]
    ends: list[int]
    keys: tuple[str, ...]
    content: list[bool]  # not a stop word of the section's language

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


def section_words(ordinal: int, text: str, language: str | None, offset: int = 0) -> Words:
    """The words of one section's text (or of a piece of it starting at `offset`), ready to
    fingerprint and align."""
    stop = analyzer_for(language).stop_words
    starts, ends, keys, content = [], [], [], []
    for m in _TOKEN.finditer(text):
        s, e = m.span()
        key, low = _read_word(m.group())
        starts.append(s + offset)
        ends.append(e + offset)
        keys.append(key)
        content.append(low not in stop)
    return Words(ordinal, starts, ends, tuple(keys), content)


@lru_cache(maxsize=500_000)
def _read_word(word: str) -> tuple[str, str]:
    """(comparison key, lowercased form) of a word."""
    low = normalize_word(word)
    return fold(low), low


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
    """(hash as a signed 64-bit integer, character offset of its first word) of the shingles
    winnowing keeps; none for a section too short to hold a passage."""
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
    starts = np.asarray(words.starts, dtype=np.int64)[picks]
    return [(int(x), int(c)) for x, c in zip(signed, starts, strict=True)]


Text = tuple[str, str]  # a section's (text, language)


def compare(
    a: dict[int, Text], b: dict[int, Text], seeds: Iterable[tuple[int, int, int, int]], rule: ReuseRule
) -> list[Passage]:
    """The passages two versions share, given their sections (ordinal -> text, language) and
    the fingerprints they have in common as (section a, offset a, section b, offset b); in a
    deterministic order."""
    by_pair: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for oa, ca, ob, cb in seeds:
        if oa in a and ob in b:
            by_pair.setdefault((oa, ob), []).append((ca, cb))
    out: list[Passage] = []
    for (oa, ob), pairs in sorted(by_pair.items()):
        out.extend(align((oa, *a[oa]), (ob, *b[ob]), pairs, rule))
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


def _window(section: tuple[int, str, str], lo: int, hi: int) -> tuple[Words, bool, bool]:
    """The words of text[lo:hi] widened to whole words, and whether it starts and ends the text."""
    _ordinal, text, language = section
    lo, hi = max(0, lo), min(len(text), hi)
    while lo > 0 and not text[lo - 1].isspace():
        lo -= 1
    while hi < len(text) and not text[hi].isspace():
        hi += 1
    return section_words(section[0], text[lo:hi], language, lo), lo == 0, hi == len(text)


def align(
    a: tuple[int, str, str], b: tuple[int, str, str], pairs: list[tuple[int, int]], rule: ReuseRule
) -> list[Passage]:
    """Verify the fingerprints two sections (ordinal, text, language) share, at character
    offsets `pairs`, by aligning their words from each of them. Only the text around each group
    of fingerprints is read, widened while a passage reaches the edge of what was read."""
    # Most candidates are stock phrases a few words long: read little first, more when needed.
    pad = rule.shingle * CHARS_PER_WORD
    found: list[tuple[int, int, int, int, int]] = []  # character spans a and b, shared words
    for lo_a, hi_a, lo_b, hi_b in _clusters(pairs, 2 * pad + rule.guaranteed * CHARS_PER_WORD):
        anchors = sorted((ca, cb) for ca, cb in set(pairs) if lo_a <= ca <= hi_a and lo_b <= cb <= hi_b)
        grow = pad
        while True:
            wa, a_first, a_last = _window(a, lo_a - grow, hi_a + grow + rule.shingle * CHARS_PER_WORD)
            wb, b_first, b_last = _window(b, lo_b - grow, hi_b + grow + rule.shingle * CHARS_PER_WORD)
            runs = _passages(wa, wb, anchors, rule)
            edge = any(
                (fa == 0 and not a_first) or (fb == 0 and not b_first)
                or (la == len(wa) - 1 and not a_last) or (lb == len(wb) - 1 and not b_last)
                for fa, la, fb, lb, _n in runs
            )  # fmt: skip
            if not edge:
                break
            grow *= 4
        found.extend((wa.starts[fa], wa.ends[la], wb.starts[fb], wb.ends[lb], n) for fa, la, fb, lb, n in runs)
    # Neighbouring groups may find one passage twice: keep the longest of those overlapping.
    kept: list[tuple[int, int, int, int, int]] = []
    for f in sorted(set(found), key=lambda f: (-f[4], f)):
        if not any(f[0] < k[1] and k[0] < f[1] and f[2] < k[3] and k[2] < f[3] for k in kept):
            kept.append(f)
    return [_passage(a, b, *k) for k in sorted(kept)]


def _passage(a: tuple[int, str, str], b: tuple[int, str, str], sa: int, ea: int, sb: int, eb: int, n: int) -> Passage:
    longer = max(len(_TOKEN.findall(a[1], sa, ea)), len(_TOKEN.findall(b[1], sb, eb)))
    return Passage(a[0], sa, ea, b[0], sb, eb, n, round(n / max(1, longer), 3))


def _passages(
    a: Words, b: Words, anchors: list[tuple[int, int]], rule: ReuseRule
) -> list[tuple[int, int, int, int, int]]:
    """The passages two pieces of text share through some anchors (character offsets where
    both have the same shingle): (first, last word of a, first, last word of b, shared words)."""
    out: list[tuple[int, int, int, int, int]] = []
    for ca, cb in anchors:
        i, j = bisect_left(a.starts, ca), bisect_left(b.starts, cb)
        if i >= len(a) or j >= len(b) or a.keys[i] != b.keys[j]:
            continue
        if any(fa <= i <= la and fb <= j <= lb for fa, la, fb, lb, _n in out):
            continue  # inside a passage found from an earlier anchor
        back = _extend(a.keys[i::-1], b.keys[j::-1], rule.max_gap)
        ahead = _extend(a.keys[i:], b.keys[j:], rule.max_gap)
        chain = [(i - x - n + 1, j - y - n + 1, n) for x, y, n in reversed(back)]
        # The anchor's own word starts both runs: count it once.
        if chain and ahead:
            (ci, cj, cn), (_x, _y, an) = chain[-1], ahead[0]
            chain[-1] = (ci, cj, cn + an - 1)
            ahead = ahead[1:]
        chain += [(i + x, j + y, n) for x, y, n in ahead]
        while chain and chain[0][2] < EDGE_BLOCK:
            chain = chain[1:]
        while chain and chain[-1][2] < EDGE_BLOCK:
            chain = chain[:-1]
        pairs = [(p + t, q + t) for p, q, n in chain for t in range(n)]
        # Stop words at either end are left out: `in the` before a stock phrase of ten words
        # does not make it a passage of twelve.
        lo, hi = 0, len(pairs)
        while lo < hi and not a.content[pairs[lo][0]]:
            lo += 1
        while hi > lo and not a.content[pairs[hi - 1][0]]:
            hi -= 1
        shared = hi - lo
        if shared < rule.min_words:
            continue
        if sum(a.content[p] for p, _q in pairs[lo:hi]) < rule.min_content_share * shared:
            continue
        (fa, fb), (la, lb) = pairs[lo], pairs[hi - 1]
        out.append((fa, la, fb, lb, shared))
    return out


RESYNC = 2  # words that must match again after a difference for a passage to go on


def _extend(a: Sequence[str], b: Sequence[str], max_gap: int) -> list[tuple[int, int, int]]:
    """Matching runs (offset in a, offset in b, length) from the start of two word sequences
    that begin with the same word, going on over differences of at most `max_gap` words on each
    side after which RESYNC words match again; linear in the length of what matches."""
    runs: list[tuple[int, int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b) and a[i] == b[j]:
        n = 1
        while i + n < len(a) and j + n < len(b) and a[i + n] == b[j + n]:
            n += 1
        runs.append((i, j, n))
        i, j = i + n, j + n
        step = _resync(a, b, i, j, max_gap)
        if step is None:
            break
        i, j = i + step[0], j + step[1]
    return runs


def _resync(a: Sequence[str], b: Sequence[str], i: int, j: int, max_gap: int) -> tuple[int, int] | None:
    """The smallest skip (di, dj), each at most max_gap, after which RESYNC words match."""
    for total in range(1, 2 * max_gap + 1):
        for di in range(max(0, total - max_gap), min(total, max_gap) + 1):
            dj = total - di
            x, y = i + di, j + dj
            if x + RESYNC <= len(a) and y + RESYNC <= len(b) and a[x : x + RESYNC] == b[y : y + RESYNC]:
                return di, dj
    return None


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
