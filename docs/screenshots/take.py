"""Screenshots of every page at desktop and phone widths, for the README: `make screenshots`.

    python docs/screenshots/take.py [--index-dir DIR] [--out DIR] [--chromium PATH]

Indexes corpus/ into a temporary folder (or uses --index-dir), serves the app from this checkout
with waitress and drives Chromium through Playwright; writes NAME-desktop.png (1366×900) and
NAME-phone.png (390×844) next to this file (or into --out). Documents are found by title, so the
pictures show our own sample corpus.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from waitress.server import create_server  # noqa: E402

from indexer.pipeline import index_paths  # noqa: E402
from indexer.settings import Settings  # noqa: E402
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
        ("filters", "/search?q=harbour&year=1931&doc_type=wikitext&doc_type=mediawiki", ("desktop",)),
        ("filters", "/search?q=harbour&year=1931#filters", ("phone",)),
        ("document", f"/doc/{ferries}", ("desktop", "phone")),
        ("versions", f"/doc/{ferries}#versions", ("desktop", "phone")),
        ("compare", f"/doc/{bridge}/compare?a=1&b=2", ("desktop", "phone")),
        ("help", "/help", ("desktop", "phone")),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index-dir", type=Path, help="an index to photograph (default: corpus/, indexed afresh)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="where the PNGs go")
    ap.add_argument("--chromium", default="/usr/bin/chromium", help="the browser to drive")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = args.index_dir
        if index_dir is None:
            index_dir = Path(tmp) / "ix"
            index_paths([ROOT / "corpus"], Settings(index_dir=index_dir, workers=1))
        shoot(index_dir, args.out, args.chromium)


def shoot(index_dir: Path, out: Path, chromium: str) -> None:
    app = create_app({"INDEX_DIR": str(index_dir)})
    srv = create_server(app, host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=srv.run, daemon=True).start()
    base = f"http://127.0.0.1:{srv.effective_port}"
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
                    print(f"{path.name}  {url}  page width {wide} px")
                ctx.close()
            browser.close()
    finally:
        srv.close()
        app.extensions["palimpsest"].close()


if __name__ == "__main__":
    main()
