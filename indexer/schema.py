"""The only index schema: one record per section of every version."""

from __future__ import annotations

from whoosh.fields import BOOLEAN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from .analysis import text_analyzer

SCHEMA_VERSION = 1

# Field names are the names used everywhere (index, JSON, templates, CLI).
RECORD_FIELDS = (
    "record_id", "doc_id", "version_id", "ordinal", "is_latest", "title", "heading", "breadcrumb",
    "text", "section", "subsection", "auxiliary", "date_day", "date_month", "date_year",
    "language", "source", "doc_type", "infobox_keys", "infobox",
)  # fmt: skip


def build_schema() -> Schema:
    """Whoosh schema; text fields share one analyzer so BM25F can combine them."""
    analyzer = text_analyzer()
    return Schema(
        record_id=ID(stored=True, unique=True),
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
        extra=STORED(),
    )
