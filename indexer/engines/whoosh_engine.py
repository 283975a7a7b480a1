"""Whoosh 2.7.4 behind the Engine interface."""

from __future__ import annotations

import heapq
import itertools
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..analysis import plain_analyzer, text_analyzer
from ..errors import IndexLockedError, QueryError, SchemaMismatchError
from ..schema import SCHEMA_VERSION, build_schema, infobox_slug
from ..search.query import (
    MAX_EXPANSION,
    Bool,
    DateRange,
    Filter,
    Fuzzy,
    MatchAll,
    Node,
    Phrase,
    Prefix,
    Term,
    parse,
)
from .base import Hit

with warnings.catch_warnings():
    # Whoosh 2.7.4 has invalid escape sequences in old regex literals; the warning fires only
    # when its modules are first compiled and means nothing at run time.
    warnings.filterwarnings("ignore", category=SyntaxWarning, message=r"invalid escape sequence")
    from whoosh import index as whoosh_index
    from whoosh import query, scoring
    from whoosh.index import LockError

INDEX_NAME = "sections"
_VERSION_FILE = "schema_version"
SEARCH_FIELDS = ("title", "heading", "breadcrumb", "text", "infobox")
# Coordination: records containing every one of 2-8 OR-ed clauses score their sum once more,
# times COORD_BOOST (Whoosh's own CoordMatcher divides by zero on one-term groups).
COORD_BOOST = 0.5
COORD_MAX_CLAUSES = 8
PROXIMITY_SLOP = 3
PROXIMITY_BOOST = 0.3  # bench/quality.py: 0.0 -> 0.3655, 0.1 -> 0.3700, 0.3 -> 0.3717, 1.0 -> 0.3559 nDCG@10


class WhooshBatch:
    """One Whoosh writer; the only code that calls it is indexer/writer.py."""

    def __init__(self, ix: Any, index_dir: str, workers: int = 1) -> None:
        try:
            if workers > 1:
                # Sub-processes analyse batches of records into their own segments while this
                # process keeps producing records; nothing is visible before commit().
                self._w = ix.writer(timeout=0.0, procs=workers, multisegment=True)
            else:
                self._w = ix.writer(timeout=0.0)
        except LockError:
            raise IndexLockedError(index_dir) from None

    def add(self, record: Mapping[str, Any]) -> None:
        self._w.add_document(**record)

    def delete_document(self, doc_id: str) -> None:
        self._w.delete_by_term("doc_id", doc_id)

    def replace_document(self, doc_id: str, records: Iterable[Mapping[str, Any]]) -> None:
        self.delete_document(doc_id)
        for record in records:
            self.add(record)

    def commit(self) -> None:
        self._w.commit()

    def cancel(self) -> None:
        self._w.cancel()


class WhooshEngine:
    """A Whoosh index in `<index_dir>/whoosh`."""

    def __init__(self, index_dir: str | Path, create: bool = False) -> None:
        self.index_dir = str(index_dir)
        self.path = Path(index_dir) / "whoosh"
        version_file = self.path / _VERSION_FILE
        if whoosh_index.exists_in(str(self.path), indexname=INDEX_NAME):
            found = int(version_file.read_text().strip()) if version_file.exists() else 0
            if found != SCHEMA_VERSION:
                raise SchemaMismatchError(self.index_dir, found, SCHEMA_VERSION)
            self.ix = whoosh_index.open_dir(str(self.path), indexname=INDEX_NAME)
        elif create:
            self.path.mkdir(parents=True, exist_ok=True)
            self.ix = whoosh_index.create_in(str(self.path), build_schema(), indexname=INDEX_NAME)
            version_file.write_text(f"{SCHEMA_VERSION}\n")
        else:
            raise FileNotFoundError(f"no index in {self.index_dir}")
        self._ids: list[str] = []
        self._ids_key: Any = None

    def begin(self, workers: int = 1) -> WhooshBatch:
        return WhooshBatch(self.ix, self.index_dir, workers)

    def search(self, tree: Node | str, latest_only: bool = True, limit: int | None = None) -> list[Hit]:
        """Records matching the query tree: the best `limit`, best first, or every match, unordered.

        BM25F over title, heading, breadcrumb, text and infobox fields with their boosts;
        OR-ed words get a coordination bonus and a proximity bonus when they occur close
        together. Ties are broken by record id, so the order never depends on segment layout."""
        if isinstance(tree, str):
            tree = parse(tree).tree
        with self.ix.searcher(weighting=scoring.BM25F()) as s:
            q = _Translator(s).query(tree)
            if q is None:
                return []
            if latest_only:
                q = query.And([q, _unscored(query.Term("is_latest", True))])
            results = s.search(q, limit=None, optimize=False, terms=False)
            ids = self._record_id_column(s)
            # Results.top_n holds (score, docnum) for every match when limit is None.
            hits = [Hit(ids[docnum], float(score)) for score, docnum in results.top_n]
        if limit is None:
            return hits  # callers that take everything rank it themselves
        return heapq.nsmallest(limit, hits, key=lambda h: (-h.score, h.record_id))

    def generation(self) -> int:
        """Changes with every commit (readers cache per generation)."""
        return int(self.ix.latest_generation())

    def terms_near(self, word: str, maxdist: int = 2, prefix: int = 1) -> list[tuple[str, int]]:
        """Vocabulary words within `maxdist` edits of `word`, with their record frequency."""
        with self.ix.searcher() as s:
            r = s.reader()
            out = []
            for t in r.terms_within("words", word.lower(), maxdist, prefix=prefix):
                t = t.decode("utf-8") if isinstance(t, bytes) else t
                out.append((t, int(r.doc_frequency("words", t))))
            return out

    def word_frequency(self, word: str) -> int:
        """Records containing `word` (unstemmed vocabulary)."""
        with self.ix.searcher() as s:
            return int(s.reader().doc_frequency("words", word.lower()))

    def term_stats(self, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """(records in the index, record frequency of each analysed body term)."""
        with self.ix.searcher() as s:
            r = s.reader()
            return int(s.doc_count()), {t: int(r.doc_frequency("text", t)) for t in terms}

    def _record_id_column(self, s: Any) -> Any:
        # Doc numbers change only with a new index generation: the column is read once per commit.
        key = s.reader().generation()
        if self._ids_key != key or key is None:
            reader = s.reader()
            try:
                self._ids = list(reader.column_reader("record_id"))
            except NotImplementedError:  # an empty index has no columns
                self._ids = [f["record_id"] for f in reader.all_stored_fields()]
            self._ids_key = key
        return self._ids

    def record_ids(self) -> set[str]:
        with self.ix.searcher() as s:
            return {fields["record_id"] for fields in s.all_stored_fields()}

    def doc_count(self) -> int:
        with self.ix.searcher() as s:
            return int(s.doc_count())

    def close(self) -> None:
        self.ix.close()


class _Translator:
    """Query tree -> Whoosh query, with the limits that need the index (expansions)."""

    def __init__(self, searcher: Any) -> None:
        self.s = searcher
        self.reader = searcher.reader()
        self.analyzer = text_analyzer()
        self.plain = plain_analyzer()
        self.schema = searcher.schema

    def tokens(self, text: str) -> list[str]:
        return [t.text for t in self.analyzer(text)]

    def query(self, node: Node) -> Any:
        if isinstance(node, MatchAll):
            return query.Every()
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, Phrase):
            return self.phrase(node.words, node.field)
        if isinstance(node, Prefix):
            return self.expand(node, "prefix")
        if isinstance(node, Fuzzy):
            return self.expand(node, "fuzzy")
        if isinstance(node, Filter):
            return _unscored(self.filter(node))
        if isinstance(node, DateRange):
            return _unscored(self.date_range(node))
        assert isinstance(node, Bool)
        return self.boolean(node)

    def fields(self, field: str | None) -> tuple[str, ...]:
        return SEARCH_FIELDS if field is None else (field,)

    def term(self, node: Term) -> Any:
        toks = self.tokens(node.text)
        if not toks:
            return None  # a stop word
        return self.analysed(toks, node.field)

    def phrase(self, words: tuple[str, ...], field: str | None) -> Any:
        toks = self.tokens(" ".join(words))
        return self.analysed(toks, field) if toks else None

    def analysed(self, toks: list[str], field: str | None, slop: int = 1) -> Any:
        """One analysed token in every searched field, or the tokens as a phrase."""
        if len(toks) == 1:
            parts = [query.Term(f, toks[0]) for f in self.fields(field)]
        else:
            fields = ("title", "heading", "breadcrumb", "text") if field is None else (field,)
            parts = [query.Phrase(f, toks, slop=slop) for f in fields]
        return parts[0] if len(parts) == 1 else query.Or(parts)

    def expand(self, node: Prefix | Fuzzy, kind: str) -> Any:
        folded = [t.text for t in self.plain(node.text)]
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
        # Each vocabulary word is searched as a word (stemmed, every text field).
        stems = sorted({tok for w in found for tok in self.tokens(w)})
        if not stems:
            return query.NullQuery
        fields = self.fields(node.field)
        return query.Or([query.Term(f, t) for t in stems for f in fields])

    def filter(self, node: Filter) -> Any:
        value = node.value
        if node.field == "section":
            v = re.sub(r"\s+", " ", value).strip().lower()
            return query.Or([query.Term("section", v), query.Term("subsection", v)])
        if node.field in ("language", "doc_type"):
            return query.Term(node.field, value.lower())
        if node.field == "source":
            return query.Term("source", value)
        key = infobox_slug(node.field.removeprefix("infobox."))
        field = "ib_" + key
        toks = self.tokens(value)
        if not toks:
            return query.NullQuery
        if len(toks) == 1:
            return query.Term(field, toks[0])
        return query.Phrase(field, toks)

    def date_range(self, node: DateRange) -> Any:
        ends = [v for v in (node.lo, node.hi) if v]
        grain = min(v.count("-") for v in ends)
        field = ("date_year", "date_month", "date_day")[grain]
        width = (4, 7, 10)[grain]
        lo = node.lo[:width] if node.lo else None
        hi = node.hi[:width] if node.hi else None
        if lo is not None and lo == hi:
            return query.Term(field, lo)
        return query.TermRange(field, lo, hi, startexcl=False, endexcl=False)

    def boolean(self, node: Bool) -> Any:
        should = [q for q in (self.query(n) for n in node.should) if q is not None]
        must = [q for q in (self.query(n) for n in node.must) if q is not None]
        must_not = [q for q in (self.query(n) for n in node.must_not) if q is not None]
        if not should and not must:
            if not must_not:
                return None
            must = [query.Every()]
        parts = list(must)
        if should and any(not isinstance(n, Filter | DateRange) for n in node.must):
            # `+steamer harbour`: the required word decides, the others only rank.
            group = query.Or(should) if len(should) > 1 else should[0]
            q = query.AndMaybe(parts[0] if len(parts) == 1 else query.And(parts), group)
            return query.AndNot(q, query.Or(must_not)) if must_not else q
        if should:
            group = query.Or(should) if len(should) > 1 else should[0]
            if 2 <= len(should) <= COORD_MAX_CLAUSES:
                group = query.AndMaybe(group, query.And(should, boost=COORD_BOOST))
            words = [n.text for n in node.should if isinstance(n, Term) and n.field is None]
            toks = self.tokens(" ".join(words))
            if len(toks) > 1:
                # Query words that occur close together in the text (each neighbouring pair
                # within PROXIMITY_SLOP positions) score a bonus.
                pairs = [
                    query.Phrase("text", [a, b], slop=PROXIMITY_SLOP) for a, b in itertools.pairwise(toks) if a != b
                ]
                if pairs:
                    bonus = (
                        query.Or(pairs, boost=PROXIMITY_BOOST)
                        if len(pairs) > 1
                        else pairs[0].with_boost(PROXIMITY_BOOST)
                    )
                    group = query.AndMaybe(group, bonus)
            parts.append(group)
        q = parts[0] if len(parts) == 1 else query.And(parts)
        if must_not:
            q = query.AndNot(q, query.Or(must_not) if len(must_not) > 1 else must_not[0])
        return q


def _unscored(q: Any) -> Any:
    # Filters restrict, they do not rank. (Whoosh's ConstantScoreQuery mis-steps inside
    # AndNot/And with phrases: "array index out of range"; a zero boost does not.)
    return q.with_boost(0.0)
