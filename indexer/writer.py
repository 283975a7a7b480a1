"""The only module that opens an index writer: turns stored documents into section records."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from .cleaning import WEB_DERIVED, FurnitureRule, line_key
from .engines import Engine
from .models import DateMention
from .schema import HEADING_WEIGHT, SECTION_TITLE_WEIGHT, TITLE_WEIGHT, category_key, infobox_field, infobox_slug
from .store import Store


def facet_value(heading: str) -> str:
    """Normalized heading for the `section` facet: case and spacing folded."""
    return re.sub(r"\s+", " ", heading).strip().lower()


def date_terms(mentions: Iterable[DateMention]) -> tuple[set[str], set[str], set[str]]:
    """Day, month and year terms covered by date mentions (long ranges only at coarse grain)."""
    days: set[str] = set()
    months: set[str] = set()
    years: set[str] = set()
    for m in mentions:
        lo_s, _, hi_s = m.value.partition("..")
        if hi_s == "present":
            hi_s = lo_s
        hi_s = hi_s or lo_s
        grain = min(lo_s.count("-"), hi_s.count("-"))
        lo, hi_or_open = m.bounds()
        hi = hi_or_open or _last(lo_s)  # an open range counts only from its start
        y0, y1 = int(lo[:4]), int(hi[:4])
        if y1 - y0 <= 30:
            years.update(f"{y:04d}" for y in range(y0, y1 + 1))
        else:
            years.update((f"{y0:04d}", f"{y1:04d}"))
        if grain >= 1:
            ym0, ym1 = y0 * 12 + int(lo[5:7]) - 1, y1 * 12 + int(hi[5:7]) - 1
            for ym in range(ym0, min(ym1, ym0 + 36) + 1):
                months.add(f"{ym // 12:04d}-{ym % 12 + 1:02d}")
        if grain == 2:
            d0, d1 = date.fromisoformat(lo), date.fromisoformat(hi)
            for i in range(min((d1 - d0).days, 62) + 1):
                days.add((d0 + timedelta(days=i)).isoformat())
    return days, months, years


def _last(v: str) -> str:
    return DateMention(v, 0, 0, v).bounds()[1] or v


def without_furniture(text: str, furniture: set[str]) -> str:
    """Section text without the lines that are page furniture."""
    if not furniture:
        return text
    return "\n".join(line for line in text.split("\n") if line_key(line) not in furniture)


def records_for_document(store: Store, doc_id: str, furniture: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """One record per section of every version of a document; the latest version flagged.
    Lines of web-derived text that are page furniture (`furniture`: the thresholds of
    `Store.furniture_thresholds`) are kept in the store and left out of the index."""
    rows = store.version_rows(doc_id)
    records: list[dict[str, Any]] = []
    for i, v in enumerate(rows):
        hidden = (
            store.furniture_lines(v["version_id"], furniture) if furniture and v["doc_type"] in WEB_DERIVED else set()
        )
        latest = i == len(rows) - 1
        infobox = json.loads(v["infobox"])
        keys = ",".join(sorted(infobox_slug(k) for k in infobox))
        infobox_text = " ".join(f"{k} {val.get('text', '')}" for k, val in infobox.items())
        infobox_fields = {infobox_field(k): str(val.get("text", "")) for k, val in infobox.items()}
        sources = sorted({s for s in json.loads(v["source"])})
        for n, s in enumerate(store.sections_of(v["version_id"])):
            text = without_furniture(s.text, hidden)
            if not s.text.strip() and n > 0:
                # A heading over sub-sections: they carry its words in their breadcrumbs (and
                # Store.record_ids leaves it out too). Indexed, it would win every title match.
                continue
            crumbs = s.breadcrumb.split(" > ") if s.breadcrumb else []
            days, months, years = date_terms(s.dates)
            records.append(
                {
                    "record_id": f"{s.version_id}:{s.ordinal}",
                    "doc_id": doc_id,
                    "version_id": s.version_id,
                    "ordinal": s.ordinal,
                    "is_latest": latest,
                    "title": v["title"] or "",
                    "heading": s.heading,
                    "breadcrumb": s.breadcrumb,
                    "text": text,
                    "body": (
                        (v["title"] or "", TITLE_WEIGHT if n == 0 else SECTION_TITLE_WEIGHT),
                        (s.breadcrumb, HEADING_WEIGHT),
                        (text, 1.0),
                        (infobox_text if n == 0 else "", 1.0),
                    ),
                    "section": facet_value(crumbs[0]) if crumbs else "lead",
                    "subsection": facet_value(crumbs[1]) if len(crumbs) > 1 else "",
                    "auxiliary": s.auxiliary,
                    "date_day": " ".join(sorted(days)),
                    "date_month": " ".join(sorted(months)),
                    "date_year": " ".join(sorted(years)),
                    "language": s.language,
                    "source": ",".join(sources),
                    "doc_type": v["doc_type"],
                    "infobox_keys": keys,
                    "category": ",".join(sorted({category_key(c) for c in json.loads(v["categories"])})),
                    "words": " ".join((v["title"] or "", s.heading, text)),
                    **infobox_fields,
                }
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
