"""Query tree -> xapian.Query: the product's reading of a query (engines/ranking.py,
`QueryReader`), the same as the other engines', built from Xapian's operators. A word whose forms
differ between languages is the best of its forms (OP_MAX), bonuses are OP_AND_MAYBE, filters are
without score (OP_SCALE_WEIGHT 0). Xapian 1.4 has no fuzzy or range query over terms: prefix and
fuzzy words, and date ranges, are expanded here from the index's own terms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import xapian

from ..ranking import QueryReader, okapi_idf
from .schema import DATE_PREFIX, FACET, FIELD_PREFIX, INFOBOX, date_number, fits

Q = xapian.Query


def scaled(query: Q, factor: float) -> Q:
    """`query` with its weights times `factor`. An OR is scaled part by part (the same weights):
    it stays an OR, which `Translator.and_maybe` takes apart."""
    if factor == 1.0:
        return query
    if query.get_type() == Q.OP_OR:
        return Q(Q.OP_OR, [scaled(part, factor) for part in subqueries(query)])
    return Q(Q.OP_SCALE_WEIGHT, query, factor)


def subqueries(query: Q) -> list[Q]:
    return [query.get_subquery(i) for i in range(query.get_num_subqueries())]


def positional(query: Q) -> bool:
    """Whether a phrase (or a NEAR) is in the query."""
    if query.get_type() in (Q.OP_PHRASE, Q.OP_NEAR):
        return True
    return any(positional(part) for part in subqueries(query))


def phrase(terms: Sequence[str], slop: int = 1) -> Q:
    """The terms in order, at most `slop` positions apart (1: next to each other)."""
    return Q(Q.OP_PHRASE, list(terms), len(terms) + slop - 1)


class Translator(QueryReader[Q]):
    """Translates one query tree for one generation of the index."""

    def __init__(
        self,
        index_languages: Mapping[str, int],
        termfreq: Callable[[str], int],
        total: int,
        prefixed: Callable[[str, int], list[str]],
        within: Callable[[str, int, int], list[str]],
        terms_between: Callable[[str, str, str], list[str]],
        only: Sequence[str] = (),
    ) -> None:
        """`termfreq(term)`: records with a (prefixed) term; `total`: records; `prefixed(word,
        limit)` and `within(word, maxdist, limit)`: words of the vocabulary; `terms_between(prefix,
        lo, hi)`: the index's terms with a prefix whose rest is in [lo, hi]; `only`: the
        languages a required `lang:` filter names."""
        super().__init__(index_languages, only)
        self.termfreq = termfreq
        self.records = total
        self._prefixed = prefixed
        self._within = within
        self.terms_between = terms_between

    def every(self) -> Q:
        return Q.MatchAll

    def nothing(self) -> Q:
        return Q.MatchNothing

    def term_q(self, field: str | None, text: str, boost: float = 1.0) -> Q:
        if field is None:
            return scaled(Q(text), boost)
        term = FIELD_PREFIX[field] + text
        return scaled(self.field_term(term), boost) if fits(term) else Q.MatchNothing

    def field_term(self, term: str) -> Q:
        """A term of `title:`, `heading:` or `text:`: its idf where it occurs. The product ranks a
        field by BM25 over the field's own length, which Xapian (BM25 over the whole record)
        has not: a field's words are as long as the field in every section of a document, so
        the length counts for nothing there, and the section with the word in its title
        is not beaten by a shorter section of the same document."""
        df = self.termfreq(term)
        if not df:
            return Q(term)
        idf = okapi_idf(self.records, df)
        return Q(Q.OP_FILTER, Q(xapian.FixedWeightPostingSource(idf)), Q(term))

    def phrase_q(self, toks: Sequence[str], slop: int = 1) -> Q:
        return phrase(toks, slop)

    def all_q(self, plans: list[Q], boost: float = 1.0) -> Q:
        return scaled(Q(Q.OP_AND, plans), boost)

    def any_q(self, plans: list[Q], boost: float = 1.0) -> Q:
        return scaled(Q(Q.OP_OR, plans), boost)

    def best_of(self, plans: list[Q]) -> Q:
        return Q(Q.OP_MAX, plans)

    def and_maybe(self, required: Q, optional: Q) -> Q:
        """`required`'s matches, with `optional`'s weight added where it matches too. An
        optional OR with a phrase in it is one AND_MAYBE per part (the same weights): Xapian
        1.4's OR, asked by AND_MAYBE whether it matches a record, can add the weight of a part
        that is on another record when one of its phrases did not match, so the score of a
        record depended on the record numbers around it (and a cluster, whose numbers
        interleave the shards', ranked apart from one index: tests/test_xapian.py)."""
        if optional.get_type() == Q.OP_OR and positional(optional):
            for part in subqueries(optional):
                required = self.and_maybe(required, part)
            return required
        return Q(Q.OP_AND_MAYBE, required, optional)

    def and_not(self, plan: Q, excluded: Q) -> Q:
        return Q(Q.OP_AND_NOT, plan, excluded)

    def zero_score(self, plan: Q) -> Q:
        return Q(Q.OP_SCALE_WEIGHT, plan, 0.0)

    def bonus(self, plan: Q, boost: float) -> Q:
        return scaled(plan, boost)

    def frequency(self, term: str) -> int:
        return self.termfreq(term)

    def total(self) -> int:
        return self.records

    def prefixed(self, word: str, limit: int) -> list[str]:
        return self._prefixed(word, limit)

    def within(self, word: str, maxdist: int, limit: int) -> list[str]:
        return self._within(word, maxdist, limit)

    def facet(self, field: str, value: str) -> Q:
        return Q(f"{FACET}{field}:{value}")

    def infobox(self, slug: str, forms: list[list[str]]) -> Q:
        keyed = [[f"{INFOBOX}{slug}:{t}" for t in f] for f in forms]
        return self.any_of([Q(f[0]) if len(f) == 1 else phrase(f) for f in keyed])

    def date_q(self, grain: int, lo: str | None, hi: str | None) -> Q:
        prefix = list(DATE_PREFIX)[grain]
        width = DATE_PREFIX[prefix]
        low = date_number(lo) if lo is not None else ""
        high = date_number(hi) if hi is not None else date_number("9999-99-99"[:width])
        found = self.terms_between(prefix, low, high)
        return Q(Q.OP_OR, [Q(t) for t in found]) if found else Q.MatchNothing
