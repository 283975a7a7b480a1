"""The product's ranking, one definition for every engine (engines/<name>/ only build and run it).

The constants were chosen across the quality suite (bench/ranking_study.py, bench/RESULTS.md);
`QueryReader` reads a query tree the same way for every engine: words analysed in every language
of the index (or those a required `lang:` filter names), a word whose forms differ between
languages scored by its best form, one phrase per language, coordination and proximity bonuses for
OR-ed words, pasted text as a bag of its most distinctive words, prefixes and fuzzy words expanded
over the unstemmed vocabulary. An engine's translator subclasses it and says how to build each kind
of clause in its own terms (a Whoosh query, a tantivy plan, ...), how to read its statistics and
its vocabulary, and how to match a facet or a date range. Scores are BM25 (`bm25`) with the
Robertson-Sparck Jones idf (`okapi_idf`) over each term's weighted frequency in the zoned body.

Read the constants through this module (`ranking.BM25_K1`), not by importing their values, so
that bench/ranking_study.py can vary them.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Generic, TypeVar

import numpy as np

from ..analysis import analyzer_for, is_query_stop, plain_terms, query_languages, query_terms, tokens
from ..errors import QueryError
from ..querytree import MAX_EXPANSION, Bool, DateRange, Filter, Fuzzy, MatchAll, Node, Passage, Phrase, Prefix, Term
from .base import Hit

# Robertson's k1 and a length normalisation between Lucene's 0.75 and Anserini's 0.4.
BM25_K1 = 1.2
BM25_B = 0.6
# Coordination: records containing every one of 2-8 OR-ed clauses score their sum once more,
# times COORD_BOOST.
COORD_BOOST = 0.5
COORD_MAX_CLAUSES = 8
# Proximity: neighbouring words of a 2-4 word query within PROXIMITY_SLOP positions of each other
# (bench/ranking_study.py: neutral on the suite's long questions, kept for short queries).
PROXIMITY_SLOP = 3
PROXIMITY_MAX_WORDS = 4
PROXIMITY_BOOST = 0.3
PROXIMITY_CANDIDATES = 200  # the bonus is computed for this many best records
# Pasted text and long questions are searched by this many of their most distinctive words
# (bench/ranking_study.py: 32 / 64 / 128 words give a mean nDCG@10 of 0.4484 / 0.4472 / 0.4471;
# 32 reads half the posting lists of 64).
PASSAGE_TERMS = 32

P = TypeVar("P")  # an engine's query plan


def okapi_idf(total: int, n: int) -> float:
    """Robertson-Sparck Jones idf of a term in `n` of `total` records, log(1 + (N - n + 0.5) /
    (n + 0.5)): common words fade out, which matters for long questions in plain language. Engines
    count live records only, so an index that replaced records scores as one built without them
    (issue 17, finding 2)."""
    return math.log(1 + (total - n + 0.5) / (n + 0.5))


def bm25(idf: float, weights: np.ndarray, lengths: np.ndarray, average: float, boost: float) -> np.ndarray:
    """BM25 of one term in some records: its weighted frequency `weights` and the records'
    `lengths` in the field (`average`: the field's mean length)."""
    return bm25_normed(idf, weights, length_norm(lengths, average), boost)


def length_norm(lengths: np.ndarray, average: float) -> np.ndarray:
    """BM25's length normalisation of records with `lengths`: k1 (1 - b + b length / average).
    Element by element, so computing it for every record once and taking some gives the same
    numbers as computing it for those."""
    return BM25_K1 * (1 - BM25_B + BM25_B * lengths / average)  # type: ignore[no-any-return]


def bm25_normed(idf: float, weights: np.ndarray, norm: np.ndarray, boost: float) -> np.ndarray:
    """`bm25` with the records' `length_norm` given: boost idf w (k1 + 1) / (w + norm), the same
    operations in the same order, in one float64 array (weights are float64 everywhere; others
    are widened first)."""
    out = np.asarray(weights, dtype=np.float64) * (boost * idf)
    out *= BM25_K1 + 1
    out /= weights + norm
    return out


def top_hits(numbers: np.ndarray, scores: np.ndarray, ids: Sequence[str], limit: int) -> list[Hit]:
    """The best `limit` of some scored record numbers, best first; ties by record id, so the order
    never depends on an engine's segment layout."""
    if limit <= 0 or not len(numbers):
        return []
    if len(numbers) > limit:
        # Everything scoring at least the limit-th best score, so ties are all seen.
        kth = np.partition(scores, len(scores) - limit)[len(scores) - limit]
        keep = scores >= kth
        numbers, scores = numbers[keep], scores[keep]
    hits = [Hit(ids[n], float(sc)) for n, sc in zip(numbers.tolist(), scores.tolist(), strict=True)]
    return heapq.nsmallest(limit, hits, key=lambda h: (-h.score, h.record_id))


def words_with_prefix(words: Sequence[str], word: str, limit: int) -> list[str]:
    """Up to `limit` words of a sorted vocabulary that begin with `word` (for `prefix*`)."""
    start = bisect.bisect_left(words, word)
    out: list[str] = []
    for w in words[start:]:
        if not w.startswith(word) or len(out) >= limit:
            break
        out.append(w)
    return out


def words_within(words: Sequence[str], word: str, maxdist: int, limit: int) -> list[str]:
    """Up to `limit` words of a sorted vocabulary within `maxdist` edits (Levenshtein) of `word`
    that start with its first letter (for `word~`), in order."""
    from rapidfuzz import process  # only a fuzzy query needs it
    from rapidfuzz.distance import Levenshtein

    start = bisect.bisect_left(words, word[:1])
    end = bisect.bisect_left(words, word[:1] + "\U0010ffff")
    found = process.extract(word, words[start:end], scorer=Levenshtein.distance, score_cutoff=maxdist, limit=None)
    return sorted(w for w, _d, _i in found)[:limit]


class QueryReader(Generic[P]):
    """Reads one query tree into an engine's plan (P). Subclasses build the clauses (`every` ...
    `bonus`), answer the statistics (`frequency`, `total`), list vocabulary words (`prefixed`,
    `within`) and match facets and date ranges (`filter`, `date_range`). A clause's field is the
    query's: None for the zoned body, else `title`, `heading` or `text` (which keep no positions:
    a phrase there is the phrase in the body with every word in the field)."""

    def __init__(self, index_languages: Mapping[str, int], only: Sequence[str] = ()) -> None:
        """`index_languages`: sections per language in the index; `only`: the languages a
        required `lang:` filter names (then words are read in those alone)."""
        self.index_languages = dict(index_languages)
        self.only = list(only)
        self._word_languages: dict[str, list[str]] = {}  # query_languages of each word, once per reading

    # -- what an engine supplies ------------------------------------------------------------
    def every(self) -> P:
        raise NotImplementedError

    def nothing(self) -> P:
        raise NotImplementedError

    def term_q(self, field: str | None, text: str, boost: float = 1.0) -> P:
        raise NotImplementedError

    def phrase_q(self, toks: Sequence[str], slop: int = 1) -> P:
        """The tokens as a phrase in the body's positions."""
        raise NotImplementedError

    def all_q(self, plans: list[P], boost: float = 1.0) -> P:
        raise NotImplementedError

    def any_q(self, plans: list[P], boost: float = 1.0) -> P:
        raise NotImplementedError

    def best_of(self, plans: list[P]) -> P:
        """The best-scoring of several forms of one clause."""
        raise NotImplementedError

    def and_maybe(self, required: P, optional: P) -> P:
        raise NotImplementedError

    def and_not(self, plan: P, excluded: P) -> P:
        raise NotImplementedError

    def zero_score(self, plan: P) -> P:
        """Matches as `plan`, scores nothing."""
        raise NotImplementedError

    def bonus(self, plan: P, boost: float) -> P:
        """Scores `plan` times `boost` where it matches, matches nothing by itself."""
        raise NotImplementedError

    def frequency(self, term: str) -> int:
        """Live records whose body has an analysed term."""
        raise NotImplementedError

    def total(self) -> int:
        """Live records in the index."""
        raise NotImplementedError

    def prefixed(self, word: str, limit: int) -> list[str]:
        """Up to `limit` vocabulary words beginning with `word`."""
        raise NotImplementedError

    def within(self, word: str, maxdist: int, limit: int) -> list[str]:
        """Up to `limit` vocabulary words within `maxdist` edits of `word` (same first letter)."""
        raise NotImplementedError

    def facet(self, field: str, value: str) -> P:
        """Records with a facet value (`field`: the facet's name; `value`: its key)."""
        raise NotImplementedError

    def infobox(self, slug: str, forms: list[list[str]]) -> P:
        """Records whose infobox field `slug` holds one of the analysed forms (each a sequence)."""
        raise NotImplementedError

    def date_q(self, grain: int, lo: str | None, hi: str | None) -> P:
        """Records with a date from `lo` to `hi` (inclusive, either open) at `grain` 0 (years,
        `YYYY`), 1 (months, `YYYY-MM`) or 2 (days)."""
        raise NotImplementedError

    # -- the reading, shared ----------------------------------------------------------------
    def languages_for(self, words: Sequence[str]) -> list[str]:
        """The languages to read some query words in (analysis.query_languages of each)."""
        if self.only:
            return self.only
        found: set[str] = set()
        for w in words:
            langs = self._word_languages.get(w)
            if langs is None:
                langs = self._word_languages[w] = query_languages(w, self.index_languages)
            found.update(langs)
        return sorted(found or {"en"})

    def query(self, node: Node) -> P | None:
        """The plan of a tree, None when it reads as nothing (only stop words)."""
        if isinstance(node, MatchAll):
            return self.every()
        if isinstance(node, Term):
            return self.words([node.text], node.field)
        if isinstance(node, Phrase):
            return self.words(node.words, node.field)
        if isinstance(node, Passage):
            return self.passage(node)
        if isinstance(node, Prefix | Fuzzy):
            return self.expand(node)
        if isinstance(node, Filter):
            return self.zero_score(self.filter(node))
        if isinstance(node, DateRange):
            return self.zero_score(self.date_range(node))
        assert isinstance(node, Bool)
        return self.boolean(node)

    def forms(self, words: Sequence[str]) -> list[list[str]]:
        """The analysed forms of a word sequence, one per language where they differ (stop words
        left out, also those of one language that no section of another has: see
        analysis.is_query_stop; empty when nothing is left)."""
        languages = self.languages_for(words)
        kept = [w for w in words if not is_query_stop(w, languages, self.frequency)]
        out: list[list[str]] = []
        for lang in languages:
            a = analyzer_for(lang)
            seq = [t for w in kept if (t := a.term(w)) is not None]
            if seq and seq not in out:
                out.append(seq)
        return out

    def words(self, words: Sequence[str], field: str | None) -> P | None:
        """A word or a phrase: the best of its forms."""
        forms = self.forms(words)
        return self.any_of([self.analysed(f, field) for f in forms]) if forms else None

    def any_of(self, plans: list[P]) -> P:
        return plans[0] if len(plans) == 1 else self.best_of(plans)

    def analysed(self, toks: list[str], field: str | None) -> P:
        """One analysed token, or the tokens as a phrase, in the body or the named field."""
        if len(toks) == 1:
            return self.term_q(field, toks[0])
        if field is not None:
            # `title`, `heading` and `text` keep no positions; the body holds them all as zones
            # with positions (no phrase spans two zones): the phrase in the body, every word in
            # the named field.
            return self.all_q([self.phrase_q(toks), *(self.zero_score(self.term_q(field, t)) for t in toks)])
        return self.phrase_q(toks)

    def passage(self, node: Passage) -> P:
        """The PASSAGE_TERMS most distinctive terms of pasted text (occurrences times idf), each
        weighted by its occurrences, OR-ed: as if the text were typed in full, without its
        commonest words."""
        counts: Counter[str] = Counter()
        for lang in self.languages_for(node.words[:200]):
            for term, n in Counter(analyzer_for(lang).terms(" ".join(node.words))).items():
                counts[term] = max(counts[term], n)
        total = self.total()
        weights = {}
        for term, tf in counts.items():
            df = self.frequency(term)
            if df:
                weights[term] = tf * okapi_idf(total, df)
        top = sorted(weights, key=lambda t: (-weights[t], t))[:PASSAGE_TERMS]
        if not top:
            return self.nothing()
        return self.any_q([self.term_q(None, t, boost=float(counts[t])) for t in sorted(top)])

    def expand(self, node: Prefix | Fuzzy) -> P:
        """Every vocabulary word a prefix or a fuzzy word stands for, each searched as a word
        (analysed in every language); more than MAX_EXPANSION is a QueryError."""
        folded = plain_terms(node.text)
        if not folded:
            raise QueryError(f"'{node.text}' has no letters to expand", position=node.position)
        if isinstance(node, Prefix):
            found, what = self.prefixed(folded[0], MAX_EXPANSION + 1), f"{node.text}*"
        else:
            found, what = self.within(folded[0], node.maxdist, MAX_EXPANSION + 1), f"{node.text}~"
        if len(found) > MAX_EXPANSION:
            raise QueryError(
                f"'{what}' matches more than {MAX_EXPANSION} words; type more letters", position=node.position
            )
        stems = sorted({t for w in found for t in query_terms(w, self.languages_for([w]))})
        if not stems:
            return self.nothing()
        return self.any_q([self.term_q(node.field, t) for t in stems])

    def filter(self, node: Filter) -> P:
        if node.field.startswith("infobox."):
            forms = self.forms([w for _s, _e, w in tokens(node.value)])
            return self.infobox(node.field.removeprefix("infobox."), forms) if forms else self.nothing()
        return self.facet(node.field, node.value)

    def date_range(self, node: DateRange) -> P:
        ends = [v for v in (node.date_from, node.date_to) if v]
        grain = min(v.count("-") for v in ends)
        width = (4, 7, 10)[grain]
        lo = node.date_from[:width] if node.date_from else None
        hi = node.date_to[:width] if node.date_to else None
        return self.date_q(grain, lo, hi)

    def boolean(self, node: Bool) -> P | None:
        should = [q for q in (self.query(n) for n in node.should) if q is not None]
        required = [(n, self.query(n)) for n in node.must]
        must = [q for _, q in required if q is not None]
        must_not = [q for q in (self.query(n) for n in node.must_not) if q is not None]
        if not should and not must:
            if not must_not:
                return None
            must = [self.every()]
        parts = list(must)
        excluded = (must_not[0] if len(must_not) == 1 else self.any_q(must_not)) if must_not else None
        # A required stop word (`+the bridge`) is not indexed: it requires nothing.
        if should and any(q is not None and not isinstance(n, Filter | DateRange) for n, q in required):
            # `+steamer harbour`: the required word decides, the others only rank.
            group = self.any_q(should) if len(should) > 1 else should[0]
            q = self.and_maybe(parts[0] if len(parts) == 1 else self.all_q(parts), group)
            return self.and_not(q, excluded) if excluded is not None else q
        if should:
            group = self.any_q(should) if len(should) > 1 else should[0]
            parts.append(self.bonuses(group, should, node))
        q = parts[0] if len(parts) == 1 else self.all_q(parts)
        return self.and_not(q, excluded) if excluded is not None else q

    def bonuses(self, group: P, should: list[P], node: Bool) -> P:
        """Coordination (all of 2-8 clauses) and proximity (neighbouring query words close together)."""
        if 2 <= len(should) <= COORD_MAX_CLAUSES:
            group = self.and_maybe(group, self.all_q(should, boost=COORD_BOOST))
        words = [n.text for n in node.should if isinstance(n, Term) and n.field is None]
        pairs: list[P] = []
        for toks in self.forms(words):
            if len(toks) > PROXIMITY_MAX_WORDS:
                continue  # in a long question, neighbouring words are rarely a phrase
            pairs += [self.phrase_q([a, b], slop=PROXIMITY_SLOP) for a, b in itertools.pairwise(toks) if a != b]
        if pairs and PROXIMITY_BOOST > 0:
            group = self.and_maybe(
                group, self.bonus(pairs[0] if len(pairs) == 1 else self.any_q(pairs), PROXIMITY_BOOST)
            )
        return group


def required_languages(tree: Node) -> list[str]:
    """The languages a required `lang:` filter of the tree names (words are read in those)."""
    wanted: set[str] = set()

    def visit(node: Node) -> None:
        if isinstance(node, Filter) and node.field == "language":
            wanted.add(node.value)
        elif isinstance(node, Bool):
            for n in node.must:
                visit(n)
            if len(node.should) == 1 and not node.must:
                visit(node.should[0])

    visit(tree)
    return sorted(wanted)
