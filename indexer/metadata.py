"""Dates mentioned in text (with spans), document dates, authors, titles and typed infobox fields."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import Any

from .models import Block, DateMention

MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    # French and German month names, for documents in those languages.
    "janvier": 1, "février": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "août": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12,
    "januar": 1, "februar": 2, "märz": 3, "juni": 6, "juli": 7, "oktober": 10, "dezember": 12,
}  # fmt: skip
_M = r"(?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|Januar|Februar|März|Mai|Juni|Juli|Oktober|Dezember|January|February|March|April|May|June|July|August|September|October|November|December|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?)"
_D = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_Y = r"(?:1[0-9]\d\d|20\d\d)"
_DECADE = r"(?:1[0-9]\d0|20\d0)"
_DASH = r"\s*[–—-]\s*"
_NOT_NUM_BEFORE = r"(?<![\d.,/:$€£-])"
_NOT_NUM_AFTER = r"(?![\d]|[.,:/]\d|\s*%)"
_QUANTITY_AFTER = (
    r"(?!\s+(?:years?|yrs|year-old|people|persons|km|km2|kilomet(?:re|er)s|met(?:re|er)s|miles|"
    r"men|troops|soldiers|servicemen|civilians|refugees|residents|families|homes|houses|"
    r"tons|tonnes|dollars|euros|votes|times|units|rounds|shells|mines)\b)"
)

_PATTERN = re.compile(
    # The lookahead rejects, cheaply, every position that cannot start a date.
    rf"""(?<!\w)(?=\d|[JFMASONDjfmasondEeLl]){_NOT_NUM_BEFORE}(?:
      (?P<decade>(?:(?P<decade_part>[Ee]arly|[Mm]id|[Ll]ate)(?:\s+|-))?(?P<decade_y>{_DECADE})['’]?s\b)
    | (?P<iso>(?P<iso_y>{_Y})-(?P<iso_m>0[1-9]|1[0-2])-(?P<iso_d>0[1-9]|[12]\d|3[01]))(?:T[\d:.]+(?:Z|[+-]\d\d:?\d\d)?)?
    | (?P<ddmy>(?P<ddmy_d1>{_D}){_DASH}(?P<ddmy_d2>{_D})\s+(?P<ddmy_m>{_M}),?\s+(?P<ddmy_y>{_Y}))
    | (?P<dmdmy>(?P<dmdmy_d1>{_D})\s+(?P<dmdmy_m1>{_M}){_DASH}(?P<dmdmy_d2>{_D})\s+(?P<dmdmy_m2>{_M}),?\s+(?P<dmdmy_y>{_Y}))
    | (?P<dandmy>(?P<dandmy_d1>{_D})\s+and\s+(?P<dandmy_d2>{_D})\s+(?P<dandmy_m>{_M}),?\s+(?P<dandmy_y>{_Y}))
    | (?P<mddy>(?P<mddy_m>{_M})\s+(?P<mddy_d1>{_D}){_DASH}(?P<mddy_d2>{_D}),\s*(?P<mddy_y>{_Y}))
    | (?P<mdy>(?P<mdy_m>{_M})\s+(?P<mdy_d>{_D}),?\s+(?P<mdy_y>{_Y}))
    | (?P<dmy>(?P<dmy_d>{_D})\s+(?P<dmy_m>{_M}),?\s+(?P<dmy_y>{_Y}))
    | (?P<mmy>(?P<mmy_m1>{_M}){_DASH}(?P<mmy_m2>{_M}),?\s+(?P<mmy_y>{_Y}))
    | (?P<my>(?P<my_m>{_M}),?\s+(?P<my_y>{_Y}))
    | (?P<ypres>(?P<ypres_y>{_Y}){_DASH}(?:present|now|ongoing)\b)
    | (?P<yy>(?P<yy_y1>{_Y}){_DASH}(?P<yy_y2>{_Y}|\d\d(?!\d)))
    | (?P<ddm>(?P<ddm_d1>{_D}){_DASH}(?P<ddm_d2>{_D})\s+(?P<ddm_m>{_M})(?![\w]))
    | (?P<dm>(?P<dm_d>{_D})\s+(?P<dm_m>{_M})(?![\w]))
    | (?P<md>(?P<md_m>{_M})\s+(?P<md_d>{_D})(?![\w\d]))
    | (?P<y>{_Y}){_NOT_NUM_AFTER}(?!['’]?s\b){_QUANTITY_AFTER}
    )""",
    re.X,
)
_PRESENT_AFTER = re.compile(rf"^{_DASH}(?:present|now|ongoing)\b")
_RANGE_BETWEEN = re.compile(rf"^{_DASH}$|^\s+(?:to|until|through)\s+$")


def _month(name: str) -> int:
    return MONTHS[name.lower().rstrip(".")]


def _day(text: str) -> int:
    return int(re.match(r"\d+", text).group())  # type: ignore[union-attr]


def _iso(year: int | None, month: int | None = None, day: int | None = None) -> str:
    if month is None:
        return f"{year:04d}"
    if day is None:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def _valid(year: int, month: int, day: int) -> bool:
    import calendar

    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _interpret(m: re.Match[str]) -> tuple[str, int | None, Any] | None:
    """(kind, year or None, builder(year) -> value) for one regex match."""
    g = m.group
    kind = m.lastgroup
    if g("decade"):
        y = int(g("decade_y"))
        # "the 1800s" is the century; "the 1990s" and "the 2000s" are decades.
        last = y + 99 if y % 100 == 0 and y < 2000 else y + 9
        return ("years", y, lambda yr: f"{yr:04d}..{last:04d}")
    if g("iso"):
        y, mo, d = int(g("iso_y")), int(g("iso_m")), int(g("iso_d"))
        return ("day", y, lambda yr: _iso(yr, mo, d)) if _valid(y, mo, d) else None
    if g("ddmy"):
        mo, d1, d2 = _month(g("ddmy_m")), _day(g("ddmy_d1")), _day(g("ddmy_d2"))
        return ("range", int(g("ddmy_y")), lambda yr: f"{_iso(yr, mo, d1)}..{_iso(yr, mo, d2)}")
    if g("dmdmy"):
        m1, m2 = _month(g("dmdmy_m1")), _month(g("dmdmy_m2"))
        d1, d2 = _day(g("dmdmy_d1")), _day(g("dmdmy_d2"))
        return ("range", int(g("dmdmy_y")), lambda yr: f"{_iso(yr, m1, d1)}..{_iso(yr, m2, d2)}")
    if g("dandmy"):
        mo, d1, d2 = _month(g("dandmy_m")), _day(g("dandmy_d1")), _day(g("dandmy_d2"))
        return ("range", int(g("dandmy_y")), lambda yr: f"{_iso(yr, mo, d1)}..{_iso(yr, mo, d2)}")
    if g("mddy"):
        mo, d1, d2 = _month(g("mddy_m")), _day(g("mddy_d1")), _day(g("mddy_d2"))
        return ("range", int(g("mddy_y")), lambda yr: f"{_iso(yr, mo, d1)}..{_iso(yr, mo, d2)}")
    if g("mdy"):
        mo, d = _month(g("mdy_m")), _day(g("mdy_d"))
        return ("day", int(g("mdy_y")), lambda yr: _iso(yr, mo, d))
    if g("dmy"):
        mo, d = _month(g("dmy_m")), _day(g("dmy_d"))
        return ("day", int(g("dmy_y")), lambda yr: _iso(yr, mo, d))
    if g("mmy"):
        m1, m2 = _month(g("mmy_m1")), _month(g("mmy_m2"))
        return ("range", int(g("mmy_y")), lambda yr: f"{_iso(yr, m1)}..{_iso(yr, m2)}")
    if g("my"):
        mo = _month(g("my_m"))
        return ("month", int(g("my_y")), lambda yr: _iso(yr, mo))
    if g("ypres"):
        return ("years", int(g("ypres_y")), lambda yr: f"{yr:04d}..present")
    if g("yy"):
        y1, y2s = int(g("yy_y1")), g("yy_y2")
        y2 = int(y2s) if len(y2s) == 4 else (y1 // 100) * 100 + int(y2s)
        return ("years", y1, lambda yr: f"{yr:04d}..{y2:04d}") if y2 > y1 else None
    if g("ddm"):
        mo, d1, d2 = _month(g("ddm_m")), _day(g("ddm_d1")), _day(g("ddm_d2"))
        return ("range", None, lambda yr: f"{_iso(yr, mo, d1)}..{_iso(yr, mo, d2)}")
    if g("dm"):
        mo, d = _month(g("dm_m")), _day(g("dm_d"))
        return ("day", None, lambda yr: _iso(yr, mo, d))
    if g("md"):
        mo, d = _month(g("md_m")), _day(g("md_d"))
        return ("day", None, lambda yr: _iso(yr, mo, d))
    if g("y"):
        return ("year", int(g("y")), lambda yr: _iso(yr))
    raise AssertionError(kind)


# Mentions precise enough to set the year of a later day written without one.
_ANCHOR_KINDS = frozenset({"day", "range", "month"})
_ITEM_LINE = re.compile(r"[ \t]*(?:[-•*]|\d{1,3}[.)])\s")  # used with match(text, line_start)
_Found = tuple[int, int, str, int | None, Any]  # start, end, kind, year or None, value builder


def extract_dates(text: str, context: str = "", fallback_year: int | None = None) -> list[DateMention]:
    """Dates mentioned in `text` with spans. A day written without a year (`On 26 September`)
    takes it from `context` (the section's breadcrumb), else from the nearest date before it in
    its own paragraph or list item (a full date, else a bare year: `In late 2020, ... on 10
    November`), else `fallback_year` (the document's year), else from the nearest full date in an
    earlier paragraph of the text; such mentions are marked inferred. A later mention never
    gives its year to an earlier one."""
    found: list[_Found] = []
    for m in _PATTERN.finditer(text):
        got = _interpret(m)
        if got is None:
            continue
        kind, year, build = got
        if (
            kind == "day"
            and year is None
            and m.group("md")
            and not _valid(2000, _month(m.group("md_m")), _day(m.group("md_d")))
        ):
            continue
        found.append((m.start(), m.end(), kind, year, build))
    context_year = _heading_year(context)
    paragraphs = _Paragraphs(text)
    mentions: list[DateMention] = []
    for i, (start, end, _kind, year, build) in enumerate(found):
        inferred = year is None
        if year is None:
            year = context_year
            if year is None:
                year = _year_in_paragraph(found, i, paragraphs)
            if year is None:
                year = fallback_year
            if year is None:
                year = _year_in_earlier_paragraphs(found, i, paragraphs)
            if year is None:
                continue
        try:
            value = build(year)
        except (KeyError, ValueError):
            continue
        if not _valid_value(value):
            continue
        mentions.append(DateMention(text[start:end], start, end, value, inferred))
    return _join_ranges(text, mentions)


class _Paragraphs:
    """The lines of a section's text: paragraphs, and list items (`- ...`) that stand alone."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.items = [_ITEM_LINE.match(text, pos) is not None for pos in self.starts]

    def index(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1


def _year_in_paragraph(found: list[_Found], i: int, paragraphs: _Paragraphs) -> int | None:
    """Year of the nearest full date before mention i in its paragraph, else of a bare year there."""
    own = paragraphs.index(found[i][0])
    bare = None
    for start, _end, kind, year, _build in reversed(found[:i]):
        if paragraphs.index(start) != own:
            break
        if year is not None and kind in _ANCHOR_KINDS:
            return year
        if year is not None and kind == "year" and bare is None:
            bare = year
    return bare


def _year_in_earlier_paragraphs(found: list[_Found], i: int, paragraphs: _Paragraphs) -> int | None:
    """Year of the nearest full date in an earlier paragraph; a list item's dates are its own."""
    for start, _end, kind, year, _build in reversed(found[:i]):
        if year is not None and kind in _ANCHOR_KINDS and not paragraphs.items[paragraphs.index(start)]:
            return year
    return None


def _valid_value(value: str) -> bool:
    for part in value.split(".."):
        if part == "present":
            continue
        if part.count("-") == 2:
            y, m, d = (int(x) for x in part.split("-"))
            if not _valid(y, m, d):
                return False
    return True


def _join_ranges(text: str, mentions: list[DateMention]) -> list[DateMention]:
    """`12 May 2021 – present` and `May 2021 – June 2022` become one range mention."""
    out: list[DateMention] = []
    i = 0
    while i < len(mentions):
        cur = mentions[i]
        if ".." not in cur.value:
            tail = _PRESENT_AFTER.match(text[cur.end :])
            if tail:
                end = cur.end + tail.end()
                out.append(DateMention(text[cur.start : end], cur.start, end, f"{cur.value}..present", cur.inferred))
                i += 1
                continue
            if i + 1 < len(mentions) and ".." not in mentions[i + 1].value:
                nxt = mentions[i + 1]
                if _RANGE_BETWEEN.match(text[cur.end : nxt.start]) and cur.value < nxt.value:
                    out.append(
                        DateMention(
                            text[cur.start : nxt.end],
                            cur.start,
                            nxt.end,
                            f"{cur.value}..{nxt.value}",
                            cur.inferred or nxt.inferred,
                        )
                    )
                    i += 2
                    continue
        out.append(cur)
        i += 1
    return out


def _year_in(text: str) -> int | None:
    m = re.search(rf"(?<!\d){_Y}(?!\d)", text or "")
    return int(m.group()) if m else None


def _heading_year(breadcrumb: str) -> int | None:
    """The year of the most specific heading in a breadcrumb that names one."""
    for heading in reversed((breadcrumb or "").split(" > ")):
        year = _year_in(heading)
        if year is not None:
            return year
    return None


def document_year(title: str | None, doc_dates: Sequence[dict[str, str]] = (), lead: str = "") -> int | None:
    """The year a document is about, for days written without one: a year in its title, else
    its first own date, else the first full date of its lead (`On 12 September 2022, ...`).
    None when the title names a span of years (`Border crisis (2021–present)`): such a document
    has no one year, and its days follow the dates of the paragraphs before them."""
    if any(".." in d.value for d in extract_dates(title or "")):
        return None
    year = _year_in(title or "")
    if year is None and doc_dates:
        year = int(doc_dates[0]["value"][:4])
    if year is None and lead:
        # A full date (with its month): a bare number in a lead is too often not the subject's year.
        dated = [d for d in extract_dates(lead) if not d.inferred and "-" in d.value.partition("..")[0]]
        year = int(dated[0].value[:4]) if dated else None
    return year


# Document dates and authors live in the first lines of a page.
_DOC_DATE = re.compile(
    r"(?P<kind>originally\s+(?:issued|published|posted)|first\s+published|last\s+updated|last\s+modified|"
    r"published|issued|posted|updated|modified|revised|dated?|publiée?|mis\s+à\s+jour|"
    r"veröffentlicht|aktualisiert)\s*(?:on|le|am)?\s*:?\s*",
    re.I,
)
_KINDS = {
    "originally": "issued", "first": "published", "last": "updated", "dated": "date", "publié": "published",
    "publiée": "published", "mis": "updated", "veröffentlicht": "published", "aktualisiert": "updated",
}  # fmt: skip
_AUTHOR = re.compile(
    r"^(?:by|author:|authors:|written\s+by)\s+(?P<names>[A-ZÀ-ÖØ-Þ][\w.'’-]+(?:\s+[A-ZÀ-ÖØ-Þ][\w.'’-]+){0,3}"
    r"(?:\s*(?:,|and|&)\s*[A-ZÀ-ÖØ-Þ][\w.'’-]+(?:\s+[A-ZÀ-ÖØ-Þ][\w.'’-]+){0,3})*)\s*$",
    re.I,
)


def document_dates(
    blocks: tuple[Block, ...] | list[Block], date_strings: tuple[tuple[str, str], ...] = ()
) -> list[dict[str, str]]:
    """Dates the document gives about itself: `Originally issued: October 2023, Updated April 2024`,
    HTML meta dates, front matter, revision timestamps."""
    out: list[dict[str, str]] = []
    for kind, raw in date_strings:
        value = normalize_date(raw)
        if value:
            out.append({"kind": kind, "text": raw, "value": value})
    for block in list(blocks)[:15]:
        if block.kind == "heading" or len(block.text.split()) > 16:
            continue
        for m in _DOC_DATE.finditer(block.text):
            rest = block.text[m.end() :]
            found = extract_dates(rest)
            if found and found[0].start == 0 and not found[0].inferred:
                words = m.group("kind").lower().split()
                kind = words[-1] if words[0] in ("first", "last") else _KINDS.get(words[0], words[0])
                out.append({"kind": kind, "text": found[0].text, "value": found[0].value})
    return out


def normalize_date(raw: str) -> str | None:
    """ISO date prefix of a date string in any of the supported forms, or None."""
    raw = raw.strip()
    m = re.match(r"^(\d{4})-(\d{2})(?:-(\d{2}))?", raw)
    if m:
        return m.group(0)
    found = extract_dates(raw)
    return found[0].value.split("..")[0] if found and not found[0].inferred else None


def authors_in(blocks: tuple[Block, ...] | list[Block]) -> list[str]:
    """Names from a `By Ani Tonoyan` line near the top of the document."""
    for block in list(blocks)[:15]:
        if block.kind == "heading" or len(block.text.split()) > 12:
            continue
        m = _AUTHOR.match(block.text.strip())
        if m:
            return [n.strip() for n in re.split(r"\s*(?:,|\band\b|&)\s*", m.group("names")) if n.strip()]
    return []


def infobox_value(raw: str) -> dict[str, Any]:
    """A typed infobox value: {"type": date|number|list|text, "value": ..., "text": raw}."""
    text = raw.strip().strip(",").strip()
    main = re.sub(r"\s*,?\s*\([^)]*\)\s*$", "", text).strip(" ,")
    if main:
        dates = extract_dates(main)
        if dates and dates[0].start == 0 and not dates[0].inferred and dates[0].end >= len(main) - 2:
            return {"type": "date", "value": dates[0].value, "text": raw}
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+|\d+", text):
        return {"type": "number", "value": int(text.replace(",", "")), "text": raw}
    items = split_list(text)
    if len(items) >= 2:
        return {"type": "list", "value": items, "text": raw}
    return {"type": "text", "value": text, "text": raw}


def split_list(text: str) -> list[str]:
    """Split `A, (note), B, C` into items, keeping parenthetical notes with their item."""
    items: list[str] = []
    for part in re.split(r"\s*,\s*(?![^()]*\))", text):
        part = part.strip(" *-–—")
        if not part or re.fullmatch(r"[-–—*()\s]+", part):
            continue
        if part.startswith("(") and items:
            items[-1] = f"{items[-1]} {part}"
        else:
            items.append(part)
    return items


def typed_infobox(pairs: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """Infobox pairs -> {key: typed value}; empty values dropped, repeated keys kept as lists."""
    out: dict[str, Any] = {}
    for key, raw in pairs:
        if not raw.strip(" ,()*"):
            continue
        out[key] = infobox_value(raw)
    return out


def title_from_blocks(blocks: tuple[Block, ...]) -> tuple[str | None, tuple[Block, ...]]:
    """A title for a file with none: a leading level-1 heading, or a short first line that
    more text follows (a file that is one short line is that line's content, not a title
    over nothing)."""
    if not blocks:
        return None, blocks
    first = blocks[0]
    # A heading is the title when nothing outranks it and no other heading shares its level.
    outranked = any(b.kind == "heading" and b.level < first.level for b in blocks[1:])
    peers = sum(1 for b in blocks if b.kind == "heading" and b.level == first.level)
    if first.kind == "heading" and (first.level == 1 or not outranked) and peers == 1:
        return first.text, blocks[1:]
    if (
        first.kind == "paragraph"
        and len(blocks) > 1
        and len(first.text.split()) <= 15
        and not re.search(r"[.!?]$", first.text)
    ):
        return first.text, blocks[1:]
    return None, blocks
