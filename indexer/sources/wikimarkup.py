"""Wikitext markup (links, templates, refs, bold/italic) reduced to plain text."""

from __future__ import annotations

import contextlib
import re

import mwparserfromhell

from ..models import Block

HEADING = re.compile(r"^[ \t]*(={1,6})[ \t]*([^=\n].*?)[ \t]*\1[ \t]*$")
_MARKUP = re.compile(r"\[\[|\{\{|''|<ref|<!--|\[https?:|<[a-z]+[ >/]|&[a-z]+;|__[A-Z]+__")
_KEEP_TEMPLATES = {"convert", "cvt"}


def has_markup(text: str) -> bool:
    return _MARKUP.search(text) is not None


def to_plain(text: str) -> str:
    """Plain text of a wikitext fragment: link labels kept, templates and refs dropped."""
    if not has_markup(text):
        return text
    code = mwparserfromhell.parse(text)
    for tag in code.filter_tags(recursive=True):
        if str(tag.tag).lower() in ("ref", "references", "gallery", "math"):
            _remove(code, tag)
    for tmpl in code.filter_templates(recursive=False):
        name = str(tmpl.name).strip().lower()
        if name in _KEEP_TEMPLATES and len(tmpl.params) >= 2:
            # {{convert|41|km2}} is content, not decoration.
            value, unit = str(tmpl.params[0].value).strip(), str(tmpl.params[1].value).strip()
            _replace(code, tmpl, f"{value} {unit}")
        else:
            _remove(code, tmpl)
    plain = code.strip_code(normalize=True, collapse=True, keep_template_params=False)
    return re.sub(r"[ \t]{2,}", " ", plain).strip()


_REF_LIST = re.compile(
    r"\{\{\s*(?:reflist|references|notelist)\b[^{}]*\}\}|<references\s*/>|<references\b[^>]*>.*?</references>",
    re.IGNORECASE | re.DOTALL,
)
_CITE_FIELDS = (
    "author",
    "last",
    "title",
    "work",
    "website",
    "newspaper",
    "journal",
    "publisher",
    "date",
    "year",
    "url",
)


def lift_references(text: str) -> str:
    """Wikitext whose <ref> notes are listed, in order of first use, where {{reflist}} or
    <references/> stands (at the end, under a References heading, when nothing marks the place).
    A named note used again is listed once; a {{cite ...}} becomes its author, title, work,
    publisher, date and address."""
    if "<ref" not in text.lower():
        return text
    notes: list[str] = []
    seen: set[str] = set()
    for tag in mwparserfromhell.parse(text).filter_tags(recursive=True):
        if str(tag.tag).strip().lower() != "ref" or tag.contents is None:
            continue
        name = str(tag.get("name").value).strip().lower() if tag.has("name") else ""
        note = _note_text(str(tag.contents))
        key = name or note
        if note and key not in seen:
            seen.add(key)
            notes.append(note)
    if not notes:
        return text
    listing = "\n".join(f"# {n}" for n in notes)
    if _REF_LIST.search(text):
        # The first marker gets the list; any later one would repeat it.
        before, after = _REF_LIST.split(text, maxsplit=1)
        return f"{before}\n{listing}\n{_REF_LIST.sub('', after)}"
    return f"{text.rstrip()}\n\n== References ==\n{listing}\n"


def _note_text(body: str) -> str:
    """One reference note as plain text (citation templates keep their fields)."""
    code = mwparserfromhell.parse(body)
    for tmpl in code.filter_templates(recursive=False):
        if str(tmpl.name).strip().lower().startswith("cite"):
            parts = []
            for fieldname in _CITE_FIELDS:
                if tmpl.has(fieldname):
                    value = to_plain(str(tmpl.get(fieldname).value)).strip()
                    if value and value not in parts:
                        parts.append(value)
            _replace(code, tmpl, ", ".join(parts))
    return " ".join(to_plain(str(code)).split())


def _remove(code: mwparserfromhell.wikicode.Wikicode, node: object) -> None:
    with contextlib.suppress(ValueError):
        code.remove(node)


def _replace(code: mwparserfromhell.wikicode.Wikicode, node: object, text: str) -> None:
    with contextlib.suppress(ValueError):
        code.replace(node, text)


def infobox_params(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Find an {{Infobox ...}} template: returns (text without it, [(key, plain value)])."""
    if "{{" not in text:
        return text, []
    code = mwparserfromhell.parse(text)
    for tmpl in code.filter_templates(recursive=False):
        if str(tmpl.name).strip().lower().startswith("infobox"):
            pairs = []
            for param in tmpl.params:
                key = str(param.name).strip()
                value = to_plain(str(param.value)).replace("\n", ", ").strip(" ,")
                if key and value and not key.isdigit():
                    pairs.append((key.replace("_", " ").capitalize(), value))
            _remove(code, tmpl)
            return str(code), pairs
    return text, []


def lines_to_blocks(lines: list[str]) -> list[Block]:
    """Headings, list items and paragraphs of wiki-style lines."""
    blocks: list[Block] = []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        m = HEADING.match(stripped)
        if m:
            heading = to_plain(m.group(2)).strip()
            if heading:
                blocks.append(Block("heading", heading, len(m.group(1))))
            continue
        item = re.match(r"^([*#:;]+|-(?=\s)|•)\s*(.*)$", stripped)
        if item:
            text = to_plain(item.group(2))
            if text:
                blocks.append(Block("item", text))
            continue
        text = to_plain(stripped)
        if text:
            blocks.append(Block("paragraph", text))
    return blocks
