"""Wikitext reduced to plain text: the whole page is parsed once (mwparserfromhell), then read
node by node into heading, list-item and paragraph blocks, so a template, a <ref> or a link that
spans lines is reduced as one piece.

What a reader of the rendered page sees is kept: link labels, image captions (without the
options), table rows (cells joined by ` | `), the text of known templates (wikitemplates.py).
What the page does not show in its text is dropped: interlanguage links, categories (returned
apart), comments, magic words, <ref> notes (listed by `lift_references` where the reference
list stands), unknown templates.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

import mwparserfromhell
from mwparserfromhell.nodes import (
    Argument,
    Comment,
    ExternalLink,
    Heading,
    HTMLEntity,
    Node,
    Tag,
    Template,
    Text,
    Wikilink,
)
from mwparserfromhell.wikicode import Wikicode

from ..models import Block
from .wikinames import CATEGORY_NAMESPACES, FILE_NAMESPACES, FRAMED, LANGUAGE_PREFIX, NOT_LANGUAGES, is_image_option
from .wikitemplates import DASH_SIDE, template_name, template_text

HEADING = re.compile(r"^[ \t]*(={1,6})[ \t]*([^=\n].*?)[ \t]*\1[ \t]*$")

_MAGIC_WORD = re.compile(r"__[A-ZÀ-ÞА-Я][A-ZÀ-ÞА-Я_]*__")
_PLAIN_EXPORT_ITEM = re.compile(r"^\s*(?:-(?=\s)|•)\s*")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_DIGIT_DASH = re.compile(rf"(\d){DASH_SIDE}([–—]){DASH_SIDE}(?=\d)")
_APOSTROPHES = re.compile(r"'{2,}")

# Tags whose content is not prose (notes are lifted apart; formulas and scores are not text).
_DROPPED_TAGS = frozenset(
    {"ref", "references", "math", "chem", "ce", "score", "timeline", "graph", "mapframe", "maplink",
     "templatedata", "templatestyles", "imagemap", "includeonly", "hiero", "inputbox", "categorytree",
     "section", "indicator", "charinsert", "dynamicpagelist", "style", "script"}
)  # fmt: skip
_LITERAL_TAGS = frozenset({"nowiki", "pre", "source", "syntaxhighlight"})
_BLOCK_TAGS = frozenset(
    {"p", "div", "blockquote", "center", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "poem", "table"}
)  # fmt: skip
_LIST_MARKUP = {"*": "item", "#": "item", ";": "item", ":": "item"}


def _parse(text: str) -> Wikicode:
    # Bold and italic marks are removed from text nodes instead: the parser's pairing of them
    # across a page can fail and then leave a whole <ref> unparsed.
    return mwparserfromhell.parse(text, skip_style_tags=True)


@dataclass
class _Line:
    kind: str  # "heading" | "item" | "paragraph"; "blank" for an empty line
    text: str = ""
    level: int = 0
    own: bool = False  # stands alone: never joined to a neighbouring line


@dataclass
class _Reader:
    """Reads parsed wikitext into lines; `inline` ignores list structure (link labels, cells)."""

    plain_export: bool = False
    inline: bool = False
    categories: list[str] = field(default_factory=list)
    lines: list[_Line] = field(default_factory=list)
    _parts: list[str] = field(default_factory=list)
    _kind: str = "paragraph"

    # -- lines ---------------------------------------------------------------------------
    def end_line(self, own: bool = False) -> None:
        text = _finish("".join(self._parts))
        if text:
            self.lines.append(_Line(self._kind, text, own=own))
        elif not self.lines or self.lines[-1].kind != "blank":
            self.lines.append(_Line("blank"))
        self._parts, self._kind = [], "paragraph"

    def own_line(self, kind: str, text: str, level: int = 0) -> None:
        """A line of its own (heading, caption, table row) wherever it stood."""
        if self._parts:
            self.end_line()
        text = _finish(text)
        if text:
            self.lines.append(_Line(kind, text, level, own=True))

    def at_line_start(self) -> bool:
        return not "".join(self._parts).strip()

    def add(self, text: str) -> None:
        for i, piece in enumerate(text.split("\n")):
            if i:
                self.end_line()
            if not piece:
                continue
            if self.plain_export and not self.inline and self.at_line_start():
                marker = _PLAIN_EXPORT_ITEM.match(piece)
                if marker:
                    self._kind = "item"
                    piece = piece[marker.end() :]
            self._parts.append(piece)

    # -- nodes ---------------------------------------------------------------------------
    def read(self, code: Wikicode | None) -> None:
        if code is None:
            return
        for node in code.nodes:
            self.node(node)

    def node(self, node: Node) -> None:
        if isinstance(node, Text):
            text = _MAGIC_WORD.sub("", node.value.replace(DASH_SIDE, ""))
            self.add(_APOSTROPHES.sub(_quotes, text) if "''" in text else text)
        elif isinstance(node, Wikilink):
            self.wikilink(node)
        elif isinstance(node, Template):
            text = template_text(node, self.plain)
            if text:
                self.add(text)
        elif isinstance(node, Tag):
            self.tag(node)
        elif isinstance(node, ExternalLink):
            if node.title is not None:
                self.add(self.plain(node.title))
            elif not node.brackets:
                self.add(str(node.url))
        elif isinstance(node, HTMLEntity):
            self.add(_entity(node))
        elif isinstance(node, Heading):
            self.own_line("heading", self.one_line(node.title), node.level)
        elif isinstance(node, Argument):
            self.read(node.default)
        elif isinstance(node, Comment):
            pass

    def tag(self, tag: Tag) -> None:
        name = str(tag.tag).strip().lower()
        markup = tag.wiki_markup
        if markup in _LIST_MARKUP and name in ("li", "dt", "dd"):
            if self.inline:
                self.add(" ")
            elif self.at_line_start():
                self._kind = "item"
            else:
                self.add(": ")  # `;term: definition` on one line
            return
        if name in _DROPPED_TAGS:
            return
        if name == "br":
            if self.inline:
                self.add("\n")
            else:
                self.end_line(own=True)
            return
        if name == "hr":
            self.end_line()
            return
        if name in _LITERAL_TAGS:
            self.add("".join(_entity(n) if isinstance(n, HTMLEntity) else str(n) for n in tag.contents.nodes))
            return
        if name == "gallery":
            for caption in _gallery_captions(str(tag.contents or ""), self):
                self.own_line("paragraph", caption)
            return
        if name == "table":
            self.table(tag)
            return
        if name == "li" and not self.inline:
            self.end_line()
            self._kind = "item"
            self.read(tag.contents)
            self.end_line()
            return
        block = name in _BLOCK_TAGS and not self.inline
        if block and self._parts:
            self.end_line()
        if name == "poem" and not self.inline:
            for line in self.plain(tag.contents).split("\n"):
                self.own_line("paragraph", line)
        else:
            self.read(tag.contents)
        if block:
            self.end_line(own=True)

    def table(self, table: Tag) -> None:
        """One line per row, cells joined by ` | `; a `|+` caption is a line of its own."""
        rows: list[list[str]] = [[]]
        for node in table.contents.nodes if table.contents is not None else ():
            if not isinstance(node, Tag):
                continue
            name = str(node.tag).strip().lower()
            if name == "tr":
                rows.append([])
                for cell in node.contents.nodes if node.contents is not None else ():
                    if isinstance(cell, Tag) and str(cell.tag).strip().lower() in ("td", "th"):
                        rows[-1].append(self.one_line(cell.contents))
            elif name in ("td", "th"):
                text = self.one_line(node.contents)
                raw = str(node.contents or "")
                if name == "td" and node.wiki_markup == "|" and raw.startswith("+"):
                    self.own_line("paragraph", text[1:])  # `|+ caption`
                else:
                    rows[-1].append(text)
            elif name == "caption":
                self.own_line("paragraph", self.one_line(node.contents))
        for row in rows:
            cells = [c for c in row if c]
            if cells:
                self.own_line("paragraph" if self.inline else "item", " | ".join(cells))
        self.end_line()

    def wikilink(self, link: Wikilink) -> None:
        title = str(link.title).strip()
        leading_colon = title.startswith(":")
        target = title.lstrip(":").strip()
        prefix, sep, rest = target.partition(":")
        namespace = " ".join(prefix.replace("_", " ").split()).lower() if sep else ""
        if not leading_colon:
            if namespace in CATEGORY_NAMESPACES:
                self.category(rest)
                return
            if namespace in FILE_NAMESPACES:
                self.image(link)
                return
            if sep and LANGUAGE_PREFIX.match(prefix.strip()) and prefix.strip() not in NOT_LANGUAGES:
                return  # interlanguage link: shown in the page's language menu, not in its text
        if link.text is not None and str(link.text).strip():
            self.add(self.plain(link.text))
        elif link.text is not None:
            self.add(_pipe_trick(target))  # [[Foo (bar)|]] shows "Foo"
        elif leading_colon and namespace in CATEGORY_NAMESPACES:
            self.add(rest.strip())
        else:
            self.add(target if not leading_colon else title[1:].strip())

    def image(self, link: Wikilink) -> None:
        options = _split_pipes(link.text) if link.text is not None else []
        framed = any(str(o).strip().lower() in FRAMED for o in options)
        caption = _caption(options)
        if caption is None:
            return
        text = self.one_line(caption)
        if framed and not self.inline:
            self.own_line("paragraph", text)  # a thumbnail's caption is a box of its own
        else:
            self.add(text)

    def category(self, name: str) -> None:
        name = " ".join(name.partition("|")[0].replace("_", " ").split())
        if name and not any(ch in name for ch in "{}[]<>"):
            name = name[0].upper() + name[1:]
            if name not in self.categories:
                self.categories.append(name)

    # -- inline text ---------------------------------------------------------------------
    def plain(self, code: Wikicode | None) -> str:
        """Plain text of a fragment; line breaks kept."""
        sub = _Reader(inline=True, categories=self.categories)
        sub.read(code)
        sub.end_line()
        return "\n".join(line.text for line in sub.lines if line.kind != "blank")

    def one_line(self, code: Wikicode | None) -> str:
        return " ".join(self.plain(code).split())


def _finish(text: str) -> str:
    """One line's text: dash templates spaced (bare between digits), spaces collapsed."""
    if DASH_SIDE in text:
        text = _DIGIT_DASH.sub(r"\1\2", text).replace(DASH_SIDE, " ")
    return _SPACES.sub(" ", text).strip()


def _quotes(m: re.Match[str]) -> str:
    """Bold and italic marks ('' '') show nothing; extra apostrophes show, as on the wiki."""
    n = len(m.group())
    return "'" if n == 4 else "'" * (n - 5) if n > 5 else ""


def _entity(node: HTMLEntity) -> str:
    try:
        return node.normalize()
    except ValueError:
        return str(node)


def _pipe_trick(target: str) -> str:
    text = target.partition(":")[2] if ":" in target else target
    text = re.sub(r"\s*\([^()]*\)\s*$", "", text)
    return text.split(",")[0].strip() or target


def _split_pipes(code: Wikicode) -> list[Wikicode]:
    """The `|`-separated arguments of a link, nested links and templates left whole."""
    parts: list[list[Node]] = [[]]
    for node in code.nodes:
        if isinstance(node, Text) and "|" in node.value:
            pieces = node.value.split("|")
            for i, piece in enumerate(pieces):
                if i:
                    parts.append([])
                if piece:
                    parts[-1].append(Text(piece))
        else:
            parts[-1].append(node)
    return [Wikicode(p) for p in parts]


def _caption(options: list[Wikicode]) -> Wikicode | None:
    """The last argument that is not an image option, as MediaWiki reads it."""
    for option in reversed(options):
        if str(option).strip() and not is_image_option(str(option)):
            return option
    return None


def _gallery_captions(body: str, reader: _Reader) -> list[str]:
    captions = []
    for line in body.splitlines():
        _file, sep, rest = line.partition("|")
        if sep:
            caption = _caption(_split_pipes(_parse(rest)))
            if caption is not None:
                captions.append(reader.one_line(caption))
    return captions


@dataclass(frozen=True)
class Reduced:
    """A page's text as blocks, and the categories it is filed in (not part of its text)."""

    blocks: tuple[Block, ...]
    categories: tuple[str, ...]


def reduce_wikitext(text: str, plain_export: bool = False) -> Reduced:
    """Blocks of a page of wikitext. A single line break inside a paragraph is a space, as on the
    wiki; `plain_export` (the plain-text export) reads every line as a paragraph and `- ` / `•`
    at a line's start as list items."""
    reader = _Reader(plain_export=plain_export)
    reader.read(_parse(text))
    reader.end_line()
    blocks: list[Block] = []
    previous: _Line | None = None
    for line in reader.lines:
        if line.kind == "blank":
            previous = None
            continue
        if line.kind == "heading":
            blocks.append(Block("heading", line.text, line.level))
        elif (
            not plain_export
            and previous is not None
            and line.kind == previous.kind == "paragraph"
            and not (line.own or previous.own)
        ):
            blocks[-1] = Block("paragraph", f"{blocks[-1].text} {line.text}")
        else:
            blocks.append(Block(line.kind, line.text))
        previous = line
    return Reduced(tuple(blocks), tuple(reader.categories))


def to_plain(text: str) -> str:
    """Plain text of a wikitext fragment (line breaks kept): link labels, template text; refs dropped."""
    reader = _Reader(inline=True)
    return reader.plain(_parse(text))


_REF_LIST = re.compile(
    r"\{\{\s*(?:reflist|references|notelist)\b[^{}]*\}\}|<references\s*/>|<references\b[^>]*>.*?</references>",
    re.IGNORECASE | re.DOTALL,
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
    for tag in _parse(text).filter_tags(recursive=True):
        if str(tag.tag).strip().lower() != "ref" or tag.contents is None:
            continue
        name = str(tag.get("name").value).strip().lower() if tag.has("name") else ""
        note = " ".join(to_plain(str(tag.contents)).split())
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


def infobox_params(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Find an {{Infobox ...}} template: returns (text without it, [(key, plain value)])."""
    if "{{" not in text:
        return text, []
    code = _parse(text)
    for tmpl in code.filter_templates(recursive=False):
        if template_name(tmpl).startswith("infobox"):
            pairs = []
            for param in tmpl.params:
                key = str(param.name).strip()
                value = to_plain(str(param.value)).replace("\n", ", ").strip(" ,")
                if key and value and not key.isdigit():
                    pairs.append((key.replace("_", " ").capitalize(), value))
            with contextlib.suppress(ValueError):
                code.remove(tmpl)
            return str(code), pairs
    return text, []
