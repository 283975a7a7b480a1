"""Dates as pictures, laid out here and drawn by templates as inline SVG (no script): the year and
month facet as bar charts whose bars are filter links, and a document's versions on a time line.

Coordinates are SVG user units. A chart's viewBox scales to the width of its column, so text
sizes are chosen for the width a chart is usually drawn at (DRAWN_PX) to read at about 11 px.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from indexer.search.facets import FacetCount
from indexer.wording import plural

from .labels import date_label, month_name

DRAWN_PX = 260  # the facet column's width in pixels, about
BAR_SLOT = 12  # units per bar: the bar and the gap after it
BAR_PX = 44  # the bars' height as drawn
TEXT_PX = 11


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    slot: float  # the whole column is the link's target, however short the bar
    label: str  # what a screen reader and the tooltip say: "2022: 3 documents"
    url: str | None
    selected: bool


@dataclass(frozen=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    name: str
    title: str
    width: float
    height: float
    font: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    baseline: float


def _ticks(positions: Sequence[tuple[float, str]], font: float, must: set[int]) -> tuple[Tick, ...]:
    """Labels under the bars that do not overlap: the first, the last, the `must` ones (selected
    values), then as many others as fit, in order."""
    wanted = sorted(set(must) | {0, len(positions) - 1}) if positions else []
    chosen: list[int] = []
    space = lambda i: len(positions[i][1]) * font * 0.62 + font * 0.6  # noqa: E731 - text width + gap

    def fits(i: int) -> bool:
        return all(abs(positions[i][0] - positions[j][0]) >= (space(i) + space(j)) / 2 for j in chosen)

    for i in wanted:
        if fits(i):
            chosen.append(i)
    for i in range(len(positions)):
        if i not in chosen and fits(i):
            chosen.append(i)
    return tuple(Tick(positions[i][0], positions[i][1]) for i in sorted(chosen))


def bar_chart(
    name: str,
    title: str,
    items: Sequence[FacetCount | None],
    url: Callable[[str], str],
    names: Sequence[str],
    describe: Callable[[FacetCount], str],
    breaks: Sequence[bool] = (),
) -> BarChart:
    """One bar per slot of `items` (None: an empty slot, drawn as a stub); `names` are the tick
    texts, `describe` gives a bar's accessible label; `breaks[i]` leaves a gap before bar i (the
    values on either side are not neighbours)."""
    n = len(items)
    gaps = [i for i, b in enumerate(breaks) if b and i]
    used = n * BAR_SLOT + len(gaps) * BAR_SLOT / 2
    width = max(used, 10 * BAR_SLOT)
    scale = width / DRAWN_PX  # user units per drawn pixel
    font = round(TEXT_PX * scale, 1)
    height = round(BAR_PX * scale, 1)
    top = max([c.count for c in items if c is not None] + [1])  # a selected value may have none
    bars = []
    x = (width - used) / 2
    for i, c in enumerate(items):
        if i in gaps:
            x += BAR_SLOT / 2
        if c is None:
            bars.append(Bar(x, height - 1, BAR_SLOT - 3, 1, BAR_SLOT, names[i], None, False))
        else:
            h = max(2 * scale, height * c.count / top)
            bars.append(Bar(x, height - h, BAR_SLOT - 3, h, BAR_SLOT, describe(c), url(c.value), c.selected))
        x += BAR_SLOT
    positions = [(b.x + (BAR_SLOT - 3) / 2, names[i]) for i, b in enumerate(bars)]
    selected = {i for i, c in enumerate(items) if c is not None and c.selected}
    return BarChart(
        name, title, width, height + font * 1.6, font, tuple(bars), _ticks(positions, font, selected), height
    )


CONTINUOUS_YEARS = 40  # up to this span every year has a slot; past it, only years with documents
MAX_YEAR_BARS = 80  # past this many years with documents, a bar per decade (or per century)


def year_chart(
    years: Sequence[FacetCount], url: Callable[[str], str], range_url: Callable[[int, int], str] | None = None
) -> BarChart:
    """The year facet in time order: every year of a short span (years without documents as
    stubs); over a long span, the years with documents, with a gap where years are skipped; past
    MAX_YEAR_BARS years, one bar per decade or century whose link searches that date range
    (`range_url(first, last)`) and whose height is its busiest year."""
    describe = lambda c: f"{c.label}: {plural(c.count, 'document')}" + (" (selected)" if c.selected else "")  # noqa: E731
    title = "Documents by year"
    if not years or not all(y.value.isdigit() for y in years):
        return bar_chart("year", title, years, url, [y.label for y in years], describe)
    lo, hi = int(years[0].value), int(years[-1].value)
    if hi - lo + 1 <= CONTINUOUS_YEARS:
        by_year = {int(y.value): y for y in years}
        span = range(lo, hi + 1)
        return bar_chart("year", title, [by_year.get(y) for y in span], url, [str(y) for y in span], describe)
    if len(years) <= MAX_YEAR_BARS or range_url is None:
        breaks = [i > 0 and int(y.value) != int(years[i - 1].value) + 1 for i, y in enumerate(years)]
        return bar_chart("year", title, years, url, [y.label for y in years], describe, breaks)
    size = 10 if (hi // 10 - lo // 10) < MAX_YEAR_BARS else 100
    groups: dict[int, list[FacetCount]] = {}
    for y in years:
        groups.setdefault(int(y.value) // size * size, []).append(y)
    spans = [
        FacetCount(f"{start}..{start + size - 1}", f"{start}s", max(y.count for y in ys), any(y.selected for y in ys))
        for start, ys in sorted(groups.items())
    ]
    breaks = [i > 0 and int(c.value[: c.value.index(".")]) != int(spans[i - 1].value.split("..")[1]) + 1
              for i, c in enumerate(spans)]  # fmt: skip
    return bar_chart(
        "year", f"Documents by {'decade' if size == 10 else 'century'}", spans,
        lambda v: range_url(int(v.split("..")[0]), int(v.split("..")[1])), [c.label for c in spans],
        lambda c: f"{c.label} ({c.value.replace('..', '–')}): up to {plural(c.count, 'document')} a year",
        breaks,
    )  # fmt: skip


def month_chart(year: str, months: Sequence[FacetCount], url: Callable[[str], str]) -> BarChart:
    """The months of one year, January to December; months without documents are stubs."""
    by_value = {m.value: m for m in months}
    slots = [by_value.get(f"{year}-{i:02d}") for i in range(1, 13)]
    names = [month_name(f"{year}-{i:02d}")[:3] for i in range(1, 13)]
    return bar_chart(
        "month", f"Documents by month of {year}", slots, url, names,
        lambda c: f"{date_label(c.value)}: {plural(c.count, 'document')}" + (" (selected)" if c.selected else ""),
    )  # fmt: skip


@dataclass(frozen=True)
class Stop:
    x: float
    number: int
    label: str  # "Version 2, 18 July 2022"
    date: str  # shown under the line, or ""
    url: str
    current: bool


@dataclass(frozen=True)
class Timeline:
    width: float
    height: float
    font: float
    stops: tuple[Stop, ...]
    dated: bool  # positions are proportional to time (else evenly spaced, in order)
    axis: tuple[Tick, ...]


def _when(value: str | None) -> date | None:
    if not value:
        return None
    text = value.partition("..")[0]
    try:
        if len(text) == 4:
            return date(int(text), 7, 1)
        if len(text) == 7:
            return date(int(text[:4]), int(text[5:7]), 15)
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


TIMELINE_WIDTH = 400  # drawn at this many pixels when there is room, narrower on a phone
TIMELINE_MARGIN = 48
TIMELINE_STEP = 26  # at least this many units between two versions' dots


def timeline(versions: Sequence[dict[str, Any]], current: int, url: Callable[[dict[str, Any]], str]) -> Timeline:
    """A document's timeline entries on a line, oldest left. When every entry has a date, spaced
    in proportion to time (entries too close are pushed apart so each stays clickable); else in
    order, evenly."""
    whens = [_when(v.get("date")) for v in versions]
    dated = all(w is not None for w in whens) and len({w for w in whens}) > 1
    n = len(versions)
    width = max(TIMELINE_WIDTH, (n - 1) * TIMELINE_STEP + 2 * TIMELINE_MARGIN)
    inner = width - 2 * TIMELINE_MARGIN
    if dated:
        days = [w.toordinal() for w in whens if w is not None]
        lo, hi = min(days), max(days)
        xs = [TIMELINE_MARGIN + inner * (d - lo) / (hi - lo) for d in days]
    else:
        xs = [TIMELINE_MARGIN + (inner * i / (n - 1) if n > 1 else inner / 2) for i in range(n)]
    gap = min(float(TIMELINE_STEP), inner / max(n - 1, 1))
    for i in range(1, n):  # keep every stop apart, then fit the line back into the width
        xs[i] = max(xs[i], xs[i - 1] + gap)
    if n > 1 and xs[-1] > TIMELINE_MARGIN + inner:
        first = xs[0]
        xs = [TIMELINE_MARGIN + (x - first) * inner / (xs[-1] - first) for x in xs]
    font = 12.0
    stops = []
    for v, x in zip(versions, xs, strict=True):
        shown = date_label(v.get("date")) if v.get("date") else ""
        label = f"Version {v['number']}" + (f", {shown}" if shown else "")
        if v["number"] == current:
            label += " (this page)"
        stops.append(Stop(round(x, 1), v["number"], label, shown, url(v), v["number"] == current))
    must = {i for i, s in enumerate(stops) if s.current}
    axis = _ticks([(s.x, _short(s.date)) for s in stops], font, must) if dated else ()
    return Timeline(width, 64.0 if dated else 44.0, font, tuple(stops), dated, axis)


def _short(label: str) -> str:
    """ "2 March 2021, 10:15 UTC" -> "2 March 2021": the axis has room for the day only."""
    return label.split(",")[0]
