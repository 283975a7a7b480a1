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
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium)"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
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
    page.locator(".facet a", has_text="plain").first.click()
    page.wait_for_url("**doc_type=plain*")
    assert "Type: plain" in page.locator(".chips").inner_text()
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
    injected = "document.querySelectorAll('img, svg, iframe, script:not([src]), [onerror], [onload]').length"
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
