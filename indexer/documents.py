"""Documents as the CLI and the web API show them: a version with its sections, the version list."""

from __future__ import annotations

import json
from typing import Any

from .errors import DocumentNotFound
from .store import Store


def document_json(store: Store, doc_id: str, version_id: str | None = None) -> dict[str, Any]:
    """The document as stored, at its latest version or the given one."""
    doc = store.document_row(doc_id)
    vid = version_id or doc["latest_version_id"]
    if store.doc_of_version(vid) != doc_id:
        raise DocumentNotFound(doc_id, vid)
    v = store.version(vid)
    return {
        "doc_id": doc_id,
        "version_id": vid,
        "title": v.title,
        "type": v.doc_type,
        "sources": [s.path for s in v.sources],
        "language": v.language,
        "authors": list(v.authors),
        "dates": list(v.dates),
        "infobox": v.infobox,
        "sections": [
            {
                "ordinal": s.ordinal,
                "heading": s.heading,
                "breadcrumb": s.breadcrumb,
                "anchor": s.anchor,
                "level": s.level,
                "auxiliary": s.auxiliary,
                "language": s.language,
                "text": s.text,
                "dates": [d.__dict__ for d in s.dates],
            }
            for s in v.sections
        ],
    }


def versions_json(store: Store, doc_id: str) -> list[dict[str, Any]]:
    """The versions of a document, oldest first (raises DocumentNotFound)."""
    store.document_row(doc_id)
    rows = store.version_rows(doc_id)
    return [
        {
            "position": r["position"] + 1,
            "version_id": r["version_id"],
            "title": r["title"],
            "latest": i == len(rows) - 1,
            "own_date": r["own_date"],
            "dates": json.loads(r["dates"]),
            "language": r["language"],
            "sources": [s.path for s in store.sources_of(r["version_id"])],
        }
        for i, r in enumerate(rows)
    ]


def resolve_version(store: Store, ref: str) -> tuple[str, str]:
    """(doc_id, version_id) for a version id, `DOC_ID@N` (1 = oldest) or `DOC_ID@latest`."""
    if "@" in ref:
        doc_id, _, which = ref.partition("@")
        rows = store.version_rows(doc_id)
        if not rows:
            store.document_row(doc_id)  # raises DocumentNotFound
        if which == "latest":
            return doc_id, str(rows[-1]["version_id"])
        if which.isdigit() and 1 <= int(which) <= len(rows):
            return doc_id, str(rows[int(which) - 1]["version_id"])
        raise DocumentNotFound(doc_id, which)
    return store.doc_of_version(ref), ref
