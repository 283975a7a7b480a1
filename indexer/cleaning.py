"""Markup and boilerplate -> plain text blocks.

Page chrome is removed by general rules, never by a list of exact strings, and only from
web-derived text (HTML, plain text saved from web pages): a line is chrome when it has no
sentence in it (short, no terminal punctuation) and either its words are navigation,
social-network, download or consent vocabulary (decided here, from the file alone), or it
repeats across documents of one source (page furniture, decided at index time from the
store, so that it never changes a version's identity). Headings and sentences are never
removed; wiki-text, Markdown and MediaWiki lose nothing.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace

from .models import Block, RawVersion

_SPACES = re.compile(r"[\s\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")

_NAVIGATION = re.compile(
    r"^(?:(?:back|go|jump|return|scroll|skip)\s+(?:to|back)\b.*"
    r"|(?:top|bottom|end|start)\s+of\s+(?:the\s+)?(?:page|content|document)"
    r"|(?:home|menu|search|log\s?in|log\s?out|sign\s?in|sign\s?up|next|previous|prev|more|close)"
    r"|(?:main\s+)?menu|toggle\s+navigation|table\s+of\s+contents)$",
    re.I,
)
_SOCIAL = re.compile(
    r"\b(?:facebook|twitter|youtube|instagram|linkedin|tiktok|pinterest|reddit|whatsapp|"
    r"telegram|mastodon|bluesky|rss|icon|icons|share|shares|tweet|follow|subscribe)\b",
    re.I,
)
_DOWNLOAD = re.compile(
    r"\b(?:download|print(?:able)?\s+version)\b|\b\d+(?:[.,]\d+)?\s?(?:[kKMG]B|bytes)\b"
    r"|\b(?:PDF|DOCX?|XLSX?|PPTX?|EPUB)\b(?:\s*[•·|-]|$)",
)
_CONSENT = re.compile(
    r"\b(?:cookies?|accept\s+all|privacy\s+policy|terms\s+(?:of\s+use|and\s+conditions)|"
    r"all\s+rights\s+reserved|copyright)\b|©",
    re.I,
)


def normalize_space(text: str) -> str:
    """NFC, invisible characters removed, every run of whitespace one space."""
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
    return _SPACES.sub(" ", text).strip()


def is_sentence(text: str) -> bool:
    """Whether a line carries at least one sentence (as opposed to a label or a link)."""
    words = text.split()
    if len(words) >= 4 and re.search(r"[.!?…\"”’)]\s*$", text):
        return True
    return bool(re.search(r"\w{2,}[.!?]\s+[A-Z\"“]", text)) and len(words) >= 6


def is_chrome_line(text: str, max_words: int) -> bool:
    """Short non-sentence line whose words are navigation, social, download or consent chrome."""
    if len(text.split()) > max_words or is_sentence(text):
        return False
    stripped = text.strip(" :•·|>-–—")
    return bool(
        _NAVIGATION.match(stripped)
        or _SOCIAL.search(stripped)
        or _DOWNLOAD.search(stripped)
        or _CONSENT.search(stripped)
    )


@dataclass(frozen=True)
class FurnitureRule:
    """When a repeated short line is page furniture: found in at least `min_documents`
    documents of one source, and in at least `share` of that source's documents. Furniture is
    on most pages of a site (menus, footers, "Latest stories"); a label that a few pages of a
    large site share ("Release:" on each What's New page of a manual) is content."""

    min_documents: int = 3
    share: float = 0.1

    def threshold(self, documents: int) -> int:
        """How many of a source's `documents` must have a line for it to be furniture."""
        return max(self.min_documents, math.ceil(self.share * documents - 1e-9))


# Formats whose text was saved from the web: only these carry page furniture. Wiki-text,
# Markdown and MediaWiki exports are structured by their authors: every line of theirs is content.
WEB_DERIVED = frozenset({"html", "plain"})


def line_key(line: str) -> str:
    """A line of section text as page furniture is recorded: list marker dropped, spaces
    normalized, lowercased."""
    return normalize_space(line[2:] if line.startswith("- ") else line).lower()


def furniture_key(line: str, max_words: int) -> str | None:
    """`line_key` of a line that may be page furniture, or None for a line that never is
    (a sentence, or longer than `max_words`)."""
    key = line_key(line)
    if not key or len(key.split()) > max_words or is_sentence(key):
        return None
    return key


def furniture_candidates(texts: Iterable[str], max_words: int) -> set[str]:
    """Keys of the short non-sentence lines of some section texts (headings are not in them)."""
    out: set[str] = set()
    for text in texts:
        for line in text.split("\n"):
            key = furniture_key(line, max_words)
            if key:
                out.add(key)
    return out


def clean(raw: RawVersion, max_words: int = 8) -> RawVersion:
    """Normalize whitespace; in web-derived text, drop lines that are chrome by their own words.

    Only rules that look at the file itself run here, so a file's cleaned text (and the
    version_id hashed from it) never depends on other files. Lines that repeat across documents
    of one source are left out later, at index time (`FurnitureRule`), and only from
    web-derived text."""
    web = raw.doc_type in WEB_DERIVED
    blocks: list[Block] = []
    chrome: list[bool] = []
    for block in raw.blocks:
        text = normalize_space(block.text)
        if not text:
            continue
        blocks.append(replace(block, text=text))
        chrome.append(web and block.kind != "heading" and is_chrome_line(text, max_words))
    # A label left between footer chrome and the end of the page (the name of a
    # download, a caption of a share box) belongs to the footer.
    if any(chrome):
        i = len(blocks) - 1
        while i >= 0 and (chrome[i] or _label(blocks[i], max_words)):
            if not chrome[i] and not any(chrome[i + 1 :]):
                break
            chrome[i] = True
            i -= 1
    kept = tuple(b for b, c in zip(blocks, chrome, strict=True) if not c)
    title = normalize_space(raw.title) if raw.title else None
    return replace(raw, blocks=kept, title=title or None)


def _label(block: Block, max_words: int) -> bool:
    text = block.text
    return (
        block.kind == "paragraph"
        and len(text.split()) <= max_words
        and not is_sentence(text)
        and not re.search(r"[.!?:;,]$", text)
    )
