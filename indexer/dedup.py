"""Exact hashes, near-duplicate families and the version timeline.

Identity: `version_id` hashes the file's own normalized text (never text that depends on other
files), so exact duplicates collapse to one version with several sources; a document's id is a
function of its members (`family_doc_id`). Families: MinHash over word 5-shingles, candidates from
LSH banding (sub-quadratic), then verified by exact shingle Jaccard. MinHash and banding are
written here with numpy (a few lines each): datasketch did the same but its import pulled in
scipy, 0.45 s of every `palimpsest index` start (python -X importtime). Threshold, measured on the seeds and
corpus (k=5): seeds 000/001 0.98, two saved copies of a corpus article 0.73, every unrelated
pair <= 0.023 (seed 004, which quotes a paragraph of 000, does not register). Verification
at 0.5 sits in the middle of that gap; LSH runs at 0.4 so 0.5 pairs are not missed.
MediaWiki revisions of one page are one family by their lineage key, whatever they share.
Timeline: every revision and every saved copy is an entry (`timeline`); a revert is an entry
of its own that carries an earlier entry's version.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .models import TimelineEntry

_WORD = re.compile(r"\w+")
# MinHash with 32-bit shingle hashes and universal hash permutations h(x) = (a*x + b) mod p,
# kept to 32 bits (a, b < 2**32, so a*x + b never leaves 64 bits). Seeded: the same text gives
# the same signature in every process and every release.
_PRIME = np.uint64((1 << 61) - 1)
_MASK32 = np.uint64((1 << 32) - 1)
_SEED = 1
_PERMUTATIONS: dict[int, tuple[np.ndarray, np.ndarray]] = {}
_BANDS: dict[tuple[float, int], tuple[int, int]] = {}
SHINGLE_CACHE = 400_000  # shingles kept for the comparisons of assign_documents (about 40 MB)


def _permutations(perms: int) -> tuple[np.ndarray, np.ndarray]:
    if perms not in _PERMUTATIONS:
        rng = np.random.RandomState(_SEED)
        a = rng.randint(1, 1 << 32, size=perms, dtype=np.uint64)
        b = rng.randint(0, 1 << 32, size=perms, dtype=np.uint64)
        _PERMUTATIONS[perms] = (a[:, None], b[:, None])
    return _PERMUTATIONS[perms]


def lsh_bands(threshold: float, perms: int) -> tuple[int, int]:
    """(bands, rows per band) whose S-curve 1 - (1 - s**r)**b best separates pairs above and
    below `threshold` (equal weight on false positives and false negatives)."""
    key = (threshold, perms)
    if key not in _BANDS:
        grid = np.linspace(0.0, 1.0, 1001)
        best = (float("inf"), 1, perms)
        for r in range(1, perms + 1):
            b = perms // r
            p = 1.0 - (1.0 - grid**r) ** b
            error = np.where(grid < threshold, p, 1.0 - p).mean()  # the integral over [0, 1]
            best = min(best, (float(error), b, r))
        _BANDS[key] = (best[1], best[2])
    return _BANDS[key]


def version_id_for(normalized_text: str) -> str:
    """Stable id of a content state."""
    return hashlib.sha256(normalized_text.encode("utf-8")).hexdigest()[:16]


def doc_id_for(key: str) -> str:
    """Stable id of a document from its founding key (lineage key or first version id)."""
    return hashlib.sha256(f"doc\0{key}".encode()).hexdigest()[:16]


def shingles(text: str, k: int = 5) -> set[bytes]:
    """Word k-shingles of lowercased text (the whole text when shorter than k words)."""
    words = _WORD.findall(text.lower())
    if len(words) < k:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + k]).encode("utf-8") for i in range(len(words) - k + 1)}


def signature(sh: set[bytes], perms: int = 128) -> np.ndarray:
    """MinHash signature of a set of shingles (all ones of 32 bits for the empty set)."""
    if not sh:
        return np.full(perms, int(_MASK32), dtype=np.uint64)
    hashed = np.fromiter(
        (int.from_bytes(hashlib.blake2b(x, digest_size=4).digest(), "little") for x in sh),
        dtype=np.uint64,
        count=len(sh),
    )
    a, b = _permutations(perms)
    out = np.full(perms, int(_MASK32), dtype=np.uint64)
    for start in range(0, len(hashed), 4096):  # bounded memory for very long texts
        chunk = hashed[None, start : start + 4096]
        np.minimum(out, (((a * chunk + b) % _PRIME) & _MASK32).min(axis=1), out=out)
    return out


def jaccard(a: set[bytes], b: set[bytes]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class Occurrence:
    """One place a version's text was found: a file (revision "") or one revision of an export."""

    version_id: str
    path: str
    revision: str
    own_date: str | None
    run_id: int
    seq: int


@dataclass
class Candidate:
    """What dedup needs to know about one version."""

    version_id: str
    signature: np.ndarray
    lineage_key: str | None
    doc_id: str | None  # set for versions already stored


class _UnionFind:
    def __init__(self, items: Iterable[str]) -> None:
        self.parent = {i: i for i in items}

    def find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            lo, hi = sorted((ra, rb))
            self.parent[hi] = lo


def assign_documents(
    new: Sequence[Candidate],
    existing: Sequence[Candidate],
    lsh_threshold: float = 0.4,
    verify: float = 0.5,
    perms: int = 128,
    shingles_of: Callable[[str], set[bytes]] | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Families of new and stored versions: (doc_id of every version whose document is new or
    changed, old doc_id -> new doc_id of stored documents whose id changed). A family's id is
    `family_doc_id` of its members, so neither input order nor the runs the files came in matter."""
    all_c = {c.version_id: c for c in existing}
    all_c.update({c.version_id: c for c in new})
    # Only the buckets of the new versions' band keys are ever looked into.
    wanted = BandFilter(new, lsh_threshold, perms)
    bands, rows = wanted.bands, wanted.rows
    buckets: dict[tuple[int, bytes], list[str]] = {}
    for vid in sorted(all_c):
        for key in _band_keys(all_c[vid].signature, bands, rows):
            if key in wanted.keys:
                buckets.setdefault(key, []).append(vid)
    uf = _UnionFind(all_c)
    # The shingles of the versions compared last, up to SHINGLE_CACHE shingles in all (the
    # least recently used are dropped, and made again if needed): the candidates of a large
    # batch against a large store would otherwise keep every text they touched as shingles.
    cache: OrderedDict[str, set[bytes]] = OrderedDict()
    held = 0

    def sh(vid: str) -> set[bytes]:
        nonlocal held
        found = cache.get(vid)
        if found is not None:
            cache.move_to_end(vid)
            return found
        made = shingles_of(vid) if shingles_of else set()
        cache[vid] = made
        held += len(made)
        while held > SHINGLE_CACHE and len(cache) > 2:  # the two being compared stay
            _old, dropped = cache.popitem(last=False)
            held -= len(dropped)
        return made

    # Revisions of one page (one lineage key) are one document whatever their texts: joined
    # first, they are never compared (a family is the same set whatever order unions come in).
    by_lineage: dict[str, str] = {}
    for vid in sorted(all_c):
        key = all_c[vid].lineage_key
        if key:
            if key in by_lineage:
                uf.union(vid, by_lineage[key])
            else:
                by_lineage[key] = vid
    for c in sorted(new, key=lambda c: c.version_id):
        near = {v for key in _band_keys(c.signature, bands, rows) for v in buckets.get(key, ())}
        for other in sorted(near):
            if other == c.version_id or uf.find(other) == uf.find(c.version_id):
                continue  # already one family: comparing them would change nothing
            o = all_c[other]
            if c.lineage_key and o.lineage_key and c.lineage_key != o.lineage_key:
                continue  # two pages of one wiki export are never one document
            if jaccard(sh(c.version_id), sh(other)) >= verify:
                uf.union(c.version_id, other)
    families: dict[str, list[str]] = {}
    for vid in all_c:
        families.setdefault(uf.find(vid), []).append(vid)
    out: dict[str, str] = {}
    renamed: dict[str, str] = {}
    new_ids = {c.version_id for c in new}
    for members in families.values():
        if not new_ids.intersection(members):
            continue
        doc_id = family_doc_id([(m, all_c[m].lineage_key) for m in members])
        for m in members:
            old = all_c[m].doc_id
            if m in new_ids or old != doc_id:
                out[m] = doc_id
            if old and old != doc_id:
                renamed[old] = doc_id
    return out, renamed


def signature_bytes(sig: np.ndarray) -> bytes:
    """A signature as the store keeps it: little-endian uint64s."""
    return np.ascontiguousarray(sig, dtype="<u8").tobytes()


def signature_from_bytes(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64)


def _band_keys(sig: np.ndarray, bands: int, rows: int) -> list[tuple[int, bytes]]:
    return _raw_band_keys(signature_bytes(sig[: bands * rows]), bands, rows)


def _raw_band_keys(raw: bytes, bands: int, rows: int) -> list[tuple[int, bytes]]:
    """The LSH band keys of a signature given as its little-endian uint64 bytes (as stored)."""
    width = rows * 8
    return [(i, raw[i * width : (i + 1) * width]) for i in range(bands)]


class BandFilter:
    """The LSH band keys of some new candidates, to pick out, from all the stored versions
    streaming by, the few that share a band with one of them: the only stored versions
    `assign_documents` can find near a new one (nothing is kept of the others)."""

    def __init__(self, new: Iterable[Candidate], lsh_threshold: float = 0.4, perms: int = 128) -> None:
        self.bands, self.rows = lsh_bands(lsh_threshold, perms)
        self.keys = {k for c in new for k in _band_keys(c.signature, self.bands, self.rows)}

    def shares_band(self, signature_bytes: bytes) -> bool:
        """Whether a stored signature (little-endian uint64 bytes) shares a band key with a new one."""
        keys = self.keys
        return any(k in keys for k in _raw_band_keys(signature_bytes, self.bands, self.rows))


StoredRow = tuple[str, str, str | None, bytes]  # version_id, doc_id, lineage_key, signature bytes


def related_stored(
    new: Sequence[Candidate],
    stored: Iterable[StoredRow],
    by_lineage: Callable[[set[str]], Iterable[StoredRow]],
    lsh_threshold: float = 0.4,
    perms: int = 128,
) -> list[Candidate]:
    """The stored versions that can join a family with a new one, from a stream of every stored
    version (`stored`, read once, nothing kept of the others) and a look-up of the versions of
    some lineage keys: those sharing an LSH band with a new version, and those with the lineage
    key of a new version or of one of these. `assign_documents` gives the same result with them
    as with every stored version: a family it reports has a new member, and its stored members
    are near a new one or of a lineage in the family (unions are made from new versions only,
    and by lineage key)."""
    if not new:
        return []
    bands = BandFilter(new, lsh_threshold, perms)
    rows = {r[0]: r for r in stored if bands.shares_band(r[3])}
    lineages = {c.lineage_key for c in new if c.lineage_key} | {r[2] for r in rows.values() if r[2]}
    if lineages:
        for r in by_lineage(lineages):
            rows.setdefault(r[0], r)
    return [Candidate(vid, signature_from_bytes(sig), lineage, doc) for vid, doc, lineage, sig in rows.values()]


def family_doc_id(members: Iterable[tuple[str, str | None]]) -> str:
    """A document's id as a function of its members (version id, lineage key): from the smallest
    lineage key when there is one, else from the smallest version id. The same files give the
    same id whatever the order or the number of runs they came in."""
    members = list(members)
    keys = sorted(k for _v, k in members if k)
    return doc_id_for(keys[0] if keys else min(v for v, _k in members))


def timeline(occurrences: Iterable[Occurrence]) -> list[TimelineEntry]:
    """A document's timeline: one entry per revision of an export, and one per saved copy of a
    text at a date (copies of one text with no date of their own, or the same date, are one entry
    with several sources). Entries are in the order of their own dates when every entry has one,
    else in the order they were first seen (run, then position in the run)."""
    groups: dict[tuple[str, ...], list[Occurrence]] = {}
    for o in occurrences:
        key = ("revision", o.revision) if o.revision else ("copy", o.version_id, o.own_date or "")
        groups.setdefault(key, []).append(o)
    rows = []
    for key, occ in groups.items():
        first = min((o.run_id, o.seq) for o in occ)
        first_occ = min(occ, key=lambda o: (o.run_id, o.seq, o.path))
        rows.append((key, first, first_occ, sorted({o.path for o in occ})))
    if rows and all(r[2].own_date for r in rows):
        rows.sort(key=lambda r: (r[2].own_date, r[1], r[0]))
    else:
        rows.sort(key=lambda r: (r[1], r[2].own_date or "", r[0]))
    out: list[TimelineEntry] = []
    first_of: dict[str, int] = {}
    for n, (key, first, o, paths) in enumerate(rows, 1):
        same = first_of.setdefault(o.version_id, n)
        out.append(
            TimelineEntry(
                number=n,
                version_id=o.version_id,
                kind="revision" if key[0] == "revision" else "copy",
                date=o.own_date,
                first_run=first[0],
                files=tuple(paths),
                revision=o.revision or None,
                same_as=same if same != n else None,
            )
        )
    return out


def version_order(entries: Sequence[TimelineEntry]) -> list[str]:
    """Distinct versions, oldest first, each placed by its last entry (so the latest entry's
    version is last, also when that entry is a revert to an earlier text)."""
    last = {e.version_id: e.number for e in entries}
    return sorted(last, key=lambda v: last[v])
