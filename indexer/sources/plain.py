"""Plain text: paragraphs separated by blank lines; hard-wrapped lines are re-joined."""

from __future__ import annotations

import re

from ..models import Block, RawVersion, SourceFile

_BULLET = re.compile(r"^\s*(?:[•·▪‣◦*-]|\d{1,3}[.)])\s+(.*)$")


def parse(text: str, source: SourceFile) -> RawVersion:
    """Parse a plain-text file into paragraph and list-item blocks."""
    return RawVersion(source=source, doc_type="plain", blocks=tuple(text_blocks(text)))


def text_blocks(text: str) -> list[Block]:
    """Blocks of plain text: one per paragraph, or one per line when lines are not wrapped."""
    blocks: list[Block] = []
    for group in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [ln.rstrip() for ln in group.split("\n") if ln.strip()]
        if not lines:
            continue
        if _is_wrapped(lines):
            blocks.append(Block("paragraph", " ".join(ln.strip() for ln in lines)))
            continue
        for line in lines:
            m = _BULLET.match(line)
            if m and m.group(1).strip():
                blocks.append(Block("item", m.group(1).strip()))
            else:
                blocks.append(Block("paragraph", line.strip()))
    return blocks


def _is_wrapped(lines: list[str]) -> bool:
    # Hard-wrapped prose: several lines, all but the last of similar, moderate width.
    if len(lines) < 2 or any(_BULLET.match(ln) for ln in lines):
        return False
    widths = [len(ln) for ln in lines[:-1]]
    return all(40 <= w <= 100 for w in widths) and max(widths) - min(widths) <= 30
