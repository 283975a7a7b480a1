"""The only module that opens an index writer: turns stored documents into section records."""

from __future__ import annotations

from collections.abc import Iterable

from .cleaning import WEB_DERIVED, FurnitureRule, line_key
from .engines import Engine
from .facets import date_terms, indexed_facets, infobox_slug
from .models import SectionRecord, Zone
from .store import Store

# Zone weights of the ranked text: a query word in the title counts as TITLE_WEIGHT occurrences,
# in a heading as HEADING_WEIGHT. bench/ranking_study.py (see bench/RESULTS.md): a title weight of
# 1 / 2 / 3 gives a mean nDCG@10 of 0.4390 / 0.4472 / 0.4497 over the quality suite; 3 wins on
# short catalogue titles (ADI, CACM) and loses on CISI, so 2 stays.
TITLE_WEIGHT = 2.0
# The title counts fully in the document's first section only; in the others it still lets
# `bridge closure` find the Closure section of "Old Harbour Bridge", but a query matching only
# the title picks the lead, not the shortest section.
SECTION_TITLE_WEIGHT = 0.5
HEADING_WEIGHT = 1.5


def without_furniture(text: str, furniture: set[str]) -> str:
    """Section text without the lines that are page furniture."""
    if not furniture:
        return text
    return "\n".join(line for line in text.split("\n") if line_key(line) not in furniture)


def records_for_document(store: Store, doc_id: str, furniture: dict[str, int] | None = None) -> list[SectionRecord]:
    """One record per section of every version of a document; the latest version flagged.
    Lines of web-derived text that are page furniture (`furniture`: the thresholds of
    `Store.furniture_thresholds`) are kept in the store and left out of the index."""
    records: list[SectionRecord] = []
    hidden: dict[str, set[str]] = {}
    indexed = indexed_facets()
    for row in store.section_rows(doc_id):
        if row.ordinal > 0 and not row.text.strip():
            # A heading over sub-sections: they carry its words in their breadcrumbs (and
            # Store.record_ids leaves it out too). Indexed, it would win every title match.
            continue
        if row.version_id not in hidden:
            web = furniture and row.doc_type in WEB_DERIVED
            hidden[row.version_id] = store.furniture_lines(row.version_id, furniture) if web else set()
        text = without_furniture(row.text, hidden[row.version_id])
        first = row.ordinal == 0
        infobox = {infobox_slug(k): str(v.get("text", "")) for k, v in row.infobox.items()}
        infobox_text = " ".join(f"{k} {v.get('text', '')}" for k, v in row.infobox.items()) if first else ""
        days, months, years = date_terms(row.dates)
        records.append(
            SectionRecord(
                record_id=row.record_id,
                doc_id=doc_id,
                version_id=row.version_id,
                ordinal=row.ordinal,
                is_latest=row.is_latest,
                language=row.language,
                title=row.title,
                heading=row.heading,
                breadcrumb=row.breadcrumb,
                text=text,
                zones=(
                    Zone(row.title, TITLE_WEIGHT if first else SECTION_TITLE_WEIGHT),
                    Zone(row.breadcrumb, HEADING_WEIGHT),
                    Zone(text, 1.0),
                    Zone(infobox_text, 1.0),
                ),
                facets={spec.name: spec.index_keys(row) for spec in indexed},
                date_days=tuple(sorted(days)),
                date_months=tuple(sorted(months)),
                date_years=tuple(sorted(years)),
                auxiliary=row.auxiliary,
                infobox=infobox,
            )
        )
    return records


# Below this many documents, starting writer processes costs more than it saves.
PARALLEL_MIN_DOCUMENTS = 64


def sync_documents(
    store: Store,
    engine: Engine,
    doc_ids: Iterable[str],
    workers: int = 1,
    furniture: FurnitureRule | None = None,
    unindexed: Iterable[str] = (),
) -> int:
    """Rewrite the index records of these documents (deleted documents lose theirs); one commit.
    `unindexed`: documents known to have no records in the index yet (new in this run), which
    are added without looking for old records to delete."""
    doc_ids = list(doc_ids)
    fresh = set(unindexed)
    thresholds = store.furniture_thresholds(furniture or FurnitureRule())
    batch = engine.begin(workers if len(doc_ids) >= PARALLEL_MIN_DOCUMENTS else 1)
    written = 0
    try:
        existing = set(store.doc_ids())
        for doc_id in doc_ids:
            if doc_id in existing:
                records = records_for_document(store, doc_id, thresholds)
                if doc_id in fresh:
                    for record in records:
                        batch.add(record)
                else:
                    batch.replace_document(doc_id, records)
                written += len(records)
            else:
                batch.delete_document(doc_id)
    except BaseException:
        batch.cancel()
        raise
    batch.commit()
    return written
