"""Query tree -> query plan (evaluate.py): the product's reading of a query (engines/ranking.py,
`QueryReader`), the same as the Whoosh engine's so both engines rank alike, built from this
engine's plan nodes. A word whose forms differ between languages becomes the best of its forms
(`BestOf`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..ranking import QueryReader
from .evaluate import (
    AllQ,
    AndMaybe,
    AndNot,
    AnyQ,
    BestOf,
    Bonus,
    Every,
    Nothing,
    PhraseQ,
    Plan,
    RangeQ,
    TermQ,
    ZeroScore,
)
from .schema import DATE_FIELDS, date_number

# The field of a `title:`, `heading:`, `text:` query word (None: the zoned body).
SCORED = {None: "bodyw", "title": "title", "heading": "heading", "text": "text"}


class Translator(QueryReader[Plan]):
    """Translates one query tree for one generation of the index."""

    def __init__(
        self,
        index_languages: Mapping[str, int],
        doc_freq: Callable[[str, str], int],
        total: int,
        prefixed: Callable[[str, int], list[str]],
        within: Callable[[str, int, int], list[str]],
        only: Sequence[str] = (),
    ) -> None:
        """`index_languages`: sections per language; `doc_freq(field, term)`; `total`: records
        (deleted included); `prefixed(word, limit)` and `within(word, maxdist, limit)`: words of
        the vocabulary; `only`: the languages a required `lang:` filter names."""
        super().__init__(index_languages, only)
        self.doc_freq = doc_freq
        self.records = total
        self._prefixed = prefixed
        self._within = within

    def every(self) -> Plan:
        return Every()

    def nothing(self) -> Plan:
        return Nothing()

    def term_q(self, field: str | None, text: str, boost: float = 1.0) -> Plan:
        return TermQ(SCORED[field], text, boost=boost)

    def phrase_q(self, toks: Sequence[str], slop: int = 1) -> Plan:
        return PhraseQ("body", list(toks), slop=slop)

    def all_q(self, plans: list[Plan], boost: float = 1.0) -> Plan:
        return AllQ(plans, boost=boost)

    def any_q(self, plans: list[Plan], boost: float = 1.0) -> Plan:
        return AnyQ(plans, boost=boost)

    def best_of(self, plans: list[Plan]) -> Plan:
        return BestOf(plans)

    def and_maybe(self, required: Plan, optional: Plan) -> Plan:
        return AndMaybe(required, optional)

    def and_not(self, plan: Plan, excluded: Plan) -> Plan:
        return AndNot(plan, excluded)

    def zero_score(self, plan: Plan) -> Plan:
        return ZeroScore(plan)

    def bonus(self, plan: Plan, boost: float) -> Plan:
        plan.boost = boost
        return Bonus(plan)

    def frequency(self, term: str) -> int:
        return self.doc_freq("bodyw", term)

    def total(self) -> int:
        return self.records

    def prefixed(self, word: str, limit: int) -> list[str]:
        return self._prefixed(word, limit)

    def within(self, word: str, maxdist: int, limit: int) -> list[str]:
        return self._within(word, maxdist, limit)

    def facet(self, field: str, value: str) -> Plan:
        return TermQ("facet", f"{field}:{value}")

    def infobox(self, slug: str, forms: list[list[str]]) -> Plan:
        keyed = [[f"{slug}:{t}" for t in f] for f in forms]
        return self.any_of([TermQ("ib", f[0]) if len(f) == 1 else PhraseQ("ib", f) for f in keyed])

    def date_q(self, grain: int, lo: str | None, hi: str | None) -> Plan:
        field = list(DATE_FIELDS)[grain]
        low = date_number(lo) if lo is not None else None
        high = date_number(hi) if hi is not None else None
        if low is not None and low == high:
            return TermQ(field, low)
        return RangeQ(field, low, high)
