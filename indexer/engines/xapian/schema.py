"""The Xapian document of one SectionRecord: its terms (analysed by indexer/analysis.py), their
positions and within-document frequencies (wdf), and the record id as a value.

Xapian ranks with BM25 over a document's wdf and its length (the sum of its wdf), so the zones'
weights are the wdf of the body terms (WEIGHT_SCALE x weight per occurrence, as the tantivy
engine's `bodyw`) and every other term has wdf 0: it does not lengthen the record (a record's
length is its weighted body's, as in the product's BM25F). Field terms (`title:` ...) are ranked
by their idf alone (translate.py).

    (no prefix)   body terms with positions: phrases, proximity, and the weighted wdf of BM25
    XT XH XB      title, heading (the breadcrumb) and text terms, for `title:`, `heading:`, `text:`
    XW            the unstemmed vocabulary (suggestions, completion, prefix and fuzzy words)
    XF            `name:key` of every facet key; XI: `slug:term` of infobox values, with positions
    XDY XDM XDD   the years (2022), months (202209) and days (20220912) a section mentions
    Q             the doc_id (a document's records are deleted by it); XL: latest version; XA: all
"""

from __future__ import annotations

import xapian

from ...analysis import analyzer_for, plain_terms
from ...models import SectionRecord

INDEX_SCHEMA_VERSION = 1  # bump when terms or values change: an older index asks for a re-index
WEIGHT_SCALE = 2  # zone weights are multiples of 1/WEIGHT_SCALE (the writer's 2, 1.5, 1 and 0.5)
ZONE_GAP = 4  # positions between zones (the proximity window is 3): no phrase spans two zones
MAX_TERM_BYTES = 240  # Xapian's limit is 245 bytes with the prefix; longer words are not indexed
RECORD_ID_SLOT = 0  # value slot of the record id (read back as each match's collapse key)
FIELD_PREFIX = {None: "", "title": "XT", "heading": "XH", "text": "XB"}
WORD, FACET, INFOBOX, DOC, LATEST, ALL = "XW", "XF", "XI", "Q", "XL", "XA"
DATE_PREFIX = {"XDY": 4, "XDM": 7, "XDD": 10}  # prefix -> ISO prefix width (year, month, day)


def fits(term: str) -> bool:
    return len(term.encode("utf-8")) <= MAX_TERM_BYTES


def date_number(value: str) -> str:
    """An ISO date prefix as digits that sort the same: 2022-09-12 -> 20220912."""
    return value.replace("-", "")


def xapian_document(record: SectionRecord) -> xapian.Document:
    """The terms, positions and record id of one record, analysed in the record's language."""
    analyzer = analyzer_for(record.language)
    doc = xapian.Document()
    position = 0
    for zone in record.zones:
        wdf = max(1, round(zone.weight * WEIGHT_SCALE)) if zone.weight > 0 else 0
        zone_terms = analyzer.terms(zone.text)
        if position:
            position += ZONE_GAP
        for term in zone_terms:
            position += 1
            if fits(term):
                doc.add_posting(term, position, wdf)
    for field, text in (("title", record.title), ("heading", record.breadcrumb), ("text", record.text)):
        prefix = FIELD_PREFIX[field]
        for term in analyzer.terms(text):
            if fits(prefix + term):
                doc.add_term(prefix + term, 0)
    for word in set(plain_terms(" ".join((record.title, record.heading, record.text)))):
        if fits(WORD + word):
            doc.add_term(WORD + word, 0)
    for name, keys in record.facets.items():
        for key in keys:
            if fits(f"{FACET}{name}:{key}"):
                doc.add_term(f"{FACET}{name}:{key}", 0)
    position = 0
    for slug, value in record.infobox.items():
        position += ZONE_GAP
        for term in analyzer.terms(value):
            position += 1
            if fits(f"{INFOBOX}{slug}:{term}"):
                doc.add_posting(f"{INFOBOX}{slug}:{term}", position, 0)
    for prefix, values in (("XDD", record.date_days), ("XDM", record.date_months), ("XDY", record.date_years)):
        for value in values:
            doc.add_term(prefix + date_number(value), 0)
    doc.add_term(DOC + record.doc_id, 0)  # doc ids are short: always fits
    if record.is_latest:
        doc.add_term(LATEST, 0)
    doc.add_term(ALL, 0)
    doc.add_value(RECORD_ID_SLOT, record.record_id)
    return doc
