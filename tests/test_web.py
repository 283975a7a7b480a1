"""The web app through Flask's test client: every route, every error status, HTML through BeautifulSoup."""

from __future__ import annotations

import csv
import http.client
import io
import json
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from indexer.cli import cli
from indexer.documents import document_json
from indexer.pipeline import index_paths
from indexer.store import Store
from search_web import create_app
from tests.conftest import CORPUS, settings_for

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on each engine

XSS_TITLE = "<script>alert('title')</script> Quay <b>notes</b>"
XSS_BODY = "The quay lamp <img src=x onerror=alert('body')> was lit \"><svg onload=alert('svg')> nightly."
XSS_FILE = "<img src=y onerror=alert('file')>.txt"


def write_xss_docs(folder: Path) -> None:
    """Documents whose title, body and file name carry HTML and script."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / XSS_FILE).write_text(f"{XSS_TITLE}\n\n{XSS_BODY}\n\nThe quay lamp <i>log</i>.\n")


@pytest.fixture(scope="module")
def web_index(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web")
    write_xss_docs(root / "xss")
    index_paths([CORPUS, root / "xss"], settings_for(root / "ix"))
    return root / "ix"


@pytest.fixture(scope="module")
def client(web_index: Path) -> Any:
    app = create_app({"INDEX_DIR": str(web_index), "TESTING": True})
    yield app.test_client()
    app.extensions["palimpsest"].close()


def soup(resp: Any) -> BeautifulSoup:
    return BeautifulSoup(resp.get_data(as_text=True), "html.parser")


def doc_id_titled(index_dir: Path, title: str) -> str:
    store = Store(index_dir)
    try:
        return next(d["doc_id"] for d in store.documents() if d["title"] == title)
    finally:
        store.close()


def test_home_page_has_search_box_landmarks_and_facets(client: Any) -> None:
    resp = client.get("/")
    assert resp.status_code == 200
    page = soup(resp)
    box = page.find("input", id="q")
    assert box and page.find("label", attrs={"for": "q"})
    assert page.find("form", attrs={"role": "search"})
    for landmark in ("header", "main", "aside", "footer"):
        assert page.find(landmark), landmark
    assert page.find("link", rel="search", type="application/opensearchdescription+xml")
    assert page.find("a", class_="skip")["href"] == "#results"  # past the search box, straight to the results
    assert page.find(id="results").name == "ol"
    # Browsing without a query: every document, and facets to narrow down.
    assert "6 documents" in page.find(class_="meta").get_text()
    facet_titles = [h.get_text() for h in page.select(".facet h3")]
    assert facet_titles[:2] == ["Section", "Year"] and "Language" in facet_titles and "Type" in facet_titles


def test_security_headers(client: Any) -> None:
    resp = client.get("/search?q=harbour")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    scripts = soup(resp).find_all("script")
    assert [s.get("src") for s in scripts] == ["/static/app.js"] and all(not s.string for s in scripts)
    assert not soup(resp).find(attrs={"style": True})


def test_results_keep_the_query_and_link_to_sections(client: Any) -> None:
    page = soup(client.get("/search?q=harbour+bridge"))
    assert page.find("input", id="q")["value"] == "harbour bridge"
    hits = page.select("li.hit")
    assert hits[0].h2.get_text(strip=True) == "Old Harbour Bridge of Velmora"
    link = hits[0].h2.a["href"]
    assert link.startswith("/doc/") and "#" in link and "q=harbour+bridge" in link
    assert [m.get_text() for m in page.select("li.hit .snippet mark")]
    assert "documents" in page.find(class_="meta").get_text() and "ms" in page.find(class_="meta").get_text()
    versions = hits[0].find("a", string="2 versions")
    assert versions and versions["href"].endswith("#versions")


def test_facet_filter_chip_and_removal(client: Any) -> None:
    page = soup(client.get("/search?q=harbour"))
    wikitext = next(a for a in page.select(".facet ul a") if a.find(class_="label").get_text() == "Wiki article")
    assert wikitext["href"] == "/search?q=harbour&doc_type=wikitext"
    filtered = soup(client.get(wikitext["href"]))
    assert [h.h2.get_text(strip=True) for h in filtered.select("li.hit")] == ["Old Harbour Bridge of Velmora"]
    chip = filtered.select_one(".chips a")
    assert chip.get_text(" ", strip=True) == "Type: Wiki article ×"
    assert chip["href"] == "/search?q=harbour"
    selected = filtered.select(".facet a.selected")
    assert [a.find(class_="label").get_text() for a in selected] == ["Wiki article"]


def test_year_and_month_facets_are_svg_bar_charts_of_links(client: Any) -> None:
    page = soup(client.get("/search?q=bridge"))
    chart = page.select_one(".facet svg.chart-year")
    assert chart["role"] == "group" and chart["aria-label"] == "Documents by year"
    bars = [(a["aria-label"], a["href"]) for a in chart.find_all("a")]
    api = client.get("/api/search?q=bridge").get_json()["facets"]["year"]
    # One bar per year, in time order, each a filter link that says what it counts.
    assert bars == [
        (f"{y['value']}: {y['count']} document{'' if y['count'] == 1 else 's'}", f"/search?q=bridge&year={y['value']}")
        for y in api
    ]
    assert all(a.find("title").get_text() == a["aria-label"] for a in chart.find_all("a"))
    months = page.select(".facet details.months")
    assert months and all(d.summary.get_text().startswith("Months of ") for d in months)
    first = months[0].select_one("svg.chart-month")
    assert [t.get_text() for t in first.select(".ticks text")][:1] == ["Jan"] and len(first.find_all("rect")) >= 12
    labels = [a["aria-label"] for a in first.find_all("a")]
    assert labels and all(re.fullmatch(r"[A-Z][a-z]+ \d{4}: \d+ documents?", x) for x in labels), labels
    # A selected year is marked, and its chip reads as the year; a month chip reads as words.
    year = api[0]["value"]
    picked = soup(client.get(f"/search?q=bridge&year={year}"))
    assert picked.select_one("svg.chart-year a.on")["aria-current"] == "true"
    month = next(m["value"] for m in client.get("/api/search?q=bridge").get_json()["facets"]["month"])
    chip = soup(client.get(f"/search?q=bridge&month={month}")).select_one(".chips a").get_text(" ", strip=True)
    assert re.fullmatch(r"Month: [A-Z][a-z]+ \d{4} ×", chip), chip


def test_paging_is_stable_and_capped(client: Any) -> None:
    first = soup(client.get("/search?q=harbour&limit=2"))
    nxt = first.find("a", rel="next")["href"]
    second = soup(client.get(nxt))
    titles = lambda p: [h.h2.get_text(strip=True) for h in p.select("li.hit")]  # noqa: E731
    assert titles(first) and titles(second) and not set(titles(first)) & set(titles(second))
    assert second.find("a", rel="prev")
    for bad in ("page=0", "page=501", "page=x", "limit=101", "limit=0", "sort=random"):
        assert client.get(f"/search?q=harbour&{bad}").status_code == 400, bad


# Finding 1 of issue 17: year 0000 was a 500 (and a traceback in the CLI).
BAD_DATES = [
    ("from=0000", "date-from '0000' is not a date like 2022, 2022-09 or 2022-09-12"),
    ("to=0000", "date-to '0000' is not a date like 2022, 2022-09 or 2022-09-12"),
    ("date_from=0000-01-01", "date-from '0000-01-01' is not a date like 2022, 2022-09 or 2022-09-12"),
    ("date_to=0000-12", "date-to '0000-12' is not a date like 2022, 2022-09 or 2022-09-12"),
    ("date_from=2022-02-30", "date-from '2022-02-30' is not a date like 2022, 2022-09 or 2022-09-12"),
    ("date_to=10000", "date-to '10000' is not a date like 2022, 2022-09 or 2022-09-12"),
    (
        "date_to=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%92",
        "date-to '２０２２' is not a date like 2022, 2022-09 or 2022-09-12",
    ),
    ("year=0000", "year '0000' is not a year like 2022"),
    ("month=0000-09", "month '0000-09' is not a month like 2022-09"),
    ("q=harbour+date%3A0000", "'0000' is not a date (use 2022, 2022-09 or 2022-09-12)"),
]


@pytest.mark.parametrize(("param", "detail"), BAD_DATES)
@pytest.mark.parametrize("route", ["/api/search", "/api/search.csv", "/api/search.ndjson"])
def test_every_date_bound_out_of_range_is_a_400_in_the_api(client: Any, route: str, param: str, detail: str) -> None:
    resp = client.get(f"{route}?{param}" if param.startswith("q=") else f"{route}?q=harbour&{param}")
    body = resp.get_json()
    if body and "position" in body["error"]:
        del body["error"]["position"]
    assert (resp.status_code, body) == (400, {"error": {"status": 400, "message": "Bad query", "detail": detail}})


@pytest.mark.parametrize(("param", "detail"), BAD_DATES)
def test_every_date_bound_out_of_range_is_a_400_page(client: Any, param: str, detail: str) -> None:
    resp = client.get(f"/search?{param}")
    assert (resp.status_code, soup(resp).find(role="alert").find(string=lambda s: detail in s) is not None) == (
        400,
        True,
    )


def test_the_widest_dates_are_accepted(client: Any) -> None:
    for param in ("from=0001", "to=9999", "date_from=0001-01-01&date_to=9999-12-31", "year=0001", "month=9999-12"):
        assert client.get(f"/api/search?q=harbour&{param}").status_code == 200, param


def test_sort_by_date(client: Any) -> None:
    page = soup(client.get("/search?q=harbour&sort=date"))
    assert page.find("option", selected=True)["value"] == "date"
    assert page.select("li.hit")


def test_did_you_mean_link(client: Any) -> None:
    page = soup(client.get("/search?q=harbuor"))
    link = page.select_one(".suggestion a")
    assert link and link.get_text() == "harbour" and link["href"] == "/search?q=harbour"


def test_bad_query_is_a_400_page_not_a_traceback(client: Any) -> None:
    resp = client.get("/search?q=%28%28%28")
    assert resp.status_code == 400
    alert = soup(resp).find(role="alert")
    assert "never closed" in alert.get_text() and "Traceback" not in resp.get_data(as_text=True)
    assert alert.select_one("a[href='/help']")


def test_bad_query_page_marks_where_the_problem_is(client: Any) -> None:
    page = soup(client.get("/search", query_string={"q": "harbour date:2022-13 tram"}))
    where = page.select_one(".query-at code")
    assert where.get_text() == "harbour date:2022-13 tram" and where.mark.get_text() == "2022-13"
    page = soup(client.get("/search", query_string={"q": "<b>quay</b> AND"}))
    assert page.select_one(".query-at mark").get_text() == "AND" and not page.select_one(".query-at b")


def test_help_page_examples_all_run(client: Any) -> None:
    """Every example on the search tips page is a link that runs (no 400), and the infobox keys
    of the index are listed."""
    page = soup(client.get("/help"))
    links = [a["href"] for a in page.select("main table a")]
    assert any("q=%22Lachin+corridor%22" in h for h in links) and "/search?infobox=operator" in links
    for href in links:
        assert client.get(href).status_code == 200, href
    assert soup(client.get("/search")).select_one("footer a[href='/help']")


def test_versions_menu_switches_to_the_latest_versions_only(client: Any) -> None:
    page = soup(client.get("/search?q=harbour&sort=date"))
    menu = page.select_one("select#versions-choice")
    # Every version is searched unless the latest only are asked for.
    assert menu["name"] == "versions" and menu.find("option", selected=True)["value"] == "all"
    form = menu.find_parent("form")
    hidden = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    assert hidden == {"q": "harbour"}  # sort and versions come from the menus themselves
    page = soup(client.get("/search?q=harbour&versions=latest"))
    assert page.select_one("select#versions-choice option[selected]")["value"] == "latest"
    assert "latest versions only" in page.select_one(".summary .meta").get_text()


def test_document_page(client: Any, web_index: Path) -> None:
    doc_id = doc_id_titled(web_index, "Old Harbour Bridge of Velmora")
    page = soup(client.get(f"/doc/{doc_id}?q=bridge"))
    assert page.h1.get_text() == "Old Harbour Bridge of Velmora"
    assert page.select("table.infobox th")
    anchors = [a["href"][1:] for a in page.select("nav.toc ol a")]
    assert anchors and all(page.find(id=a) for a in anchors)
    assert page.select("section.sec mark")
    rows = page.select("#versions tbody tr")
    assert len(rows) == 2 and rows[-1].get("aria-current") == "true"
    assert page.select(".related a")
    old = rows[0].find("a")["href"]
    older = soup(client.get(old))
    assert older.find(class_="notice") and "version 1 of 2" in older.find(class_="notice").get_text()


def test_mediawiki_compare_pairs_dates_and_lists_references(client: Any, web_index: Path) -> None:
    doc = doc_id_titled(web_index, "Salt estuary ferries")
    page = soup(client.get(f"/doc/{doc}/compare?a=1&b=latest"))
    rows = [
        [td.get_text(" ", strip=True) for td in tr.find_all(["th", "td"])] for tr in page.select(".infobox-diff tr")
    ]
    assert rows[1:] == [
        ["Name", "— none", "Salt estuary ferries", "added"],
        ["Operator", "— none", "Velmora harbour board", "added"],
        ["Began", "— none", "1862", "added"],
        ["Ended", "— none", "30 September 1934", "added"],
        ["Date (revision)", "2021-03-02", "2023-05-09", "changed"],
    ]
    # The <ref> note is listed under References, on the page and in the index.
    refs = soup(client.get(f"/doc/{doc}")).find("h2", string="References").find_next("li")
    assert refs.get_text(strip=True) == "Harbour board minutes, 1931."
    hit = client.get("/api/search?q=minutes+section:References").get_json()["hits"][0]
    assert (hit["doc_id"], hit["breadcrumb"]) == (doc, "References")


def test_related_documents_are_explained_by_shared_topic_words(web_index: Path) -> None:
    from indexer.analysis import FUNCTION_WORDS
    from indexer.search import Searcher

    with Searcher(web_index) as s:
        bridge = doc_id_titled(web_index, "Old Harbour Bridge of Velmora")
        related = s.similar(bridge)
        assert related and all(r["terms"] for r in related)  # every link has its reason
        assert not {t for r in related for t in r["terms"]} & FUNCTION_WORDS  # never "until", "which"
        # A word only this document's own versions have ("repairs") links to nothing.
        assert all("repairs" not in r["terms"] and "repair" not in r["terms"] for r in related)
        ferries = doc_id_titled(web_index, "Salt estuary ferries")
        both = next(r for r in s.similar(ferries) if r["doc_id"] == bridge)
        assert {"estuary", "ferries", "salt"} <= set(both["terms"])


def test_unknown_ids_are_404_pages(client: Any, web_index: Path) -> None:
    doc_id = doc_id_titled(web_index, "Old Harbour Bridge of Velmora")
    other = doc_id_titled(web_index, "Salt estuary ferries")
    other_version = client.get(f"/api/documents/{other}").get_json()["version_id"]
    for url in ("/doc/nope", f"/doc/{doc_id}/v/nope", f"/doc/{doc_id}/v/{other_version}", "/no/such/page",
                "/doc/..%2F..%2Fetc%2Fpasswd"):  # fmt: skip
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert soup(resp).h1.get_text().startswith("404")


def test_api_search_is_the_cli_json(client: Any, web_index: Path) -> None:
    api = client.get("/api/search?q=harbour&type=wikitext&type=markdown").get_json()
    result = CliRunner().invoke(
        cli, ["search", "harbour", "--type", "wikitext", "--type", "markdown", "--json", "--index-dir", str(web_index)]
    )
    cli_json = json.loads(result.output)
    api.pop("took_ms")
    cli_json.pop("took_ms")
    assert api == cli_json
    assert list(api) == [
        "query", "total", "page", "limit", "sort", "latest_only", "versions", "hits", "facets", "suggestion"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("url", "status", "message", "position"),
    [
        ("/api/search?q=%28%28%28", 400, "Bad query", 2),
        ("/api/search?q=harbour+AND", 400, "Bad query", 8),
        ("/api/search?q=the+of", 400, "Bad query", 0),
        ("/api/search?q=x&limit=500", 400, "Bad query", None),
        ("/api/search?q=x&year=22", 400, "Bad query", None),
        ("/api/search?q=x&from=yesterday", 400, "Bad query", None),
        ("/api/search?q=x&versions=some", 400, "Bad query", None),
        ("/api/documents/nope", 404, "Not found", None),
        ("/api/documents/nope/versions", 404, "Not found", None),
        ("/api/nothing", 404, "Not Found", None),
        ("/api/search.csv?q=%28", 400, "Bad query", 0),
    ],
)
def test_api_errors_have_one_shape(client: Any, url: str, status: int, message: str, position: int | None) -> None:
    """Always {"error": {status, message, detail}}; a query that does not parse adds the
    0-based character position of the problem."""
    resp = client.get(url)
    assert resp.status_code == status
    body = resp.get_json()
    keys = ["status", "message", "detail"] + (["position"] if position is not None else [])
    assert list(body) == ["error"] and list(body["error"]) == keys
    assert (body["error"]["status"], body["error"]["message"]) == (status, message)
    assert body["error"]["detail"]
    assert body["error"].get("position") == position


def test_api_documents_and_versions(client: Any, web_index: Path) -> None:
    doc_id = doc_id_titled(web_index, "Old Harbour Bridge of Velmora")
    store = Store(web_index)
    try:
        expected = document_json(store, doc_id)
    finally:
        store.close()
    assert client.get(f"/api/documents/{doc_id}").get_json() == json.loads(json.dumps(expected))
    versions = client.get(f"/api/documents/{doc_id}/versions").get_json()
    assert [v["number"] for v in versions] == [1, 2] and versions[-1]["latest"]
    old = client.get(f"/api/documents/{doc_id}?version={versions[0]['version_id']}").get_json()
    assert old["version_id"] == versions[0]["version_id"]


def test_exports_are_bounded(web_index: Path) -> None:
    app = create_app({"INDEX_DIR": str(web_index), "TESTING": True, "EXPORT_LIMIT": 2})
    c = app.test_client()
    rows = list(csv.DictReader(io.StringIO(c.get("/api/search.csv?q=harbour").get_data(as_text=True))))
    best = [h["title"] for h in c.get("/api/search?q=harbour").get_json()["hits"][:2]]
    assert [r["rank"] for r in rows] == ["1", "2"] and [r["title"] for r in rows] == best
    assert "<mark>" not in rows[0]["snippet"]
    lines = c.get("/api/search.ndjson?q=harbour").get_data(as_text=True).splitlines()
    assert [json.loads(x)["rank"] for x in lines] == [1, 2]
    app.extensions["palimpsest"].close()


def test_suggest_and_opensearch(client: Any) -> None:
    found = client.get("/api/suggest?q=harb").get_json()
    assert found["query"] == "harb" and "harbour" in found["suggestions"]
    resp = client.get("/api/suggest?q=Old%20Har&format=opensearch")
    assert resp.mimetype == "application/x-suggestions+json"
    assert resp.get_json()[0] == "Old Har" and "Old Harbour Bridge of Velmora" in resp.get_json()[1]
    xml = client.get("/opensearch.xml")
    assert xml.mimetype == "application/opensearchdescription+xml"
    ns = {"os": "http://a9.com/-/spec/opensearch/1.1/"}
    root = ElementTree.fromstring(xml.get_data())
    templates = {u.get("type"): u.get("template") for u in root.findall("os:Url", ns)}
    assert templates["text/html"] == "http://localhost/search?q={searchTerms}"
    assert templates["application/x-suggestions+json"].startswith("http://localhost/api/suggest?q={searchTerms}")


def test_script_in_titles_bodies_file_names_and_queries_is_escaped(client: Any, web_index: Path) -> None:
    pages = [
        client.get("/search?q=quay"),
        client.get("/search?q=%3Cscript%3Ealert(1)%3C/script%3E+quay"),
        client.get("/"),
    ]
    doc_id = doc_id_titled(web_index, XSS_TITLE)
    pages.append(client.get(f"/doc/{doc_id}?q=%3Cimg+src%3Dx+onerror%3Dalert(3)%3E+lamp"))
    for resp in pages:
        assert resp.status_code == 200
        page = soup(resp)
        assert [s.get("src") for s in page.find_all("script")] == ["/static/app.js"]
        assert not page.find(attrs={"onerror": True}) and not page.find(attrs={"onload": True})
        # Our own charts are the only SVG: nothing from a document became markup.
        assert {" ".join(svg["class"]) for svg in page.find_all("svg")} <= {"chart chart-year", "chart chart-month"}
        assert not page.select("main svg, article svg, main img")
    text = pages[0].get_data(as_text=True)
    assert "&lt;script&gt;alert(" in text
    doc_page = pages[-1].get_data(as_text=True)
    assert "&lt;img src=y onerror=alert(" in doc_page  # the file name, shown as text


@pytest.fixture(scope="module")
def served(web_index: Path) -> Iterator[int]:
    """`palimpsest serve` on a free port (gunicorn, two workers); yields the port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "indexer.cli", "serve", "--index-dir", str(web_index), "--port", str(port),
         "--workers", "2", "--threads", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?q=harbour", timeout=10):
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                assert time.time() < deadline, "palimpsest serve did not answer"
                time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def raw_request(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; (status, headers with lower-case names, body) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        resp = http.client.HTTPResponse(sock, method="GET")
        resp.begin()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()


def test_palimpsest_serve_runs_the_app_under_gunicorn(served: int) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{served}/api/search?q=harbour", timeout=10) as r:
        data = json.loads(r.read())
        server = r.headers.get("Server", "")
    assert data["total"] >= 3 and "gunicorn" in server
    with urllib.request.urlopen(f"http://127.0.0.1:{served}/", timeout=10) as r:
        assert r.status == 200 and "Content-Security-Policy" in r.headers
    pasted = urllib.parse.quote(" ".join(["harbour—bridge"] * 1_333))  # 19,994 characters, 36 kB encoded
    with urllib.request.urlopen(f"http://127.0.0.1:{served}/api/search?q={pasted}", timeout=30) as r:
        assert r.status == 200 and json.loads(r.read())["total"] >= 1


def test_the_longest_query_in_the_widest_encoding_is_served(served: int) -> None:
    # 20,000 characters, nearly all 4 bytes of UTF-8, each byte percent-encoded: 239,914 bytes of URL.
    text = "😀" * 19_992 + " harbour"
    status, headers, body = raw_request(
        served, f"GET /api/search?q={urllib.parse.quote(text)} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    )
    result = json.loads(body)
    assert (status, headers["content-type"], result["query"] == text, result["total"]) == (
        200,
        "application/json",
        True,
        4,
    )


def _error_of(status: int, headers: dict[str, str], body: bytes) -> Any:
    """The JSON error object, or for an HTML page (status, h1 text)."""
    assert "Content-Security-Policy".lower() in headers and headers["x-content-type-options"] == "nosniff"
    if headers["content-type"] == "application/json":
        return json.loads(body)
    page = BeautifulSoup(body, "html.parser")
    return status, page.h1.get_text(" ", strip=True)


LONG_LINE = 256 * 1024 + 64  # over search_web.MAX_TARGET_BYTES and the server's request-line limit
DETAIL_414 = "The address is longer than 262,144 bytes; a query can have up to 20,000 characters."
DETAIL_431 = "The request's header fields are too large."
DETAIL_400 = "The server could not read this request (a malformed request line or header)."
DETAIL_413 = "Requests carry no body here; this one is over 65,536 bytes."


@pytest.mark.parametrize(
    ("request_bytes", "expected"),
    [
        # Refused by gunicorn while reading (finding 6: once its own HTML 414 page, even under /api/).
        (b"GET /api/search?q=" + b"x" * LONG_LINE + b" HTTP/1.1\r\nHost: x\r\n\r\n",
         {"error": {"status": 414, "message": "Request URI Too Long", "detail": DETAIL_414}}),
        (b"GET /api/suggest?q=" + b"x" * 12 * LONG_LINE,  # the line does not end: 3 MB read and dropped
         {"error": {"status": 414, "message": "Request URI Too Long", "detail": DETAIL_414}}),
        (b"GET /search?q=" + b"x" * LONG_LINE + b" HTTP/1.1\r\nHost: x\r\n\r\n", (414, "414 · Request URI Too Long")),
        (b"GET /api/search?q=a HTTP/1.1\r\nHost: x\r\nCookie: " + b"c" * 9000 + b"\r\n\r\n",
         {"error": {"status": 431, "message": "Request Header Fields Too Large", "detail": DETAIL_431}}),
        (b"GET /api/search?q=a HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(120)) + b"\r\n",
         {"error": {"status": 431, "message": "Request Header Fields Too Large", "detail": DETAIL_431}}),
        (b"GET /doc/x HTTP/1.1\r\nHost: x\r\nCookie: " + b"c" * 9000 + b"\r\n\r\n",
         (431, "431 · Request Header Fields Too Large")),
        (b"GET /api/search?q=a b HTTP/1.1\r\nHost: x\r\n\r\n",
         {"error": {"status": 400, "message": "Bad Request", "detail": DETAIL_400}}),
        (b"GET /search?q=\x01 HTTP/1.1\r\nHost: x\r\n\r\n", (400, "400 · Bad Request")),
        (b"get /api/search?q=a HTTP/1.1\r\nHost: x\r\n\r\n",
         {"error": {"status": 400, "message": "Bad Request", "detail": DETAIL_400}}),
        # A request line with extra words before the target (the torture suite's fuzzer): the
        # target is the word that starts with "/", so the refusal keeps its route's shape.
        (b"GET GET /api/suggest?q=har HTTP/1.1\r\nHost: x\r\n\r\n",
         {"error": {"status": 400, "message": "Bad Request", "detail": DETAIL_400}}),
        (b"G E T /api/search?q=harbour HTTP/1.1\r\nHost: x\r\n\r\n",
         {"error": {"status": 400, "message": "Bad Request", "detail": DETAIL_400}}),
        (b"G E T /search?q=harbour HTTP/1.1\r\nHost: x\r\n\r\n", (400, "400 · Bad Request")),
        (b"GET /api/search?q=a HTTP/1.1\nHost: x\n\n",
         {"error": {"status": 400, "message": "Bad Request", "detail": DETAIL_400}}),
        (b"GET /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         {"error": {"status": 400, "message": "Bad Request", "detail": DETAIL_400}}),
        (b"GET /api/search HTTP/1.1\r\nHost: x\r\nExpect: 100-nonsense\r\n\r\n",
         {"error": {"status": 417, "message": "Expectation Failed",
                    "detail": "The server cannot meet this request's Expect header."}}),
        # Refused by the app: a target just over its limit (the server lets a few more bytes in
        # for the method and version), a body over its limit.
        (b"GET /api/search?q=" + b"x" * (256 * 1024 - 10) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
         {"error": {"status": 414, "message": "Request URI Too Long", "detail": DETAIL_414}}),
        (b"POST /api/search?q=a HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n" + b"z" * 70000,
         {"error": {"status": 413, "message": "Request Entity Too Large", "detail": DETAIL_413}}),
        (b"GET /search?q=a HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n" + b"z" * 70000,
         (413, "413 · Request Entity Too Large")),
    ],
)  # fmt: skip
def test_the_servers_own_errors_have_the_apps_shape(served: int, request_bytes: bytes, expected: Any) -> None:
    status, headers, body = raw_request(served, request_bytes)
    error = _error_of(status, headers, body)
    assert (status, error) == (expected["error"]["status"] if isinstance(expected, dict) else expected[0], expected)


def test_limits_hold_without_gunicorn(client: Any) -> None:
    """The app's own limits, whatever server runs it (here Werkzeug's test client)."""
    resp = client.get("/api/search?q=" + "x" * (256 * 1024))
    assert (resp.status_code, resp.get_json()) == (
        414,
        {"error": {"status": 414, "message": "Request URI Too Long", "detail": DETAIL_414}},
    )
    resp = client.get("/search", data=b"z" * 70_000)
    assert (resp.status_code, soup(resp).h1.get_text(" ", strip=True)) == (413, "413 · Request Entity Too Large")
    assert client.get("/api/search?q=" + "x" * (256 * 1024 - 20)).status_code == 400  # the query's own limit


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_stylesheet_colours_meet_wcag_aa() -> None:
    import re

    css = (Path(__file__).resolve().parent.parent / "search_web" / "static" / "style.css").read_text()
    var = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    pairs = [  # (text, background) as the stylesheet uses them
        ("ink", "#ffffff"), ("muted", "#ffffff"), ("link", "#ffffff"), ("link", "#e3ecf5"), ("ink", "#e3ecf5"),
        ("muted", "#f3f5f7"), ("ink", var["mark"]), ("link", "#fff7e0"), ("ink", "#fef3f2"), ("#2f6b3a", "#ffffff"),
        ("#ffffff", var["accent"]),
    ]  # fmt: skip
    for fg, bg in pairs:
        a, b = _luminance(var.get(fg, fg)), _luminance(var.get(bg, bg))
        ratio = (max(a, b) + 0.05) / (min(a, b) + 0.05)
        assert ratio >= 4.5, (fg, bg, round(ratio, 2))


def test_filters_in_urls_forgive_case_and_chips_show_the_documents_spelling(client: Any) -> None:
    lower = client.get("/api/search?q=harbour&section=history").get_json()
    upper = client.get("/api/search?q=harbour&section=HISTORY").get_json()
    assert [h["doc_id"] for h in lower["hits"]] == [h["doc_id"] for h in upper["hits"]] != []
    page = soup(client.get("/search?q=harbour&section=history"))
    assert [c.get_text(" ", strip=True) for c in page.select(".chips li a:not(.clear)")] == ["Section: History ×"]
    # The sidebar's link switches the value off however it was typed.
    selected = page.select_one(".facet a.selected")
    assert selected["href"] == "/search?q=harbour"


def test_labels_read_as_words() -> None:
    from search_web.labels import date_label, doc_type_label, facet_label, language_name, own_words

    assert [language_name(c) for c in ("en", "fr", "hy", "pt-BR", "und", "zz-unknown")] == [
        "English", "French", "Armenian", "Brazilian Portuguese", "Unknown language", "zz-unknown",
    ]  # fmt: skip
    assert [doc_type_label(t) for t in ("wikitext", "html", "plain", "markdown", "mediawiki", "pdf")] == [
        "Wiki article", "Web page", "Plain text", "Markdown note", "Wiki export", "Pdf",
    ]  # fmt: skip
    assert [date_label(v) for v in ("2022-09", "2022", "2022-09-12", "2021-05-12..present", "..2021", "2021-03-02T10:15:00Z")] == [
        "September 2022", "2022", "12 September 2022", "12 May 2021 – present", "… – 2021", "2 March 2021, 10:15 UTC",
    ]  # fmt: skip
    assert [facet_label("month", "2022-09"), facet_label("language", "fr"), facet_label("section", "Lead")] == [
        "September 2022", "French", "Lead",
    ]  # fmt: skip
    assert own_words("12 May 2021 – present , ()") == "12 May 2021 – present"
    assert own_words(", (1 day)") == "(1 day)"


@given(st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)))
def test_every_iso_day_reads_as_day_month_year(day: date) -> None:
    from search_web.labels import date_label

    assert date_label(day.isoformat()) == f"{day.day} {day.strftime('%B')} {day.year}"
    assert date_label(day.isoformat()[:7]) == f"{day.strftime('%B')} {day.year}"


def test_counts_are_said_in_the_singular_for_one() -> None:
    from indexer.wording import plural, span_of

    assert [plural(1, "file"), plural(0, "file"), plural(2, "entry", "entries"), plural(1234, "document")] == [
        "1 file", "0 files", "2 entries", "1,234 documents",
    ]  # fmt: skip
    assert [span_of(1, 1, 1, "document"), span_of(1, 10, 42, "document"), span_of(41, 2, 42, "document"),
            span_of(42, 1, 42, "document"), span_of(1, 0, 0, "document")] == [
        "1 document", "1–10 of 42 documents", "41–42 of 42 documents", "42 of 42 documents", "0 documents",
    ]  # fmt: skip


def test_document_page_reads_as_words(client: Any, web_index: Path) -> None:
    ferries = soup(client.get(f"/doc/{doc_id_titled(web_index, 'Salt estuary ferries')}"))
    facts = dict(zip([d.get_text() for d in ferries.select(".facts dt")], ferries.select(".facts dd"), strict=True))
    assert [facts["Language"].get_text(), facts["Type"].get_text()] == ["English", "Wiki export"]
    assert str(facts["Revision"].time) == '<time datetime="2023-05-09">9 May 2023</time>'  # a timestamp, as words
    # Version links say the number and the date, not the text's hash.
    rows = [
        [td.get_text(" ", strip=True) for td in tr.find_all("td")][:2] for tr in ferries.select("#versions tbody tr")
    ]
    assert rows == [
        ["Version 1", "2 March 2021, 10:15 UTC"],
        ["Version 2", "18 July 2022, 16:40 UTC"],
        ["Version 3 (latest)", "9 May 2023, 09:05 UTC"],
    ]
    timeline = ferries.select_one("#versions svg.timeline")
    assert [a["aria-label"] for a in timeline.find_all("a")] == [
        "Version 1, 2 March 2021, 10:15 UTC", "Version 2, 18 July 2022, 16:40 UTC",
        "Version 3, 9 May 2023, 09:05 UTC (this page)",
    ]  # fmt: skip
    # Infobox dates in the document's words, the date as read in the tooltip.
    bridge = soup(client.get(f"/doc/{doc_id_titled(web_index, 'Old Harbour Bridge of Velmora')}"))
    opened = next(tr for tr in bridge.select("table.infobox tr") if tr.th.get_text() == "Opened")
    assert str(opened.td.time) == '<time datetime="1931-06-14">14 June 1931</time>'
    ended = next(tr for tr in ferries.select("table.infobox tr") if tr.th.get_text() == "Ended")
    assert str(ended.td.time) == '<time datetime="1934-09-30">30 September 1934</time>'


def test_compare_page_folds_unchanged_sections_into_one_line(client: Any, web_index: Path) -> None:
    doc = doc_id_titled(web_index, "Old Harbour Bridge of Velmora")
    page = soup(client.get(f"/doc/{doc}/compare?a=1&b=2"))
    runs = page.select("main details.unchanged-run")
    assert runs and all(not d.has_attr("open") for d in runs)
    said = [d.summary.find(string=True, recursive=False).strip() for d in runs]
    assert all(re.fullmatch(r"1 section unchanged|[2-9]\d* sections unchanged", s) for s in said), said
    folded = [s for d in runs for s in d.select("section.cmp")]
    assert folded and all("s-unchanged" in s["class"] for s in folded)
    assert not page.select("main > section.cmp.s-unchanged")  # every unchanged section is in a fold
    status = page.select_one("main p[role=status]").get_text(" ", strip=True)
    assert not re.search(r"\b1 \w+s\b", status) and " 0 " not in status, status
    # A deletion in the new text is a plain mark with words for screen readers, no symbol.
    side = soup(client.get(f"/doc/{doc}/compare?a=2&b=1"))
    assert side.select("del.gap")
    for gap in side.select("del.gap"):
        assert gap.get_text().startswith("deleted: ") and gap.span["class"] == ["visually-hidden"]


def test_year_chart_keeps_every_bar_clickable_over_any_span() -> None:
    from indexer.search.facets import FacetCount
    from search_web.charts import year_chart

    def years(*pairs: tuple[int, int]) -> list[FacetCount]:
        return [FacetCount(str(y), str(y), n, y == 2022) for y, n in pairs]

    link = lambda v: f"/y/{v}"  # noqa: E731
    span = lambda lo, hi: f"/r/{lo}-{hi}"  # noqa: E731
    # A short span: a slot for every year; a year without documents is a stub, not a link.
    short = year_chart(years((2020, 2), (2022, 4)), link, span)
    assert [(b.label, b.url, b.selected) for b in short.bars] == [
        ("2020: 2 documents", "/y/2020", False), ("2021", None, False), ("2022: 4 documents (selected)", "/y/2022", True),
    ]  # fmt: skip
    assert [t.text for t in short.ticks] == ["2020", "2022"]  # labels that would overlap are left out
    # A long span: the years that have documents, with a gap where years are skipped.
    long = year_chart(years((1862, 1), (1931, 3), (1932, 1)), link, span)
    assert [b.url for b in long.bars] == ["/y/1862", "/y/1931", "/y/1932"]
    gaps = [round(b.x - a.x, 1) for a, b in zip(long.bars, long.bars[1:], strict=False)]
    assert gaps == [18.0, 12.0]  # half a slot more before 1931
    # Hundreds of years: a bar per decade, each searching its date range, as tall as its busiest year.
    many = year_chart(years(*[(y, 1 + (y == 1995)) for y in range(1800, 2000)]), link, span)
    assert (many.title, len(many.bars)) == ("Documents by decade", 20)
    assert [(b.label, b.url) for b in many.bars[-2:]] == [
        ("1980s (1980–1989): up to 1 document a year", "/r/1980-1989"),
        ("1990s (1990–1999): up to 2 documents a year", "/r/1990-1999"),
    ]
    assert many.bars[-1].height == 2 * many.bars[-2].height


def test_a_selected_year_without_documents_is_drawn(client: Any) -> None:
    # The filter may name a year nothing matches: its bar is a stub, the page is not an error.
    from indexer.search.facets import FacetCount
    from search_web.charts import year_chart

    chart = year_chart([FacetCount("1936", "1936", 0, True)], lambda v: f"/y/{v}")
    assert [(b.label, b.selected) for b in chart.bars] == [("1936: 0 documents (selected)", True)]
    assert client.get("/search?q=ceasefire&year=1936").status_code == 200
    assert client.get("/search?year=1936&versions=latest&section=%E0%B8%93").status_code == 200
