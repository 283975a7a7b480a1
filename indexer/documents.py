"""Documents as the CLI and the web API show them: a version with its sections, the timeline.

Keys renamed in this release stay as aliases for one release (README, "Renamed keys"): `type`
(now `doc_type`), `sources` (now `files`, paths), `position` and `own_date` (now `number` and
`date`)."""

from __future__ import annotations

from typing import Any

from .errors import DocumentNotFound
from .store import Store


def document_json(store: Store, doc_id: str, version_id: str | None = None) -> dict[str, Any]:
    """The document as stored, at its latest version or the given one (`doc_id` may be an id the
    document had before: the answer gives the current one)."""
    doc_id = store.resolve_doc_id(doc_id)
    doc = store.document_row(doc_id)
    vid = version_id or doc["latest_version_id"]
    if store.doc_of_version(vid) != doc_id:
        raise DocumentNotFound(doc_id, vid)
    v = store.version(vid)
    return {
        "doc_id": doc_id,
        "version_id": vid,
        "title": v.title,
        "doc_type": v.doc_type,
        "files": [s.path for s in v.files],
        "language": v.language,
        "authors": list(v.authors),
        "dates": list(v.dates),
        "infobox": v.infobox,
        "categories": list(v.categories),
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
        # Older names, kept for one release.
        "type": v.doc_type,
        "sources": [s.path for s in v.files],
    }


def versions_json(store: Store, doc_id: str) -> list[dict[str, Any]]:
    """A document's timeline, oldest first: one entry per revision or saved copy (raises
    DocumentNotFound). `position` and `own_date` are the older names of `number` and `date`."""
    doc_id = store.resolve_doc_id(doc_id)
    entries = store.timeline(doc_id)
    versions = {v.version_id: v for v in store.versions_of(doc_id)}
    out = []
    for e in entries:
        v = versions[e.version_id]
        out.append(
            {
                "number": e.number,
                "version_id": e.version_id,
                "kind": e.kind,
                "revision": e.revision,
                "date": e.date,
                "first_run": e.first_run,
                "same_as": e.same_as,
                "title": v.title,
                "latest": e.number == len(entries),
                "dates": list(v.dates),
                "language": v.language,
                "files": list(e.files),
                "sources": list(e.files),
                "position": e.number,
                "own_date": e.date,
            }
        )
    return out


def resolve_version(store: Store, ref: str) -> tuple[str, str]:
    """(doc_id, version_id) for a version id, `DOC_ID@N` (timeline entry N, 1 = oldest) or
    `DOC_ID@latest`."""
    if "@" in ref:
        doc_id, _, which = ref.partition("@")
        doc_id = store.resolve_doc_id(doc_id)
        entries = store.timeline(doc_id)
        if which == "latest" and entries:
            return doc_id, entries[-1].version_id
        if which.isdigit() and 1 <= int(which) <= len(entries):
            return doc_id, entries[int(which) - 1].version_id
        raise DocumentNotFound(doc_id, which)
    return store.doc_of_version(ref), ref


def earlier_of(date_a: str | None, date_b: str | None) -> int | None:
    """0 when the first date is earlier, 1 when the second is, None when either is missing or
    they cannot be told apart (`2023` and `2023-05`)."""
    if not date_a or not date_b:
        return None
    n = min(len(date_a), len(date_b))
    if date_a[:n] == date_b[:n]:
        return None
    return 0 if date_a[:n] < date_b[:n] else 1


def reuse_json(store: Store, doc_id: str) -> dict[str, Any]:
    """The passages a document's latest version shares with other documents (raises
    DocumentNotFound): each with its place here (section, character span, text) and the place
    it `also_appears_in`, and `earlier`: the doc_id of the source dated earlier, when both
    have dates."""
    doc_id = store.resolve_doc_id(doc_id)
    doc = store.document_row(doc_id)
    vid = doc["latest_version_id"]
    v = store.version(vid)
    date = v.own_date()
    sections = {s.ordinal: s for s in v.sections}
    passages = []
    for r in store.reuse_of(vid):
        s = sections[r["ordinal"]]
        first = earlier_of(date, r["other_date"])
        passages.append(
            {
                "ordinal": s.ordinal,
                "breadcrumb": s.breadcrumb,
                "anchor": s.anchor,
                "start": r["start"],
                "end": r["end"],
                "text": s.text[r["start"] : r["end"]],
                "words": r["words"],
                "similarity": r["similarity"],
                "also_appears_in": {
                    "doc_id": r["other_doc_id"],
                    "version_id": r["other_version_id"],
                    "title": r["other_title"],
                    "ordinal": r["other_ordinal"],
                    "breadcrumb": r["other_breadcrumb"],
                    "anchor": r["other_anchor"],
                    "start": r["other_start"],
                    "end": r["other_end"],
                    "text": r["other_text"],
                    "date": r["other_date"],
                },
                "earlier": None if first is None else (doc_id, r["other_doc_id"])[first],
            }
        )
    return {"doc_id": doc_id, "version_id": vid, "title": doc["title"], "date": date, "passages": passages}


def reuse_pairs(store: Store) -> list[dict[str, Any]]:
    """Every pair of documents that share passages: both documents (doc_id, title, date), how
    many passages and shared words, and which is dated earlier; most shared words first."""
    out = []
    for row in store.reuse_pairs():
        a = {"doc_id": row["doc_a"], "title": row["title_a"], "date": row["date_a"]}
        b = {"doc_id": row["doc_b"], "title": row["title_b"], "date": row["date_b"]}
        a, b = sorted((a, b), key=lambda d: d["doc_id"])
        first = earlier_of(a["date"], b["date"])
        out.append(
            {
                "documents": [a, b],
                "passages": row["passages"],
                "words": row["words"],
                "earlier": None if first is None else (a, b)[first]["doc_id"],
            }
        )
    return sorted(out, key=lambda p: (-p["words"], p["documents"][0]["doc_id"], p["documents"][1]["doc_id"]))
