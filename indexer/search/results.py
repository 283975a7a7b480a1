"""The search call: parse -> engine -> filters and facets -> one hit per document -> snippets.

`Searcher` is opened on an index directory and used by the CLI and the web app alike; its
`search(SearchRequest)` returns a `SearchPage` whose `to_json()` is the API object.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .. import compiled
from ..analysis import is_query_stop, query_languages
from ..engines import Engine, open_engine
from ..errors import DocumentNotFound, QueryError
from ..facets import facet_names
from ..models import DateMention, Section
from ..querytree import Bool, MatchAll, Node, Term, date_bounds, valid_date
from ..records import engine_rows
from ..sentences import MODEL_KEY, SentenceModel, section_spans, unpack
from ..store import Store
from . import loops
from .facets import NO_DATE, FacetCount, RecordTable, Runs, facet_counts, record_table, snapshot
from .query import ParsedQuery, parse
from .snippets import QueryTerms, mentions, snippet
from .suggest import Vocabulary, complete, corrected, more_like_this, next_words

AUX_WEIGHT = 0.5  # See also, References...: found, but below real sections
MORE_SECTIONS = 3
MORE_CANDIDATES = 12  # sections looked at to find MORE_SECTIONS that have the words themselves
MAX_LIMIT = 100
MAX_PAGE = 500
EXPORT_BATCH = 100  # hits an export builds at a time (their texts are read together)
SORTS = ("relevance", "date", "oldest")
_MONTH = re.compile(r"^\d{4}-\d{2}$", re.ASCII)
_YEAR = re.compile(r"^\d{4}$", re.ASCII)


@dataclass
class SearchRequest:
    """Everything a search can be asked: the query, facet selections, date range, sort, page."""

    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)  # facet name -> selected values
    date_from: str | None = None
    date_to: str | None = None
    sort: str = "relevance"
    latest_only: bool = False  # search the latest version of each document only
    page: int = 1
    limit: int = 10

    def validate(self) -> None:
        """Raise QueryError for values outside what the search accepts."""
        if self.sort not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)}", query=self.q)
        if not 1 <= self.limit <= MAX_LIMIT:
            raise QueryError(f"limit must be between 1 and {MAX_LIMIT}", query=self.q)
        if not 1 <= self.page <= MAX_PAGE:
            raise QueryError(f"page must be between 1 and {MAX_PAGE}", query=self.q)
        unknown = sorted(set(self.filters) - set(facet_names()))
        if unknown:
            raise QueryError(f"unknown facet {unknown[0]!r} (facets: {', '.join(facet_names())})", query=self.q)
        for y in self.filters.get("year", []):
            if not _YEAR.match(y) or not valid_date(y):
                raise QueryError(f"year {y!r} is not a year like 2022", query=self.q)
        for m in self.filters.get("month", []):
            if not _MONTH.match(m) or not valid_date(m):
                raise QueryError(f"month {m!r} is not a month like 2022-09", query=self.q)
        for name, v in (("date-from", self.date_from), ("date-to", self.date_to)):
            if v and not valid_date(v):
                raise QueryError(f"{name} {v!r} is not a date like 2022, 2022-09 or 2022-09-12", query=self.q)


@dataclass
class MoreSection:
    """Another matching section of a hit."""

    version_id: str
    breadcrumb: str
    anchor: str
    score: float
    snippet: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "version_id": self.version_id, "breadcrumb": self.breadcrumb, "anchor": self.anchor,
            "score": round(self.score, 4), "snippet": self.snippet,
        }  # fmt: skip


@dataclass
class SearchHit:
    """One document: its best section, up to three more, and the versions that match."""

    doc_id: str
    version_id: str
    title: str
    breadcrumb: str
    anchor: str
    score: float
    snippet: str
    dates: list[dict[str, Any]]
    language: str
    versions: int
    matching_versions: list[dict[str, Any]]
    more_sections: list[MoreSection]
    in_latest: bool = True  # the latest version has the match
    removed_in: int | None = None  # the first later entry without the match, when the latest lacks it

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id, "version_id": self.version_id, "title": self.title,
            "breadcrumb": self.breadcrumb, "anchor": self.anchor, "score": round(self.score, 4),
            "snippet": self.snippet, "dates": self.dates, "language": self.language,
            "version_count": self.versions, "matching_versions": self.matching_versions,
            "in_latest": self.in_latest, "removed_in": self.removed_in,
            "first_version": self.matching_versions[0]["number"] if self.matching_versions else None,
            "last_version": self.matching_versions[-1]["number"] if self.matching_versions else None,
            "more_sections": [s.to_json() for s in self.more_sections],
            "versions": self.versions,  # older name of version_count, for one release
        }  # fmt: skip

    @property
    def where(self) -> str:
        """Which versions have the match, in words: "" when the latest has it."""
        if self.in_latest:
            return ""
        numbers = [m["number"] for m in self.matching_versions]
        listed = ", ".join(f"#{n}" for n in numbers)
        removed = f" — removed in #{self.removed_in}" if self.removed_in else ""
        return f"only in older versions: {listed} of {self.versions}{removed}"


@dataclass
class SearchPage:
    """A page of results with facets, a suggestion and the time taken."""

    query: str
    total: int
    page: int
    limit: int
    sort: str
    latest_only: bool
    hits: list[SearchHit]
    facets: dict[str, list[FacetCount]]
    suggestion: str | None
    took_ms: float

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query, "total": self.total, "page": self.page, "limit": self.limit,
            "sort": self.sort, "latest_only": self.latest_only,
            "versions": "latest" if self.latest_only else "all",  # older name, for one release
            "hits": [h.to_json() for h in self.hits],
            "facets": {k: [c.to_json() for c in v] for k, v in self.facets.items()},
            "suggestion": self.suggestion, "took_ms": self.took_ms,
        }  # fmt: skip


@dataclass
class _Evaluation:
    """A request evaluated once: what a page, or an export, is cut from."""

    table: RecordTable
    parsed: ParsedQuery
    browse: bool
    scores: np.ndarray
    final: np.ndarray  # the records that match the query and every filter
    runs: Runs  # their numbers, ascending, by document (a document's rows are together)
    facets: dict[str, list[FacetCount]]
    total: int  # documents

    def ranked(self, sort: str, need: int) -> list[tuple[int, int, float]]:
        """[(doc, best record, key)] in result order; at least the first `need` documents."""
        if self.browse or sort != "relevance":
            return _order_documents(self.table, self.runs.rows, self.runs.docs, self.scores, sort, self.browse)
        return _best_documents(self.table, self.runs, self.scores, need)


@lru_cache(maxsize=2)
def _sentence_model(text: str | None) -> SentenceModel:
    """The stored sentence model, parsed once (with its tokenizer) while it stays the same: while
    an index run is between its store and its last stage, most pages have sections without
    sentences yet."""
    return SentenceModel.from_json(text)


class Searcher:
    """Read-only access to one index: search, similar documents, completion."""

    def __init__(self, index_dir: str | Path, engine: Engine | None = None) -> None:
        """Open an index; `engine` shares one open engine between searchers (one per thread in
        the web app: each has its own store connection, the engine is thread-safe)."""
        self.index_dir = Path(index_dir)
        self._own_engine = engine is None
        self._titles_key: Any = None
        self._titles: list[str] = []
        self.store = Store(self.index_dir)
        try:
            self.engine: Engine = engine or open_engine(str(self.index_dir))
        except BaseException:
            self.store.close()
            raise

    def warm(self) -> int:
        """Before a server's first request: the engine's warm-up (engine.warm: the frequent
        words' postings, and its compiled loops) and, on an index of compiled.COMPILE_FROM
        records or more, the search's compiled loops (loops.py). Returns the engine's size
        warmed."""
        if self.table().size >= compiled.COMPILE_FROM:
            loops.use_compiled()
        return self.engine.warm()

    def close(self) -> None:
        if self._own_engine:
            self.engine.close()
        self.store.close()

    def titles(self) -> list[str]:
        """Every document title, sorted case-insensitively (for completion)."""
        table = self.table()
        if self._titles_key != id(table):
            self._titles = sorted({m.title for m in table.doc_meta.values() if m.title}, key=str.lower)
            self._titles_key = id(table)
        return self._titles

    def complete(self, prefix: str, limit: int = 8) -> list[str]:
        """Completions for a search box: titles, then the last word completed from what follows
        the words before it in their best sections, then from the vocabulary."""
        head, _, last = " ".join(prefix.split()).rpartition(" ")
        context = next_words(head, last, self._best_texts(head)) if head and last else None
        return complete(prefix, self.vocabulary(), self.titles(), limit, context)

    def _best_texts(self, head: str, limit: int = 20) -> list[str]:
        """The texts of the best sections for a query (none when it does not parse)."""
        try:
            parsed = self.parse(head)
        except QueryError:
            return []
        if isinstance(parsed.tree, MatchAll):
            return []
        hits = self.engine.search(parsed.tree, latest_only=True, limit=limit)
        return list(self.store.section_texts([h.record_id for h in hits]).values())

    def languages(self) -> tuple[str, ...]:
        """The languages of the index (English for an empty one)."""
        return tuple(sorted(self.engine.languages())) or ("en",)

    def parse(self, q: str) -> ParsedQuery:
        """Parse a query for this index (its infobox keys, and the stop words of the languages
        its words are read in)."""
        index = self.engine.languages()

        def frequency(term: str) -> int:
            return self.engine.term_stats([term])[1][term]

        def is_stop(word: str) -> bool:
            return is_query_stop(word, query_languages(word, index), frequency)

        return parse(q, self.table().infobox_keys, self.languages(), is_stop)

    def __enter__(self) -> Searcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def vocabulary(self) -> Vocabulary:
        """The index's words and their record counts (for did-you-mean and completion)."""
        snap = snapshot(self.store, self.engine)
        return Vocabulary(snap.words, snap.word_freqs)

    def table(self) -> RecordTable:
        return record_table(self.store, self.engine)

    def _sentences(self, texts: dict[str, str]) -> dict[str, list[tuple[int, int]]]:
        """The sentences of some records' texts, as the indexer stored them; found with the
        index's sentence model for a section the last stage has not reached (a run that was
        stopped before it)."""
        out: dict[str, list[tuple[int, int]]] = {}
        model: SentenceModel | None = None
        for rid, blob in self.store.section_sentences(texts).items():
            if blob is None:
                model = model or _sentence_model(self.store.meta_value(MODEL_KEY))
                blob = section_spans(model, texts[rid])
            out[rid] = unpack(blob)
        return out

    def search(self, req: SearchRequest) -> SearchPage:
        """Run one search request (raises QueryError for a bad query or request)."""
        t0 = time.perf_counter()
        ev = self._evaluate(req)
        start = (req.page - 1) * req.limit
        ranked = ev.ranked(req.sort, start + req.limit)
        hits_out = self._hits(
            ev.table, ranked[start : start + req.limit], ev.final, ev.scores, ev.parsed,
            req.sort == "relevance", _windows(req),
        )  # fmt: skip
        suggestion = self._suggestion(ev.parsed, ev.total, req.latest_only) if req.q.strip() and not ev.browse else None
        took = round((time.perf_counter() - t0) * 1000, 1)
        return SearchPage(
            req.q, ev.total, req.page, req.limit, req.sort, req.latest_only, hits_out, ev.facets, suggestion, took
        )

    def export(self, req: SearchRequest, cap: int, batch: int = EXPORT_BATCH) -> Iterator[SearchHit]:
        """The request's result set, best first, at most `cap` documents (its page and limit are
        ignored): one evaluation, hits built `batch` at a time as they are read, so an export
        streams in bounded memory and never runs the search again per page."""
        ev = self._evaluate(req)
        ranked = ev.ranked(req.sort, cap)[:cap]
        windows = _windows(req)
        for start in range(0, len(ranked), batch):
            yield from self._hits(
                ev.table,
                ranked[start : start + batch],
                ev.final,
                ev.scores,
                ev.parsed,
                req.sort == "relevance",
                windows,
            )

    def _evaluate(self, req: SearchRequest) -> _Evaluation:
        """The matching records of a request, their scores, the facets and the document count."""
        req.validate()
        table = self.table()
        parsed = self.parse(req.q)
        browse = isinstance(parsed.tree, MatchAll)
        scores = np.zeros(table.size)
        if browse:
            matched = table.latest.copy() if req.latest_only else np.ones(table.size, dtype=bool)
        else:
            numbers, values = self.engine.evaluate(parsed.tree, req.latest_only)
            matched = np.zeros(table.size, dtype=bool)
            # (records the table does not have yet are left out)
            loops.scatter_rows(self._maps(table), numbers, values, scores, matched)
        other: np.ndarray | None = None  # the filters that are not facets: none, or a mask
        if req.date_from or req.date_to:
            lo = date_bounds(req.date_from)[0] if req.date_from else None
            hi = date_bounds(req.date_to)[1] if req.date_to else None
            other = table.date_mask(lo, hi)
        if parsed.reuse:
            reuse = self._reuse_mask(table, parsed)
            other = reuse if other is None else other & reuse
        selections = {k: list(dict.fromkeys(v)) for k, v in req.filters.items() if v}
        final, facets, runs = facet_counts(table, matched, selections, other)
        return _Evaluation(table, parsed, browse, scores, final, runs, facets, len(runs.distinct))

    def _reuse_mask(self, table: RecordTable, parsed: ParsedQuery) -> np.ndarray:
        """Records of the documents that share a passage with a `reuse:DOC_ID` of the query."""
        partners: set[str] = set()
        for ref in parsed.reuse:
            try:
                partners |= self.store.reuse_partners(self.store.resolve_doc_id(ref))
            except DocumentNotFound:
                raise QueryError(
                    f"reuse:{ref}: no such document", query=parsed.text, position=parsed.text.find(ref)
                ) from None
        numbers = [table.doc_index[d] for d in sorted(partners) if d in table.doc_index]
        return np.isin(table.doc, np.asarray(numbers, dtype=table.doc.dtype))

    def _suggestion(self, parsed: ParsedQuery, total: int, latest_only: bool) -> str | None:
        """The query with its misspelled words corrected (the others kept), when that finds
        more documents, or more documents that have all its words: `Pashinian ceasefire` finds
        as many documents as `Pashinyan ceasefire` through `ceasefire`, but none with both."""
        text = corrected(parsed, self.vocabulary(), self.languages())
        if text is None:
            return None
        try:
            fixed = self.parse(text).tree
        except QueryError:
            return None
        if self.count_documents(fixed, latest_only) > total:
            return text
        before = self.count_documents(_all_words(parsed.tree), latest_only)
        return text if self.count_documents(_all_words(fixed), latest_only) > before else None

    def count_documents(self, tree: Node, latest_only: bool = True) -> int:
        """Distinct documents a query tree matches (for suggestions)."""
        table = self.table()
        numbers = self.engine.match(tree, latest_only=latest_only)
        docs, complete = self._engine_docs(table)
        found = docs[numbers]
        present = np.zeros(len(table.doc_ids), dtype=bool)
        present[found if complete else found[found >= 0]] = True
        return int(np.count_nonzero(present))

    def _engine_docs(self, table: RecordTable) -> tuple[np.ndarray, bool]:
        """(the table document of each engine record number, -1 where the table has no such
        record; whether it has them all), kept with the table for its engine numbering."""
        rows = self._maps(table)
        kept = getattr(table, "_engine_docs", None)
        if kept is None or kept[0] is not rows:
            known = rows >= 0
            docs = np.full(len(rows), -1, dtype=table.doc.dtype)
            docs[known] = table.doc[rows[known]]
            kept = (rows, docs, bool(known.all()))
            table._engine_docs = kept  # type: ignore[attr-defined]
        return kept[1], kept[2]

    def _maps(self, table: RecordTable) -> np.ndarray:
        """The table row of each engine record number (-1: not in the table)."""
        snap = snapshot(self.store, self.engine)
        if snap.table is table:
            return snap.engine_rows
        return engine_rows(table, self.engine.record_id_column())  # the index changed meanwhile

    def _hits(
        self,
        table: RecordTable,
        page_docs: list[tuple[int, int, float]],
        final: np.ndarray,
        scores: np.ndarray,
        parsed: ParsedQuery,
        by_relevance: bool = True,
        windows: list[list[tuple[str, str]]] | None = None,
    ) -> list[SearchHit]:
        """The hits of a page. With date filters (`windows`), a hit's dates in range come first
        and its snippet prefers, and marks, the sentences that mention them."""
        terms = QueryTerms.build(parsed.words, parsed.phrases, parsed.prefixes)
        chosen: list[tuple[int, list[int], np.ndarray]] = []
        crumbs = table.info_column("breadcrumb")
        version_ids = table.info_column("version_id")
        for doc, best, _key in page_docs:
            recs = _document_records(table, final, doc)
            if by_relevance:
                best = _shown_record(recs, table, scores)
            others = [int(r) for r in _order(recs, table, scores) if r != best]
            # One entry per section: the same breadcrumb in an older version adds nothing.
            seen = {crumbs[best]}
            more = []
            for r in others:
                crumb = crumbs[r]
                if crumb not in seen:
                    seen.add(crumb)
                    more.append(r)
                if len(more) == MORE_CANDIDATES:
                    break
            chosen.append((best, more, recs))
        # The best sections' texts are read together; another section's text only when its
        # heading does not already say whether it has the words, and only until a hit has its
        # MORE_SECTIONS (the candidates after those are never shown).
        texts = self.store.section_texts([table.record_ids[best] for best, _, _ in chosen], with_infobox=True)
        if terms:
            # A section that matched only through the document's title says nothing more: the
            # more sections are those whose own heading or text has the words.
            chosen = [(best, self._with_words(table, texts, more, terms), recs) for best, more, recs in chosen]
        else:
            chosen = [(best, more[:MORE_SECTIONS], recs) for best, more, recs in chosen]
        missing = [table.record_ids[r] for _, more, _ in chosen for r in more if table.record_ids[r] not in texts]
        texts.update(self.store.section_texts(missing, with_infobox=True))
        # Sentences of the sections shown only.
        shown = [table.record_ids[r] for best, more, _ in chosen for r in (best, *more)]
        sentences = self._sentences({rid: texts[rid] for rid in shown if rid in texts})
        out = []
        for best, more, recs in chosen:
            doc_id = table.doc_ids[table.doc[best]]
            meta = table.doc_meta[doc_id]
            info = table.info[best]
            # Timeline entries whose text matches (a version carried by several entries, such as
            # a text reverted to, matches in each of them).
            # (A version's records are one run of its document's rows: one record per run is read.)
            ranks = table.version_rank[recs]
            firsts = recs[np.flatnonzero(np.concatenate(([True], ranks[1:] != ranks[:-1])))]
            versions = sorted({(n, v) for v in (version_ids[r] for r in firsts.tolist()) for n in table.entries[v]})
            in_latest = bool(table.latest[recs].any())
            # With a date filter, the dates in range first, and marked in the snippet.
            in_range = [m for m in table.dates[best] if windows and _in_windows(m, windows)]
            dates = in_range + [m for m in table.dates[best] if m not in in_range]
            marks = [(m.start, m.end, m.value) for m in in_range]
            last = versions[-1][0] if versions else 0
            out.append(
                SearchHit(
                    doc_id=doc_id,
                    version_id=info.version_id,
                    title=meta.title if info.version_id == meta.latest_version_id else info.title,
                    breadcrumb=info.breadcrumb,
                    anchor=info.anchor,
                    score=_adjusted(table, scores, best),
                    snippet=snippet(
                        texts.get(table.record_ids[best], ""),
                        terms,
                        info.language,
                        extra=marks,
                        sentence_spans=sentences.get(table.record_ids[best]),
                    ),
                    dates=[{"text": m.text, "value": m.value, "inferred": m.inferred} for m in dates[:10]],
                    language=info.language,
                    versions=meta.version_count,
                    matching_versions=[{"version_id": v, "number": n} for n, v in versions],
                    in_latest=in_latest,
                    removed_in=None if in_latest or last >= meta.version_count else last + 1,
                    more_sections=[
                        MoreSection(
                            other.version_id,
                            other.breadcrumb,
                            other.anchor,
                            _adjusted(table, scores, r),
                            snippet(texts.get(rid, ""), terms, other.language, sentence_spans=sentences.get(rid)),
                        )
                        for r, other, rid in ((r, table.info[r], table.record_ids[r]) for r in more)
                    ],
                )
            )
        return out

    def _with_words(
        self, table: RecordTable, texts: dict[str, str], candidates: list[int], terms: QueryTerms
    ) -> list[int]:
        """The first MORE_SECTIONS of `candidates` whose heading path or text has something
        `terms` marks; texts read as needed (into `texts`)."""
        out: list[int] = []
        crumbs, languages = table.info_column("breadcrumb"), table.info_column("language")
        for r in candidates:
            if len(out) == MORE_SECTIONS:
                break
            language = languages[r]
            if mentions(crumbs[r], terms, language):
                out.append(r)
                continue
            rid = table.record_ids[r]
            if rid not in texts:
                texts.update(self.store.section_texts([rid], with_infobox=True))
            if mentions(texts.get(rid, ""), terms, language):
                out.append(r)
        return out

    def similar(self, doc_id: str, limit: int = 5) -> list[dict[str, Any]]:
        """The documents most related to one document, with the terms that link them."""
        doc_id = self.store.resolve_doc_id(doc_id)
        table = self.table()
        own = table.doc_index.get(doc_id, -1)

        def elsewhere(word: str) -> bool:
            rows = self._maps(table)[self.engine.match(Term(word), latest_only=True)]
            return bool((table.doc[rows[rows >= 0]] != own).any())

        return more_like_this(self._latest, self.engine, table, doc_id, limit, elsewhere)

    def _latest(self, doc_id: str) -> tuple[str, list[Section]]:
        """A document's title and the sections of its latest version."""
        row = self.store.document_row(doc_id)
        return str(row["title"]), self.store.sections_of(row["latest_version_id"])


def _windows(req: SearchRequest) -> list[list[tuple[str, str]]]:
    """The date filters of a request as groups of ISO day ranges: a date qualifies when it
    overlaps a range of every group (a selected year, a selected month, the from/to range)."""
    groups = []
    for name in ("year", "month"):
        values = req.filters.get(name, [])
        if values:
            groups.append([date_bounds(v) for v in values])
    if req.date_from or req.date_to:
        lo = date_bounds(req.date_from)[0] if req.date_from else "0001-01-01"
        hi = date_bounds(req.date_to)[1] if req.date_to else "9999-12-31"
        groups.append([(lo, hi)])
    return groups


def _in_windows(mention: DateMention, windows: list[list[tuple[str, str]]]) -> bool:
    lo, hi = mention.bounds()
    hi = hi or "9999-12-31"
    return all(any(lo <= w_hi and hi >= w_lo for w_lo, w_hi in group) for group in windows)


def _all_words(tree: Node) -> Node:
    """The tree with its optional words required (a query's "all of them" reading)."""
    if isinstance(tree, Bool) and tree.should and not tree.must:
        return Bool(must=tree.should, must_not=tree.must_not)
    return tree


def _shown_record(recs: np.ndarray, table: RecordTable, scores: np.ndarray) -> int:
    """The section a hit shows: the best of the latest version when it matches, else the best
    of the newest version that does (a document still ranks by its best version)."""
    latest = recs[table.latest[recs]]
    if len(latest):
        return _order(latest, table, scores)[0]
    newest = recs[table.version_rank[recs] == table.version_rank[recs].max()]
    return _order(newest, table, scores)[0]


def _adjusted(table: RecordTable, scores: np.ndarray, r: int) -> float:
    return float(scores[r] * _weights(table)[r])


def _order(recs: np.ndarray, table: RecordTable, scores: np.ndarray) -> list[int]:
    """Records best first: adjusted score, then latest version, then record id."""
    adj = scores[recs] * _weights(table)[recs]
    rank = table.version_rank[recs]
    order = np.lexsort((-rank, -adj))
    out = recs[order].tolist()
    adj, rank = adj[order], rank[order]
    tied = (adj[1:] == adj[:-1]) & (rank[1:] == rank[:-1])
    if tied.any():  # the same score in the same version (rare): by record id, each run of ties
        starts = np.flatnonzero(np.concatenate(([True], ~tied)))
        ends = np.append(starts[1:], len(out)).tolist()
        out = [r for a, b in zip(starts.tolist(), ends, strict=True) for r in _by_id(out[a:b], table)]
    return out


def _by_id(recs: list[int], table: RecordTable) -> list[int]:
    return recs if len(recs) < 2 else sorted(recs, key=lambda r: table.record_ids[r])


def _best_documents(table: RecordTable, runs: Runs, scores: np.ndarray, need: int) -> list[tuple[int, int, float]]:
    """The best `need` documents [(doc, best record, score)] of some records (`runs`: by
    document): a document scores its best record (auxiliary sections weighted down); ties by
    document id; its best record is the latest version's, then the first in document order."""
    recs = runs.rows
    if len(recs) == 0:
        return []
    weights = _weights(table)
    best = loops.best_per_document(scores, weights, recs, runs.docs, runs.distinct, runs.bounds, len(table.doc_ids))
    present = np.flatnonzero(best > -np.inf)
    if len(present) > need:
        kth = np.partition(best[present], len(present) - need)[len(present) - need]
        present = present[best[present] >= kth]  # every document tied at the cut stays
    chosen = sorted(present.tolist(), key=lambda d: (-best[d], table.doc_ids[d]))[:need]
    out = []
    for d in chosen:
        # The document's records are one run of `recs` (both ascending, documents together).
        lo, hi = np.searchsorted(recs, table.doc_start[d : d + 2])
        top = lo + np.flatnonzero(scores[recs[lo:hi]] * weights[recs[lo:hi]] == best[d])
        first = top[np.lexsort((recs[top], -table.version_rank[recs[top]]))[0]]
        out.append((d, int(recs[first]), float(best[d])))
    return out


def _weights(table: RecordTable) -> np.ndarray:
    """Each record's weight in ranking (AUX_WEIGHT for auxiliary sections, else 1), built once
    per table."""
    built = getattr(table, "_weights", None)
    if built is None:
        built = np.where(table.auxiliary, AUX_WEIGHT, 1.0)
        table._weights = built  # type: ignore[attr-defined]
    return built  # type: ignore[no-any-return]


def _document_records(table: RecordTable, mask: np.ndarray, doc: int) -> np.ndarray:
    """The records of one document in `mask`, ascending."""
    lo, hi = int(table.doc_start[doc]), int(table.doc_start[doc + 1])
    return lo + np.flatnonzero(mask[lo:hi])


def _order_documents(
    table: RecordTable, recs: np.ndarray, docs: np.ndarray, scores: np.ndarray, sort: str, browse: bool
) -> list[tuple[int, int, float]]:
    """[(doc, best record, key)] for browsing (by title) and the date sorts; one entry per document."""
    if len(recs) == 0:
        return []
    if browse and sort == "relevance":  # browsing without a query: documents by title, lead section first
        best = _first_per_document(docs, np.lexsort((recs, -table.version_rank[recs])))
        items = sorted(
            best, key=lambda i: (table.doc_meta[table.doc_ids[docs[i]]].title.lower(), table.doc_ids[docs[i]])
        )
        return [(int(docs[i]), int(recs[i]), 0.0) for i in items]
    newest = sort == "date"
    key = table.newest[recs] if newest else table.oldest[recs]
    adj = scores[recs] * _weights(table)[recs]
    # Dated sections first, by date (newest or oldest), then score, then the latest version.
    order = np.lexsort((recs, -table.version_rank[recs], -adj, -key if newest else key, key == NO_DATE))
    best = _first_per_document(docs, order)
    items = sorted(best, key=lambda i: (key[i] == NO_DATE, -key[i] if newest else key[i], table.doc_ids[docs[i]]))
    return [(int(docs[i]), int(recs[i]), float(key[i])) for i in items]


def _first_per_document(docs: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Positions (into `docs`) of the first record of each document in `order`."""
    _, first = np.unique(docs[order], return_index=True)
    return order[first]
