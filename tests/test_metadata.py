"""Dates with spans, inferred years, document dates, authors, typed infobox values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.metadata import authors_in, document_dates, document_year, extract_dates, infobox_value, split_list
from indexer.models import Block


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("on 12 September 2022 it", [("12 September 2022", "2022-09-12", False)]),
        ("on 12–14 September 2022,", [("12–14 September 2022", "2022-09-12..2022-09-14", False)]),
        ("in May 2021 and", [("May 2021", "2021-05", False)]),
        ("since 2021 the", [("2021", "2021", False)]),
        ("crisis (2021–present)", [("2021–present", "2021..present", False)]),
        ("On January 30, 2023, a", [("January 30, 2023", "2023-01-30", False)]),
        ("dated 2024-03-05.", [("2024-03-05", "2024-03-05", False)]),
        ("from 12 May 2021 – present", [("12 May 2021 – present", "2021-05-12..present", False)]),
        ("May–June 2022 talks", [("May–June 2022", "2022-05..2022-06", False)]),
        ("On 19 and 20 September 2023", [("19 and 20 September 2023", "2023-09-19..2023-09-20", False)]),
        ("September 12–14, 2022", [("September 12–14, 2022", "2022-09-12..2022-09-14", False)]),
        ("In 2021–23 there", [("2021–23", "2021..2023", False)]),
        ("Publié le 12 mars 2024", [("12 mars 2024", "2024-03-12", False)]),
        # Not dates: quantities, times, other numbers.
        ("For over 2000 years, people", []),
        ("about 1500 people and 140,000 more", []),
        ("at 14:00, 7,600 civilians, 2.2022", []),
        ("on 31 February 2022", []),
        # Decades (and, written X00s before 2000, centuries) are ranges; the modifier is in the span.
        ("in the 1990s and", [("1990s", "1990..1999", False)]),
        ("the 1990's, the 1980’s", [("1990's", "1990..1999", False), ("1980’s", "1980..1989", False)]),
        ("in the early 1990s", [("early 1990s", "1990..1999", False)]),
        ("by the mid-1970s,", [("mid-1970s", "1970..1979", False)]),
        ("Late 2010s", [("Late 2010s", "2010..2019", False)]),
        ("the 1800s and the 2000s", [("1800s", "1800..1899", False), ("2000s", "2000..2009", False)]),
        ("1995s", []),
    ],
)
def test_date_forms(text: str, expected: list[tuple[str, str, bool]]) -> None:
    assert [(d.text, d.value, d.inferred) for d in extract_dates(text)] == expected


def _inferred(text: str, context: str = "", fallback_year: int | None = None) -> list[tuple[str, str, bool]]:
    return [(d.text, d.value, d.inferred) for d in extract_dates(text, context, fallback_year)]


def test_year_from_heading_first_then_an_earlier_date_never_a_later_one() -> None:
    text = "Talks on 3 May. Later, on 9 June 2020, and on 4 July."
    assert _inferred(text, context="Timeline > May 2021") == [
        ("3 May", "2021-05-03", True),
        ("9 June 2020", "2020-06-09", False),
        ("4 July", "2021-07-04", True),
    ]
    # The most specific heading that names a year.
    assert _inferred("On 3 May.", context="War of 2020 > Ceasefire of 2021 > Talks") == [("3 May", "2021-05-03", True)]
    # No heading year: an earlier full date; "3 May" comes before any, so it takes the document's year...
    assert _inferred(text, fallback_year=2019) == [
        ("3 May", "2019-05-03", True),
        ("9 June 2020", "2020-06-09", False),
        ("4 July", "2020-07-04", True),
    ]
    # ...and without one it has no year at all: never the year of the later "9 June 2020".
    assert _inferred(text) == [("9 June 2020", "2020-06-09", False), ("4 July", "2020-07-04", True)]
    assert _inferred("On 3 May it rained.", fallback_year=1999) == [("3 May", "1999-05-03", True)]
    assert extract_dates("On 3 May it rained.") == []
    # Day ranges and month-first days follow the same rule.
    assert _inferred("Fighting on 12–14 September and on September 20, then 1 October 2022.", fallback_year=2021) == [
        ("12–14 September", "2021-09-12..2021-09-14", True),
        ("September 20", "2021-09-20", True),
        ("1 October 2022", "2022-10-01", False),
    ]


def test_a_paragraph_dates_its_days_before_the_document_year_does() -> None:
    text = (
        "In late 2020, a war ended with a ceasefire on 10 November.\n"
        "On 3 May 2021, since 1991 borders, talks began; they ended on 5 May.\n"
        "The decree dissolved the republic by 1 January 2024.\n"
        "On 29 September, a meeting took place."
    )
    # A bare year sets the paragraph's time when no full date does; a full date beats a nearer bare year;
    # a new paragraph takes the document's year, not the date of the paragraph before.
    assert _inferred(text, fallback_year=2023) == [
        ("2020", "2020", False),
        ("10 November", "2020-11-10", True),
        ("3 May 2021", "2021-05-03", False),
        ("1991", "1991", False),
        ("5 May", "2021-05-05", True),
        ("1 January 2024", "2024-01-01", False),
        ("29 September", "2023-09-29", True),
    ]
    # Without a document year the narrative goes on: the nearest full date of an earlier paragraph.
    assert _inferred(text)[-1] == ("29 September", "2024-09-29", True)


def test_a_list_items_dates_are_its_own() -> None:
    text = (
        "Reactions came from many countries after 12 September 2022.\n"
        "- Armenia - On January 30, 2023 Armenia presented a map.\n"
        "- Russia called for the ceasefire of 13 September to hold.\n"
        "- France spoke on 27 September; on 14 October 2022 and on 15 November it voted."
    )
    assert _inferred(text) == [
        ("12 September 2022", "2022-09-12", False),
        ("January 30, 2023", "2023-01-30", False),
        ("13 September", "2022-09-13", True),  # not 2023: that date belongs to another item
        ("27 September", "2022-09-27", True),
        ("14 October 2022", "2022-10-14", False),
        ("15 November", "2022-11-15", True),
    ]


def test_document_year() -> None:
    assert document_year("2023 Azerbaijani offensive in Nagorno-Karabakh") == 2023
    assert document_year(None, [{"kind": "issued", "text": "October 2023", "value": "2023-10"}]) == 2023
    assert document_year(None, (), "The clashes began on 12 September 2022, after a year of 2021 talks.") == 2022
    assert document_year("Border crisis (2021–present)", (), "On 12 May 2021, troops crossed.") is None
    assert document_year("Ferries", (), "Founded in 1862.") is None


def test_document_dates_and_authors() -> None:
    blocks = [
        Block("paragraph", "A title line"),
        Block("paragraph", "Originally issued: October 2023, Updated April 2024"),
        Block("paragraph", "By Ani Tonoyan"),
        Block("paragraph", "Last updated: 5 March 2025"),
    ]
    assert document_dates(blocks, (("modified", "2025-03-05T10:00:00Z"),)) == [
        {"kind": "modified", "text": "2025-03-05T10:00:00Z", "value": "2025-03-05"},
        {"kind": "issued", "text": "October 2023", "value": "2023-10"},
        {"kind": "updated", "text": "April 2024", "value": "2024-04"},
        {"kind": "updated", "text": "5 March 2025", "value": "2025-03-05"},
    ]
    assert authors_in(blocks) == ["Ani Tonoyan"]
    assert authors_in([Block("paragraph", "By Jane Roe and John Doe")]) == ["Jane Roe", "John Doe"]
    assert authors_in([Block("paragraph", "By the time the ceasefire was agreed, many had left.")]) == []


def test_infobox_types() -> None:
    assert infobox_value("12–14 September 2022, (2 days)") == {
        "type": "date", "value": "2022-09-12..2022-09-14", "text": "12–14 September 2022, (2 days)",
    }  # fmt: skip
    assert infobox_value("4,118") == {"type": "number", "value": 4118, "text": "4,118"}
    assert infobox_value("Ongoing") == {"type": "text", "value": "Ongoing", "text": "Ongoing"}
    assert split_list("Ilham Aliyev, (President), Zakir Hasanov, *, ---- X") == [
        "Ilham Aliyev (President)",
        "Zakir Hasanov",
        "X",
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("0123456789 -–,.:May JuneSeptember present and 2021 12 s'’\nearlymid")),
        max_size=80,
    )
)
def test_date_spans_always_point_at_their_text(text: str) -> None:
    for d in extract_dates(text, fallback_year=2000):
        assert text[d.start : d.end] == d.text
        lo, hi = d.bounds()
        assert len(lo) == 10 and (hi is None or len(hi) == 10)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_extracts_without_error(text: str) -> None:
    for d in extract_dates(text, context=text[:20]):
        assert 0 <= d.start < d.end <= len(text)
