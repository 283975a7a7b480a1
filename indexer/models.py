"""The data model shared by every stage: frozen dataclasses, same names everywhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SourceFile:
    """Where bytes came from: a path, its media type, size, mtime and content hash."""

    path: str
    media_type: str
    size: int
    mtime: float
    content_hash: str


@dataclass(frozen=True)
class Block:
    """One structural unit a loader found: a heading, a paragraph or a list item."""

    kind: str  # "heading" | "paragraph" | "item"
    text: str
    level: int = 0  # heading level 1..6 (1 = the title line), 0 otherwise


@dataclass(frozen=True)
class RawVersion:
    """What a loader read from one source file: one content state, before cleaning."""

    source: SourceFile
    doc_type: str  # wikitext | html | markdown | plain | mediawiki
    blocks: tuple[Block, ...]
    title: str | None = None
    infobox: tuple[tuple[str, str], ...] = ()
    authors: tuple[str, ...] = ()
    date_strings: tuple[tuple[str, str], ...] = ()  # (kind, text) e.g. ("modified", "2024-04-01")
    timestamp: str | None = None  # ISO timestamp of a revision, when the export has one
    lineage_key: str | None = None  # versions sharing a key are one document (MediaWiki page)
    site: str | None = None  # site name or domain, when the file says
    revision: str | None = None  # the revision's own id in an export (one file, many revisions)
    categories: tuple[str, ...] = ()  # wiki categories the page is filed in (not part of its text)


@dataclass(frozen=True)
class DateMention:
    """A date found in text: the exact span, a normalized value and whether the year was guessed."""

    text: str
    start: int
    end: int
    value: str  # "2022-09-12", "2022-09", "2022", or a range "2022-09-12..2022-09-14"
    inferred: bool = False

    def bounds(self) -> tuple[str, str | None]:
        """First and last day covered, as ISO dates (last is None for an open `..present` range)."""
        lo, _, hi = self.value.partition("..")
        if hi == "present":
            return _first_day(lo), None
        return _first_day(lo), _last_day(hi or lo)


def _first_day(value: str) -> str:
    parts = value.split("-")
    return "-".join(parts + ["01"] * (3 - len(parts)))


def _last_day(value: str) -> str:
    import calendar

    parts = value.split("-")
    if len(parts) == 1:
        return f"{parts[0]}-12-31"
    if len(parts) == 2:
        year, month = int(parts[0]), int(parts[1])
        return f"{value}-{calendar.monthrange(year, month)[1]:02d}"
    return value


@dataclass(frozen=True)
class Section:
    """One section of a version: the lead, or the text under one heading."""

    version_id: str
    ordinal: int
    level: int  # 0 for the lead, else heading level (2 = top-level section)
    heading: str
    breadcrumb: str
    anchor: str
    text: str
    language: str
    auxiliary: bool = False
    dates: tuple[DateMention, ...] = ()


@dataclass(frozen=True)
class Version:
    """One content state of a work; `version_id` hashes its normalized text."""

    version_id: str
    title: str | None
    doc_type: str
    language: str
    sections: tuple[Section, ...]
    files: tuple[SourceFile, ...]  # every file that carries exactly this text
    infobox: dict[str, Any] = field(default_factory=dict)
    authors: tuple[str, ...] = ()
    dates: tuple[dict[str, str], ...] = ()  # document dates: {"kind", "text", "value"}
    timestamp: str | None = None
    lineage_key: str | None = None
    site: str | None = None
    normalized_text: str = ""
    categories: tuple[str, ...] = ()

    def own_date(self) -> str | None:
        """The version's own date for ordering: a revision timestamp, else its latest document date."""
        if self.timestamp:
            return self.timestamp
        values = [d["value"] for d in self.dates if d.get("value")]
        return max(values) if values else None


@dataclass(frozen=True)
class TimelineEntry:
    """One revision or saved copy of a document, in time order (`number` counts from 1).

    Several entries may carry one version's text: a revert to an earlier text, or a copy saved
    again at another date; `same_as` names the first entry with that text."""

    number: int
    version_id: str
    kind: str  # "revision" (of an export) | "copy" (a saved file)
    date: str | None  # the revision timestamp or the copy's own date
    first_run: int  # the run that first saw it
    files: tuple[str, ...]
    revision: str | None = None
    same_as: int | None = None


@dataclass(frozen=True)
class SectionRow:
    """One section of one version as search and indexing read it from the store: the section,
    what its version and document say about it, and (when asked for) its text. Facets read
    their values from these (indexer/facets.py)."""

    version_id: str
    ordinal: int
    doc_id: str
    heading: str
    breadcrumb: str
    anchor: str
    language: str
    auxiliary: bool
    dates: tuple[DateMention, ...]
    doc_type: str
    sources: tuple[str, ...]  # source labels (site or folder) of the version
    infobox: dict[str, Any]
    categories: tuple[str, ...]
    rank: int  # the version's place among its document's distinct versions (latest last)
    entries: tuple[int, ...]  # timeline numbers carrying this version's text
    title: str  # the version's title (its own or inherited)
    doc_title: str
    latest_version_id: str
    version_count: int  # timeline entries of the document
    text: str = ""

    @property
    def record_id(self) -> str:
        return f"{self.version_id}:{self.ordinal}"

    @property
    def is_latest(self) -> bool:
        return self.version_id == self.latest_version_id


@dataclass(frozen=True)
class Zone:
    """Text of a record that counts `weight` times per word in the ranking (BM25F zones)."""

    text: str
    weight: float


@dataclass(frozen=True)
class SectionRecord:
    """What an engine receives for one section of one version: ids, the text to analyse (in
    `language`) as weighted zones and as fields, the facet keys of every declared facet, the
    dates it mentions at three grains, and its infobox values by key slug."""

    record_id: str
    doc_id: str
    version_id: str
    ordinal: int
    is_latest: bool
    language: str
    title: str
    heading: str
    breadcrumb: str
    text: str
    zones: tuple[Zone, ...]
    facets: dict[str, tuple[str, ...]]
    date_days: tuple[str, ...] = ()
    date_months: tuple[str, ...] = ()
    date_years: tuple[str, ...] = ()
    auxiliary: bool = False
    infobox: dict[str, str] = field(default_factory=dict)
