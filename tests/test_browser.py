"""End to end in real headless Chromium (Debian's `chromium`, driven by Playwright) against waitress.

.ci/run installs the browser; without /usr/bin/chromium (or $PALIMPSEST_CHROMIUM) these tests skip.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from indexer.pipeline import index_paths
from search_web import create_app
from tests.conftest import CORPUS, SEEDS, settings_for
from tests.test_web import XSS_TITLE, write_xss_docs

CHROMIUM = os.environ.get("PALIMPSEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium)"
    ),
    pytest.mark.usefixtures("engine"),
]


@pytest.fixture(scope="module")
def server(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from waitress.server import create_server

    root = tmp_path_factory.mktemp("browser")
    write_xss_docs(root / "xss")
    folders = [CORPUS, root / "xss"] + ([SEEDS] if SEEDS.is_dir() else [])
    index_paths(folders, settings_for(root / "ix"))
    app = create_app({"INDEX_DIR": str(root / "ix")})
    srv = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}"
    srv.close()
    app.extensions["palimpsest"].close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.dialogs = dialogs
    pg.console_errors = errors
    yield pg
    assert dialogs == [], f"a dialog opened: {dialogs}"
    assert errors == [], f"console errors (CSP violations included): {errors}"
    ctx.close()


def test_search_facet_page_document_and_toc(server: str, page: Any) -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"../shared/seeds not found at {SEEDS}")
    page.goto(server + "/")
    page.fill("#q", "Azerbaijan")
    page.press("#q", "Enter")
    page.wait_for_url("**/search?q=Azerbaijan*")
    assert page.locator("li.hit").count() >= 3
    total = page.locator(".summary .meta").inner_text()
    # A facet: the plain-text type.
    page.locator(".facet a", has_text="Plain text").first.click()
    page.wait_for_url("**doc_type=plain*")
    assert "Type: Plain text" in page.locator(".chips").inner_text()
    assert page.locator(".summary .meta").inner_text() != total
    page.go_back()  # the URL holds the state: back restores the unfiltered list
    page.wait_for_url("**/search?q=Azerbaijan")
    assert page.locator(".chips").count() == 0
    # Page forward.
    page.goto(server + "/search?q=Azerbaijan&limit=2")
    first = page.locator("li.hit h2").all_inner_texts()
    page.locator("a[rel=next]").click()
    page.wait_for_url("**page=2*")
    second = page.locator("li.hit h2").all_inner_texts()
    assert second and not set(first) & set(second)
    # Open a document and follow a table-of-contents anchor.
    page.goto(server + "/search?q=Azerbaijan")
    page.locator("li.hit h2 a", has_text="offensive").first.click()
    page.wait_for_selector("nav.toc")
    link = page.locator("nav.toc ol a").nth(2)
    target = link.get_attribute("href")
    link.click()
    page.wait_for_url("**" + target)
    assert page.locator(f"[id='{target[1:]}']").is_visible()
    top = page.evaluate(f"document.getElementById({target[1:]!r}).getBoundingClientRect().top")
    assert 0 <= top < 200  # scrolled to it


def test_keyboard_only(server: str, page: Any) -> None:
    page.goto(server + "/search?q=harbour")
    page.locator("body").click(position={"x": 5, "y": 400})  # nothing focused in a field
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.press("Control+A")
    page.keyboard.type("bridge")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=bridge")
    # Tab through the page until the first result's link has focus, then open it with Enter.
    first_title = page.locator("li.hit h2 a").first.inner_text()
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('li.hit h2') !== null"):
            break
    else:
        pytest.fail("the first result is not reachable with Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Enter")
    page.wait_for_selector("article h1")
    assert page.locator("article h1").inner_text() == first_title


def test_search_box_offers_completions(server: str, page: Any) -> None:
    page.goto(server + "/")
    page.locator("#q").press_sequentially("harb")
    page.locator("#q-suggestions option").first.wait_for(state="attached")
    values = page.eval_on_selector_all("#q-suggestions option", "els => els.map(e => e.value)")
    assert values[0] == "harbour" and all(v.lower().startswith("harb") for v in values)
    assert page.locator("#q").get_attribute("list") == "q-suggestions"


def test_opensearch_link(server: str, page: Any) -> None:
    page.goto(server + "/")
    href = page.locator("link[rel=search]").get_attribute("href")
    resp = page.request.get(server + href)
    assert resp.ok and resp.headers["content-type"].startswith("application/opensearchdescription+xml")
    assert f"{server}/search?q={{searchTerms}}" in resp.text()
    suggestions = page.request.get(server + "/api/suggest?q=harb&format=opensearch").json()
    assert suggestions[0] == "harb" and "harbour" in suggestions[1]


def test_script_payloads_do_nothing(server: str, page: Any) -> None:
    injected = (
        "document.querySelectorAll('img, svg:not(.chart):not(.timeline), iframe, script:not([src]), [onerror],"
        " [onload]').length"
    )
    for url in ("/search?q=quay", "/search?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E%20quay", "/"):
        page.goto(server + url)
        assert page.evaluate(injected) == 0, url
    page.goto(server + "/search?q=quay")
    page.locator("li.hit h2 a", has_text="Quay").first.click()
    page.wait_for_selector("article h1")
    assert page.locator("article h1").inner_text() == XSS_TITLE
    assert page.evaluate(injected) == 0
    # Dialogs are checked by the fixture: none may open.


def test_compare_page_views_and_keyboard(server: str, page: Any) -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"../shared/seeds not found at {SEEDS}")
    page.goto(server + "/search?q=Jermuk&versions=all")
    link = page.locator("li.hit a", has_text="versions").first
    link.click()
    page.wait_for_selector("#versions")
    page.locator("form.compare button").click()  # the version list's form: the two latest versions
    page.wait_for_selector(".cmp-list")
    assert "/compare?" in page.url
    badges = page.locator(".cmp-list .badge").all_inner_texts()
    assert "added" in badges and "changed" in badges
    assert page.locator(".pair").count() > 0  # side by side
    assert page.locator("ins", has_text="7600").count() >= 1
    # Switch to the inline view.
    page.locator("input[name=view][value=inline]").check()
    page.locator("form.compare button").click()
    page.wait_for_url("**view=inline*")
    assert page.locator(".pair").count() == 0 and page.locator("main del").count() > 0
    # Keyboard: n, n, p walk the changes.
    page.locator("h1").click()
    # The page's own location is read: Playwright's page.url follows
    # history.replaceState only after an asynchronous event (a race seen in CI).
    for key, expected in (("n", "#change-1"), ("n", "#change-2"), ("p", "#change-1")):
        page.keyboard.press(key)
        assert page.evaluate("location.hash") == expected
    assert page.evaluate("document.activeElement.id") == "change-1"
    page.wait_for_url("**#change-1")


PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.console_errors = errors
    yield pg
    assert errors == [], f"console errors: {errors}"
    ctx.close()


def _doc_id(server: str, page: Any, title: str) -> str:
    hits = page.request.get(server + "/api/search", params={"q": title, "limit": "50"}).json()["hits"]
    return next(h["doc_id"] for h in hits if h["title"] == title)


def _version_id(server: str, page: Any, doc_id: str, number: int) -> str:
    return page.request.get(server + f"/api/documents/{doc_id}/versions").json()[number - 1]["version_id"]


def _sideways(page: Any) -> list[int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def test_phone_layout_results_first_filters_folded_nothing_scrolls_sideways(server: str, phone: Any) -> None:
    q = "Azerbaijan" if SEEDS.is_dir() else "harbour"
    phone.goto(server + f"/search?q={q}")
    # Results first: the first result starts on the first screen; the filters are one folded line.
    filters = phone.locator("details.filters")
    assert filters.evaluate("d => d.open") is False
    assert phone.locator("details.filters > summary").text_content().strip().startswith("Filters")
    first = phone.locator("li.hit").first.bounding_box()
    assert first is not None and first["y"] < PHONE["height"] * 0.6
    assert phone.locator(".facet ul a").first.is_visible() is False
    width, inner = _sideways(phone)
    assert width <= inner, f"the search page is {width} px wide on a {inner} px screen"
    # Unfolded, every facet count and chart fits the screen.
    phone.locator("details.filters > summary").click()
    assert phone.locator(".facet ul a").first.is_visible()
    for box in phone.locator(".facet .count, svg.chart").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect()).map(r => [r.left, r.right])"
    ):
        assert box[0] >= 0 and box[1] <= PHONE["width"], box
    assert _sideways(phone)[0] <= PHONE["width"]
    # Every other page: no sideways scrolling either.
    ferries = _doc_id(server, phone, "Salt estuary ferries")
    urls = [
        "/",
        "/help",
        "/search?q=%28%28%28",  # a query that cannot run
        "/search?q=nothingmatchesthis",
        f"/doc/{ferries}",
        f"/doc/{ferries}/compare?a=1&b=latest",
        f"/doc/{ferries}/compare?a=1&b=3&view=inline",
        f"/doc/{ferries}/v/{_version_id(server, phone, ferries, 2)}?new=1",
    ]
    if SEEDS.is_dir():
        clashes = _doc_id(server, phone, "September 2022 Armenia–Azerbaijan clashes")
        urls += [f"/doc/{clashes}", f"/doc/{clashes}/compare", "/search?q=Genocide+Watch&year=2022"]
    for url in urls:
        phone.goto(server + url)
        width, inner = _sideways(phone)
        assert width <= inner, f"{url} is {width} px wide on a {inner} px screen"
        if "%28" in url:  # the browser reports the 400 status itself; nothing else may be logged
            assert phone.console_errors == [
                "Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"
            ]
            phone.console_errors.clear()
        toc = phone.locator("nav.toc details")
        if toc.count():
            assert toc.evaluate("d => d.open") is False, url  # the contents fold on a phone too


def test_keyboard_skip_link_reaches_the_first_result_and_j_k_move(server: str, page: Any) -> None:
    page.goto(server + "/search?q=harbour")
    # The first Tab reaches the skip link; following it puts the next Tab on the first result,
    # not on the sidebar's facet links.
    page.keyboard.press("Tab")
    assert page.evaluate("[document.activeElement.className, document.activeElement.textContent]") == [
        "skip",
        "Skip to results",
    ]
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "results"
    page.keyboard.press("Tab")
    titles = page.locator("li.hit h2 a").all_inner_texts()
    assert len(titles) >= 3
    assert (
        page.evaluate("document.activeElement.closest('li.hit h2') && document.activeElement.textContent") == titles[0]
    )
    # The facets come after the results in the tab order.
    order = page.evaluate(
        "(() => { const all = [...document.querySelectorAll('a[href], button, input, select, summary')];"
        " return [all.indexOf(document.querySelector('li.hit h2 a')), all.indexOf(document.querySelector('.facet ul a'))]; })()"
    )
    assert order[0] < order[1]
    # j and k walk the results, from wherever the focus is.
    focused = "document.activeElement.textContent"
    page.keyboard.press("j")
    assert page.evaluate(focused) == titles[1]
    page.keyboard.press("j")
    assert page.evaluate(focused) == titles[2]
    page.keyboard.press("k")
    assert page.evaluate(focused) == titles[1]
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    page.wait_for_selector("article h1")
    assert page.locator("article h1").inner_text() == titles[1]
    # In the search box j and k are letters.
    page.goto(server + "/search?q=harbour")
    page.locator("#q").click()
    page.keyboard.press("End")
    page.keyboard.type(" jk")
    assert page.locator("#q").input_value() == "harbour jk"


def test_date_chart_filters_and_version_timeline(server: str, page: Any) -> None:
    page.goto(server + "/search?q=bridge")
    bars = page.locator("svg.chart-year a")
    assert bars.count() >= 2
    year = page.locator("details.months > summary").first.text_content().split()[-1]  # a year with months
    assert page.locator("svg.chart-year").is_visible()
    page.locator(f"svg.chart-year a[aria-label^='{year}:']").click()  # a bar is a link: no script needed
    page.wait_for_url(f"**year={year}*")
    assert f"Year: {year}" in page.locator(".chips").inner_text()
    assert page.locator("svg.chart-year a[aria-current=true]").get_attribute("aria-label").startswith(year)
    # A year's months: a chart of twelve, its bars named by month and year.
    months = page.locator("details.months").first
    if not months.evaluate("d => d.open"):
        months.locator("summary").click()
    month = months.locator("svg.chart-month a").first
    name = month.get_attribute("aria-label").split(":")[0]  # "September 2022"
    assert len(name.split()) == 2 and name.split()[1].isdigit()
    month.click()
    page.wait_for_url("**month=*")
    assert f"Month: {name}" in page.locator(".chips").inner_text()
    # The version timeline: three dated revisions, spaced in proportion to the time between them.
    ferries = _doc_id(server, page, "Salt estuary ferries")
    page.goto(server + f"/doc/{ferries}")
    stops = page.locator("svg.timeline a")
    assert stops.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))") == [
        "Version 1, 2 March 2021, 10:15 UTC",
        "Version 2, 18 July 2022, 16:40 UTC",
        "Version 3, 9 May 2023, 09:05 UTC (this page)",
    ]
    xs = stops.evaluate_all("els => els.map(e => e.querySelector('.dot').getBoundingClientRect().x)")
    ratio = (xs[1] - xs[0]) / (xs[2] - xs[1])
    assert abs(ratio - 503 / 295) < 0.05, ratio  # 503 days, then 295
    assert stops.nth(2).get_attribute("aria-current") == "page"
    stops.first.click()
    page.wait_for_selector(".notice")
    assert "version 1 of 3" in page.locator(".notice").inner_text()
    assert page.locator("svg.timeline a[aria-current=page]").get_attribute("aria-label").startswith("Version 1,")
