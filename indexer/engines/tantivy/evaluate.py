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
from ..ranking import bm25, okapi_idf


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

    `postings(field, term)`: (record numbers, weighted frequencies); `lengths(field)`: (length
    of every record, average); `phrase(node)`: record numbers with the phrase; `matching(node)`:
    record numbers of a range; `scorable(field)`; `doc_freq(field, term)`; `total`: records of
    the index, deleted ones included (the idf's N); `cached(field, term, compute)`, when given:
    a word's BM25 at boost 1 in its postings' records, computed by `compute` (this evaluator's
    `bm25`) unless the engine kept it from an earlier query."""

    def __init__(
        self,
        size: int,
        total: int,
        postings: Postings,
        lengths: Callable[[str], tuple[np.ndarray, float]],
        phrase: Callable[[PhraseQ], np.ndarray],
        matching: Callable[[RangeQ], np.ndarray],
        scorable: Callable[[str], bool],
        doc_freq: Callable[[str, object], int],
        cached: Callable[[str, object, Callable[[], np.ndarray]], np.ndarray] | None = None,
    ) -> None:
        self.size = size
        self.total = total
        self.postings = postings
        self.lengths = lengths
        self.phrase_matches = phrase
        self.matching = matching
        self.scorable = scorable
        self.doc_freq = doc_freq
        self.cached = cached
        self.memo: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def evaluate(self, q: Plan, among: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        key = id(q)
        if key in self.memo and among is None:
            return self.memo[key]
        mask, scores = self._evaluate(q, among)
        if q.boost != 1.0 and not isinstance(q, TermQ):
            scores = scores * q.boost
        if among is None:
            self.memo[key] = (mask, scores)
        return mask, scores

    def empty(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(self.size, dtype=bool), np.zeros(self.size)

    def _evaluate(self, q: Plan, among: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(q, TermQ):
            return self.term(q)
        # A word's postings are added where they are (scores are never negative, so adding or
        # keeping the larger of a zero elsewhere changes nothing): no record-sized arrays per word.
        if isinstance(q, BestOf):
            mask, scores = self.empty()
            for sub in q.subs:
                if self._sparse(sub):
                    ids, sc = self.term_scores(sub)  # type: ignore[arg-type]
                    mask[ids] = True
                    scores[ids] = np.maximum(scores[ids], sc)
                    continue
                m, full = self.evaluate(sub, among)
                mask |= m
                np.maximum(scores, full, out=scores)
            return mask, scores
        if isinstance(q, AnyQ):
            mask, scores = self.empty()
            for sub in q.subs:
                if self._sparse(sub):
                    ids, sc = self.term_scores(sub)  # type: ignore[arg-type]
                    mask[ids] = True
                    scores[ids] += sc
                    continue
                m, full = self.evaluate(sub, among)
                mask |= m
                scores += full
            return mask, scores
        if isinstance(q, AllQ):
            mask = np.ones(self.size, dtype=bool)
            scores = np.zeros(self.size)
            for sub in q.subs:
                if self._sparse(sub):
                    ids, sc = self.term_scores(sub)  # type: ignore[arg-type]
                    present = np.zeros(self.size, dtype=bool)
                    present[ids] = True
                    mask &= present
                    scores[ids] += sc
                    continue
                m, full = self.evaluate(sub, among)
                mask &= m
                scores += full
            return mask, np.where(mask, scores, 0.0)
        if isinstance(q, AndMaybe):
            mask, scores = self.evaluate(q.required, among)
            if isinstance(q.optional, Bonus):
                among = _best(mask, scores, ranking.PROXIMITY_CANDIDATES)
            m, sc = self.evaluate(q.optional, among)
            return mask, scores + np.where(mask & m, sc, 0.0)
        if isinstance(q, AndNot):
            mask, scores = self.evaluate(q.positive, among)
            excluded = self.evaluate(q.negative, among)[0]
            return mask & ~excluded, np.where(excluded, 0.0, scores)
        if isinstance(q, ZeroScore):
            return self.evaluate(q.child, among)[0], np.zeros(self.size)
        if isinstance(q, Bonus):
            return self.evaluate(q.child, among)
        if isinstance(q, Every):
            return np.ones(self.size, dtype=bool), np.zeros(self.size)
        if isinstance(q, PhraseQ):
            return self.phrase(q, among)
        mask, scores = self.empty()
        if isinstance(q, RangeQ):
            mask[self.matching(q)] = True
        return mask, scores

    def bm25(self, fieldname: str, text: object, ids: np.ndarray, weights: np.ndarray, boost: float) -> np.ndarray:
        """Okapi BM25 of one term in the records `ids` (its weighted frequencies `weights` there)."""
        lengths, average = self.lengths(fieldname)
        idf = okapi_idf(self.total, self.doc_freq(fieldname, text))
        return bm25(idf, weights, lengths[ids], average, boost)

    def _sparse(self, q: Plan) -> bool:
        """Whether `q` is a word that can be added from its postings (not evaluated already)."""
        return isinstance(q, TermQ) and id(q) not in self.memo

    def term_scores(self, q: TermQ) -> tuple[np.ndarray, np.ndarray]:
        """(records with the word, its scores there; zeros when it is not scored)."""
        ids, weights = self.postings(q.field, q.text)
        if len(ids) and self.scorable(q.field) and q.boost:
            return ids, self._scores(q, ids, weights)
        return ids, np.zeros(len(ids))

    def _scores(self, q: TermQ, ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """BM25 of a word in its postings' records (`ids`, `weights`: its postings)."""
        if q.boost == 1.0 and self.cached is not None:
            return self.cached(q.field, q.text, lambda: self.bm25(q.field, q.text, ids, weights, 1.0))
        return self.bm25(q.field, q.text, ids, weights, q.boost)

    def term(self, q: TermQ) -> tuple[np.ndarray, np.ndarray]:
        mask, scores = self.empty()
        ids, weights = self.postings(q.field, q.text)
        if not len(ids):
            return mask, scores
        mask[ids] = True
        if self.scorable(q.field) and q.boost:
            scores[ids] = self._scores(q, ids, weights)
        return mask, scores

    def phrase(self, q: PhraseQ, among: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Records with the words in order (tantivy over positions), scored as the sum of their
        words in the field's scored counterpart."""
        mask, scores = self.empty()
        found = self.phrase_matches(q)
        if among is not None and len(found):
            found = found[among[found]]
        if not len(found):
            return mask, scores
        mask[found] = True
        scored = SCORED_FOR.get(q.field)
        if scored is not None and self.scorable(scored):
            for word in q.words:
                ids, weights = self.postings(scored, word)
                at = np.minimum(np.searchsorted(ids, found), max(0, len(ids) - 1))
                scores[found] += self.bm25(scored, word, found, weights[at], 1.0)
        return mask, scores


# A positional field -> the field its words are scored in.
SCORED_FOR = {"body": "bodyw"}


def _best(mask: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
    """Mask of the `n` best-scoring records of `mask`."""
    idx = np.flatnonzero(mask)
    if len(idx) > n:
        idx = idx[np.argpartition(-scores[idx], n - 1)[:n]]
    out = np.zeros(len(mask), dtype=bool)
    out[idx] = True
    return out
