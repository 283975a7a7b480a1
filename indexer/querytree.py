"""The query tree: what a parsed query is, below both the parser (search/query.py) and the
engines that translate it (engines/*). Values only; no parsing, no engine.

A tree is made of `Term` (one word), `Phrase`, `Prefix` (word*), `Fuzzy` (word~), `Passage`
(pasted text, searched as a bag of its most distinctive words), `Filter` (a facet value or an
infobox field), `DateRange`, `MatchAll` and `Bool` (should / must / must_not). Words are as the
user typed them: engines analyse them (indexer/analysis.py), in the languages of the index.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date

MAX_EXPANSION = 256  # terms a prefix or fuzzy word may expand to (enforced by the engine)
_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$", re.ASCII)  # not ２０２２: engines match digits as typed


@dataclass(frozen=True)
class Term:
    """One word in `field` (None: every text field)."""

    text: str
    field: str | None = None
    position: int = 0


@dataclass(frozen=True)
class Prefix:
    text: str
    field: str | None = None
    position: int = 0


@dataclass(frozen=True)
class Fuzzy:
    text: str
    maxdist: int = 1
    field: str | None = None
    position: int = 0


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]
    field: str | None = None
    position: int = 0


@dataclass(frozen=True)
class Filter:
    """An exact facet value: section, language, source, doc_type, or `infobox.<key>` text."""

    field: str
    value: str
    position: int = 0


@dataclass(frozen=True)
class DateRange:
    """Sections mentioning a date in [date_from, date_to] (ISO prefixes; None is open)."""

    date_from: str | None
    date_to: str | None
    position: int = 0


@dataclass(frozen=True)
class Bool:
    """should: at least one must match (more is better); must: all; must_not: none."""

    should: tuple[Node, ...] = ()
    must: tuple[Node, ...] = ()
    must_not: tuple[Node, ...] = ()


@dataclass(frozen=True)
class Passage:
    """Pasted text or a long question: every word, in order. Searched as a bag of its most
    distinctive words (more like this), question words left out."""

    words: tuple[str, ...]
    position: int = 0


@dataclass(frozen=True)
class MatchAll:
    """Every record (a query of only exclusions, or an empty query with filters)."""


Node = Term | Prefix | Fuzzy | Phrase | Filter | DateRange | Bool | Passage | MatchAll


def valid_date(v: str) -> bool:
    """Whether `v` is 2022, 2022-09 or 2022-09-12 and a real date in years 0001-9999."""
    if not _DATE.match(v):
        return False
    try:
        date_bounds(v)
    except ValueError:
        return False
    return True


def date_bounds(v: str) -> tuple[str, str]:
    """First and last ISO day of a date prefix: ('2022-09-01', '2022-09-30') for '2022-09'."""
    parts = v.split("-")
    y = int(parts[0])
    if len(parts) == 1:
        date(y, 1, 1)  # ValueError outside the years a date can have (year 0000)
        return f"{y:04d}-01-01", f"{y:04d}-12-31"
    m = int(parts[1])
    if len(parts) == 2:
        last = date(y, m, monthrange(y, m)[1])  # ValueError for month 13, year 0000
        return f"{y:04d}-{m:02d}-01", last.isoformat()
    d = date(y, m, int(parts[2]))
    return d.isoformat(), d.isoformat()
