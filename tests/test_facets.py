"""Facets are declared once (indexer/facets.py): a new declaration is offered everywhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from indexer import facets
from indexer.cli import cli
from indexer.facets import FacetSpec, value_key
from indexer.models import SectionRow
from indexer.pipeline import index_paths
from search_web import create_app
from tests.conftest import CORPUS, settings_for

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on each engine


def _kind(row: SectionRow) -> Any:
    label = "Reference list" if row.auxiliary else "Main text"
    yield value_key(label), label


KIND = FacetSpec("kind", "Kind of section", "kind", "Main text or reference list; repeat for OR.", _kind,
                 kind="single", query_fields=("kind",))  # fmt: skip


@pytest.fixture
def with_kind(tmp_path: Path) -> Any:
    facets.register(KIND)
    try:
        index_paths([CORPUS], settings_for(tmp_path / "ix"))
        yield tmp_path / "ix"
    finally:
        facets.unregister("kind")


def test_a_declared_facet_is_offered_by_cli_api_sidebar_and_query_language(with_kind: Path) -> None:
    runner = CliRunner()
    assert "--kind" in runner.invoke(cli, ["search", "--help"]).output
    found = runner.invoke(cli, ["search", "minutes", "--index-dir", str(with_kind), "--json"])
    counts = {f["label"]: f["count"] for f in json.loads(found.output)["facets"]["kind"]}
    assert counts == {"Main text": 2, "Reference list": 1}
    only = runner.invoke(
        cli, ["search", "minutes", "--kind", "REFERENCE list", "--index-dir", str(with_kind), "--json"]
    )
    refs = json.loads(only.output)
    assert [(h["breadcrumb"], h["title"]) for h in refs["hits"]] == [("References", "Salt estuary ferries")]
    app = create_app({"INDEX_DIR": str(with_kind), "TESTING": True})
    try:
        client = app.test_client()
        api = client.get("/api/search?q=minutes&kind=Reference+list").get_json()
        assert api["hits"] == refs["hits"] and api["facets"]["kind"] == refs["facets"]["kind"]
        page = BeautifulSoup(client.get("/search?q=minutes").get_data(as_text=True), "html.parser")
        section = page.find("section", attrs={"aria-labelledby": "facet-kind"})
        assert section.h3.get_text() == "Kind of section"
        assert sorted(a.find(class_="label").get_text() for a in section.select("a")) == ["Main text", "Reference list"]
        # The query language has it too: `kind:"reference list"`.
        queried = client.get('/api/search?q=minutes+kind:"reference+list"').get_json()
        assert [h["breadcrumb"] for h in queried["hits"]] == ["References"]
    finally:
        app.extensions["palimpsest"].close()
