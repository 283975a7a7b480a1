"""Cleaned blocks -> sections: a lead, then one section per heading with breadcrumb and anchor."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .models import Block

AUXILIARY_HEADINGS = frozenset(
    {"see also", "references", "external links", "notes", "footnotes", "further reading",
     "bibliography", "sources", "citations", "notes and references", "works cited"}
)  # fmt: skip
LEAD = "Lead"


@dataclass
class DraftSection:
    """A section before enrichment: heading, level, breadcrumb, anchor, text."""

    ordinal: int
    level: int
    heading: str
    breadcrumb: str
    anchor: str
    auxiliary: bool
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def split_sections(blocks: tuple[Block, ...] | list[Block]) -> list[DraftSection]:
    """Lead first (possibly empty), then a section per heading, in document order."""
    headings = [b.level for b in blocks if b.kind == "heading"]
    top = min(headings) if headings else 2
    sections = [DraftSection(0, 0, "", "", "lead", False)]
    stack: list[tuple[int, str]] = []
    used: set[str] = {"lead"}
    for block in blocks:
        if block.kind == "heading":
            level = 2 + max(0, block.level - top)
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, block.text))
            crumbs = [h for _, h in stack]
            breadcrumb = " > ".join(crumbs)
            auxiliary = any(h.strip().lower().rstrip(":") in AUXILIARY_HEADINGS for h in crumbs)
            anchor = _anchor(block.text, breadcrumb, used)
            sections.append(DraftSection(len(sections), level, block.text, breadcrumb, anchor, auxiliary))
        else:
            text = f"- {block.text}" if block.kind == "item" else block.text
            sections[-1].lines.append(text)
    if not sections[0].lines and len(sections) > 1:
        # No text before the first heading: there is no lead.
        sections.pop(0)
        for i, s in enumerate(sections):
            s.ordinal = i
    return sections


def slug(text: str) -> str:
    """URL fragment for a heading: lowercase words joined by hyphens (any script)."""
    s = re.sub(r"[^\w]+", "-", text.lower(), flags=re.U).strip("-_")
    return s or "section"


def _anchor(heading: str, breadcrumb: str, used: set[str]) -> str:
    for candidate in (slug(heading), slug(breadcrumb)):
        if candidate not in used:
            used.add(candidate)
            return candidate
    base, n = slug(breadcrumb), 2
    while f"{base}-{n}" in used:
        n += 1
    used.add(f"{base}-{n}")
    return f"{base}-{n}"


_LIST_MARK = re.compile(r"^\s*(?:[-*•·#]+|\d{1,3}[.)])\s+", re.M)


def normalized_text(sections: list[DraftSection], title: str | None = None) -> str:
    """Text used for identity: the title, then the sections, with whitespace, heading spacing
    and list markers normalized. The title is the file's own text too: two files that differ
    only by it (or that have nothing else) are not one version."""
    parts: list[str] = ["= " + " ".join(title.split()) + " ="] if title and title.strip() else []
    for s in sections:
        if s.heading:
            parts.append("== " + " ".join(s.heading.split()) + " ==")
        for line in s.lines:
            line = _LIST_MARK.sub("", line)
            line = " ".join(line.split())
            if line:
                parts.append(line)
    return "\n".join(parts)
