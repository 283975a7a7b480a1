"""Query tree -> Whoosh query: the product's reading of a query (engines/ranking.py,
`QueryReader`) built from Whoosh's query classes and this engine's evaluator wrappers.

A word whose forms differ between languages becomes a disjunction that scores its best form
(`DisjunctionMax`); Whoosh's own CoordMatcher is not used (it divides by zero on one-term groups):
coordination is an `AndMaybe` over an `And` of the clauses."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..ranking import QueryReader
from .evaluate import Bonus, ZeroScore
from .schema import FACET_PREFIX, INFOBOX_PREFIX

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=SyntaxWarning, message=r"invalid escape sequence")
    from whoosh import query

DATE_FIELDS = ("date_year", "date_month", "date_day")


class Translator(QueryReader[Any]):
    """Translates one query tree for one searcher (and the languages to analyse it in)."""

    def __init__(
        self,
        searcher: Any,
        index_languages: Mapping[str, int],
        only: Sequence[str] = (),
        df: Callable[[Any, str, Any], int] | None = None,
    ) -> None:
        """`index_languages`: sections per language in the index; `only`: the languages a
        required `lang:` filter names (then words are read in those alone); `df(searcher, field,
        term)`: live records containing a term (by default Whoosh's count, deleted records too)."""
        super().__init__(index_languages, only)
        self.s = searcher
        self.reader = searcher.reader()
        self.df = df or (lambda s, field, term: int(s.reader().doc_frequency(field, term)))

    @staticmethod
    def field(field: str | None) -> str:
        return "body" if field is None else field

    def every(self) -> Any:
        return query.Every()

    def nothing(self) -> Any:
        return query.NullQuery

    def term_q(self, field: str | None, text: str, boost: float = 1.0) -> Any:
        return query.Term(self.field(field), text, boost=boost)

    def phrase_q(self, toks: Sequence[str], slop: int = 1) -> Any:
        return query.Phrase("body", list(toks), slop=slop)

    def all_q(self, plans: list[Any], boost: float = 1.0) -> Any:
        return query.And(plans, boost=boost)

    def any_q(self, plans: list[Any], boost: float = 1.0) -> Any:
        return query.Or(plans, boost=boost)

    def best_of(self, plans: list[Any]) -> Any:
        return query.DisjunctionMax(plans)

    def and_maybe(self, required: Any, optional: Any) -> Any:
        return query.AndMaybe(required, optional)

    def and_not(self, plan: Any, excluded: Any) -> Any:
        return query.AndNot(plan, excluded)

    def zero_score(self, plan: Any) -> Any:
        return ZeroScore(plan)

    def bonus(self, plan: Any, boost: float) -> Any:
        return Bonus(plan.with_boost(boost))

    def frequency(self, term: str) -> int:
        return self.df(self.s, "body", term)

    def total(self) -> int:
        return int(self.s.doc_count())

    def prefixed(self, word: str, limit: int) -> list[str]:
        return _words(self.reader.expand_prefix("words", word), limit)

    def within(self, word: str, maxdist: int, limit: int) -> list[str]:
        return _words(self.reader.terms_within("words", word, maxdist, prefix=1), limit)

    def facet(self, field: str, value: str) -> Any:
        return query.Term(FACET_PREFIX + field, value)

    def infobox(self, slug: str, forms: list[list[str]]) -> Any:
        field = INFOBOX_PREFIX + slug
        return self.any_of([query.Term(field, f[0]) if len(f) == 1 else query.Phrase(field, f) for f in forms])

    def date_q(self, grain: int, lo: str | None, hi: str | None) -> Any:
        field = DATE_FIELDS[grain]
        if lo is not None and lo == hi:
            return query.Term(field, lo)
        return query.TermRange(field, lo, hi, startexcl=False, endexcl=False)


def _words(terms: Any, limit: int) -> list[str]:
    return sorted({t.decode("utf-8") if isinstance(t, bytes) else t for t in itertools.islice(terms, limit)})
