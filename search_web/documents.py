"""Document pages: a version with its table of contents, infobox, versions and related documents."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from markupsafe import Markup

from indexer.documents import document_json, versions_json
from indexer.errors import QueryError
from indexer.search import parse
from indexer.search.snippets import QueryTerms, highlight

bp = Blueprint("documents", __name__)


@bp.get("/doc/<doc_id>")
def document(doc_id: str) -> Any:
    """The latest version of a document."""
    return _page(doc_id, None)


@bp.get("/doc/<doc_id>/v/<version_id>")
def version(doc_id: str, version_id: str) -> Any:
    """One version of a document (404 when the version belongs to another document)."""
    return _page(doc_id, version_id)


def _terms(q: str) -> QueryTerms | None:
    if not q.strip():
        return None
    try:
        parsed = parse(q)
    except QueryError:
        return None  # a page never fails because of the query it was reached from
    terms = QueryTerms.build(parsed.words, parsed.phrases, parsed.prefixes)
    return terms if terms.words or terms.phrases or terms.prefixes else None


def _page(doc_id: str, version_id: str | None) -> Any:
    searcher = current_app.extensions["palimpsest"].searcher()
    data = document_json(searcher.store, doc_id, version_id)
    versions = versions_json(searcher.store, doc_id)
    q = request.args.get("q", "")
    terms = _terms(q)
    sections = []
    for s in data["sections"]:
        paragraphs = [p for p in s["text"].split("\n") if p.strip()]
        rendered = [Markup(highlight(p, terms)) if terms else p for p in paragraphs]
        sections.append({**s, "paragraphs": rendered})
    position = next(v["position"] for v in versions if v["version_id"] == data["version_id"])
    return render_template(
        "document.html",
        doc=data,
        sections=sections,
        versions=versions,
        position=position,
        latest=versions[-1]["version_id"] == data["version_id"],
        related=searcher.similar(doc_id),
        q=q,
        can_compare="documents.compare" in current_app.view_functions,
    )
