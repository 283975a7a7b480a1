"""The plain-text wiki export: `= Title =`, `==Heading==`, an Infobox block of `- Key: Value` lines."""

from __future__ import annotations

import re

from ..models import RawVersion, SourceFile
from .wikimarkup import HEADING, infobox_params, lift_references, reduce_wikitext

_INFOBOX_LINE = re.compile(r"^\s*-\s*([A-Za-z][\w ]{0,40}?)\s*:\s?(.*)$")


def parse(text: str, source: SourceFile) -> RawVersion:
    """Parse one exported article."""
    text, template_pairs = infobox_params(lift_references(text))
    lines = text.splitlines()
    title: str | None = None
    infobox: list[tuple[str, str]] = list(template_pairs)
    body: list[str] = []
    i = 0
    # The title line may only be preceded by blank lines.
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i < len(lines):
        m = HEADING.match(lines[i].strip())
        if m and len(m.group(1)) == 1:
            title = m.group(2).strip()
            i += 1
    while i < len(lines):
        line = lines[i]
        if line.strip() == "Infobox" and not infobox:
            i += 1
            while i < len(lines) and lines[i].strip():
                m = _INFOBOX_LINE.match(lines[i])
                if m:
                    infobox.append((m.group(1).strip(), m.group(2).strip()))
                elif infobox:
                    # A wrapped value continues the previous field.
                    key, value = infobox[-1]
                    infobox[-1] = (key, f"{value} {lines[i].strip()}")
                i += 1
            continue
        body.append(line)
        i += 1
    reduced = reduce_wikitext("\n".join(body), plain_export=True)
    return RawVersion(
        source=source,
        doc_type="wikitext",
        blocks=reduced.blocks,
        title=title,
        infobox=tuple(infobox),
        categories=reduced.categories,
    )
