"""The only index schema: one record per section of every version."""

from __future__ import annotations

import re

from whoosh.fields import BOOLEAN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from .analysis import plain_analyzer, text_analyzer

SCHEMA_VERSION = 2

# Field names are the names used everywhere (index, JSON, templates, CLI).
RECORD_FIELDS = (
    "record_id", "doc_id", "version_id", "ordinal", "is_latest", "title", "heading", "breadcrumb",
    "text", "section", "subsection", "auxiliary", "date_day", "date_month", "date_year",
    "language", "source", "doc_type", "infobox_keys", "infobox", "words",
)  # fmt: skip
INFOBOX_FIELD_PREFIX = "ib_"  # one text field per infobox key: ib_<slug>


def infobox_field(key: str) -> str:
    """Index field holding the value of one infobox key (`Status` -> `ib_status`)."""
    return INFOBOX_FIELD_PREFIX + infobox_slug(key)


def infobox_slug(key: str) -> str:
    """The name an infobox key has in queries and facets: lowercased, non-word runs as `_`."""
    return re.sub(r"\W+", "_", key.strip().lower()).strip("_") or "key"


def build_schema() -> Schema:
    """Whoosh schema; text fields share one analyzer so BM25F can combine them."""
    analyzer = text_analyzer()
    schema = Schema(
        record_id=ID(stored=True, unique=True, sortable=True),
        doc_id=ID(stored=True),
        version_id=ID(stored=True),
        ordinal=NUMERIC(stored=True),
        is_latest=BOOLEAN(stored=True),
        title=TEXT(analyzer=analyzer, field_boost=3.0, stored=True),
        heading=TEXT(analyzer=analyzer, field_boost=2.0),
        breadcrumb=TEXT(analyzer=analyzer, stored=True, field_boost=1.5),
        text=TEXT(analyzer=analyzer, phrase=True),
        section=ID(stored=True),
        subsection=ID(stored=True),
        auxiliary=BOOLEAN(stored=True),
        date_day=KEYWORD(commas=False, scorable=False),
        date_month=KEYWORD(commas=False, scorable=False),
        date_year=KEYWORD(commas=False, scorable=False),
        language=ID(stored=True),
        source=KEYWORD(commas=True, scorable=False, stored=True),
        doc_type=ID(stored=True),
        infobox_keys=KEYWORD(commas=True, lowercase=True, scorable=False),
        infobox=TEXT(analyzer=analyzer),
        # Unstemmed words of title, headings and text: the vocabulary for "did you mean",
        # prefix completion and fuzzy words.
        words=TEXT(analyzer=plain_analyzer(), phrase=False),
        extra=STORED(),
    )
    schema.add(INFOBOX_FIELD_PREFIX + "*", TEXT(analyzer=analyzer), glob=True)
    return schema
