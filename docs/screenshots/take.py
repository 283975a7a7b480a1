"""Screenshots of the web UI for the README: index corpus/, serve it, photograph five pages.

Usage: python docs/screenshots/take.py [--chromium /usr/bin/chromium]
Writes search.png, facets.png, document.png, compare.png and help.png next to this file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chromium", default="/usr/bin/chromium", help="the browser to drive")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    from waitress.server import create_server

    from indexer.pipeline import index_paths
    from indexer.settings import Settings
    from indexer.store import Store
    from search_web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "ix"
        index_paths([ROOT / "corpus"], Settings(index_dir=index_dir, workers=1))
        store = Store(index_dir)
        bridge = next(d["doc_id"] for d in store.documents() if d["title"].startswith("Old Harbour Bridge"))
        store.close()
        app = create_app({"INDEX_DIR": str(index_dir)})
        srv = create_server(app, host="127.0.0.1", port=0, threads=2)
        threading.Thread(target=srv.run, daemon=True).start()
        base = f"http://127.0.0.1:{srv.effective_port}"
        shots = {
            "search.png": "/search?q=harbour+bridge",
            "facets.png": "/search?q=harbour&year=1931&doc_type=wikitext&doc_type=mediawiki",
            "document.png": f"/doc/{bridge}?q=tram",
            "compare.png": f"/doc/{bridge}/compare?a=1&b=2",
            "help.png": "/help",
        }
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            for name, url in shots.items():
                page.goto(base + url)
                page.screenshot(path=str(HERE / name))
                print(f"{HERE / name}  <-  {url}")
            browser.close()
        srv.close()
        app.extensions["palimpsest"].close()


if __name__ == "__main__":
    main()
