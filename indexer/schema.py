"""The only index schema: one record per section of every version."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from whoosh.fields import BOOLEAN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from .analysis import plain_analyzer, text_analyzer

SCHEMA_VERSION = 6

# Zone weights of the `body` field: a query word in the title counts as TITLE_WEIGHT occurrences,
# in a heading as HEADING_WEIGHT. bench/ranking_study.py (see bench/RESULTS.md): a title weight of
# 1 / 2 / 3 gives a mean nDCG@10 of 0.4390 / 0.4472 / 0.4497 over the quality suite; 3 wins on
# short catalogue titles (ADI, CACM) and loses on CISI, so 2 stays.
TITLE_WEIGHT = 2.0
# The title counts fully in the document's first section only; in the others it still lets
# `bridge closure` find the Closure section of "Old Harbour Bridge", but a query matching only
# the title picks the lead, not the shortest section.
SECTION_TITLE_WEIGHT = 0.5
HEADING_WEIGHT = 1.5
ZONE_GAP = 100  # positions between zones, so no phrase spans a title and a paragraph

# Field names are the names used everywhere (index, JSON, templates, CLI).
RECORD_FIELDS = (
    "record_id", "doc_id", "version_id", "ordinal", "is_latest", "title", "heading", "breadcrumb",
    "text", "body", "section", "subsection", "auxiliary", "date_day", "date_month", "date_year",
    "language", "source", "doc_type", "infobox_keys", "category", "words",
)  # fmt: skip
INFOBOX_FIELD_PREFIX = "ib_"  # one text field per infobox key: ib_<slug>


def category_key(name: str) -> str:
    """A category as the `category` facet and field hold it: case and spacing folded, commas
    (which would split the index's keyword list) made spaces."""
    return re.sub(r"[\s,]+", " ", name).strip().lower()


def infobox_field(key: str) -> str:
    """Index field holding the value of one infobox key (`Status` -> `ib_status`)."""
    return INFOBOX_FIELD_PREFIX + infobox_slug(key)


def infobox_slug(key: str) -> str:
    """The name an infobox key has in queries and facets: lowercased, non-word runs as `_`."""
    return re.sub(r"\W+", "_", key.strip().lower()).strip("_") or "key"


class ZonedText(TEXT):  # type: ignore[misc]
    """A text field indexed from weighted zones: a value is a sequence of (text, weight).

    Each occurrence of a word adds its zone's weight to the word's term frequency, so BM25 over
    this one field is BM25F proper (field weights applied before saturation, one length
    normalisation), instead of a sum of per-field BM25 scores that rewards a word for
    appearing in several fields more than for appearing often."""

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        zones: Sequence[tuple[str, float]] = [(value, 1.0)] if isinstance(value, str) else value
        positions: dict[str, list[int]] = defaultdict(list)
        weights: dict[str, float] = defaultdict(float)
        start = 0
        for text, weight in zones:
            last = start - 1
            for tok in self.analyzer(text, positions=True, start_pos=start, mode="index"):
                positions[tok.text].append(tok.pos)
                weights[tok.text] += weight
                last = tok.pos
            start = last + ZONE_GAP
        for word in sorted(positions):
            poslist = positions[word]
            yield word.encode("utf-8"), len(poslist), weights[word], self.format.encode(poslist)


def build_schema() -> Schema:
    """Whoosh schema; text fields share one analyzer so BM25F can combine them."""
    analyzer = text_analyzer()
    schema = Schema(
        record_id=ID(stored=True, unique=True, sortable=True),
        doc_id=ID(stored=True),
        version_id=ID(stored=True),
        ordinal=NUMERIC(stored=True),
        is_latest=BOOLEAN(stored=True),
        # Unfielded words are searched in `body`: title, breadcrumb, text and infobox as weighted
        # zones. `title`, `heading` and `text` serve the title:, heading: and text: fields.
        body=ZonedText(analyzer=analyzer, phrase=True),
        title=TEXT(analyzer=analyzer, stored=True),
        heading=TEXT(analyzer=analyzer),
        breadcrumb=STORED(),
        text=TEXT(analyzer=analyzer, phrase=False),  # phrases in text: positions come from `body`
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
        category=KEYWORD(commas=True, lowercase=True, scorable=False),
        # Unstemmed words of title, headings and text: the vocabulary for "did you mean",
        # prefix completion and fuzzy words.
        words=TEXT(analyzer=plain_analyzer(), phrase=False),
        extra=STORED(),
    )
    schema.add(INFOBOX_FIELD_PREFIX + "*", TEXT(analyzer=analyzer), glob=True)
    return schema
