"""Query tree -> Whoosh query, with the limits that need the index (expansions).

Words are analysed here, in every language of the index (or the languages a `lang:` filter
asks for): a word whose forms differ between languages becomes a disjunction that scores its
best form (`DisjunctionMax`); a phrase, one phrase per language. An English-only index sees one
form per word, as a purely English engine would."""

from __future__ import annotations

import itertools
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ...analysis import analyzer_for, is_query_stop, plain_terms, query_languages, query_terms, tokens
from ...errors import QueryError
from ...querytree import (
    MAX_EXPANSION,
    Bool,
    DateRange,
    Filter,
    Fuzzy,
    MatchAll,
    Node,
    Passage,
    Phrase,
    Prefix,
    Term,
)
from .evaluate import Bonus, ZeroScore, okapi_idf
from .schema import FACET_PREFIX, INFOBOX_PREFIX

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=SyntaxWarning, message=r"invalid escape sequence")
    from whoosh import query

# Coordination: records containing every one of 2-8 OR-ed clauses score their sum once more,
# times COORD_BOOST (Whoosh's own CoordMatcher divides by zero on one-term groups).
COORD_BOOST = 0.5
COORD_MAX_CLAUSES = 8
PROXIMITY_SLOP = 3
PROXIMITY_MAX_WORDS = 4
PROXIMITY_BOOST = 0.3  # bench/ranking_study.py: neutral on the suite's long questions, kept for short queries
# Pasted text and long questions are searched by this many of their most distinctive words
# (bench/ranking_study.py: 32 / 64 / 128 words give a mean nDCG@10 of 0.4484 / 0.4472 / 0.4471;
# 32 reads half the posting lists of 64).
PASSAGE_TERMS = 32


class Translator:
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
        self.s = searcher
        self.reader = searcher.reader()
        self.df = df or (lambda s, field, term: int(s.reader().doc_frequency(field, term)))
        self.index_languages = dict(index_languages)
        self.only = list(only)

    def languages_for(self, words: Sequence[str]) -> list[str]:
        """The languages to read some query words in (analysis.query_languages of each)."""
        if self.only:
            return self.only
        return sorted({lang for w in words for lang in query_languages(w, self.index_languages)} or {"en"})

    def query(self, node: Node) -> Any:
        if isinstance(node, MatchAll):
            return query.Every()
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, Phrase):
            return self.phrase(node.words, node.field)
        if isinstance(node, Passage):
            return self.passage(node)
        if isinstance(node, Prefix):
            return self.expand(node, "prefix")
        if isinstance(node, Fuzzy):
            return self.expand(node, "fuzzy")
        if isinstance(node, Filter):
            return ZeroScore(self.filter(node))
        if isinstance(node, DateRange):
            return ZeroScore(self.date_range(node))
        assert isinstance(node, Bool)
        return self.boolean(node)

    @staticmethod
    def field(field: str | None) -> str:
        return "body" if field is None else field

    def forms(self, words: Sequence[str]) -> list[list[str]]:
        """The analysed forms of a word sequence, one per language where they differ (stop
        words left out, also those of one language that no section of another has: see
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

    def frequency(self, term: str) -> int:
        return self.df(self.s, "body", term)

    def term(self, node: Term) -> Any:
        forms = self.forms([node.text])
        return self.any_of([self.analysed(f, node.field) for f in forms]) if forms else None

    def phrase(self, words: Sequence[str], field: str | None) -> Any:
        forms = self.forms(words)
        return self.any_of([self.analysed(f, field) for f in forms]) if forms else None

    @staticmethod
    def any_of(queries: list[Any]) -> Any:
        """One query, or the best of several forms of it."""
        return queries[0] if len(queries) == 1 else query.DisjunctionMax(queries)

    def analysed(self, toks: list[str], field: str | None, slop: int = 1) -> Any:
        """One analysed token, or the tokens as a phrase, in `body` or the named field."""
        if len(toks) == 1:
            return query.Term(self.field(field), toks[0])
        name = self.field(field)
        if name in self.s.schema and not self.s.schema[name].format.supports("positions"):
            # `title`, `heading` and `text` keep no positions; `body` holds them all as zones
            # with positions (no phrase spans two zones): the phrase in body, every word in the
            # named field.
            words = [ZeroScore(query.Term(name, t)) for t in toks]
            return query.And([query.Phrase("body", toks, slop=slop), *words])
        return query.Phrase(name, toks, slop=slop)

    def passage(self, node: Passage) -> Any:
        """The PASSAGE_TERMS most distinctive terms of pasted text (occurrences times idf), each
        weighted by its occurrences, OR-ed: as if the text were typed in full, without its
        commonest words."""
        counts: Counter[str] = Counter()
        for lang in self.languages_for(node.words[:200]):
            lang_counts = Counter(analyzer_for(lang).terms(" ".join(node.words)))
            for term, n in lang_counts.items():
                counts[term] = max(counts[term], n)
        weights = {}
        for term, tf in counts.items():
            df = self.df(self.s, "body", term)
            if df:
                weights[term] = tf * okapi_idf(self.s.doc_count(), df)
        top = sorted(weights, key=lambda t: (-weights[t], t))[:PASSAGE_TERMS]
        if not top:
            return query.NullQuery
        return query.Or([query.Term("body", t, boost=float(counts[t])) for t in sorted(top)])

    def expand(self, node: Prefix | Fuzzy, kind: str) -> Any:
        folded = plain_terms(node.text)
        if not folded:
            raise QueryError(f"'{node.text}' has no letters to expand", position=node.position)
        word = folded[0]
        if kind == "prefix":
            terms = itertools.islice(self.reader.expand_prefix("words", word), MAX_EXPANSION + 1)
        else:
            maxdist = getattr(node, "maxdist", 1)
            terms = itertools.islice(self.reader.terms_within("words", word, maxdist, prefix=1), MAX_EXPANSION + 1)
        found = sorted({t.decode("utf-8") if isinstance(t, bytes) else t for t in terms})
        if len(found) > MAX_EXPANSION:
            what = f"{node.text}*" if kind == "prefix" else f"{node.text}~"
            raise QueryError(
                f"'{what}' matches more than {MAX_EXPANSION} words; type more letters", position=node.position
            )
        # Each vocabulary word is searched as a word (analysed in every language, every text field).
        stems = sorted({t for w in found for t in query_terms(w, self.languages_for([w]))})
        if not stems:
            return query.NullQuery
        name = self.field(node.field)
        return query.Or([query.Term(name, t) for t in stems])

    def filter(self, node: Filter) -> Any:
        if node.field.startswith("infobox."):
            field = INFOBOX_PREFIX + node.field.removeprefix("infobox.")
            forms = self.forms([w for _s, _e, w in tokens(node.value)])
            if not forms:
                return query.NullQuery
            return self.any_of([query.Term(field, f[0]) if len(f) == 1 else query.Phrase(field, f) for f in forms])
        return query.Term(FACET_PREFIX + node.field, node.value)

    def date_range(self, node: DateRange) -> Any:
        ends = [v for v in (node.date_from, node.date_to) if v]
        grain = min(v.count("-") for v in ends)
        field = ("date_year", "date_month", "date_day")[grain]
        width = (4, 7, 10)[grain]
        lo = node.date_from[:width] if node.date_from else None
        hi = node.date_to[:width] if node.date_to else None
        if lo is not None and lo == hi:
            return query.Term(field, lo)
        return query.TermRange(field, lo, hi, startexcl=False, endexcl=False)

    def boolean(self, node: Bool) -> Any:
        should = [q for q in (self.query(n) for n in node.should) if q is not None]
        required = [(n, self.query(n)) for n in node.must]
        must = [q for _, q in required if q is not None]
        must_not = [q for q in (self.query(n) for n in node.must_not) if q is not None]
        if not should and not must:
            if not must_not:
                return None
            must = [query.Every()]
        parts = list(must)
        # A required stop word (`+the bridge`) is not indexed: it requires nothing.
        if should and any(q is not None and not isinstance(n, Filter | DateRange) for n, q in required):
            # `+steamer harbour`: the required word decides, the others only rank.
            group = query.Or(should) if len(should) > 1 else should[0]
            q = query.AndMaybe(parts[0] if len(parts) == 1 else query.And(parts), group)
            return query.AndNot(q, _any(must_not)) if must_not else q
        if should:
            group = query.Or(should) if len(should) > 1 else should[0]
            parts.append(self.bonuses(group, should, node))
        q = parts[0] if len(parts) == 1 else query.And(parts)
        if must_not:
            q = query.AndNot(q, _any(must_not))
        return q

    def bonuses(self, group: Any, should: list[Any], node: Bool) -> Any:
        """Coordination (all of 2-8 clauses) and proximity (neighbouring query words close together)."""
        if 2 <= len(should) <= COORD_MAX_CLAUSES:
            group = query.AndMaybe(group, query.And(should, boost=COORD_BOOST))
        words = [n.text for n in node.should if isinstance(n, Term) and n.field is None]
        pairs = []
        for toks in self.forms(words):
            if len(toks) > PROXIMITY_MAX_WORDS:
                continue  # in a long question, neighbouring words are rarely a phrase
            pairs += [query.Phrase("body", [a, b], slop=PROXIMITY_SLOP) for a, b in itertools.pairwise(toks) if a != b]
        if pairs and PROXIMITY_BOOST > 0:
            bonus = query.Or(pairs, boost=PROXIMITY_BOOST) if len(pairs) > 1 else pairs[0].with_boost(PROXIMITY_BOOST)
            group = query.AndMaybe(group, Bonus(bonus))
        return group


def _any(queries: list[Any]) -> Any:
    return queries[0] if len(queries) == 1 else query.Or(queries)


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
