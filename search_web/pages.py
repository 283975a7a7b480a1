"""The search page (results, facets, browsing) and the OpenSearch description."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request, url_for

from indexer.errors import QueryError
from indexer.facets import FACETS, facet
from indexer.search import SearchPage

from .backend import facet_params, search_request, state, with_params
from .charts import month_chart, year_chart
from .labels import date_label, facet_label

bp = Blueprint("pages", __name__)


def backend() -> Any:
    return current_app.extensions["palimpsest"]


@bp.get("/")
@bp.get("/search")
def search() -> Any:
    """Results for ?q=… with facets; without a query, the corpus to browse by facet."""
    args = request.args
    try:
        req = search_request(args)
        page: SearchPage | None = backend().searcher().search(req)
        error = None
    except QueryError as exc:
        req, page, error = None, None, exc
    status = 400 if error else 200
    facet_url = facet_urls(args)
    chips = [
        {"label": facet(name).title, "value": facet_label(name, _shown(page, name, v)), "url": facet_url(name, v)}
        for param, name in facet_params().items()
        for v in args.getlist(param)
        if v.strip()
    ]
    for key, label in (("date_from", "From"), ("from", "From"), ("date_to", "To"), ("to", "To")):
        if args.get(key):
            chips.append(
                {
                    "label": label,
                    "value": date_label(args[key]),
                    "url": url_for("pages.search", **with_params(args, drop=("page", key))),
                }
            )
    return render_template(
        "search.html",
        req=req,
        page=page,
        error=error,
        error_at=error_at(error),
        args=args,
        chips=chips,
        facets=FACETS,
        facet_url=facet_url,
        page_url=lambda n: url_for("pages.search", **with_params(state(args), page=n)),
        sort_params=with_params(state(args), drop=("sort", "versions")),
        suggestion_url=(
            url_for("pages.search", **with_params(state(args), q=page.suggestion)) if page and page.suggestion else None
        ),
        year_chart=lambda items: year_chart(
            items,
            lambda v: facet_url("year", v),
            lambda lo, hi: url_for(
                "pages.search",
                **with_params(state(args), drop=("date_from", "date_to", "from", "to"), date_from=lo, date_to=hi),
            ),
        ),
        month_chart=lambda year, items: month_chart(year, items, lambda v: facet_url("month", v)),
        month_years={m.value[:4] for m in (page.facets.get("month", []) if page else [])},
        months_of=lambda year: [m for m in (page.facets.get("month", []) if page else []) if m.value[:4] == year],
        hit_url=hit_urls(args.get("q", "")),
    ), status


def _shown(page: SearchPage | None, name: str, value: str) -> str:
    """A selected value as the documents write it (the facet's label), else as typed."""
    key = facet(name).key(value)
    for f in page.facets.get(name, []) if page else []:
        for c in (f, *f.children):
            if c.value == key:
                return c.label
    return value


def error_at(error: QueryError | None) -> tuple[str, str, str] | None:
    """The query split around the word where its problem is: (before, word, after)."""
    if error is None or error.position is None or not error.query:
        return None
    pos = min(error.position, len(error.query))
    m = re.compile(r"\S*").match(error.query, pos)
    end = max(m.end() if m else pos, pos + 1)
    return error.query[:pos], error.query[pos:end], error.query[end:]


def facet_urls(args: Any) -> Any:
    """facet_url(facet, value) for this page: the search URL with that value switched on or off.
    Built by hand from the current parameters (a page has a few hundred facet links)."""
    base = url_for("pages.search")
    pairs = [(k, v) for k in args for v in args.getlist(k) if k != "page"]

    def facet_url(name: str, value: str) -> str:
        spec = facet(name)
        key = spec.key(value)
        # A value switched on however it was typed (`Reactions`, `reactions`) is switched off.
        on = [(k, v) for k, v in pairs if k in spec.params and spec.key(v) == key]
        kept = [p for p in pairs if p not in on] if on else [*pairs, (spec.param, value)]
        return f"{base}?{urlencode(kept)}" if kept else base

    return facet_url


def hit_urls(q: str) -> Any:
    """hit_url(doc_id, version_id, anchor): a section's link, on the latest version's page or on
    the version's own page (the record table is read once per page, not once per link)."""
    doc_meta = backend().searcher().table().doc_meta

    def hit_url(doc_id: str, version_id: str, anchor: str) -> str:
        meta = doc_meta.get(doc_id)
        if meta is not None and meta.latest_version_id == version_id:
            url = url_for("documents.document", doc_id=doc_id, q=q or None)
        else:
            url = url_for("documents.version", doc_id=doc_id, version_id=version_id, q=q or None)
        return f"{url}#{anchor}" if anchor else url

    return hit_url


# The query language, as the help page shows it: (examples, what they find).
SYNTAX: list[tuple[tuple[str, ...], str]] = [
    (("ceasefire violations",), "sections with either word; those with both, close together, rank first"),
    (('"Lachin corridor"',), "the words next to each other, in this order"),
    (("Armenia AND unprovoked", "Kalbajar OR Jermuk"), "both words, or either word (operators in capitals)"),
    (("Stepanakert -protesters", "NOT russia"), "without a word; a word excluded alone leaves everything else"),
    (("+steamer harbour",), "the first word required, the second only ranks"),
    (("harbour NOT (ferry OR depot)",), "parentheses group, at most 8 deep"),
    (("title:clashes", "heading:aftermath", "text:tram"), "a word in the title, a heading, or the text"),
    (("section:Background", 'section:"Ceasefire violations"'), "sections under that heading"),
    (("lang:fr", "source:seeds", "type:html"), "a language, a source, a document type"),
    (("Azerb*", "Pashinyn~", "Pashinyn~2"), "words starting so (at most 256), or within 1 or 2 letters"),
    (("date:2022-09", "date:2022-09-12..2022-09-14", "date:..2021"), "sections mentioning a date in that range"),
]


@bp.get("/help")
def help_page() -> str:
    """The query language, with every example a search link, and the infobox keys of this index."""
    keys = sorted(backend().searcher().table().infobox_keys, key=str.lower)
    return render_template("help.html", syntax=SYNTAX, infobox_keys=keys)


@bp.get("/opensearch.xml")
def opensearch() -> Response:
    """OpenSearch description: lets a browser add Palimpsest as a search engine."""
    xml = render_template(
        "opensearch.xml",
        search_url=url_for("pages.search", _external=True),
        suggest_url=url_for("api.suggest", _external=True),
        icon_url=url_for("static", filename="favicon.svg", _external=True),
    )
    return Response(xml, mimetype="application/opensearchdescription+xml")
