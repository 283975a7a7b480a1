"""Facets, each declared once: its name, title, URL parameter, CLI option, query-language field,
and how to read its values from a section (a `SectionRow`).

Everything else comes from these declarations: the index fields an engine writes for them
(`facet_<name>`, from `index_keys`), the counts and filters of the search (search/facets.py),
the CLI's options, the web's parameters, sidebar and chips, and the `field:value` filters of the
query language. Adding a facet is one `FacetSpec` in FACETS (and its test).

Values are matched by their key (`value_key`: case, accents and spacing folded), and shown as
the documents write them (the first spelling seen).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from .analysis import fold
from .models import DateMention, SectionRow
from .sectioning import LEAD


@lru_cache(maxsize=1 << 16)
def value_key(value: str) -> str:
    """A facet value as it is matched: lowercased, accents folded, spaces collapsed, commas made
    spaces (an index keeps a record's values as a comma-separated list). Kept for the last
    values asked: a record table asks for every section's values, and they repeat."""
    return fold(_SEPARATORS.sub(" ", value).strip().lower())


_SEPARATORS = re.compile(r"[\s,]+")


def infobox_slug(key: str) -> str:
    """The name an infobox key has in queries and facets: lowercased, non-word runs as `_`."""
    return re.sub(r"\W+", "_", key.strip().lower()).strip("_") or "key"


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


Values = Iterator[tuple[str, str]]  # (key, label)


@dataclass(frozen=True)
class FacetSpec:
    """One facet.

    `values(row)` gives a section's (key, label) pairs as the sidebar counts them;
    `index_keys(row)`, when the facet is filterable in queries, the keys an engine indexes
    for `param:value` (by default the keys of `values`). `kind` says how values are counted:
    "multi" (a section may have several), "single" (exactly one), "section" (top-level
    headings with the second level under them). `order` lists values by "count" or "value"."""

    name: str
    title: str
    param: str
    help: str
    values: Callable[[SectionRow], Values]
    kind: str = "multi"
    order: str = "count"
    limit: int | None = 30
    query_fields: tuple[str, ...] = ()  # names in the query language (`lang:fr`); () = none
    index: Callable[[SectionRow], Iterable[str]] | None = None
    key: Callable[[str], str] = value_key  # a value as typed (CLI, URL, query) -> its key
    aliases: tuple[str, ...] = ()  # older or shorter names of `param`, accepted too

    @property
    def params(self) -> tuple[str, ...]:
        """Every URL parameter that selects this facet (`param` first)."""
        return (self.param, *self.aliases)

    @property
    def options(self) -> tuple[str, ...]:
        """Its CLI options (`--language`, `--lang`)."""
        return tuple("--" + p.replace("_", "-") for p in self.params)

    def index_keys(self, row: SectionRow) -> tuple[str, ...]:
        """The keys written to the index for query-language filters."""
        keys = self.index(row) if self.index is not None else (k for k, _label in self.values(row))
        return tuple(sorted(set(keys)))


def _crumbs(row: SectionRow) -> list[str]:
    return row.breadcrumb.split(" > ") if row.breadcrumb else []


def _section_key(value: str) -> str:
    """`Aftermath > Ceasefire violations` -> `aftermath > ceasefire violations`."""
    return " > ".join(value_key(part) for part in value.split(">")) if ">" in value else value_key(value)


def _exact(value: str) -> str:
    return value.strip()


def _section_values(row: SectionRow) -> Values:
    crumbs = _crumbs(row)
    top = crumbs[0] if crumbs else LEAD
    yield value_key(top), top
    if len(crumbs) > 1:
        yield f"{value_key(top)} > {value_key(crumbs[1])}", crumbs[1]


def _section_index(row: SectionRow) -> Iterator[str]:
    # `section:x` and --section x find a top-level or a second-level heading named x.
    crumbs = _crumbs(row) or [LEAD]
    yield from (value_key(c) for c in crumbs[:2])


@lru_cache(maxsize=4096)
def _grains(dates: tuple[DateMention, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    _days, months, years = date_terms(dates)
    return tuple(sorted(years)), tuple(sorted(months))


def _years(row: SectionRow) -> Values:
    for y in _grains(row.dates)[0]:
        yield y, y


def _months(row: SectionRow) -> Values:
    for m in _grains(row.dates)[1]:
        yield m, m


FACETS: list[FacetSpec] = [
    FacetSpec(
        "section", "Section", "section", "Top-level section (or 'section > sub-section'); repeat for OR.",
        _section_values, kind="section", query_fields=("section",), index=_section_index, key=_section_key,
    ),
    FacetSpec("year", "Year", "year", "Year mentioned in the section, e.g. 2022; repeat for OR.", _years,
              order="value", limit=None, key=_exact),
    FacetSpec("month", "Month", "month", "Month mentioned, YYYY-MM; repeat for OR.", _months, order="value",
              limit=None, key=_exact),
    FacetSpec(
        "language", "Language", "language", "Section language (ISO 639-1); repeat for OR.",
        lambda r: iter([(value_key(r.language), r.language)]), kind="single", query_fields=("language", "lang"),
        aliases=("lang",),
    ),
    FacetSpec(
        "source", "Source", "source", "Source (site or folder); repeat for OR.",
        lambda r: ((value_key(s), s) for s in r.sources), query_fields=("source",),
    ),
    FacetSpec(
        "doc_type", "Type", "doc_type", "Document type (wikitext, html, markdown, plain, mediawiki).",
        lambda r: iter([(value_key(r.doc_type), r.doc_type)]), kind="single", query_fields=("doc_type", "type"),
        aliases=("type",),
    ),
    FacetSpec(
        "category", "Category", "category", "Wiki category the version is filed in; repeat for OR.",
        lambda r: ((value_key(c), c) for c in r.categories), query_fields=("category",),
    ),
    FacetSpec(
        "infobox", "Infobox field", "infobox", "Documents with this infobox key; repeat for OR.",
        lambda r: ((infobox_slug(k), k) for k in r.infobox),
    ),
]  # fmt: skip


def register(spec: FacetSpec) -> None:
    """Declare one more facet (a plugin's, a test's): everything listed above offers it."""
    if any(f.name == spec.name for f in FACETS):
        raise ValueError(f"a facet named {spec.name!r} is already declared")
    FACETS.append(spec)


def unregister(name: str) -> None:
    FACETS[:] = [f for f in FACETS if f.name != name]


def facet(name: str) -> FacetSpec:
    """The declaration of one facet (KeyError for an unknown name)."""
    for spec in FACETS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def facet_names() -> tuple[str, ...]:
    return tuple(spec.name for spec in FACETS)


def query_fields() -> dict[str, str]:
    """Query-language field -> facet name (`lang` -> `language`)."""
    return {f: spec.name for spec in FACETS for f in spec.query_fields}


def indexed_facets() -> list[FacetSpec]:
    """The facets an engine indexes for query-language filters."""
    return [spec for spec in FACETS if spec.query_fields]
