"""Query tree -> query plan (evaluate.py), with the limits that need the index (expansions).

The same reading of a query as the Whoosh engine's (engines/whoosh/translate.py), so both engines
rank alike: words are analysed in every language of the index (or those a `lang:` filter asks
for); a word whose forms differ between languages becomes the best of its forms (`BestOf`), a
phrase one phrase per language; coordination and proximity bonuses for OR-ed words; pasted text
as a bag of its most distinctive words.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

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
    okapi_idf,
)
from .schema import DATE_FIELDS, date_number

# The product's ranking constants (bench/ranking_study.py), the same as the Whoosh engine's:
# coordination for records with all of 2-8 OR-ed clauses, proximity of neighbouring query words,
# pasted text searched by its PASSAGE_TERMS most distinctive words.
COORD_BOOST = 0.5
COORD_MAX_CLAUSES = 8
PROXIMITY_SLOP = 3
PROXIMITY_MAX_WORDS = 4
PROXIMITY_BOOST = 0.3
PASSAGE_TERMS = 32
# The field of a `title:`, `heading:`, `text:` query word (None: the zoned body).
SCORED = {None: "bodyw", "title": "title", "heading": "heading", "text": "text"}


class Translator:
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
        self.index_languages = dict(index_languages)
        self.doc_freq = doc_freq
        self.total = total
        self.prefixed = prefixed
        self.within = within
        self.only = list(only)

    def languages_for(self, words: Sequence[str]) -> list[str]:
        if self.only:
            return self.only
        return sorted({lang for w in words for lang in query_languages(w, self.index_languages)} or {"en"})

    def query(self, node: Node) -> Plan | None:
        if isinstance(node, MatchAll):
            return Every()
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

    def frequency(self, term: str) -> int:
        return self.doc_freq("bodyw", term)

    def forms(self, words: Sequence[str]) -> list[list[str]]:
        """The analysed forms of a word sequence, one per language where they differ (stop words
        left out: see analysis.is_query_stop)."""
        languages = self.languages_for(words)
        kept = [w for w in words if not is_query_stop(w, languages, self.frequency)]
        out: list[list[str]] = []
        for lang in languages:
            a = analyzer_for(lang)
            seq = [t for w in kept if (t := a.term(w)) is not None]
            if seq and seq not in out:
                out.append(seq)
        return out

    def term(self, node: Term) -> Plan | None:
        forms = self.forms([node.text])
        return self.any_of([self.analysed(f, node.field) for f in forms]) if forms else None

    def phrase(self, words: Sequence[str], field: str | None) -> Plan | None:
        forms = self.forms(words)
        return self.any_of([self.analysed(f, field) for f in forms]) if forms else None

    @staticmethod
    def any_of(plans: list[Plan]) -> Plan:
        return plans[0] if len(plans) == 1 else BestOf(plans)

    def analysed(self, toks: list[str], field: str | None) -> Plan:
        """One analysed token, or the tokens as a phrase, in the body or the named field."""
        if len(toks) == 1:
            return TermQ(SCORED[field], toks[0])
        if field is not None:
            # As the Whoosh engine reads it: the phrase in the body's positions, every word in the field.
            words: list[Plan] = [ZeroScore(TermQ(SCORED[field], t)) for t in toks]
            return AllQ([PhraseQ("body", toks), *words])
        return PhraseQ("body", toks)

    def passage(self, node: Passage) -> Plan:
        """The PASSAGE_TERMS most distinctive terms of pasted text (occurrences times idf), each
        weighted by its occurrences, OR-ed."""
        counts: Counter[str] = Counter()
        for lang in self.languages_for(node.words[:200]):
            lang_counts = Counter(analyzer_for(lang).terms(" ".join(node.words)))
            for term, n in lang_counts.items():
                counts[term] = max(counts[term], n)
        weights = {}
        for term, tf in counts.items():
            df = self.frequency(term)
            if df:
                weights[term] = tf * okapi_idf(df, self.total)
        top = sorted(weights, key=lambda t: (-weights[t], t))[:PASSAGE_TERMS]
        if not top:
            return Nothing()
        return AnyQ([TermQ("bodyw", t, boost=float(counts[t])) for t in sorted(top)])

    def expand(self, node: Prefix | Fuzzy, kind: str) -> Plan:
        folded = plain_terms(node.text)
        if not folded:
            raise QueryError(f"'{node.text}' has no letters to expand", position=node.position)
        word = folded[0]
        if kind == "prefix":
            found = self.prefixed(word, MAX_EXPANSION + 1)
        else:
            found = self.within(word, getattr(node, "maxdist", 1), MAX_EXPANSION + 1)
        if len(found) > MAX_EXPANSION:
            what = f"{node.text}*" if kind == "prefix" else f"{node.text}~"
            raise QueryError(
                f"'{what}' matches more than {MAX_EXPANSION} words; type more letters", position=node.position
            )
        # Each vocabulary word is searched as a word (analysed in every language, every text field).
        stems = sorted({t for w in found for t in query_terms(w, self.languages_for([w]))})
        if not stems:
            return Nothing()
        name = SCORED[node.field]
        return AnyQ([TermQ(name, t) for t in stems])

    def filter(self, node: Filter) -> Plan:
        if node.field.startswith("infobox."):
            slug = node.field.removeprefix("infobox.")
            forms = self.forms([w for _s, _e, w in tokens(node.value)])
            if not forms:
                return Nothing()
            keyed = [[f"{slug}:{t}" for t in f] for f in forms]
            return self.any_of([TermQ("ib", f[0]) if len(f) == 1 else PhraseQ("ib", f) for f in keyed])
        return TermQ("facet", f"{node.field}:{node.value}")

    def date_range(self, node: DateRange) -> Plan:
        ends = [v for v in (node.date_from, node.date_to) if v]
        grain = min(v.count("-") for v in ends)
        field = list(DATE_FIELDS)[grain]
        width = DATE_FIELDS[field]
        lo = date_number(node.date_from[:width]) if node.date_from else None
        hi = date_number(node.date_to[:width]) if node.date_to else None
        if lo is not None and lo == hi:
            return TermQ(field, lo)
        return RangeQ(field, lo, hi)

    def boolean(self, node: Bool) -> Plan | None:
        should = [q for q in (self.query(n) for n in node.should) if q is not None]
        required = [(n, self.query(n)) for n in node.must]
        must = [q for _, q in required if q is not None]
        must_not = [q for q in (self.query(n) for n in node.must_not) if q is not None]
        if not should and not must:
            if not must_not:
                return None
            must = [Every()]
        parts = list(must)
        # A required stop word (`+the bridge`) is not indexed: it requires nothing.
        if should and any(q is not None and not isinstance(n, Filter | DateRange) for n, q in required):
            # `+steamer harbour`: the required word decides, the others only rank.
            group = AnyQ(should) if len(should) > 1 else should[0]
            q: Plan = AndMaybe(parts[0] if len(parts) == 1 else AllQ(parts), group)
            return AndNot(q, _any(must_not)) if must_not else q
        if should:
            group = AnyQ(should) if len(should) > 1 else should[0]
            parts.append(self.bonuses(group, should, node))
        q = parts[0] if len(parts) == 1 else AllQ(parts)
        if must_not:
            q = AndNot(q, _any(must_not))
        return q

    def bonuses(self, group: Plan, should: list[Plan], node: Bool) -> Plan:
        """Coordination (all of 2-8 clauses) and proximity (neighbouring query words close together)."""
        if 2 <= len(should) <= COORD_MAX_CLAUSES:
            group = AndMaybe(group, AllQ(should, boost=COORD_BOOST))
        words = [n.text for n in node.should if isinstance(n, Term) and n.field is None]
        pairs: list[Plan] = []
        for toks in self.forms(words):
            if len(toks) > PROXIMITY_MAX_WORDS:
                continue  # in a long question, neighbouring words are rarely a phrase
            pairs += [PhraseQ("body", [a, b], slop=PROXIMITY_SLOP) for a, b in itertools.pairwise(toks) if a != b]
        if pairs and PROXIMITY_BOOST > 0:
            if len(pairs) > 1:
                bonus: Plan = AnyQ(pairs, boost=PROXIMITY_BOOST)
            else:
                bonus = pairs[0]
                bonus.boost = PROXIMITY_BOOST
            group = AndMaybe(group, Bonus(bonus))
        return group


def _any(plans: list[Plan]) -> Plan:
    return plans[0] if len(plans) == 1 else AnyQ(plans)


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
