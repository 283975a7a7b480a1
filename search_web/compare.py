"""The compare page: /doc/<doc_id>/compare?a=…&b=… (side by side or inline), and its HTML pieces."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request
from markupsafe import Markup, escape

from indexer.diff import Options, ParagraphDiff, SectionDiff, VersionDiff, diff_versions, with_context
from indexer.documents import versions_json
from indexer.errors import DocumentNotFound, QueryError

CONTEXT = 1  # unchanged paragraphs shown around a change


def versions_pair(store: Any, doc_id: str, a: str | None, b: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Timeline entries for ?a= and ?b= (an entry number from 1, `latest`, or a version id: its
    last entry), both of `doc_id`. Defaults: the latest entry against the one before it."""
    rows = versions_json(store, doc_id)
    if len(rows) < 2 and not (a and b):
        raise QueryError("this document has one version: there is nothing to compare")
    out = []
    for ref, default in ((a, rows[-2] if len(rows) > 1 else None), (b, rows[-1])):
        ref = (ref or "").strip()
        if not ref:
            if default is None:
                raise QueryError("choose two versions to compare")
            out.append(default)
        elif ref == "latest":
            out.append(rows[-1])
        elif ref.isdigit():
            if not 1 <= int(ref) <= len(rows):
                raise DocumentNotFound(doc_id, ref)
            out.append(rows[int(ref) - 1])
        else:
            carrying = [r for r in rows if r["version_id"] == ref]
            if not carrying:
                raise DocumentNotFound(doc_id, ref)
            out.append(carrying[-1])
    return out[0], out[1]


def compute(doc_id: str) -> tuple[VersionDiff, list[dict[str, Any]], Options, tuple[dict[str, Any], dict[str, Any]]]:
    store = current_app.extensions["palimpsest"].searcher().store
    doc_id = store.resolve_doc_id(doc_id)
    va, vb = versions_pair(store, doc_id, request.args.get("a"), request.args.get("b"))
    opts = Options(
        thousands=request.args.get("thousands") == "1", show_formatting=request.args.get("formatting") == "1"
    )
    diff = diff_versions(store.version(va["version_id"]), store.version(vb["version_id"]), opts)
    return diff, versions_json(store, doc_id), opts, (va, vb)


def meta_rows(diff: VersionDiff) -> list[dict[str, str]]:
    """The infobox and document-date changes as table rows: field, old value, new value, change.
    A date kind present on both sides with different values is one changed row."""
    rows = [{"field": f["key"], "a": f["value"], "b": "", "change": "removed"} for f in diff.infobox["removed"]]
    rows += [{"field": f["key"], "a": "", "b": f["value"], "change": "added"} for f in diff.infobox["added"]]
    rows += [{"field": f["key"], "a": f["a"], "b": f["b"], "change": "changed"} for f in diff.infobox["changed"]]
    old: dict[str, list[str]] = {}
    new: dict[str, list[str]] = {}
    for side, dates in ((old, diff.dates["removed"]), (new, diff.dates["added"])):
        for d in dates:
            kind, _, value = d.partition(": ")
            side.setdefault(kind, []).append(value)
    for kind in sorted(old.keys() | new.keys()):
        a, b = ", ".join(old.get(kind, [])), ", ".join(new.get(kind, []))
        change = "changed" if a and b else "removed" if a else "added"
        rows.append({"field": f"Date ({kind})", "a": a, "b": b, "change": change})
    return rows


class Changes:
    """Numbers the changes of a page in reading order: change-1, change-2, ..."""

    def __init__(self) -> None:
        self.n = 0

    def anchor(self) -> Markup:
        self.n += 1
        nxt = f'<a class="next" href="#change-{self.n + 1}" aria-label="Next change">↓</a>'
        return Markup(f'<span class="change" id="change-{self.n}" tabindex="-1"></span>{nxt}')


def _lead(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


def render_ops(p: ParagraphDiff, side: str, opts: Options, changes: Changes) -> Markup:
    """One paragraph's word ops as HTML. side 'inline': <del> and <ins> together; 'a': the old text
    with <del>; 'b': the new text with <ins> (a pure deletion leaves a marked gap). Change anchors
    go in the inline or B text only, so each change has one."""
    parts: list[str] = []
    for o in p.ops:
        if o.op == "equal" or (o.op == "format" and not opts.show_formatting):
            parts.append(str(escape(o.a if side == "a" else o.b)))
            continue
        if o.op == "format":
            shown = o.a if side == "a" else o.b
            tip = f"formatting: {o.a.strip()} → {o.b.strip()}"
            parts.append(
                f'{escape(_lead(shown))}<span class="fmt" title="{escape(tip)}">{escape(shown.strip())}</span>'
            )
            continue
        if side == "a":
            if o.a:
                parts.append(f"{escape(_lead(o.a))}<del>{escape(o.a.strip())}</del>")
            continue
        anchor = changes.anchor()
        lead = _lead(o.a) if side == "inline" and o.a else _lead(o.b)
        piece = f"{escape(lead)}{anchor}"
        if side == "inline" and o.a:
            piece += f"<del>{escape(o.a.strip())}</del>"
            if o.b:
                piece += " "
        if o.b:
            piece += f"<ins>{escape(o.b.strip())}</ins>"
        elif side == "b":
            gone = escape(o.a.strip())
            piece += (
                f'<del class="gap" title="deleted: {gone}"><span class="visually-hidden">deleted: {gone}</span></del>'
            )
        parts.append(piece)
    return Markup("".join(parts))


def section_runs(diff: VersionDiff, opts: Options) -> list[tuple[bool, list[tuple[int, SectionDiff]]]]:
    """The sections in order, numbered from 1, with runs of unchanged sections put together so the
    page can fold each run into one line: [(is_unchanged_run, [(number, section)])]. An unchanged
    section whose formatting differences are shown is not folded."""
    runs: list[tuple[bool, list[tuple[int, SectionDiff]]]] = []
    for number, s in enumerate(diff.sections, 1):
        quiet = s.status == "unchanged" and not (opts.show_formatting and s.formatting)
        if quiet and runs and runs[-1][0]:
            runs[-1][1].append((number, s))
        else:
            runs.append((quiet, [(number, s)]))
    return runs


def view(doc_id: str) -> Any:
    diff, versions, opts, (va, vb) = compute(doc_id)
    mode = "inline" if request.args.get("view") == "inline" else "side"
    title = vb["title"] or va["title"] or "Untitled"
    return render_template(
        "compare.html",
        doc_id=doc_id,
        diff=diff,
        versions=versions,
        va=va,
        vb=vb,
        title=title,
        mode=mode,
        opts=opts,
        context=CONTEXT,
        changes=Changes(),
        render_ops=render_ops,
        meta_rows=meta_rows,
        runs=section_runs(diff, opts),
        items=lambda paragraphs: with_context(paragraphs, opts.show_formatting, CONTEXT),
        args=request.args,
    )
