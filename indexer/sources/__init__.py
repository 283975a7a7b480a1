"""Loaders: bytes on disk -> RawVersion records.

`read_source` stats and reads a file (size limit, encoding, binary check);
`detect_format` looks at the decoded text; one module per format turns text
into blocks: wikitext.py (the plain-text wiki export), html.py (trafilatura, with
htmlwalk.py as its BeautifulSoup fallback), markdown.py, plain.py and mediawiki_xml.py
(one RawVersion per revision). Both wiki formats reduce their markup with wikimarkup.py,
which reads templates through wikitemplates.py and special link names through wikinames.py.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
from pathlib import Path

from ..errors import NotADocument, SourceError
from ..models import RawVersion, SourceFile
from . import html, markdown, mediawiki_xml, plain, wikitext

MEDIA_TYPES = {
    "mediawiki": "application/xml",
    "html": "text/html",
    "wikitext": "text/x-wiki",
    "markdown": "text/markdown",
    "plain": "text/plain",
}
_EXT_HINTS = {
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".xml": "mediawiki",
    ".wiki": "wikitext",
}


def read_bytes(path: Path, max_bytes: int) -> tuple[bytes, os.stat_result]:
    """Read a file's bytes, refusing what is not a regular, readable, small-enough file."""
    spath = str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SourceError(spath, "file disappeared before it could be read") from None
    except OSError as exc:
        raise SourceError(spath, _os_reason(exc)) from None
    if not stat.S_ISREG(st.st_mode):
        raise SourceError(spath, "not a regular file")
    if st.st_size == 0:
        raise SourceError(spath, "empty file")
    if st.st_size > max_bytes:
        raise SourceError(
            spath,
            f"file is {st.st_size / 1048576:.1f} MB, over the {max_bytes / 1048576:.0f} MB "
            "limit (setting max_file_bytes)",
        )
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise SourceError(spath, "file disappeared before it could be read") from None
    except OSError as exc:
        raise SourceError(spath, _os_reason(exc)) from None
    if not data:
        raise SourceError(spath, "empty file")
    return data, st


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == 40:  # ELOOP
        return "symlink loop"
    return exc.strerror or str(exc)


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode(data: bytes, path: str, notes: list[str] | None = None) -> tuple[str, str]:
    """Decode bytes as UTF-8 (BOM or not), UTF-16 or cp1252; returns (text, encoding).

    UTF-8 with a few damaged bytes is decoded with U+FFFD in their place and a note is added to
    `notes` (never read as cp1252: that would turn every accented letter into mojibake)."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[3:], "utf-8", path), "utf-8-sig"
    if data.startswith(_UTF16_BOMS):
        return _strict(data, "utf-16", path), "utf-16"
    sample = data[:4096]
    zeros = sample.count(0)
    if zeros:
        # UTF-16 without a BOM: ASCII-range text has a NUL in every other byte.
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        half = len(sample) / 2
        if odd > 0.4 * half and even < 0.05 * half:
            return _strict(data, "utf-16-le", path), "utf-16-le"
        if even > 0.4 * half and odd < 0.05 * half:
            return _strict(data, "utf-16-be", path), "utf-16-be"
        raise NotADocument(path, "binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if _damaged_utf8(data):
            text = data.decode("utf-8", errors="replace")
            bad = text.count("\ufffd")
            if bad > max(16, len(text) // 100):
                raise SourceError(path, f"invalid UTF-8 at byte {exc.start} ({bad} undecodable bytes)") from None
            if notes is not None:
                notes.append(
                    f"damaged UTF-8: {bad} undecodable byte sequence{'s' if bad > 1 else ''} (first at byte "
                    f"{exc.start}) replaced with U+FFFD"
                )
            encoding = "utf-8 (damaged)"
            _check_text(text.replace("\ufffd", ""), path)
            return text, encoding
        else:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise SourceError(path, f"undecodable bytes at {exc.start} (not UTF-8, UTF-16 or cp1252)") from None
            encoding = "cp1252"
    else:
        encoding = "utf-8"
    _check_text(text, path)
    return text, encoding


def _strict(data: bytes, encoding: str, path: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"invalid {encoding.upper()} at byte {exc.start}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    _check_text(text, path)
    return text


_UTF8_MULTI = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
# A UTF-8 lead byte followed by a continuation byte: the start of a multi-byte character. In
# cp1252 that pair reads as mojibake ("Ã©", "â€"), almost never as real text.
_UTF8_FRAGMENT = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
# A lead byte whose cp1252 reading is a capital letter (À-Þ) right after a lower-case ASCII
# letter ("Caf\xc3 "): a character cut short, not a word of cp1252 text.
_CUT_AFTER_LOWER = re.compile(rb"[a-z][\xc0-\xde](?![a-z])")


def _damaged_utf8(data: bytes) -> bool:
    """Whether bytes that are not valid UTF-8 are damaged UTF-8 rather than cp1252 text."""
    return bool(_UTF8_MULTI.search(data) or _UTF8_FRAGMENT.search(data) or _CUT_AFTER_LOWER.search(data))


_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")  # not tab, newline, CR, form feed


def _check_text(text: str, path: str) -> None:
    """Refuse decoded text that is blank or full of control characters."""
    if not text.strip():
        raise SourceError(path, "no text (only whitespace)")
    sample = text[:20000]
    bad = len(_CONTROL.findall(sample))
    if bad / len(sample) >= 0.02:
        raise SourceError(path, "binary or undecodable content (too many control characters)")


_WIKI_HEADING = re.compile(r"^(={1,6})[^=\n].*?\1[ \t]*$", re.M)
_MD_HEADING = re.compile(r"^#{1,6}[ \t]+\S", re.M)
_MD_MARKS = re.compile(r"^(```|~~~)|\[[^\]\n]+\]\([^)\n]+\)|^\s*[-*+] \[[ x]\]|^---\s*$", re.M)


def detect_format(text: str, path: str = "") -> str:
    """Guess the format from the content; the extension only breaks ties."""
    head = text[:2048].lstrip().lower()
    xml_like = head.startswith(("<?xml", "<mediawiki"))
    if xml_like and ("<mediawiki" in text[:4096].lower() or "<page>" in text[:65536]):
        return "mediawiki"
    if head.startswith("<?xml") and not re.search(r"<(?:!doctype\s+)?html\b", text[:8192], re.I):
        return "xml"  # a feed, a search description, a data file: XML that is not XHTML
    if head.startswith(("<!doctype html", "<html", "<?xml")) or re.search(
        r"<(html|body|head|div|p|h[1-6]|article)\b", head
    ):
        return "html"
    wiki_headings = len(_WIKI_HEADING.findall(text[:200000]))
    md_headings = len(_MD_HEADING.findall(text[:200000]))
    if wiki_headings and wiki_headings >= md_headings:
        return "wikitext"
    if re.search(r"^Infobox\s*$", text[:20000], re.M):
        return "wikitext"
    if md_headings or _MD_MARKS.search(text[:200000]):
        return "markdown"
    ext = Path(path).suffix.lower()
    hinted = _EXT_HINTS.get(ext)
    if hinted in ("markdown", "wikitext"):
        return hinted
    return "plain"


def content_hash(data: bytes) -> str:
    """Hash of a file's bytes: decides whether a file changed since the last run."""
    return hashlib.sha256(data).hexdigest()


def load_file(path: Path, max_bytes: int, max_html_depth: int = 400) -> list[RawVersion]:
    """Read, decode, detect and parse one file into one or more raw versions."""
    data, st = read_bytes(path, max_bytes)
    return load_bytes(str(path), data, st.st_mtime, max_html_depth)


# Formats whose every line is a line of the one version a file holds (HTML is markup; a
# MediaWiki export holds many versions, each bounded after parsing: see indexer/limits.py).
LINE_FORMATS = frozenset({"plain", "markdown", "wikitext"})


def _first_lines(text: str, max_lines: int, notes: list[str] | None) -> str:
    if text.count("\n") < max_lines:
        return text
    end = -1
    for _ in range(max_lines):
        end = text.find("\n", end + 1)
    if not text[end + 1 :].strip():  # only blank lines after the last one kept
        return text
    if notes is not None:
        notes.append(
            f"truncated: more than {max_lines:,} lines (setting max_lines); "
            f"the text from line {max_lines + 1:,} on is not indexed"
        )
    return text[:end]


def load_bytes(
    path: str,
    data: bytes,
    mtime: float,
    max_html_depth: int = 400,
    digest: str | None = None,
    notes: list[str] | None = None,
    max_lines: int | None = None,
) -> list[RawVersion]:
    """Parse bytes already read from `path` (`digest`: their content hash, when already computed;
    `notes`: where to say what was repaired on the way, such as damaged UTF-8; `max_lines`: the
    most lines a file of one version is parsed to, its later lines left out with a note)."""
    text, _encoding = decode(data, path, notes)
    fmt = detect_format(text, path)
    if max_lines is not None and fmt in LINE_FORMATS:
        # Cut before parsing: the parsers keep an object per line (5 million lines took 1.9 GB).
        text = _first_lines(text, max_lines, notes)
    if fmt == "xml":
        root = re.search(r"<([A-Za-z_][\w.:-]*)[\s>/]", re.sub(r"<[?!][^>]*>", "", text[:8192]))
        name = f" <{root.group(1)}>" if root else ""
        raise NotADocument(path, f"XML of another kind (root element{name}), not a format Palimpsest reads")
    source = SourceFile(
        path=path,
        media_type=MEDIA_TYPES[fmt],
        size=len(data),
        mtime=mtime,
        content_hash=digest or content_hash(data),
    )
    try:
        if fmt == "mediawiki":
            versions = mediawiki_xml.parse(text, source)
        elif fmt == "html":
            versions = [html.parse(text, source, max_html_depth)]
        elif fmt == "wikitext":
            versions = [wikitext.parse(text, source)]
        elif fmt == "markdown":
            versions = [markdown.parse(text, source)]
        else:
            versions = [plain.parse(text, source)]
    except SourceError:
        raise
    except (ValueError, RecursionError) as exc:
        raise SourceError(path, f"could not parse as {fmt}: {exc}") from None
    versions = [v for v in versions if any(b.text.strip() for b in v.blocks)]
    if not versions:
        raise SourceError(path, f"no text found (parsed as {fmt})")
    return versions
