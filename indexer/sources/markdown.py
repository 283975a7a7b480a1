"""Markdown through markdown-it-py: headings, paragraphs, list items, code; YAML-ish front matter."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from ..models import Block, RawVersion, SourceFile

_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.S)
_MD = MarkdownIt("commonmark")


def parse(text: str, source: SourceFile) -> RawVersion:
    """Parse a Markdown file."""
    meta: dict[str, str] = {}
    m = _FRONT.match(text)
    if m:
        for line in m.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip():
                meta[key.strip().lower()] = value.strip().strip("\"'")
        text = text[m.end() :]
    blocks: list[Block] = []
    tokens = _MD.parse(text)
    in_item = 0
    pending_heading: int | None = None
    for tok in tokens:
        if tok.type == "list_item_open":
            in_item += 1
        elif tok.type == "list_item_close":
            in_item -= 1
        elif tok.type == "heading_open":
            pending_heading = int(tok.tag[1])
        elif tok.type == "inline":
            plain = _inline_text(tok)
            if not plain:
                continue
            if pending_heading is not None:
                blocks.append(Block("heading", plain, pending_heading))
                pending_heading = None
            elif in_item:
                blocks.append(Block("item", plain))
            else:
                blocks.append(Block("paragraph", plain))
        elif tok.type in ("fence", "code_block") and tok.content.strip():
            blocks.append(Block("paragraph", tok.content.strip()))
    authors = tuple(a.strip() for a in re.split(r",| and ", meta.get("author", "")) if a.strip())
    dates = tuple((k, meta[k]) for k in ("date", "updated", "modified", "published") if meta.get(k))
    return RawVersion(
        source=source,
        doc_type="markdown",
        blocks=tuple(blocks),
        title=meta.get("title") or None,
        authors=authors,
        date_strings=dates,
    )


def _inline_text(tok: object) -> str:
    parts: list[str] = []
    for child in getattr(tok, "children", None) or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return re.sub(r"\s+", " ", "".join(parts)).strip()
