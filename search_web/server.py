"""`palimpsest serve`: the app under gunicorn, one process per core, a few threads each.

Searching is CPU-bound Python, so one process serves one request at a time however many
threads it has; processes make the cores work in parallel (bench/web_latency.py). The app is
loaded once and forked; each worker opens its own index readers and SQLite connection on first
use and warms its record table before it takes requests.

Limits: the request line may be as long as the app accepts (MAX_TARGET_BYTES, beyond gunicorn's
own 8,190-byte ceiling) and no longer. What gunicorn refuses before the app sees a request (a
line too long: 414, header fields too large: 431, a malformed line or header: 400) is answered
by the app all the same, from a request made for it (search_web.SERVER_ERROR_KEY): JSON under
/api/, the HTML error page elsewhere, with the app's headers. `_Worker` is gunicorn's threaded
worker with its own request class for the line limit and its own error writer.
"""

from __future__ import annotations

import multiprocessing
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gunicorn.app.base import BaseApplication
from gunicorn.http import errors as http_errors
from gunicorn.http.message import Request
from gunicorn.http.parser import RequestParser
from gunicorn.workers.gthread import ThreadWorker
from werkzeug.test import EnvironBuilder

from indexer.search import SearchRequest

from . import LIMIT_DETAILS, MAX_TARGET_BYTES, SERVER_ERROR_KEY, create_app

# The request line is the target plus a method and a version: anything the app would accept
# passes, anything much longer is refused after at most this many bytes are read.
REQUEST_LINE_LIMIT = MAX_TARGET_BYTES + 32
_APP_FAULTS = tuple(
    getattr(http_errors, n) for n in ("InvalidResponseHeader", "InvalidResponseHeaderName") if hasattr(http_errors, n)
)
_STATUS_OF = (
    (http_errors.LimitRequestLine, 414),
    (http_errors.LimitRequestHeaders, 431),
    *((getattr(http_errors, name), status) for name, status in (
        ("UnsupportedTransferCoding", 501), ("ExpectationFailed", 417), ("InvalidRequestLine", 400),
        ("InvalidRequestMethod", 400), ("InvalidHTTPVersion", 400), ("InvalidHeader", 400), ("InvalidHeaderName", 400),
        ("ObsoleteFolding", 400), ("InvalidSchemeHeaders", 400),
    ) if hasattr(http_errors, name)),
)  # fmt: skip
LINGER_SECONDS = 2.0  # after a refusal, what the client is still sending is read and dropped...
LINGER_BYTES = 4 * 1024 * 1024  # ...for this long, up to this much, so that it gets the answer


class _Request(Request):  # type: ignore[misc]
    """gunicorn's request with the line limit above; a request it refuses keeps its target
    (`palimpsest_target` on the exception) so that the refusal has the shape of its route."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.palimpsest_line = b""
        try:
            super().__init__(*args, **kwargs)
        except http_errors.ParseException as exc:
            if not getattr(exc, "palimpsest_target", ""):
                exc.palimpsest_target = _target_in(self.palimpsest_line) or self.uri
            raise

    def read_line(self, unreader: Any, buf: Any, limit: int = 0) -> Any:
        try:
            line, rest = super().read_line(unreader, buf, REQUEST_LINE_LIMIT)
        except http_errors.ParseException as exc:
            exc.palimpsest_target = _target_in(bytes(buf.getvalue() if hasattr(buf, "getvalue") else buf)[:2048])
            raise
        self.palimpsest_line = line[:2048]
        return line, rest


class _Parser(RequestParser):  # type: ignore[misc]
    mesg_class = _Request


def _target_in(head: bytes) -> str:
    """The request target of a request line (however much of it was read): the first word after
    the method that reads as a target (`/path` or `scheme://...`), so a line with extra words
    (`GET GET /api/x`, `G E T /api/x`) keeps its route; else the second word."""
    words = head.split(b"\n", 1)[0].rstrip(b"\r").split(b" ")
    for word in words[1:]:
        if word.startswith(b"/") or b"://" in word:
            return word.decode("latin-1")
    return words[1].decode("latin-1") if len(words) > 1 else ""


def _path_of(target: str) -> str:
    try:
        return urlsplit(target).path or "/"
    except ValueError:
        return "/"


def _linger(sock: Any) -> None:
    """Read what the client still sends before the socket is closed: closing with unread data
    makes the kernel reset the connection, and the client may lose the answer before reading it."""
    sock.shutdown(socket.SHUT_WR)
    deadline = time.monotonic() + LINGER_SECONDS
    received = 0
    while received < LINGER_BYTES and (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, OSError):
            return
        if not chunk:
            return
        received += len(chunk)


class _Worker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker; refusals are written by the app (see the module docstring)."""

    def handle(self, conn: Any) -> Any:
        if conn.parser is None and not self.cfg.is_ssl:
            conn.parser = _Parser(self.cfg, conn.sock, conn.client)
        return super().handle(conn)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        status = None if isinstance(exc, _APP_FAULTS) else next((s for c, s in _STATUS_OF if isinstance(exc, c)), None)
        if status is None:
            return super().handle_error(req, client, addr, exc)
        target = getattr(req, "uri", None) or getattr(exc, "palimpsest_target", "") or ""
        try:
            data = self._app_answer(status, _path_of(target))
        except Exception:
            return super().handle_error(req, client, addr, exc)
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        try:
            client.sendall(data)
            _linger(client)
        except OSError:
            self.log.debug("Failed to send error message.")
        return None

    def _app_answer(self, status: int, path: str) -> bytes:
        """The app's response to a request for `path` that the server refused with `status`,
        as bytes to write (only whether `path` is under /api/ matters to the app)."""
        environ = EnvironBuilder(path="/api/" if path.startswith("/api/") else "/").get_environ()
        environ[SERVER_ERROR_KEY] = (status, LIMIT_DETAILS[status])
        started: list[Any] = []
        chunks = self.wsgi(environ, lambda s, h, exc_info=None: started.extend((s, h)))
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        line, headers = started
        kept = [(k, v) for k, v in headers if k.lower() not in ("content-length", "connection")]
        kept += [("Content-Length", str(len(body))), ("Connection", "close")]
        head = f"HTTP/1.1 {line}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept) + "\r\n"
        return head.encode("latin-1") + body


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if "http_parser" in self.cfg.settings:
            # The C parser (gunicorn_h1c, when installed) would bypass _Request's line limit.
            self.cfg.set("http_parser", "python")

    def load(self) -> Any:
        return self.application


def _warm(worker: Any, ready: Any, url: str) -> None:
    # Before its first visitor, each worker loads its record table (the indexer's snapshot),
    # reads the posting lists of the most frequent words, which cost the most to read the first
    # time a query uses them, loads the compiled loops on a large index (indexer/compiled.py),
    # and runs one search through every stage (snippets, suggestions).
    # The first worker to finish says the server is ready: it takes requests from then on.
    searcher = worker.app.application.extensions["palimpsest"].searcher()
    searcher.search(SearchRequest(q=""))
    searcher.warm()
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
        "worker_class": _Worker,
        "preload_app": True,
        "post_worker_init": lambda worker: _warm(worker, ready, f"http://{host}:{port}/"),
        "timeout": 120,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        # The request line is limited by _Request (REQUEST_LINE_LIMIT); this is gunicorn's own
        # ceiling, which _Request replaces.
        "limit_request_line": 8190,
    }
    _Server(app, options).run()
