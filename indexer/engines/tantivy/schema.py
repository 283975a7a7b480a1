"""The tantivy index: its fields, and how a SectionRecord becomes one tantivy document.

Text arrives analysed (indexer/analysis.py, in the record's language) and is indexed with
tantivy's whitespace tokenizer, so tantivy never analyses anything itself and sees the same terms
as every other engine (no analyser to register on open, Armenian stemmed like English).

    body          the zones' terms with positions, FILLER tokens between zones: phrases, proximity
    bodyw         the zones' terms, each repeated WEIGHT_SCALE x weight times, plus SENTINEL: the
                  weighted frequencies of BM25F (read back from tantivy's scores, see postings.py)
    title heading text   each field's terms (and SENTINEL) for `title:`, `heading:`, `text:`
    words         the unstemmed vocabulary (suggestions, completion, prefix and fuzzy words)
    facet         `name:key` of every facet key; ib: `slug:term` of every infobox value, with positions
    date_*        days (20220912), months (202209) and years (2022) a section mentions, as integers
    len_*         each scored field's length in words (BM25's length normalisation)
    seq           the record's sequence number in the bulk postings beside the index (bulk.py)
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import tantivy

from ...analysis import analyzer_for, plain_terms
from ...models import SectionRecord

INDEX_SCHEMA_VERSION = 1  # bump when fields or their contents change: an older index asks for a re-index
WEIGHT_SCALE = 2  # zone weights are multiples of 1/WEIGHT_SCALE (the writer's 2, 1.5, 1 and 0.5)
SENTINEL = "\x01"  # once in every record's scored fields: its score gives the record's length factor
FILLER = "\x02"  # between zones in `body`: no phrase or proximity window spans two zones
ZONE_GAP = 4  # filler tokens between zones (the proximity window is 3 positions)
SCORED_FIELDS = ("bodyw", "title", "heading", "text")
LENGTH_FIELD = {"bodyw": "len_body", "title": "len_title", "heading": "len_heading", "text": "len_text"}
DATE_FIELDS = {"date_year": 4, "date_month": 7, "date_day": 10}  # field -> ISO prefix width


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("record_id", stored=True, tokenizer_name="raw")
    sb.add_text_field("doc_id", tokenizer_name="raw", index_option="basic")
    sb.add_boolean_field("is_latest", indexed=True)
    sb.add_text_field("body", tokenizer_name="whitespace", index_option="position")
    sb.add_text_field("bodyw", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("title", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("heading", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("text", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("words", tokenizer_name="whitespace", index_option="basic")
    sb.add_text_field("facet", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("ib", tokenizer_name="whitespace", index_option="position")
    for name in DATE_FIELDS:
        sb.add_integer_field(name, indexed=True)
    for name in LENGTH_FIELD.values():
        sb.add_integer_field(name, fast=True)
    sb.add_integer_field("seq", fast=True)
    return sb.build()


def date_number(value: str) -> int:
    """An ISO date prefix as an integer that sorts the same: 2022-09-12 -> 20220912."""
    return int(value.replace("-", ""))


def record_fields(record: SectionRecord) -> tuple[dict[str, Any], dict[str, dict[str, int]]]:
    """(the tantivy fields of one record, its text analysed in the record's language; its terms
    with their frequencies in the fields whose postings are also kept in bulk, bulk.FIELDS)."""
    analyzer = analyzer_for(record.language)
    analysed: dict[str, list[str]] = {}

    def terms(text: str) -> list[str]:
        if text not in analysed:
            analysed[text] = analyzer.terms(text)
        return analysed[text]

    positional: list[str] = []
    weighted: list[str] = []
    gap = [FILLER] * ZONE_GAP
    length = 0
    for zone in record.zones:
        zone_terms = terms(zone.text)
        if positional:
            positional += gap
        positional += zone_terms
        length += len(zone_terms)
        if zone.weight > 0:
            weighted += zone_terms * max(1, round(zone.weight * WEIGHT_SCALE))
    title = terms(record.title)
    # `heading:x` finds a section under a heading named x too (a heading over sub-sections has
    # no record of its own).
    heading = terms(record.breadcrumb)
    text = terms(record.text)
    fields: dict[str, Any] = {
        "record_id": record.record_id,
        "doc_id": record.doc_id,
        "is_latest": record.is_latest,
        "body": " ".join(positional),
        "bodyw": " ".join([*weighted, SENTINEL]),
        "title": " ".join([*title, SENTINEL]),
        "heading": " ".join([*heading, SENTINEL]),
        "text": " ".join([*text, SENTINEL]),
        "words": " ".join(plain_terms(" ".join((record.title, record.heading, record.text)))),
        "len_body": length,
        "len_title": len(title),
        "len_heading": len(heading),
        "len_text": len(text),
    }
    facets = [f"{name}:{key}" for name, keys in sorted(record.facets.items()) for key in keys]
    if facets:
        fields["facet"] = facets
    infobox = [" ".join(f"{slug}:{t}" for t in analyzer.terms(value)) for slug, value in record.infobox.items()]
    if any(infobox):
        fields["ib"] = [v for v in infobox if v]
    for name, values in (
        ("date_day", record.date_days),
        ("date_month", record.date_months),
        ("date_year", record.date_years),
    ):
        if values:
            fields[name] = [date_number(v) for v in values]
    return fields, {"bodyw": Counter(weighted), "facet": dict.fromkeys(facets, 1)}
