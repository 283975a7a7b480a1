"""Document pages: a version with its table of contents, infobox, versions and related documents."""

from __future__ import annotations

import itertools
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from markupsafe import Markup, escape

from indexer.diff import Options, diff_versions, normalize_paragraph
from indexer.documents import document_json, reuse_json, versions_json
from indexer.errors import QueryError
from indexer.search.snippets import QueryTerms, highlight

from .charts import timeline
from .compare import Changes, render_ops, view

bp = Blueprint("documents", __name__)


@bp.get("/doc/<doc_id>")
def document(doc_id: str) -> Any:
    """The latest version of a document."""
    return _page(doc_id, None)


@bp.get("/doc/<doc_id>/v/<version_id>")
def version(doc_id: str, version_id: str) -> Any:
    """One version of a document (404 when the version belongs to another document)."""
    return _page(doc_id, version_id)


def _terms(q: str, searcher: Any) -> QueryTerms | None:
    if not q.strip():
        return None
    try:
        parsed = searcher.parse(q)
    except QueryError:
        return None  # a page never fails because of the query it was reached from
    terms = QueryTerms.build(parsed.words, parsed.phrases, parsed.prefixes)
    return terms or None


def _page(doc_id: str, version_id: str | None) -> Any:
    searcher = current_app.extensions["palimpsest"].searcher()
    data = document_json(searcher.store, doc_id, version_id)
    versions = versions_json(searcher.store, doc_id)
    q = request.args.get("q", "")
    terms = _terms(q, searcher)
    # A version carried by several timeline entries (a revert, a copy saved again) is read at its
    # last one.
    position = max(v["number"] for v in versions if v["version_id"] == data["version_id"])
    show_new = request.args.get("new") == "1" and position > 1
    added, new = set(), {}
    if show_new:
        added, new = _new_passages(searcher.store, versions[position - 2]["version_id"], data["version_id"])
    # Passages shared with other documents are found for the latest version (indexer/reuse.py).
    reuse = reuse_json(searcher.store, doc_id) if versions[-1]["version_id"] == data["version_id"] else None
    reused = reuse["passages"] if reuse else []
    sections = []
    for s in data["sections"]:
        spans = [(p["start"], p["end"]) for p in reused if p["ordinal"] == s["ordinal"]]
        marks = new.get(s["anchor"], {})
        blocks: list[dict[str, Any]] = []  # {"list": bool, "items": [(html or text, is_new)]}
        offset = 0
        for p in s["text"].split("\n"):
            at, offset = offset, offset + len(p) + 1
            if not p.strip():
                continue
            is_item = p.startswith("- ")
            key = normalize_paragraph(p)
            if key in marks:  # normalized text: without the list marker
                entry: tuple[Any, bool] = (marks[key], True)
            else:
                text = p[2:] if is_item else p
                at += 2 if is_item else 0
                if any(a < at + len(text) and at < b for a, b in spans):
                    entry = (_reuse_marked(text, at, spans, s["anchor"], terms, s["language"]), False)
                else:
                    entry = (Markup(highlight(text, terms, s["language"])) if terms else text, False)
            if is_item and blocks and blocks[-1]["list"]:
                blocks[-1]["items"].append(entry)
            else:
                blocks.append({"list": is_item, "items": [entry]})
        notes = [p for p in reused if p["ordinal"] == s["ordinal"]]
        sections.append({**s, "blocks": blocks, "added": s["anchor"] in added, "reuse": notes})
    return render_template(
        "document.html",
        doc=data,
        sections=sections,
        versions=versions,
        timeline=timeline(
            versions,
            position,
            lambda v: url_for("documents.version", doc_id=data["doc_id"], version_id=v["version_id"]),
        ),
        position=position,
        latest=versions[-1]["version_id"] == data["version_id"],
        related=searcher.similar(doc_id),
        doc_reuse_date=reuse["date"] if reuse else None,
        reuse_passages=len({(p["ordinal"], p["start"], p["end"]) for p in reused}),
        reuse_docs=len({p["also_appears_in"]["doc_id"] for p in reused}),
        q=q,
        show_new=show_new,
        can_compare="documents.compare" in current_app.view_functions,
    )


def _reuse_marked(
    text: str, at: int, spans: list[tuple[int, int]], anchor: str, terms: QueryTerms | None, language: str
) -> Markup:
    """A paragraph (starting at `at` in its section) with the reused passages in
    <span class="reuse">; the piece where a passage starts has the id other pages link to."""
    starts = {a for a, _b in spans}
    cuts = sorted({0, len(text), *(min(max(x - at, 0), len(text)) for span in spans for x in span)})
    out = []
    for lo, hi in itertools.pairwise(cuts):
        piece = text[lo:hi]
        html = Markup(highlight(piece, terms, language)) if terms else escape(piece)
        if any(a <= at + lo and at + hi <= b for a, b in spans):
            ident = f' id="{escape(anchor)}-reuse-{at + lo}"' if at + lo in starts else ""
            html = Markup(f'<span class="reuse"{ident}>{html}</span>')
        out.append(html)
    return Markup("").join(out)


def _new_passages(store: Any, previous: str, current: str) -> tuple[set[str], dict[str, dict[str, Markup]]]:
    """Against the version before it: (anchors of the sections new in `current`, per anchor its new
    or changed paragraphs as normalized text -> HTML with the new words in <ins>)."""
    result = diff_versions(store.version(previous), store.version(current))
    added = {sd.anchor_b for sd in result.sections if sd.status == "added" and sd.anchor_b is not None}
    marks: dict[str, dict[str, Markup]] = {}
    changes = Changes()
    for sd in result.sections:
        if sd.anchor_b is None or sd.anchor_b in added:
            continue
        for p in sd.paragraphs:
            if not p.b or not any(o.op in ("insert", "replace") for o in p.ops):
                continue  # unchanged, deleted, or moved as it was
            html = render_ops(p, "b", Options(), changes)
            parts = p.b.split("\n")  # a block compared as one: each of its paragraphs is marked whole
            for part in parts:
                marks.setdefault(sd.anchor_b, {})[part] = (
                    html if len(parts) == 1 else Markup("<ins>{}</ins>").format(part)
                )
    return added, marks


@bp.get("/doc/<doc_id>/compare")
def compare(doc_id: str) -> Any:
    """Two versions compared: ?a=&b= (version ids, numbers from 1 or `latest`), view=side|inline,
    formatting=1 to show formatting differences, thousands=1 to count 7,600 -> 7600 as formatting."""
    return view(doc_id)
