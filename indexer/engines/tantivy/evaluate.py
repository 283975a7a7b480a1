"""Scoring a query plan over every record at once with numpy: (match mask, scores).

The plan (translate.py builds it) is made of the nodes below. Scoring is the product's BM25F,
as the Whoosh engine computes it (engines/ranking.py: Okapi BM25 with the Robertson-Sparck Jones
idf, BM25_K1 and BM25_B), over each term's weighted frequency in the zoned
`body` (or the named field), summed through Or/And, with boosts; AndMaybe adds its optional part
where the required part matches; AndNot and ZeroScore restrict without scoring. Phrases are
matched by tantivy over positions and scored as the sum of their words; proximity bonuses only
on the best PROXIMITY_CANDIDATES records. Each plan node is evaluated once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import ranking
from ..ranking import okapi_idf
from . import loops


@dataclass(eq=False)
class Plan:
    """A node of a query plan (compared by identity: a node shared by two parents is evaluated once)."""

    boost: float = field(default=1.0, kw_only=True)


@dataclass(eq=False)
class TermQ(Plan):
    field: str
    text: str | int | bool


@dataclass(eq=False)
class PhraseQ(Plan):
    """Words in order in a positional field, at most `slop` positions apart (1: next to each other)."""

    field: str
    words: list[str]
    slop: int = 1


@dataclass(eq=False)
class RangeQ(Plan):
    field: str
    lo: int | None
    hi: int | None


@dataclass(eq=False)
class BestOf(Plan):
    """One query word in several languages: its best-scoring form counts."""

    subs: list[Plan]


@dataclass(eq=False)
class AnyQ(Plan):
    subs: list[Plan]


@dataclass(eq=False)
class AllQ(Plan):
    subs: list[Plan]


@dataclass(eq=False)
class AndMaybe(Plan):
    required: Plan
    optional: Plan


@dataclass(eq=False)
class AndNot(Plan):
    positive: Plan
    negative: Plan


@dataclass(eq=False)
class ZeroScore(Plan):
    """Matches what its child matches, with score 0: a filter restricts, it never ranks."""

    child: Plan


@dataclass(eq=False)
class Bonus(Plan):
    """A ranking bonus evaluated only on the best candidates (proximity of query words)."""

    child: Plan


@dataclass(eq=False)
class Every(Plan):
    pass


@dataclass(eq=False)
class Nothing(Plan):
    pass


Postings = Callable[[str, object], tuple[np.ndarray, np.ndarray]]


class Evaluator:
    """Evaluates a plan over every record at once: (match mask, scores).

    `postings(field, term)`: (record numbers, ascending; weighted frequencies); `norms(field)`:
    BM25's length normalisation of every record (ranking.length_norm); `phrase(node, among)`: record numbers with the phrase
    (`among`: the only records asked about, ascending, or None: every record); `matching(node)`:
    record numbers of a range; `scorable(field)`; `doc_freq(field, term)`; `total`: records of
    the index, deleted ones included (the idf's N); `cached(field, term, compute)`, when given:
    a word's BM25 at boost 1 in its postings' records, computed by `compute` (this evaluator's
    `bm25`) unless the engine kept it from an earlier query. Without `scoring`: the same
    records, every score 0 (no BM25, no proximity bonus: an optional part matches nothing more)."""

    def __init__(
        self,
        size: int,
        total: int,
        postings: Postings,
        norms: Callable[[str], np.ndarray],
        phrase: Callable[[PhraseQ, np.ndarray | None], np.ndarray],
        matching: Callable[[RangeQ], np.ndarray],
        scorable: Callable[[str], bool],
        doc_freq: Callable[[str, object], int],
        cached: Callable[[str, object, Callable[[], np.ndarray]], np.ndarray] | None = None,
        scoring: bool = True,
    ) -> None:
        self.size = size
        self.total = total
        self.postings = postings
        self.norms = norms
        self.phrase_matches = phrase
        self.matching = matching
        self.scorable = scorable
        self.doc_freq = doc_freq
        self.cached = cached
        self.scoring = scoring
        self.memo: dict[int, Matches] = {}
        # node -> its parents in the plan `records` evaluates (empty for `evaluate` called
        # alone: every part is then copied before a bonus is added)
        self.uses: dict[int, int] = {}

    def records(self, q: Plan) -> tuple[np.ndarray, np.ndarray]:
        """(the records `q` matches, ascending; their scores)."""
        self.uses = _uses(q)
        found = self.evaluate(q)
        if isinstance(found, Sparse):
            return found.ids, found.scores
        ids = np.flatnonzero(found.mask)
        return ids, (found.scores[ids] if self.scoring else np.zeros(len(ids)))

    def evaluate(self, q: Plan, among: np.ndarray | None = None) -> Matches:
        """What `q` matches, with scores (`among`: a mask of the only records a proximity bonus
        is computed for)."""
        key = id(q)
        if key in self.memo and among is None:
            return self.memo[key]
        found = self._evaluate(q, among)
        if q.boost != 1.0 and not isinstance(q, TermQ) and self.scoring:
            found = found.scaled(q.boost)
        if among is None:
            self.memo[key] = found
        return found

    def _evaluate(self, q: Plan, among: np.ndarray | None) -> Matches:
        if isinstance(q, TermQ):
            return self.term(q)
        if isinstance(q, (AnyQ, BestOf)):
            parts = [self.evaluate(sub, among) for sub in q.subs]
            return self._union(parts, best=isinstance(q, BestOf))
        if isinstance(q, AllQ):
            return self._intersection([self.evaluate(sub, among) for sub in q.subs])
        if isinstance(q, AndMaybe):
            required = self.evaluate(q.required, among)
            if not self.scoring:
                return required
            if isinstance(q.optional, Bonus):
                among = self._best(required, ranking.PROXIMITY_CANDIDATES)
            optional = self.evaluate(q.optional, among)
            if isinstance(required, Sparse):
                present, values = optional.at(required.ids)
                return Sparse(required.ids, required.scores + np.where(present, values, 0.0))
            if isinstance(optional, Sparse):
                # The bonus is added in place when no other node reads the required part's
                # scores (record-sized: a copy costs a millisecond or two at a million records).
                alone = required.own and self.uses.get(id(q.required)) == 1
                scores = required.scores if alone else required.scores.copy()
                both = optional.ids[required.mask[optional.ids]]
                scores[both] += optional.at(both)[1]
                return Dense(required.mask, scores, own=True)
            added = required.scores + np.where(required.mask & optional.mask, optional.scores, 0.0)
            return Dense(required.mask, added, own=True)
        if isinstance(q, AndNot):
            positive = self.evaluate(q.positive, among)
            negative = self.evaluate(q.negative, among)
            if isinstance(positive, Sparse):
                keep = ~negative.at(positive.ids)[0]
                return Sparse(positive.ids[keep], positive.scores[keep])
            excluded = negative.mask if isinstance(negative, Dense) else self._mask(negative.ids)
            scores = np.where(excluded, 0.0, positive.scores) if self.scoring else positive.scores
            return Dense(positive.mask & ~excluded, scores, own=self.scoring)
        if isinstance(q, ZeroScore):
            return self.evaluate(q.child, among).scaled(0.0)
        if isinstance(q, Bonus):  # (its child's matches, not its child's own: another node's)
            found = self.evaluate(q.child, among)
            return Dense(found.mask, found.scores) if isinstance(found, Dense) else found
        if isinstance(q, Every):
            return Dense(np.ones(self.size, dtype=bool), np.zeros(self.size), own=True)
        if isinstance(q, PhraseQ):
            return self.phrase(q, among)
        if isinstance(q, RangeQ):
            ids = np.unique(np.asarray(self.matching(q), dtype=np.int64))
            return Sparse(ids, np.zeros(len(ids)))
        return Sparse.empty()

    def _union(self, parts: list[Matches], best: bool) -> Matches:
        """Records any part matches, scored by the sum of the parts' scores (`best`: the best
        part's score). A few postings in all: merged as lists; else added into record-sized
        arrays where they are (scores are never negative: adding, or keeping the larger of, a
        zero elsewhere changes nothing)."""
        if all(isinstance(p, Sparse) for p in parts):
            sparse = [p for p in parts if isinstance(p, Sparse)]
            if sum(len(p.ids) for p in sparse) * SPARSE_SHARE < self.size:
                ids = np.concatenate([p.ids for p in sparse]) if sparse else np.zeros(0, dtype=np.int64)
                scores = np.concatenate([p.scores for p in sparse]) if sparse else np.zeros(0)
                uniq, inverse = np.unique(ids, return_inverse=True)
                if best:
                    out = np.zeros(len(uniq))
                    np.maximum.at(out, inverse, scores)
                else:  # (summed in the parts' order, as the arrays below are)
                    out = np.bincount(inverse, weights=scores, minlength=len(uniq))
                return Sparse(uniq, out)
        mask = np.zeros(self.size, dtype=bool)
        scores = np.zeros(self.size)  # (never written without scoring: no page of it is touched)
        for p in parts:
            if isinstance(p, Sparse):
                if self.scoring:  # (as np.add.at or np.maximum.at: loops.py)
                    loops.combine_into(mask, scores, p.ids, p.scores, best)
                else:
                    mask[p.ids] = True
            else:
                mask |= p.mask
                if not self.scoring:
                    continue
                if best:
                    np.maximum(scores, p.scores, out=scores)
                else:
                    scores += p.scores
        return Dense(mask, scores, own=True)

    def _intersection(self, parts: list[Matches]) -> Matches:
        """Records every part matches, scored by the sum of the parts' scores: the rarest part's
        records looked up in the others when a part is a list."""
        sparse = [p for p in parts if isinstance(p, Sparse)]
        if not sparse:
            mask = np.ones(self.size, dtype=bool)
            scores = np.zeros(self.size)
            for p in parts:
                mask &= p.mask  # type: ignore[union-attr]
                if self.scoring:
                    scores += p.scores
            return Dense(mask, np.where(mask, scores, 0.0) if self.scoring else scores, own=True)
        ids = min(sparse, key=lambda p: len(p.ids)).ids
        for p in sorted(parts, key=lambda p: len(p.ids) if isinstance(p, Sparse) else self.size):
            ids = ids[p.at(ids)[0]]
        total = np.zeros(len(ids))
        for p in parts:  # (summed in the parts' order)
            total += p.at(ids)[1]
        return Sparse(ids, total)

    def _best(self, found: Matches, n: int) -> np.ndarray:
        """Mask of the `n` best-scoring records of `found`."""
        ids, scores = (found.ids, found.scores) if isinstance(found, Sparse) else _listed(found)
        if len(ids) > n:
            ids = ids[np.argpartition(-scores, n - 1)[:n]]
        return self._mask(ids)

    def _mask(self, ids: np.ndarray) -> np.ndarray:
        out = np.zeros(self.size, dtype=bool)
        out[ids] = True
        return out

    def bm25(self, fieldname: str, text: object, ids: np.ndarray, weights: np.ndarray, boost: float) -> np.ndarray:
        """Okapi BM25 of one term in the records `ids` (its weighted frequencies `weights` there)."""
        idf = okapi_idf(self.total, self.doc_freq(fieldname, text))
        # (ranking.bm25_normed over norms[ids], in one pass: the same operations in the same order)
        return loops.bm25_at(boost * idf, ranking.BM25_K1 + 1, weights, self.norms(fieldname), ids)

    def _scores(self, q: TermQ, ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """BM25 of a word in its postings' records (`ids`, `weights`: its postings)."""
        if q.boost == 1.0 and self.cached is not None:
            return self.cached(q.field, q.text, lambda: self.bm25(q.field, q.text, ids, weights, 1.0))
        return self.bm25(q.field, q.text, ids, weights, q.boost)

    def term(self, q: TermQ) -> Sparse:
        """The records with the word, with its scores there (zeros when it is not scored)."""
        ids, weights = self.postings(q.field, q.text)
        if not len(ids):
            return Sparse.empty()
        scored = self.scoring and self.scorable(q.field) and q.boost
        scores = self._scores(q, ids, weights) if scored else np.zeros(len(ids))
        return Sparse(ids, scores)

    def phrase(self, q: PhraseQ, among: np.ndarray | None) -> Sparse:
        """Records with the words in order (tantivy over positions), scored as the sum of their
        words in the field's scored counterpart."""
        asked = np.flatnonzero(among) if among is not None else None
        found = np.unique(np.asarray(self.phrase_matches(q, asked), dtype=np.int64))
        if among is not None and len(found):
            found = found[among[found]]
        scores = np.zeros(len(found))
        if not len(found):
            return Sparse(found, scores)
        scored = SCORED_FOR.get(q.field)
        if scored is not None and self.scorable(scored) and self.scoring:
            for word in q.words:
                ids, weights = self.postings(scored, word)
                at = np.minimum(np.searchsorted(ids, found), max(0, len(ids) - 1))
                scores += self.bm25(scored, word, found, weights[at], 1.0)
        return Sparse(found, scores)


@dataclass(frozen=True)
class Sparse:
    """Matching records as a list: record numbers (ascending, distinct) and their scores."""

    ids: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls) -> Sparse:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0))

    def at(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(whether each of `ids` is here, its score here or 0)."""
        if not len(self.ids):
            return np.zeros(len(ids), dtype=bool), np.zeros(len(ids))
        pos = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        present = self.ids[pos] == ids
        return present, np.where(present, self.scores[pos], 0.0)

    def scaled(self, factor: float) -> Sparse:
        return Sparse(self.ids, self.scores * factor)


@dataclass(frozen=True)
class Dense:
    """Matching records as a mask over every record, with a score for every record (0 where
    it does not match). `own`: the scores were made for this node alone, so its parent may add
    to them when it is the only node to read them (masks are never changed once made)."""

    mask: np.ndarray
    scores: np.ndarray
    own: bool = False

    def at(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(whether each of `ids` is here, its score here or 0)."""
        return self.mask[ids], self.scores[ids]

    def scaled(self, factor: float) -> Dense:
        return Dense(self.mask, self.scores * factor, own=True)


Matches = Sparse | Dense

# A union of lists is merged as lists while its postings number less than 1/SPARSE_SHARE of the
# records (sorting them costs more than adding into record-sized arrays beyond that).
SPARSE_SHARE = 8


def _uses(plan: Plan) -> dict[int, int]:
    """How many parents each node of a plan has (a node shared by two parents is read twice)."""
    uses: dict[int, int] = {}
    seen: set[int] = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for child in _children(node):
            uses[id(child)] = uses.get(id(child), 0) + 1
            stack.append(child)
    return uses


def _children(node: Plan) -> list[Plan]:
    if isinstance(node, (AnyQ, AllQ, BestOf)):
        return list(node.subs)
    if isinstance(node, AndMaybe):
        return [node.required, node.optional]
    if isinstance(node, AndNot):
        return [node.positive, node.negative]
    if isinstance(node, (ZeroScore, Bonus)):
        return [node.child]
    return []


def _listed(found: Dense) -> tuple[np.ndarray, np.ndarray]:
    ids = np.flatnonzero(found.mask)
    return ids, found.scores[ids]


# A positional field -> the field its words are scored in.
SCORED_FOR = {"body": "bodyw"}
