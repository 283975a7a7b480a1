"""Scoring a Whoosh query over every record at once with numpy: (match mask, scores).

BM25 (engines/ranking.py: Robertson-Sparck Jones idf, BM25_K1, BM25_B) of each term's weighted
frequency over the zoned `body` field is BM25F (see schema.py).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import ranking
from ..ranking import okapi_idf
from .postings import term_positions

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=SyntaxWarning, message=r"invalid escape sequence")
    from whoosh import query, scoring


class Okapi(scoring.BM25F):  # type: ignore[misc]
    """BM25 with the Robertson-Sparck Jones idf, log(1 + (N - n + 0.5) / (n + 0.5)).

    Whoosh's own idf, log(N / (n + 1)) + 1, keeps common words at a third of a rare word's
    weight; with this one they fade out, which matters for long questions typed in plain
    language (bench/quality.py)."""

    def idf(self, searcher: Any, fieldname: str, text: Any) -> float:
        parent = searcher.get_parent()
        return okapi_idf(parent.doc_count_all(), parent.doc_frequency(fieldname, text))


WEIGHTING = Okapi(B=ranking.BM25_B, K1=ranking.BM25_K1)  # for Whoosh's own searcher


class Evaluator:
    """Evaluates a Whoosh query over every record at once with numpy: (match mask, scores).

    Scoring is Okapi BM25 (ranking.bm25) of each term's weighted frequency,
    summed through Or/And, with boosts; AndMaybe adds its optional part where the required part
    matches; AndNot and zero-score wrappers restrict without scoring. Phrases are checked on the
    positions of their words, only in records containing all of them; proximity bonuses
    only on the best PROXIMITY_CANDIDATES records. Each subquery object is evaluated once.
    With `scoring=False` only the match mask is computed (scores stay zero, bonuses are skipped):
    for counts."""

    def __init__(self, s: Any, postings: Any, lengths: Any, live: np.ndarray, df: Any, scoring: bool = True) -> None:
        self.s = s
        self.size = s.doc_count_all()
        self.postings = postings
        self.lengths = lengths
        self.live = live
        self.df = df  # df(searcher, field, term): live records containing the term
        self.scoring = scoring
        self.memo: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def evaluate(self, q: Any, among: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        key = id(q)
        if key in self.memo and among is None:
            return self.memo[key]
        mask, scores = self._evaluate(q, among)
        boost = getattr(q, "boost", 1.0)
        if boost != 1.0 and not isinstance(q, query.Term):
            scores = scores * boost
        if among is None:
            self.memo[key] = (mask, scores)
        return mask, scores

    def _evaluate(self, q: Any, among: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(q, query.Term):
            return self.term(q)
        if isinstance(q, query.DisjunctionMax):
            # One query word analysed in several languages: its best-scoring form counts.
            mask, scores = self.empty()
            for sub in q.subqueries:
                m, sc = self.evaluate(sub, among)
                mask |= m
                np.maximum(scores, sc, out=scores)
            return mask, scores
        if isinstance(q, query.Or):
            mask, scores = self.empty()
            for sub in q.subqueries:
                m, sc = self.evaluate(sub, among)
                mask |= m
                scores += sc
            return mask, scores
        if isinstance(q, query.And):
            mask = np.ones(self.size, dtype=bool)
            scores = np.zeros(self.size)
            for sub in q.subqueries:
                m, sc = self.evaluate(sub, among)
                mask &= m
                scores += sc
            return mask, np.where(mask, scores, 0.0)
        if isinstance(q, query.AndMaybe):
            mask, scores = self.evaluate(q.a, among)
            if not self.scoring:
                return mask, scores
            if isinstance(q.b, Bonus):
                among = _best(mask, scores, ranking.PROXIMITY_CANDIDATES)
            m, sc = self.evaluate(q.b, among)
            return mask, scores + np.where(mask & m, sc, 0.0)
        if isinstance(q, query.AndNot):
            mask, scores = self.evaluate(q.a, among)
            excluded = self.evaluate(q.b, among)[0]
            return mask & ~excluded, np.where(excluded, 0.0, scores)
        if isinstance(q, ZeroScore):
            return self.evaluate(q.child, among)[0], np.zeros(self.size)
        if isinstance(q, Bonus):
            return self.evaluate(q.child, among)
        if isinstance(q, query.Every):
            return np.ones(self.size, dtype=bool), np.zeros(self.size)
        if isinstance(q, query.Phrase):
            return self.phrase(q, among)
        mask, scores = self.empty()
        if q is not query.NullQuery:  # ranges and anything else: Whoosh's matcher, unscored
            mask[np.fromiter(self.s.docs_for_query(q), dtype=np.int64)] = True
        return mask, scores

    def empty(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(self.size, dtype=bool), np.zeros(self.size)

    def term_postings(self, fieldname: str, text: Any) -> tuple[np.ndarray, np.ndarray]:
        """(record numbers, weighted frequencies) of one term; empty for an unknown field."""
        field = self.s.schema[fieldname] if fieldname in self.s.schema else None  # noqa: SIM401 (glob fields)
        if field is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        key = field.to_bytes(text) if not isinstance(text, bytes) else text
        return self.postings(self.s, fieldname, key)

    def bm25(self, fieldname: str, text: Any, ids: np.ndarray, weights: np.ndarray, boost: float) -> np.ndarray:
        """Okapi BM25 of one term in the records `ids` (its weighted frequencies `weights` there)."""
        lengths, average = self.lengths(fieldname)
        idf = okapi_idf(self.s.doc_count(), self.df(self.s, fieldname, text))
        return ranking.bm25(idf, weights, lengths[ids], average, boost)

    def term(self, q: Any) -> tuple[np.ndarray, np.ndarray]:
        mask, scores = self.empty()
        ids, weights = self.term_postings(q.fieldname, q.text)
        if not len(ids):
            return mask, scores
        mask[ids] = True
        if self.scoring and self.s.schema[q.fieldname].scorable and q.boost:
            scores[ids] = self.bm25(q.fieldname, q.text, ids, weights, q.boost)
        return mask, scores

    def phrase(self, q: Any, among: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Records with the words in order: candidates from the posting lists, rarest word first
        (a pasted passage of hundreds of words costs a few lookups per word), then checked on the
        words' positions in those records only. Scored as the sum of its words."""
        mask, scores = self.empty()
        # Rarest word first, and no more posting lists read once no record is left.
        order = sorted(set(q.words), key=lambda w: (self.df(self.s, q.fieldname, w), w))
        postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        todo = np.zeros(0, dtype=np.int64)
        for i, word in enumerate(order):
            postings[word] = ids, _weights = self.term_postings(q.fieldname, word)
            todo = (ids[among[ids]] if among is not None else ids) if i == 0 else todo[_contains(ids, todo)]
            if not len(todo):
                return mask, scores
        parts = [postings[w] for w in q.words]
        key = {w: self.s.schema[q.fieldname].to_bytes(w) for w in set(q.words)}
        positions = {w: term_positions(self.s, q.fieldname, key[w], todo) for w in order}
        for n in todo.tolist():
            found_at = [positions[w].get(n) for w in q.words]
            if all(found_at) and in_order(found_at, q.slop):  # type: ignore[arg-type]
                mask[n] = True
        found = np.flatnonzero(mask)
        if self.scoring and len(found) and self.s.schema[q.fieldname].scorable:
            for word, (ids, weights) in zip(q.words, parts, strict=True):
                at = np.searchsorted(ids, found)
                scores[found] += self.bm25(q.fieldname, word, found, weights[at], 1.0)
        return mask, scores


def in_order(positions: list[list[int]], slop: int) -> bool:
    """Whether the words occur in order, each 1 to `slop` positions after the one before (the
    positions of each word, sorted; Whoosh's ordered SpanNear with a minimum distance of 1)."""
    ends = positions[0]
    for nxt in positions[1:]:
        reached = []
        i = 0
        for p in nxt:
            while i < len(ends) and ends[i] < p - slop:
                i += 1
            if i < len(ends) and ends[i] <= p - 1:
                reached.append(p)
        if not reached:
            return False
        ends = reached
    return True


def _contains(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Which of `wanted` are in the sorted array `ids`."""
    at = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
    return ids[at] == wanted


def _best(mask: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
    """Mask of the `n` best-scoring records of `mask`."""
    idx = np.flatnonzero(mask)
    if len(idx) > n:
        idx = idx[np.argpartition(-scores[idx], n - 1)[:n]]
    out = np.zeros(len(mask), dtype=bool)
    out[idx] = True
    return out


class ZeroScore(query.WrappingQuery):  # type: ignore[misc]
    """Matches what its child matches, with score 0: a filter restricts, it never ranks."""


class Bonus(query.WrappingQuery):  # type: ignore[misc]
    """A ranking bonus evaluated only on the best candidates (proximity of query words)."""
