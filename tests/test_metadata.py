"""Dates with spans, inferred years, document dates, authors, typed infobox values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.metadata import authors_in, document_dates, extract_dates, infobox_value, split_list
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
    ],
)
def test_date_forms(text: str, expected: list[tuple[str, str, bool]]) -> None:
    assert [(d.text, d.value, d.inferred) for d in extract_dates(text)] == expected


def test_year_from_heading_first_then_nearest_date_then_fallback() -> None:
    text = "Talks on 3 May. Later, on 9 June 2020, and on 4 July."
    assert [(d.text, d.value, d.inferred) for d in extract_dates(text, context="Timeline > May 2021")] == [
        ("3 May", "2021-05-03", True),
        ("9 June 2020", "2020-06-09", False),
        ("4 July", "2021-07-04", True),
    ]
    assert [(d.value, d.inferred) for d in extract_dates(text)] == [
        ("2020-05-03", True),
        ("2020-06-09", False),
        ("2020-07-04", True),
    ]
    assert [d.value for d in extract_dates("On 3 May it rained.", fallback_year=1999)] == ["1999-05-03"]
    assert extract_dates("On 3 May it rained.") == []


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
@given(st.text(alphabet=st.sampled_from(list("0123456789 -–,.:May JuneSeptember present and 2021 12 ")), max_size=80))
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
