"""Search: the read side, shared unchanged by the CLI and the web app.

    query.py     the query language -> an engine-independent tree (QueryError on bad input)
    facets.py    RecordTable (facet data from the store) and document counts per facet value
    snippets.py  1-3 sentences around the best passage, query terms in <mark>
    suggest.py   "did you mean" and "more like this" through the Engine interface
    results.py   Searcher.search(SearchRequest) -> SearchPage: parse, rank, filter, collapse

Flow: parse -> engine returns every matching record with its score -> facet and date filters
from the RecordTable -> one hit per document (best section + up to 3 more) -> page -> snippets.
"""

from .facets import FacetCount
from .query import ParsedQuery, parse
from .results import Searcher, SearchHit, SearchPage, SearchRequest

__all__ = ["FacetCount", "ParsedQuery", "SearchHit", "SearchPage", "SearchRequest", "Searcher", "parse"]
