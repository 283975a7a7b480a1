"""Query tree -> xapian.Query, read as the other engines read it (engines/tantivy/translate.py):
words analysed in the index's languages (or those a required `lang:` names), a word whose forms
differ between languages as the best of its forms (OP_MAX), coordination and proximity bonuses
for OR-ed words (OP_AND_MAYBE), pasted text as a bag of its most distinctive words, filters
without score (OP_SCALE_WEIGHT 0). Xapian 1.4 has no fuzzy or range query over terms: prefix and
fuzzy words, and date ranges, are expanded here from the index's own terms.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import xapian

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
from .schema import DATE_PREFIX, FACET, FIELD_PREFIX, INFOBOX, date_number, fits

# The product's ranking constants (bench/ranking_study.py), the same as the other engines'.
COORD_BOOST = 0.5
COORD_MAX_CLAUSES = 8
PROXIMITY_SLOP = 3
PROXIMITY_MAX_WORDS = 4
PROXIMITY_BOOST = 0.3
PASSAGE_TERMS = 32
Q = xapian.Query


def scaled(query: Q, factor: float) -> Q:
    return query if factor == 1.0 else Q(Q.OP_SCALE_WEIGHT, query, factor)


def filtering(query: Q) -> Q:
    """Matches what `query` matches, with weight 0: a filter restricts, it never ranks."""
    return Q(Q.OP_SCALE_WEIGHT, query, 0.0)


def either(queries: list[Q], op: int = Q.OP_OR) -> Q:
    return queries[0] if len(queries) == 1 else Q(op, queries)


def phrase(terms: Sequence[str], slop: int = 1) -> Q:
    """The terms in order, at most `slop` positions apart (1: next to each other)."""
    return Q(Q.OP_PHRASE, list(terms), len(terms) + slop - 1)


class Translator:
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
        self.index_languages = dict(index_languages)
        self.termfreq = termfreq
        self.total = total
        self.prefixed = prefixed
        self.within = within
        self.terms_between = terms_between
        self.only = list(only)

    def languages_for(self, words: Sequence[str]) -> list[str]:
        if self.only:
            return self.only
        return sorted({lang for w in words for lang in query_languages(w, self.index_languages)} or {"en"})

    def query(self, node: Node) -> Q | None:
        if isinstance(node, MatchAll):
            return Q.MatchAll
        if isinstance(node, Term):
            return self.words([node.text], node.field)
        if isinstance(node, Phrase):
            return self.words(node.words, node.field)
        if isinstance(node, Passage):
            return self.passage(node)
        if isinstance(node, Prefix | Fuzzy):
            return self.expand(node)
        if isinstance(node, Filter):
            return filtering(self.filter(node))
        if isinstance(node, DateRange):
            return filtering(self.date_range(node))
        assert isinstance(node, Bool)
        return self.boolean(node)

    def forms(self, words: Sequence[str]) -> list[list[str]]:
        """The analysed forms of a word sequence, one per language where they differ (stop words
        left out: see analysis.is_query_stop)."""
        languages = self.languages_for(words)
        kept = [w for w in words if not is_query_stop(w, languages, self.termfreq)]
        out: list[list[str]] = []
        for lang in languages:
            a = analyzer_for(lang)
            seq = [t for w in kept if (t := a.term(w)) is not None]
            if seq and seq not in out:
                out.append(seq)
        return out

    def words(self, words: Sequence[str], field: str | None) -> Q | None:
        forms = self.forms(words)
        return either([self.analysed(f, field) for f in forms], Q.OP_MAX) if forms else None

    def field_term(self, term: str) -> Q:
        """A term of `title:`, `heading:` or `text:`: its idf where it occurs. The product ranks a
        field by BM25 over the field's own length, which Xapian (BM25 over the whole record)
        has not: a field's words are as long as the field in every section of a document, so
        the length counts for nothing there, and the section with the word in its title
        is not beaten by a shorter section of the same document."""
        df = self.termfreq(term)
        if not df:
            return Q(term)
        idf = math.log(1 + (self.total - df + 0.5) / (df + 0.5))
        return Q(Q.OP_FILTER, Q(xapian.FixedWeightPostingSource(idf)), Q(term))

    def analysed(self, toks: list[str], field: str | None) -> Q:
        """One analysed token, or the tokens as a phrase, in the body or the named field."""
        prefix = FIELD_PREFIX[field]
        if len(toks) == 1:
            return self.field_term(prefix + toks[0]) if field is not None else Q(toks[0])
        if field is not None:
            # As the other engines read it: the phrase in the body, every word in the field.
            return Q(Q.OP_AND, [phrase(toks), filtering(Q(Q.OP_AND, [Q(prefix + t) for t in toks]))])
        return phrase(toks)

    def passage(self, node: Passage) -> Q:
        """The PASSAGE_TERMS most distinctive terms of pasted text (occurrences times idf), each
        weighted by its occurrences, OR-ed."""
        counts: Counter[str] = Counter()
        for lang in self.languages_for(node.words[:200]):
            for term, n in Counter(analyzer_for(lang).terms(" ".join(node.words))).items():
                counts[term] = max(counts[term], n)
        weights = {}
        for term, tf in counts.items():
            df = self.termfreq(term)
            if df:
                weights[term] = tf * math.log(1 + (self.total - df + 0.5) / (df + 0.5))
        top = sorted(weights, key=lambda t: (-weights[t], t))[:PASSAGE_TERMS]
        if not top:
            return Q.MatchNothing
        return Q(Q.OP_OR, [scaled(Q(t), float(counts[t])) for t in sorted(top)])

    def expand(self, node: Prefix | Fuzzy) -> Q:
        folded = plain_terms(node.text)
        if not folded:
            raise QueryError(f"'{node.text}' has no letters to expand", position=node.position)
        word = folded[0]
        if isinstance(node, Prefix):
            found = self.prefixed(word, MAX_EXPANSION + 1)
        else:
            found = self.within(word, node.maxdist, MAX_EXPANSION + 1)
        if len(found) > MAX_EXPANSION:
            what = f"{node.text}*" if isinstance(node, Prefix) else f"{node.text}~"
            raise QueryError(
                f"'{what}' matches more than {MAX_EXPANSION} words; type more letters", position=node.position
            )
        # Each vocabulary word is searched as a word (analysed in every language of the index).
        stems = sorted({t for w in found for t in query_terms(w, self.languages_for([w]))})
        prefix = FIELD_PREFIX[node.field]
        kept = [self.field_term(prefix + t) if prefix else Q(t) for t in stems if fits(prefix + t)]
        return Q(Q.OP_OR, kept) if kept else Q.MatchNothing

    def filter(self, node: Filter) -> Q:
        if node.field.startswith("infobox."):
            slug = node.field.removeprefix("infobox.")
            forms = self.forms([w for _s, _e, w in tokens(node.value)])
            if not forms:
                return Q.MatchNothing
            keyed = [[f"{INFOBOX}{slug}:{t}" for t in f] for f in forms]
            return either([Q(f[0]) if len(f) == 1 else phrase(f) for f in keyed])
        return Q(f"{FACET}{node.field}:{node.value}")

    def date_range(self, node: DateRange) -> Q:
        ends = [v for v in (node.date_from, node.date_to) if v]
        grain = min(v.count("-") for v in ends)
        prefix = list(DATE_PREFIX)[grain]
        width = DATE_PREFIX[prefix]
        lo = date_number(node.date_from[:width]) if node.date_from else ""
        hi = date_number(node.date_to[:width]) if node.date_to else date_number("9999-99-99"[:width])
        found = self.terms_between(prefix, lo, hi)
        return Q(Q.OP_OR, [Q(t) for t in found]) if found else Q.MatchNothing

    def boolean(self, node: Bool) -> Q | None:
        should = [q for q in (self.query(n) for n in node.should) if q is not None]
        required = [(n, self.query(n)) for n in node.must]
        must = [q for _, q in required if q is not None]
        must_not = [q for q in (self.query(n) for n in node.must_not) if q is not None]
        if not should and not must:
            if not must_not:
                return None
            must = [Q.MatchAll]
        parts = list(must)
        if should and any(q is not None and not isinstance(n, Filter | DateRange) for n, q in required):
            # `+steamer harbour`: the required word decides, the others only rank.
            q = Q(Q.OP_AND_MAYBE, either(parts, Q.OP_AND), either(should))
            return Q(Q.OP_AND_NOT, q, either(must_not)) if must_not else q
        if should:
            parts.append(self.bonuses(either(should), should, node))
        q = either(parts, Q.OP_AND)
        if must_not:
            q = Q(Q.OP_AND_NOT, q, either(must_not))
        return q

    def bonuses(self, group: Q, should: list[Q], node: Bool) -> Q:
        """Coordination (all of 2-8 clauses) and proximity (neighbouring query words close together)."""
        if 2 <= len(should) <= COORD_MAX_CLAUSES:
            group = Q(Q.OP_AND_MAYBE, group, scaled(Q(Q.OP_AND, should), COORD_BOOST))
        words = [n.text for n in node.should if isinstance(n, Term) and n.field is None]
        pairs: list[Q] = []
        for toks in self.forms(words):
            if len(toks) > PROXIMITY_MAX_WORDS:
                continue  # in a long question, neighbouring words are rarely a phrase
            pairs += [phrase([a, b], PROXIMITY_SLOP) for a, b in itertools.pairwise(toks) if a != b]
        if pairs and PROXIMITY_BOOST > 0:
            group = Q(Q.OP_AND_MAYBE, group, scaled(either(pairs), PROXIMITY_BOOST))
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
