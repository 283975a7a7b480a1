"""The Whoosh index: its schema, and how a SectionRecord becomes one Whoosh document.

Text arrives analysed (indexer/analysis.py, in the record's language): fields hold index terms
separated by spaces and split on them, so the index never analyses anything itself and every
engine sees the same terms. `body` holds the weighted zones with positions (BM25F: a word's
frequency is the sum of its zones' weights), `title`, `heading` and `text` serve `title:`,
`heading:` and `text:`, `words` the unstemmed vocabulary (spelling suggestions, completion,
prefix and fuzzy words), `facet_<name>` the keys of each declared facet, `ib_<key>` the terms of
each infobox value, and `date_*` the days, months and years a section mentions.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from ...analysis import analyzer_for, plain_terms
from ...models import SectionRecord

with warnings.catch_warnings():
    # Whoosh 2.7.4 has invalid escape sequences in old regex literals; the warning fires only
    # when its modules are first compiled and means nothing at run time.
    warnings.filterwarnings("ignore", category=SyntaxWarning, message=r"invalid escape sequence")
    from whoosh.analysis import SpaceSeparatedTokenizer
    from whoosh.fields import BOOLEAN, ID, KEYWORD, NUMERIC, TEXT, Schema

INDEX_SCHEMA_VERSION = 8  # bump when fields or their contents change: an older index asks for a re-index
ZONE_GAP = 100  # positions between zones, so no phrase spans a title and a paragraph
FACET_PREFIX = "facet_"
INFOBOX_PREFIX = "ib_"
DATE_FIELDS = ("date_year", "date_month", "date_day")


class ZonedTerms(TEXT):  # type: ignore[misc]
    """A text field indexed from weighted zones of analysed terms: a value is a sequence of
    (terms, weight).

    Each occurrence of a term adds its zone's weight to the term's frequency, so BM25 over this
    one field is BM25F proper (field weights applied before saturation, one length
    normalisation), instead of a sum of per-field BM25 scores that rewards a word for appearing
    in several fields more than for appearing often."""

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        positions: dict[str, list[int]] = defaultdict(list)
        weights: dict[str, float] = defaultdict(float)
        start = 0
        zones: Sequence[tuple[Sequence[str], float]] = value
        for terms, weight in zones:
            for i, term in enumerate(terms):
                positions[term].append(start + i)
                weights[term] += weight
            start += len(terms) + ZONE_GAP
        for term in sorted(positions):
            poslist = positions[term]
            yield term.encode("utf-8"), len(poslist), weights[term], self.format.encode(poslist)


def _terms_field(phrase: bool = False) -> TEXT:
    return TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=phrase)


def build_schema() -> Schema:
    schema = Schema(
        record_id=ID(stored=True, unique=True, sortable=True),
        doc_id=ID(),
        is_latest=BOOLEAN(),
        ordinal=NUMERIC(),
        body=ZonedTerms(analyzer=SpaceSeparatedTokenizer(), phrase=True),
        title=_terms_field(),
        heading=_terms_field(),
        text=_terms_field(),  # phrases in text: positions come from `body`
        words=_terms_field(),
        auxiliary=BOOLEAN(),
        date_day=KEYWORD(commas=False, scorable=False),
        date_month=KEYWORD(commas=False, scorable=False),
        date_year=KEYWORD(commas=False, scorable=False),
    )
    schema.add(FACET_PREFIX + "*", KEYWORD(commas=True, scorable=False), glob=True)
    schema.add(INFOBOX_PREFIX + "*", _terms_field(phrase=True), glob=True)
    return schema


def whoosh_document(record: SectionRecord) -> dict[str, Any]:
    """The fields of one record, with its text analysed in the record's language."""
    analyzer = analyzer_for(record.language)
    analysed: dict[str, list[str]] = {}

    def terms(text: str) -> list[str]:
        if text not in analysed:
            analysed[text] = analyzer.terms(text)
        return analysed[text]

    doc: dict[str, Any] = {
        "record_id": record.record_id,
        "doc_id": record.doc_id,
        "is_latest": record.is_latest,
        "ordinal": record.ordinal,
        "body": [(terms(zone.text), zone.weight) for zone in record.zones],
        "title": " ".join(terms(record.title)),
        # `heading:x` finds a section under a heading named x too (a heading over sub-sections
        # has no record of its own).
        "heading": " ".join(terms(record.breadcrumb)),
        "text": " ".join(terms(record.text)),
        "words": " ".join(plain_terms(" ".join((record.title, record.heading, record.text)))),
        "auxiliary": record.auxiliary,
        "date_day": " ".join(record.date_days),
        "date_month": " ".join(record.date_months),
        "date_year": " ".join(record.date_years),
    }
    for name, keys in record.facets.items():
        if keys:
            doc[FACET_PREFIX + name] = ",".join(keys)
    for slug, value in record.infobox.items():
        doc[INFOBOX_PREFIX + slug] = " ".join(analyzer.terms(value))
    return doc
