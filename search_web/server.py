"""`palimpsest serve`: the app under gunicorn, one process per core, a few threads each.

Searching is CPU-bound Python, so one process serves one request at a time however many
threads it has; processes make the cores work in parallel (bench/web_latency.py). The app is
loaded once and forked; each worker opens its own index readers and SQLite connection on first
use and warms its record table before it takes requests.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from indexer.search import SearchRequest

from . import create_app


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def _warm(worker: Any, ready: Any, url: str) -> None:
    # Before its first visitor, each worker loads its record table (the indexer's snapshot),
    # reads the posting lists of the most frequent words, which cost the most to read the first
    # time a query uses them, and runs one search through every stage (snippets, suggestions).
    # The first worker to finish says the server is ready: it takes requests from then on.
    searcher = worker.app.application.extensions["palimpsest"].searcher()
    searcher.search(SearchRequest(q=""))
    searcher.engine.warm()
    searcher.search(SearchRequest(q="warm up serch"))
    with ready.get_lock():
        if not ready.value:
            ready.value = 1
            print(f"Palimpsest: ready on {url}", flush=True)


def serve(index_dir: str | Path, host: str = "127.0.0.1", port: int = 8000, workers: int = 2, threads: int = 4) -> None:
    """Run until interrupted."""
    app = create_app({"INDEX_DIR": str(index_dir)})
    ready = multiprocessing.Value("b", 0)  # shared with the forked workers
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "preload_app": True,
        "post_worker_init": lambda worker: _warm(worker, ready, f"http://{host}:{port}/"),
        "timeout": 120,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        # A pasted query of up to 20,000 characters travels in the URL (three times as long once
        # percent-encoded); gunicorn refuses request lines over 4,094 bytes unless told otherwise.
        "limit_request_line": 0,
    }
    _Server(app, options).run()
