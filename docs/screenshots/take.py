"""Screenshots of every page at desktop and phone widths: `make screenshots` (indexes corpus/ first).

    python docs/screenshots/take.py INDEX_DIR [OUT_DIR]

Serves the app from this checkout with waitress and drives Chromium through Playwright
($PALIMPSEST_CHROMIUM or /usr/bin/chromium); writes NAME-desktop.png (1366×900) and
NAME-phone.png (390×844) into OUT_DIR (default: this folder). Documents are found by title in
the index, so the pictures show our own sample corpus.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from waitress.server import create_server  # noqa: E402

from indexer.store import Store  # noqa: E402
from search_web import create_app  # noqa: E402

SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


def doc_id(index_dir: Path, title: str) -> str:
    store = Store(index_dir)
    try:
        return next(d["doc_id"] for d in store.documents() if d["title"] == title)
    finally:
        store.close()


def pages(index_dir: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    """(name, URL, sizes): what each screenshot shows."""
    ferries = doc_id(index_dir, "Salt estuary ferries")
    bridge = doc_id(index_dir, "Old Harbour Bridge of Velmora")
    return [
        ("search", "/search?q=harbour", ("desktop", "phone")),
        ("search-filters", "/search?q=harbour&year=1931#filters", ("phone",)),
        ("document", f"/doc/{ferries}", ("desktop", "phone")),
        ("versions", f"/doc/{ferries}#versions", ("desktop", "phone")),
        ("compare", f"/doc/{bridge}/compare?a=1&b=2", ("desktop", "phone")),
        ("help", "/help", ("desktop", "phone")),
    ]


def main() -> None:
    index_dir = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parent
    app = create_app({"INDEX_DIR": str(index_dir)})
    srv = create_server(app, host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=srv.run, daemon=True).start()
    base = f"http://127.0.0.1:{srv.effective_port}"
    chromium = os.environ.get("PALIMPSEST_CHROMIUM", "/usr/bin/chromium")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            for size, (width, height) in SIZES.items():
                ctx = browser.new_context(viewport={"width": width, "height": height}, is_mobile=size == "phone")
                page = ctx.new_page()
                for name, url, sizes in pages(index_dir):
                    if size not in sizes:
                        continue
                    page.goto(base + url)
                    page.wait_for_load_state("networkidle")
                    path = out / f"{name}-{size}.png"
                    page.screenshot(path=str(path))
                    wide = page.evaluate("document.documentElement.scrollWidth")
                    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {url}  width {wide}")
                ctx.close()
            browser.close()
    finally:
        srv.close()
        app.extensions["palimpsest"].close()


if __name__ == "__main__":
    main()
