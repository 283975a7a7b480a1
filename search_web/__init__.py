"""Palimpsest's web UI and JSON API (Flask). `create_app(config)` builds the app.

    pages.py      /, /search (results and facet browsing), /opensearch.xml
    documents.py  /doc/<doc_id>, /doc/<doc_id>/v/<version_id>
    api.py        /api/search (+ .csv, .ndjson), /api/documents/..., /api/suggest
    backend.py    the open index (a searcher per thread), request parsing, URL helpers

    labels.py     what things are called on the pages (languages by name, dates in words)
    charts.py     the date facet's bar charts and a document's version timeline (inline SVG)

Every page works without JavaScript; static/app.js only adds keys (`/`, `j`/`k`, `n`/`p`), folds
the filters and contents on narrow screens and submits the sort menu on change. Templates autoescape; snippets come escaped from indexer.search.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from indexer.errors import DocumentNotFound, QueryError, error_object
from indexer.wording import plural, span_of

from .backend import Backend
from .labels import date_label, date_words, doc_type_label, facet_label, language_name, own_words

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app for one index: config INDEX_DIR (default $PALIMPSEST_INDEX or ./index)."""
    app = Flask(__name__)
    app.config.update(
        INDEX_DIR=os.environ.get("PALIMPSEST_INDEX", "index"),
        EXPORT_LIMIT=1000,  # documents in a CSV / NDJSON export
        JSON_SORT_KEYS=False,
    )
    app.config.update(config or {})
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["palimpsest"] = Backend(app.config["INDEX_DIR"])
    app.jinja_env.globals.update(
        plural=plural, span_of=span_of, language_name=language_name, doc_type_label=doc_type_label,
        date_label=date_label, facet_label=facet_label, date_words=date_words, own_words=own_words,
    )  # fmt: skip

    from . import api, documents, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(api.bp)

    @app.before_request
    def follow_old_document_ids() -> Any:
        """A document id that changed when later files joined its document still works: its pages
        and API answers redirect (308) to the current id."""
        args = request.view_args or {}
        doc_id = args.get("doc_id")
        if not doc_id or request.endpoint is None:
            return None
        current = app.extensions["palimpsest"].searcher().store.resolve_doc_id(doc_id)
        if current == doc_id:
            return None
        query = {k: request.args.getlist(k) for k in request.args}  # repeated parameters kept
        return redirect(url_for(request.endpoint, **{**query, **args, "doc_id": current}), 308)

    @app.after_request
    def security_headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        return resp

    @app.errorhandler(QueryError)
    def bad_query(exc: QueryError) -> Any:
        return error_response(400, "Bad query", str(exc), exc.position)

    @app.errorhandler(DocumentNotFound)
    def unknown_document(exc: DocumentNotFound) -> Any:
        return error_response(404, "Not found", str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        return error_response(exc.code or 500, exc.name, exc.description or "")

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> Any:
        app.logger.exception("unhandled error")
        return error_response(500, "Internal error", "Something went wrong on our side; the error was logged.")

    return app


def error_response(status: int, message: str, detail: str, position: int | None = None) -> Any:
    """JSON under /api/, an HTML page elsewhere; always the right status. A bad query's error
    also gives the character `position` (0-based) where the problem is, when there is one."""
    if request.path.startswith("/api/"):
        return jsonify(error_object(status, message, detail, position)), status
    return render_template("error.html", status=status, message=message, detail=detail), status
