"""Loaders: format detection, encodings, every corpus format, bad input, and a property test."""

from __future__ import annotations

import codecs
import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.errors import SourceError
from indexer.models import RawVersion
from indexer.sources import decode, detect_format, load_bytes, load_file
from indexer.sources.wikimarkup import lift_references
from tests.conftest import CORPUS

MB = 1024 * 1024


def blocks(versions: list[RawVersion]) -> list[tuple[str, int, str]]:
    return [(b.kind, b.level, b.text) for b in versions[0].blocks]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("wiki/harbour-bridge-2021.txt", "wikitext"),
        ("web/velmora-festival.html", "html"),
        ("notes/archive-visit.md", "markdown"),
        ("reports/crue-de-la-salt.txt", "plain"),
        ("exports/salt-estuary-ferries.xml", "mediawiki"),
    ],
)
def test_format_comes_from_content(name: str, fmt: str, tmp_path: Path) -> None:
    text = (CORPUS / name).read_text(encoding="utf-8")
    assert detect_format(text, name) == fmt
    # A misleading extension does not change the answer.
    assert detect_format(text, "renamed.dat") == fmt


def test_html_main_content_only() -> None:
    versions = load_file(CORPUS / "web/velmora-festival.html", 10 * MB)
    v = versions[0]
    assert (v.title, v.authors, v.date_strings, v.site) == (
        "Lantern Festival returns to the quays",
        ("Mira Oskarsdottir",),
        (("published", "2023-08-19"),),
        "Velmora Courier",
    )
    # The byline is metadata (authors, published date), not a paragraph of the article.
    assert [(k, lvl, t[:40]) for k, lvl, t in blocks(versions)] == [
        ("paragraph", 0, "After a three-year pause, the Lantern Fe"),
        ("heading", 2, "A route past the old bridge"),
        ("paragraph", 0, "This year the procession started at the "),
        ("heading", 3, "Safety on the water"),
        ("paragraph", 0, "The harbour master limited the number of"),
        ("heading", 2, "What comes next"),
        ("paragraph", 0, "The festival committee plans a second ev"),
    ]


def test_markdown_front_matter_and_blocks() -> None:
    versions = load_file(CORPUS / "notes/archive-visit.md", 10 * MB)
    v = versions[0]
    assert (v.title, v.authors, v.date_strings) == (
        "Notes from the harbour board archive",
        ("Teodor Lind",),
        (("date", "2022-11-04"),),
    )
    assert [(k, lvl) for k, lvl, _ in blocks(versions)] == [
        ("heading", 1), ("paragraph", 0), ("heading", 2), ("item", 0), ("item", 0), ("heading", 2),
        ("paragraph", 0), ("paragraph", 0), ("heading", 2), ("item", 0), ("item", 0),
    ]  # fmt: skip
    assert blocks(versions)[3][2] == "The board debated a ferry scheme against a fixed crossing for three sessions."


def test_mediawiki_revisions_in_timestamp_order_with_markup_removed() -> None:
    versions = load_file(CORPUS / "exports/salt-estuary-ferries.xml", 10 * MB)
    assert [(v.timestamp, v.title, v.doc_type) for v in versions] == [
        ("2021-03-02T10:15:00Z", "Salt estuary ferries", "mediawiki"),
        ("2022-07-18T16:40:00Z", "Salt estuary ferries", "mediawiki"),
        ("2023-05-09T09:05:00Z", "Salt estuary ferries", "mediawiki"),
    ]
    assert len({v.lineage_key for v in versions}) == 1
    last = versions[-1]
    assert last.infobox == (
        ("Name", "Salt estuary ferries"),
        ("Operator", "Velmora harbour board"),
        ("Began", "1862"),
        ("Ended", "30 September 1934"),
    )
    assert [(b.kind, b.text) for b in last.blocks] == [
        (
            "paragraph",
            "The Salt estuary ferries crossed the estuary of the river Salt at Velmora from 1862 until the "
            "Old Harbour Bridge opened in 1931.",
        ),
        ("heading", "Routes"),
        (
            "paragraph",
            "The main route ran from the fish market to the north quay, a crossing of about 600 m. "
            "A summer route served the bathing beach.",
        ),
        ("heading", "Decline"),
        (
            "paragraph",
            "After the bridge opened, the ferries carried mostly goods, and the last one stopped on 30 September 1934.",
        ),
        ("heading", "References"),
        ("item", "Harbour board minutes, 1931."),  # the <ref> note, listed where {{reflist}} stood
    ]


def test_reference_notes_are_listed_where_the_reflist_stands() -> None:
    wikitext = (
        "The ferry ran.<ref>Harbour board minutes, 1931.</ref> It stopped in 1934.<ref name=post>"
        "{{cite news |title=Last ferry |newspaper=[[Velmora Post]] |date=1 October 1934 |url=https://example.org/x}}"
        "</ref> Goods went on.<ref name=post/><ref>Harbour board minutes, 1931.</ref>\n\n"
        "== Notes ==\n{{Reflist|30em}}\n\n== External links ==\n* [https://example.org Site]\n"
    )
    assert lift_references(wikitext).split("== Notes ==")[1] == (
        "\n\n# Harbour board minutes, 1931.\n"
        "# Last ferry, Velmora Post, 1 October 1934, https://example.org/x\n"
        "\n\n== External links ==\n* [https://example.org Site]\n"
    )
    # No marker: a References section at the end. No notes: the text unchanged.
    assert lift_references("A.<ref>B.</ref>") == "A.<ref>B.</ref>\n\n== References ==\n# B.\n"
    assert lift_references("A.<ref name=x/>\n{{reflist}}") == "A.<ref name=x/>\n{{reflist}}"


TEXT = "Le pont du port a été fermé en juillet; the “bridge” – closed.\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("utf-16"), "utf-16"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),
        (TEXT.encode("utf-16-be"), "utf-16-be"),
        (TEXT.encode("cp1252"), "cp1252"),
    ],
)
def test_encodings(data: bytes, encoding: str) -> None:
    assert decode(data, "f.txt") == (TEXT, encoding)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary file (contains NUL bytes)"),
        (b"caf\xc3\xa9 then " + b"\xff" * 40, "invalid UTF-8 at byte 11 (40 undecodable bytes)"),
        (bytes(range(128, 256)) * 4, "undecodable bytes at 0 (not UTF-8, UTF-16 or cp1252)"),
        (b"\x01\x02\x03\x04\x05\x06\x07\x08" * 50, "binary or undecodable content (too many control characters)"),
    ],
)  # fmt: skip
def test_undecodable_input_is_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(SourceError) as err:
        decode(data, "bad")
    assert err.value.reason == reason


@pytest.mark.parametrize(
    ("data", "text", "encoding", "notes"),
    [
        # A character cut short or a stray byte in UTF-8 text: replaced and said, never mojibake.
        (b"Caf\xc3 notes", "Caf\ufffd notes", "utf-8 (damaged)",
         ["damaged UTF-8: 1 undecodable byte sequence (first at byte 3) replaced with U+FFFD"]),
        (b"caf\xc3\xa9 then \xff broken", "café then \ufffd broken", "utf-8 (damaged)",
         ["damaged UTF-8: 1 undecodable byte sequence (first at byte 11) replaced with U+FFFD"]),
        (b"the \xe2\x80 dash", "the \ufffd dash", "utf-8 (damaged)",
         ["damaged UTF-8: 1 undecodable byte sequence (first at byte 4) replaced with U+FFFD"]),
        # Real cp1252 text stays cp1252.
        (b"Caf\xe9 au lait, na\xefve r\xe9sum\xe9", "Café au lait, naïve résumé", "cp1252", []),
        (b"S\xe3o Paulo, PA\xc7O, \x93quoted\x94", "São Paulo, PAÇO, “quoted”", "cp1252", []),
    ],
)  # fmt: skip
def test_damaged_utf8_is_repaired_and_said_and_cp1252_is_read(
    data: bytes, text: str, encoding: str, notes: list[str]
) -> None:
    said: list[str] = []
    assert (decode(data, "f", said), said) == ((text, encoding), notes)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(SourceError, match="empty file"):
        load_file(tmp_path / "empty.txt", MB)


def test_whitespace_only_file(tmp_path: Path) -> None:
    (tmp_path / "blank.txt").write_text("   \n\n  \n")
    with pytest.raises(SourceError) as err:
        load_file(tmp_path / "blank.txt", MB)
    assert (err.value.path, err.value.reason) == (str(tmp_path / "blank.txt"), "no text (only whitespace)")


def test_size_limit_is_checked_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "huge.txt"
    with big.open("wb") as fh:
        fh.truncate(200 * MB)  # sparse: costs no disk
    with pytest.raises(SourceError) as err:
        load_file(big, 50 * MB)
    assert err.value.reason == "file is 200.0 MB, over the 50 MB limit (setting max_file_bytes)"


def test_html_with_10000_nested_tags() -> None:
    html = (
        "<html><body>" + "<div>" * 10_000 + "deep text survives" + "</div>" * 10_000 + "<p>after it</p></body></html>"
    )
    assert blocks(load_bytes("deep.html", html.encode(), 0)) == [
        ("paragraph", 0, "deep text survives"),
        ("paragraph", 0, "after it"),
    ]


def test_html_with_unclosed_tags() -> None:
    html = b"<html><head><title>Unclosed</title><body><h1>Unclosed<p>first<p>second<h2>Part<ul><li>one<li>two"
    versions = load_bytes("u.html", html, 0)
    assert versions[0].title == "Unclosed"
    assert blocks(versions) == [
        ("paragraph", 0, "first"),
        ("paragraph", 0, "second"),
        ("heading", 2, "Part"),
        ("item", 0, "one"),
        ("item", 0, "two"),
    ]


def test_malformed_mediawiki_export() -> None:
    with pytest.raises(SourceError, match="malformed XML export"):
        load_bytes("x.xml", b"<mediawiki><page><title>A</title><revision><text>x</text></page>", 0)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_versions_or_a_source_error(data: bytes) -> None:
    try:
        versions = load_bytes("fuzz.bin", data, 0)
    except SourceError as exc:
        assert exc.reason
    else:
        assert versions and all(v.blocks for v in versions)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=1500))
def test_any_text_gives_versions_or_a_source_error(text: str) -> None:
    for wrapper in ("{}", "<html><body>{}</body></html>", "= T =\n{}", "# T\n{}"):
        with contextlib.suppress(SourceError):
            load_bytes("fuzz.txt", wrapper.replace("{}", text).encode("utf-8", "surrogatepass"), 0)
