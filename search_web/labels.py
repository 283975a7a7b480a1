"""What the pages call things: language codes by name, document types in words, ISO dates as people
write them ("12 September 2022"), facet values as a reader expects them.

Names of languages and months come from the CLDR data that Babel ships (English, the UI's
language), so a code we have never seen is named correctly or, when unknown, shown as it is.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from babel import Locale
from babel.dates import format_date
from markupsafe import Markup

UI_LOCALE = Locale("en")

# Document types as the loaders name them (indexer/sources) -> words.
DOC_TYPES = {
    "wikitext": "Wiki article",
    "mediawiki": "Wiki export",
    "html": "Web page",
    "markdown": "Markdown note",
    "plain": "Plain text",
}

_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


@lru_cache(maxsize=512)
def language_name(code: str) -> str:
    """`en` -> "English", `pt-BR` -> "Brazilian Portuguese", `und` -> "Unknown language"; a code
    CLDR does not know stays as it is."""
    if not code:
        return "Unknown language"
    key = code.replace("-", "_")
    name = UI_LOCALE.languages.get(key) or UI_LOCALE.languages.get(key.split("_")[0].lower())
    return name or code


def doc_type_label(doc_type: str) -> str:
    """`html` -> "Web page"; a type we do not know is capitalised as it is."""
    return DOC_TYPES.get(doc_type.lower(), doc_type[:1].upper() + doc_type[1:])


def _day(text: str) -> str:
    m = _ISO.match(text.strip())
    if not m:
        return text
    year, month, day, hour, minute, zone = m.groups()
    y = int(year)
    if month is None:
        return year
    try:
        if day is None:
            return format_date(date(y, int(month), 1), "LLLL y", locale=UI_LOCALE)
        shown = format_date(date(y, int(month), int(day)), "d MMMM y", locale=UI_LOCALE)
    except ValueError:
        return text
    if hour is not None:
        shown += f", {hour}:{minute}" + (" UTC" if zone in ("Z", "+00:00", "+0000") else f" {zone}" if zone else "")
    return shown


def date_label(value: str | None) -> str:
    """An ISO date, month, year or range as people write it: `2022-09` -> "September 2022",
    `2021-05-12..present` -> "12 May 2021 – present", `2021-03-02T10:15:00Z` -> "2 March 2021, 10:15 UTC"."""
    if not value:
        return ""
    lo, sep, hi = value.partition("..")
    if not sep:
        return _day(lo)
    left = _day(lo) if lo else "…"
    right = "present" if hi == "present" else _day(hi) if hi else "…"
    return f"{left} – {right}"


def is_machine_date(text: str) -> bool:
    """True for text that is an ISO timestamp rather than words a person wrote."""
    return bool(_ISO.match(text.strip()))


def own_words(text: str) -> str:
    """A value in the document's own words, without the husks markup left around it: empty
    brackets and stray separators at either end (`12 May 2021 – present , ()`)."""
    cleaned = re.sub(r"\(\s*\)|\[\s*\]", "", text)
    cleaned = re.sub(r"\s+([,;])", r"\1", cleaned)
    return re.sub(r"\s+", " ", cleaned).strip(" ,;:–-") or text.strip()


def facet_label(name: str, label: str) -> str:
    """A facet value as the sidebar and the chips show it."""
    if name == "language":
        return language_name(label)
    if name == "doc_type":
        return doc_type_label(label)
    if name == "month":
        return date_label(label)
    return label


def month_name(value: str) -> str:
    """`2022-09` -> "September" (the year is said by the chart it sits in)."""
    m = _ISO.match(value)
    if not m or not m.group(2):
        return value
    try:
        return format_date(date(int(m.group(1)), int(m.group(2)), 1), "LLLL", locale=UI_LOCALE)
    except ValueError:
        return value


def date_words(text: str | None, value: str | None) -> Markup:
    """A date for a page: the document's own words (an ISO timestamp shown as words instead) in a
    <time> element whose tooltip says how it was read."""
    value = value or ""
    read = date_label(value)
    shown = read if not text or is_machine_date(text) else text
    machine = value.partition("..")[0]
    tip = f"read as {read}" if read and read != shown else ""
    return Markup('<time datetime="{}"{}>{}</time>').format(
        machine, Markup(' title="{}"').format(tip) if tip else "", shown
    )
