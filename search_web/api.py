"""The JSON API: the same objects as the CLI's --json, errors as {"error": {...}}."""

from __future__ import annotations

import csv
import html
import io
import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context, url_for

from indexer.documents import document_json, reuse_json, versions_json
from indexer.errors import QueryError
from indexer.search.results import MAX_LIMIT

from .backend import search_request
from .compare import compute

bp = Blueprint("api", __name__, url_prefix="/api")
_TAG = re.compile(r"<[^>]+>")
EXPORT_FIELDS = ("rank", "doc_id", "version_id", "title", "breadcrumb", "score", "url", "snippet", "dates", "language")


def _searcher() -> Any:
    return current_app.extensions["palimpsest"].searcher()


@bp.get("/search")
def search() -> Any:
    """The object `palimpsest search --json` prints."""
    return jsonify(_searcher().search(search_request(request.args)).to_json())


def _export_rows() -> Iterator[dict[str, Any]]:
    """The current result set, best first, at most EXPORT_LIMIT documents: one evaluation of the
    search, rows made as they are sent."""
    cap = int(current_app.config["EXPORT_LIMIT"])
    hits = _searcher().export(search_request(request.args, limit=MAX_LIMIT, page=1), cap)
    for rank, h in enumerate(hits, 1):
        yield {
            "rank": rank, "doc_id": h.doc_id, "version_id": h.version_id, "title": h.title,
            "breadcrumb": h.breadcrumb, "score": round(h.score, 4),
            "url": url_for("documents.document", doc_id=h.doc_id, _external=True) + (f"#{h.anchor}" if h.anchor else ""),
            "snippet": html.unescape(_TAG.sub("", h.snippet)),
            "dates": "; ".join(d["value"] for d in h.dates), "language": h.language,
        }  # fmt: skip


@bp.get("/search.csv")
def search_csv() -> Response:
    """The result set as CSV (at most EXPORT_LIMIT documents)."""
    rows = _export_rows()
    first = next(rows, None)

    def generate() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        for row in itertools.chain([first] if first else [], rows):
            writer.writerow(row)
            if buf.tell() > 64_000:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="palimpsest-results.csv"'},
    )


@bp.get("/search.ndjson")
def search_ndjson() -> Response:
    """The result set as newline-delimited JSON (at most EXPORT_LIMIT documents)."""
    rows = _export_rows()
    first = next(rows, None)

    def generate() -> Iterator[str]:
        if first:
            yield json.dumps(first, ensure_ascii=False) + "\n"
        for row in rows:
            yield json.dumps(row, ensure_ascii=False) + "\n"

    return Response(stream_with_context(generate()), mimetype="application/x-ndjson")


@bp.get("/documents/<doc_id>")
def document(doc_id: str) -> Any:
    """A document at its latest version (or ?version=ID)."""
    return jsonify(document_json(_searcher().store, doc_id, request.args.get("version") or None))


@bp.get("/documents/<doc_id>/versions")
def versions(doc_id: str) -> Any:
    """The versions of a document, oldest first."""
    return jsonify(versions_json(_searcher().store, doc_id))


@bp.get("/documents/<doc_id>/reuse")
def reuse(doc_id: str) -> Any:
    """The passages a document shares with other documents (`palimpsest reuse DOC_ID --json`)."""
    return jsonify(reuse_json(_searcher().store, doc_id))


@bp.get("/suggest")
def suggest() -> Any:
    """Completions of titles and frequent words; ?format=opensearch for browsers' search boxes."""
    q = request.args.get("q", "")
    if len(q) > 200:
        raise QueryError("q is longer than 200 characters")
    found = _searcher().complete(q)
    if request.args.get("format") == "opensearch":
        return Response(json.dumps([q, found], ensure_ascii=False), mimetype="application/x-suggestions+json")
    return jsonify({"query": q, "suggestions": found})


@bp.get("/documents/<doc_id>/diff")
def diff(doc_id: str) -> Any:
    """The VersionDiff of ?a= and ?b= (as `palimpsest diff --json`)."""
    result, _versions, _opts, _pair = compute(doc_id)
    return jsonify({"doc_a": doc_id, "doc_b": doc_id, **result.to_json()})
