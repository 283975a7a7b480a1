"""Palimpsest's web UI and JSON API (Flask). `create_app(config)` builds the app.

    pages.py      /, /search (results and facet browsing), /opensearch.xml
    documents.py  /doc/<doc_id>, /doc/<doc_id>/v/<version_id>
    api.py        /api/search (+ .csv, .ndjson), /api/documents/..., /api/suggest
    backend.py    the open index (a searcher per thread), request parsing, URL helpers
    labels.py     what things are called on the pages (languages by name, dates in words)
    charts.py     the date facet's bar charts and a document's version timeline (inline SVG)

Every page works without JavaScript; static/app.js only adds keys (`/`, `j`/`k`, `n`/`p`), folds
the filters and contents on narrow screens and submits the sort menu on change. Templates
autoescape; snippets come escaped from indexer.search.

Limits: a request target (path and query) of at most MAX_TARGET_BYTES, enough for a query of
MAX_QUERY_CHARS characters however it is percent-encoded; no request body over MAX_BODY_BYTES.
The app answers 414 and 413 itself; server.py makes gunicorn's own refusals (414, 431, 400)
answers of this app too, so every error has the same shape whoever found it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, abort, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from indexer.errors import DocumentNotFound, EngineUnavailableError, QueryError, error_object
from indexer.search.query import MAX_QUERY_CHARS
from indexer.wording import plural, span_of

from .backend import Backend
from .labels import date_label, date_words, doc_type_label, facet_label, language_name, own_words

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

# A character takes at most 12 bytes in a URL (4 bytes of UTF-8, each %XX): a query of
# MAX_QUERY_CHARS characters of any script fits, with 22 KiB left for the other parameters.
MAX_TARGET_BYTES = 256 * 1024
MAX_BODY_BYTES = 64 * 1024  # no route reads a body; a large one is refused before anything else
SERVER_ERROR_KEY = "palimpsest.server_error"  # environ key: (status, detail) found by the server
LIMIT_DETAILS = {
    400: "The server could not read this request (a malformed request line or header).",
    413: f"Requests carry no body here; this one is over {MAX_BODY_BYTES:,} bytes.",
    414: (
        f"The address is longer than {MAX_TARGET_BYTES:,} bytes; a query can have up to {MAX_QUERY_CHARS:,} characters."
    ),
    417: "The server cannot meet this request's Expect header.",
    431: "The request's header fields are too large.",
    501: "The request's body uses a transfer coding this server does not know.",
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app for one index: config INDEX_DIR (default $PALIMPSEST_INDEX or ./index)."""
    app = Flask(__name__)
    app.config.update(
        INDEX_DIR=os.environ.get("PALIMPSEST_INDEX", "index"),
        EXPORT_LIMIT=10_000,  # documents in a CSV / NDJSON export (streamed, one evaluation)
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
    def within_limits() -> Any:
        """Refuse what the server found wrong before the app saw it, an address longer than
        MAX_TARGET_BYTES and a body over MAX_BODY_BYTES, as the app's own errors."""
        found = request.environ.get(SERVER_ERROR_KEY)
        if found is not None:
            status, detail = found
            abort(status, description=detail)
        if len(request_target(request.environ)) > MAX_TARGET_BYTES:
            abort(414, description=LIMIT_DETAILS[414])
        if (request.content_length or 0) > MAX_BODY_BYTES:
            abort(413, description=LIMIT_DETAILS[413])
        return None

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

    @app.errorhandler(EngineUnavailableError)
    def engine_unavailable(exc: EngineUnavailableError) -> Any:
        app.logger.warning("engine unavailable: %s", exc)
        return error_response(503, "Search unavailable", str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        return error_response(exc.code or 500, exc.name, exc.description or "")

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> Any:
        app.logger.exception("unhandled error")
        return error_response(500, "Internal error", "Something went wrong on our side; the error was logged.")

    return app


def request_target(environ: Mapping[str, Any]) -> str:
    """The path and query as the client sent them (servers name it differently)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return str(raw)
    path = quote(str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")), safe="/;:@&=+$,%~")
    query = str(environ.get("QUERY_STRING", ""))
    return f"{path}?{query}" if query else path


def error_response(status: int, message: str, detail: str, position: int | None = None) -> Any:
    """JSON under /api/, an HTML page elsewhere; always the right status. A bad query's error
    also gives the character `position` (0-based) where the problem is, when there is one."""
    if request.path.startswith("/api/"):
        return jsonify(error_object(status, message, detail, position)), status
    return render_template("error.html", status=status, message=message, detail=detail), status
