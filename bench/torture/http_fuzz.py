"""Generated requests over every route and parameter of `palimpsest serve`, and the same hostile
values through the CLI.

    python -m bench.torture.http_fuzz [--short | --long] [--seed N] [--requests N] [--json]

The server is `palimpsest serve` (gunicorn, 2 workers, 4 threads) on an index of corpus/ and a
generated corpus; 4 client threads send raw HTTP/1.1 (so that broken encodings, over-long lines,
odd methods and headers reach the server as written). Requests: every route of the app (the
route table is checked against the app's own URL map), each parameter filled with a plausible
value (a word of the index, a facet value, a real document id) or a hostile one: long text (up to
25,000 characters), unicode (RTL, combining marks, emoji, NUL, lone surrogates, overlong and
invalid UTF-8), path traversal, dates like 0000 and 9999-99-99, huge and odd page numbers,
repeated parameters, broken percent-encoding, operators, unbalanced quotes and parentheses; and
requests malformed at the HTTP level (over-long lines, large headers and bodies, odd methods).

Every answer must: not be a 500 (or any 5xx but 501), carry the security headers, be JSON of the
error shape under /api/ and an HTML error page elsewhere when it is an error, parse when it is a
success (JSON, CSV, NDJSON), arrive within 30 s; an over-long request line is a 414. Latency
percentiles are reported per route. A fixed seed makes every request reproducible: a failure
lists the request. Exports are checked for cost: an export of 1,000 documents against one
search of 100 (finding 5).
"""

from __future__ import annotations

import contextlib
import csv
import http.client
import io
import itertools
import json
import queue
import random
import re
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import Progress, Report, arguments, emit, fresh_dir, palimpsest, percentile, run, served, work_dir
from .corpus import COMMON, write_corpus

FORMS = {"short": {"requests": 1000, "cli": 6}, "long": {"requests": 100_000, "cli": 150}}
SLOW_SECONDS = 30.0
CLIENTS = 4
LINE_LIMIT = 256 * 1024 + 32  # search_web.server.REQUEST_LINE_LIMIT

HOSTILE_TEXT = [
    "", " ", "\t", "a", "AND", "OR", "NOT", "+", "-", "*", "~", "(", ")", '"', "'", ":", "title:", "date:",
    '"unbalanced', "((((((((((harbour", "harbour))))", "a AND", "OR b", "NOT NOT NOT", "(a OR (b AND (c OR d)))",
    "*bour", "harb*", "x" * 300 + "*", "harbour~", "harbour~99", "title:(", 'heading:"', "section:", "lang:zz",
    "date:0000", "date:9999-99-99", "date:..", "date:2022-09-12..2022-09-14", "field:value", "_:_",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)", "{{7*7}}", "${7*7}",
    "../../../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/passwd", "file:///etc/passwd", "//evil.example",
    "\u202eevil\u202c", "e\u0301\u0301\u0301", "\u200b\u200b", "😀🙈", "橋の歴史", "مرحبا", "\ufeffbom", "\x00", "a\x00b",
    "\r\nSet-Cookie: x=1", "%", "%%", "\\", "'; DROP TABLE documents; --", "1' OR '1'='1", "\x7f", "\u0085",
    "Ω≈ç√∫", "ﬁ", "İstanbul", "ß", "Ⅻ", "１２３", "١٢٣", "ᅟ", "\U000e0041", "🏳️‍🌈",
]  # fmt: skip
RAW_BROKEN = ["%", "%G1", "%E2%82", "%ED%A0%80", "%C0%AF", "%FF%FE", "%u0041", "%%32%30", "%00", "%0d%0a", "%2e%2e%2f"]
DATES = [
    "0000", "0000-01", "0000-01-01", "0001", "9999", "9999-99-99", "9999-12-31", "10000", "2022", "2022-09",
    "2022-09-12", "2022-13-01", "2022-02-30", "2022-00", "-1", "1e9", "2022/09/12", "..", "2022..2023",
    "September 2022", "1890", " 2022 ", "٢٠٢٢", "2022-9-1", "+2022",
]  # fmt: skip
NUMBERS = ["0", "1", "2", "-1", "100", "101", "500", "501", "10" * 15, "1.5", " 2", "0x10", "١", "1_0", "+3", "NaN", ""]
SORTS = ["relevance", "date", "oldest", "DATE", "random", ""]
VERSIONS = ["latest", "all", "ALL", "none", ""]
REFS = ["1", "2", "latest", "0", "-1", "99999999999999999999", "first", "", "1 2"]
TRAVERSAL_PATHS = [
    "/../../etc/passwd", "/static/../../../etc/passwd", "/static/..%2f..%2f..%2fetc%2fpasswd", "/static/%2e%2e/app.py",
    "/static/..\\..\\app.py", "/%2e%2e/%2e%2e/etc/passwd", "/doc/..%2f..%2fetc%2fpasswd", "/api/documents/..%2f..",
    "//etc/passwd", "/static//etc/passwd", "/api/../search", "/search/..", "/.git/config", "/static/.%2e/.%2e/x",
    "/api/", "/api", "/doc/", "/doc", "/doc//v/", "/static/", "/favicon.ico", "/robots.txt", "/index.php",
    "/api/search/", "/SEARCH", "/api/search.CSV", "/api/search.json", "/%00", "/%ff", "/doc/%00/compare",
]  # fmt: skip
METHODS = ["GET"] * 40 + ["HEAD"] * 3 + ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "PROPFIND", "GETT"]


@dataclass
class Req:
    """One generated request: the bytes sent, and what is known about it for the checks."""

    family: str
    method: str
    target: str
    data: bytes
    over_long: bool = False
    finding: str | None = None  # a known finding this request may show


class Generator:
    """Requests from one seeded random source and what the index holds."""

    def __init__(self, seed: int, facts: dict[str, Any]) -> None:
        self.rng = random.Random(seed)
        self.facts = facts

    def pick(self, items: list[Any]) -> Any:
        return items[self.rng.randrange(len(items))]

    def text(self) -> str:
        """A query-like value, encoded for a URL (or raw broken encoding)."""
        r = self.rng.random()
        if r < 0.35:
            words = [self.pick(self.facts["words"]) for _ in range(self.rng.randint(1, 4))]
            return urllib.parse.quote(" ".join(words))
        if r < 0.6:
            return urllib.parse.quote(self.pick(HOSTILE_TEXT))
        if r < 0.7:
            return self.pick(RAW_BROKEN) + urllib.parse.quote(self.pick(self.facts["words"]))
        if r < 0.8:
            return urllib.parse.quote(
                f"{self.pick(self.facts['words'])} {self.pick(HOSTILE_TEXT)} {self.pick(HOSTILE_TEXT)}"
            )
        if r < 0.9:
            n = self.pick([100, 1000, 5000, 19_999, 20_000, 20_001, 25_000])
            unit = self.pick(["harbour ", "😀", "x", "橋 ", '"a" ', "(", "tide OR "])
            return urllib.parse.quote((unit * (n // len(unit) + 1))[:n])
        return urllib.parse.quote("".join(chr(self.rng.randint(1, 0x2FFF)) for _ in range(self.rng.randint(1, 40))))

    def facet_value(self, facet: str) -> str:
        values = self.facts["facets"].get(facet) or ["x"]
        if self.rng.random() < 0.6:
            return urllib.parse.quote(self.pick(values))
        return self.text()

    def value(self, param: str) -> str:
        if param == "q":
            return self.text()
        if param in ("from", "to"):
            return urllib.parse.quote(self.pick(DATES)) if self.rng.random() < 0.8 else self.text()
        if param in ("page", "limit"):
            return urllib.parse.quote(self.pick(NUMBERS)) if self.rng.random() < 0.85 else self.text()
        if param == "sort":
            return self.pick(SORTS)
        if param == "versions":
            return self.pick(VERSIONS)
        if param in ("a", "b"):
            r = self.rng.random()
            if r < 0.5:
                return self.pick(REFS)
            return self.pick(self.facts["version_ids"]) if r < 0.8 else self.text()
        if param == "version":
            return self.pick(self.facts["version_ids"]) if self.rng.random() < 0.6 else self.text()
        if param in ("view", "format"):
            return self.pick(["inline", "side", "opensearch", "json", "", "x" * 50])
        if param in ("new", "formatting", "thousands"):
            return self.pick(["1", "0", "true", "", "2"])
        facet = {"lang": "language"}.get(param, param)
        if facet in self.facts["facets"]:
            return self.facet_value(facet)
        return self.text()

    def query_string(self, params: list[str]) -> tuple[str, list[tuple[str, str]]]:
        pairs: list[tuple[str, str]] = []
        for p in self.rng.sample(params, self.rng.randint(0, min(len(params), 6))):
            for _ in range(2 if self.rng.random() < 0.1 else 1):  # repeated parameters
                pairs.append((p, self.value(p)))
        if self.rng.random() < 0.05:
            pairs.append((self.pick(["foo", "q[]", "", "=", "%00", "Q", "page "]), self.text()))
        if self.rng.random() < 0.03:
            return "&&=&" + "&".join(f"{k}={v}" for k, v in pairs) + "&", pairs
        return "&".join(f"{k}={v}" if self.rng.random() > 0.02 else k for k, v in pairs), pairs

    def doc_id(self) -> str:
        r = self.rng.random()
        if r < 0.75:
            return self.pick(self.facts["doc_ids"])
        return self.pick(["0" * 16, "x", "%00", "..%2F..%2Fetc", "a" * 3000, "%E2%80%AE", "%ZZ", "DEADBEEF", "-1"])

    def request(self) -> Req:
        family, path, params = self.pick(self.facts["routes"])
        if family == "traversal":
            path = self.pick(TRAVERSAL_PATHS)
        elif family == "static":
            path = "/static/" + self.pick(
                ["app.js", "style.css", "favicon.svg", "none.js", "%2e%2e%2fapp.py", "APP.JS"]
            )
        if "<doc_id>" in path:
            path = path.replace("<doc_id>", self.doc_id())
        if "<version_id>" in path:
            path = path.replace("<version_id>", self.pick(self.facts["version_ids"]))
        qs, pairs = self.query_string(params) if params else ("", [])
        target = path + ("?" + qs if qs else "")
        method = self.pick(METHODS) if self.rng.random() < 0.1 else "GET"
        finding = "1" if any(k in ("from", "to") and _year_zero(v) for k, v in pairs) else None
        headers = ["Host: 127.0.0.1", "User-Agent: torture"]
        if self.rng.random() < 0.05:
            headers.append(self.pick(["Accept: application/json", "Accept: */*", "Accept-Language: fr", "Cookie: a=b"]))
        body = b""
        if method in ("POST", "PUT", "PATCH") and self.rng.random() < 0.5:
            body = b"q=harbour" * self.rng.choice([1, 10_000])
            headers.append(f"Content-Length: {len(body)}")
        head = f"{method} {target} HTTP/1.1\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n"
        return Req(family, method, target, head.encode("latin-1", "replace") + body, finding=finding)

    def protocol_request(self) -> Req:
        """A request malformed at the HTTP level."""
        path = self.pick(["/api/search?q=harbour", "/search?q=harbour", "/api/suggest?q=har", "/doc/x", "/"])
        kind = self.rng.randrange(12)
        host = "Host: 127.0.0.1\r\n"
        if kind == 0:
            pad = "x" * (LINE_LIMIT + self.rng.randint(1, 2000))
            return Req(
                "protocol", "GET", path + pad, f"GET {path}{pad} HTTP/1.1\r\n{host}\r\n".encode(), over_long=True
            )
        if kind == 1:
            pad = "x" * self.rng.choice([1, 3]) * 1024 * 1024
            return Req("protocol", "GET", path + pad, f"GET {path}{pad}".encode(), over_long=True)
        if kind == 2:
            return Req("protocol", "GET", path, f"GET {path} HTTP/1.1\r\n{host}Cookie: {'c' * 9000}\r\n\r\n".encode())
        if kind == 3:
            many = "".join(f"X-{i}: {i}\r\n" for i in range(120))
            return Req("protocol", "GET", path, f"GET {path} HTTP/1.1\r\n{host}{many}\r\n".encode())
        if kind == 4:
            m = self.pick(["get", "G E T", "GET\x00", "\x16\x03\x01", "", "GET GET"])
            return Req("protocol", m, path, f"{m} {path} HTTP/1.1\r\n{host}\r\n".encode("latin-1"))
        if kind == 5:
            v = self.pick(["HTTP/9.9", "HTTP/1", "HTTPS/1.1", "HTTP/1.1 extra", "http/1.1", "HTTP/0.9"])
            return Req("protocol", "GET", path, f"GET {path} {v}\r\n{host}\r\n".encode())
        if kind == 6:
            return Req("protocol", "GET", path, f"GET {path} HTTP/1.0\r\n\r\n".encode())
        if kind == 7:
            return Req("protocol", "GET", path, f"GET http://evil.example{path} HTTP/1.1\r\n{host}\r\n".encode())
        if kind == 8:
            body = b"z" * 70_000
            return Req(
                "protocol",
                "POST",
                path,
                f"POST {path} HTTP/1.1\r\n{host}Content-Length: {len(body)}\r\n\r\n".encode() + body,
            )
        if kind == 9:
            te = self.pick(["Content-Length: 5\r\nTransfer-Encoding: chunked", "Transfer-Encoding: gzip", "Expect: 100-x",
                            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"])  # fmt: skip
            return Req("protocol", "POST", path, f"POST {path} HTTP/1.1\r\n{host}{te}\r\n\r\n0\r\n\r\n".encode())
        if kind == 10:
            return Req("protocol", "GET", path, f"GET {path}\x00\x01 HTTP/1.1\r\n{host}\r\n".encode())
        return Req("protocol", "GET", path, f"GET {path}/橋 HTTP/1.1\nHost: x\n\n".encode())


# The issue's own reproductions come first in every run.
FIXED = ["/api/search?from=0000", "/api/search?to=0000", "/search?from=0000", "/search?to=0000",
         "/api/search.csv?q=&from=0000", "/api/search?q=" + "x" * (LINE_LIMIT + 10)]  # fmt: skip


def _fixed(target: str) -> Req:
    data = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    over = len(target) > LINE_LIMIT - 20
    finding = "1" if "=0000" in target else None
    return Req("fixed", "GET", target, data, over_long=over, finding=finding)


def _year_zero(raw: str) -> bool:
    value = urllib.parse.unquote(raw, errors="replace").strip()
    return re.match(r"0000(\D|$)", value) is not None


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


def _exchange(sock: socket.socket, req: Req) -> Answer:
    started = time.monotonic()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(req.data)  # the server may refuse early: its answer still waits to be read
    resp = http.client.HTTPResponse(sock, method="HEAD" if req.method == "HEAD" else "GET")
    resp.begin()
    body = resp.read()
    resp.close()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    answer = Answer(resp.status, headers, body, time.monotonic() - started)
    answer.headers["x-torture-close"] = "1" if resp.will_close else ""
    return answer


class Client(threading.Thread):
    """Sends requests from a queue over one keep-alive connection at a time."""

    def __init__(self, port: int, todo: queue.Queue[Req | None], done: list[tuple[Req, Answer | str]]) -> None:
        super().__init__(daemon=True)
        self.port, self.todo, self.done = port, todo, done
        self.sock: socket.socket | None = None

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=SLOW_SECONDS)
        sock.settimeout(SLOW_SECONDS)
        return sock

    def run(self) -> None:
        while (req := self.todo.get()) is not None:
            outcome: Answer | str
            for attempt in (0, 1):
                reused = self.sock is not None
                try:
                    if self.sock is None:
                        self.sock = self.connect()
                    outcome = _exchange(self.sock, req)
                    if outcome.headers["x-torture-close"]:
                        self.close()
                    break
                except (OSError, http.client.HTTPException) as exc:
                    self.close()
                    outcome = f"{type(exc).__name__}: {exc}"
                    if not (reused and attempt == 0):  # a kept-alive connection the server closed: retry once
                        break
            self.done.append((req, outcome))
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def check(req: Req, outcome: Answer | str) -> tuple[str, Any] | None:
    """(check, detail) of the first rule the answer breaks, or None."""
    if isinstance(outcome, str):
        return "answered", outcome
    a = outcome
    if a.status >= 500 and a.status != 501:
        return "no server error", a.body[:300].decode("utf-8", "replace")
    if a.seconds > SLOW_SECONDS:
        return "within 30 s", round(a.seconds, 1)
    if "content-security-policy" not in a.headers or a.headers.get("x-content-type-options") != "nosniff":
        return "security headers", sorted(a.headers)
    if req.over_long and a.status != 414:
        return "over-long line is 414", a.status
    path = urllib.parse.unquote(urllib.parse.urlsplit(req.target).path, errors="replace")
    ctype = a.headers.get("content-type", "")
    if req.method == "HEAD" or a.status in (301, 302, 304, 308):
        return None
    if a.status >= 400:
        if path.startswith("/api/"):
            try:
                error = json.loads(a.body)["error"]
                ok = ctype == "application/json" and error["status"] == a.status and isinstance(error["message"], str)
                ok = ok and set(error) <= {"status", "message", "detail", "position"} and "detail" in error
            except (ValueError, KeyError, TypeError):
                ok = False
            return None if ok else ("JSON error shape under /api/", a.body[:300].decode("utf-8", "replace"))
        # The error page, or the search page saying what is wrong with the query where it was typed.
        page = f"<h1>{a.status} ·".encode() in a.body or (path in ("/", "/search") and b'role="alert"' in a.body)
        if not ctype.startswith("text/html") or not page:
            return "HTML error page", f"{ctype}: {a.body[:200].decode('utf-8', 'replace')}"
        return None
    try:
        if path.endswith(".csv"):
            list(csv.reader(io.StringIO(a.body.decode("utf-8"))))
        elif path.endswith(".ndjson"):
            [json.loads(line) for line in a.body.decode("utf-8").splitlines()]
        elif path.startswith("/api/"):
            json.loads(a.body)
    except ValueError as exc:
        return "the answer parses", str(exc)
    return None


def facts_of(ix: Path, app_routes: list[str]) -> dict[str, Any]:
    """What the generator draws from: words, facet values, ids; and the route table."""
    from search_web import create_app

    app = create_app({"INDEX_DIR": str(ix), "TESTING": True})
    c = app.test_client()
    browse = c.get("/api/search?q=&limit=100").get_json()
    facets = {k: [f["value"] for f in v] for k, v in browse["facets"].items()}
    doc_ids = sorted({h["doc_id"] for h in browse["hits"]})
    version_ids = sorted({v["version_id"] for d in doc_ids for v in c.get(f"/api/documents/{d}/versions").get_json()})
    app.extensions["palimpsest"].close()
    search = ["q", "section", "year", "month", "lang", "source", "type", "category", "infobox", "from", "to", "sort",
              "versions", "page", "limit"]  # fmt: skip
    routes = [
        ("search", "/", search), ("search", "/search", search), ("api-search", "/api/search", search),
        ("export", "/api/search.csv", search), ("export", "/api/search.ndjson", search), ("help", "/help", []),
        ("opensearch", "/opensearch.xml", []), ("document", "/doc/<doc_id>", ["q", "new"]),
        ("document", "/doc/<doc_id>/v/<version_id>", ["q", "new"]),
        ("compare", "/doc/<doc_id>/compare", ["a", "b", "view", "formatting", "thousands"]),
        ("api-document", "/api/documents/<doc_id>", ["version"]),
        ("api-document", "/api/documents/<doc_id>/versions", []),
        ("api-document", "/api/documents/<doc_id>/diff", ["a", "b", "formatting", "thousands"]),
        ("suggest", "/api/suggest", ["q", "format"]), ("static", "/static/<path:filename>", []),
        ("traversal", "/", []),
    ]  # fmt: skip
    weights = {"search": 8, "api-search": 8, "export": 1, "document": 4, "compare": 3, "api-document": 2, "suggest": 4}
    table = [r for r in routes for _ in range(weights.get(r[0], 1))]
    missing = sorted(set(app_routes) - {r[1] for r in routes})
    return {
        "words": [*COMMON, "ferry", "velmora", "salt", "steamer"],
        "facets": facets,
        "doc_ids": doc_ids,
        "version_ids": version_ids,
        "routes": table,
        "missing_routes": missing,
    }


def app_routes(ix: Path) -> list[str]:
    from search_web import create_app

    app = create_app({"INDEX_DIR": str(ix), "TESTING": True})
    return sorted(str(rule) for rule in app.url_map.iter_rules())


CLI_VALUES: dict[str, list[str]] = {
    "--date-from": DATES,
    "--date-to": DATES,
    "--page": ["1", "0", "-1", "500", "501", "10" * 12, "x"],
    "--limit": ["1", "0", "100", "101", "x"],
    "--section": ["Works", "", "\x00", "a" * 5000, "../.."],
    "--year": ["2022", "0000", "x", ""],
    "--month": ["2022-09", "0000-00", "2022-13", ""],
    "--lang": ["en", "zz", ""],
    "--sort": ["relevance", "date", "oldest", "nope"],
}


def cli_trials(ix: Path, n: int, rng: random.Random, report: Report, progress: Progress) -> None:
    """`palimpsest search` (and show, versions, diff, similar) with hostile values: exit 0, 1 or 2
    and never a traceback."""
    fixed = [["search", "movie", "--date-from", "0000"], ["search", "movie", "--date-to", "0000"]]
    commands = fixed + [
        [
            "search",
            rng.choice(HOSTILE_TEXT) or "harbour",
            *[x for k in rng.sample(sorted(CLI_VALUES), 2) for x in (k, rng.choice(CLI_VALUES[k]))],
        ]
        for _ in range(max(0, n - len(fixed) - 4))
    ]
    commands += [
        ["show", "..%2F..", "--json"],
        ["versions", "\x7f" * 10],
        ["diff", "x@1", "y@latest"],
        ["similar", "0" * 16],
    ]
    for args in commands[:n]:
        args = [a.replace("\x00", "") for a in args]  # a NUL cannot be passed in argv
        r = run(palimpsest(*args, "--index-dir", str(ix)), timeout=120)
        report.trials += 1
        if r.returncode not in (0, 1, 2) or "Traceback" in r.stderr:
            zero = any(a in ("--date-from", "--date-to") and b.startswith("0000") for a, b in itertools.pairwise(args))
            report.fail(
                f"CLI {' '.join(args)[:120]!r}: one line, exit 0/1/2", r.stderr.strip()[-300:], "1" if zero else None
            )
    progress(f"{len(commands[:n])} CLI runs")


def export_cost(work: Path, report: Report, progress: Progress) -> None:
    """An empty-query export of 1,000 documents (CSV and NDJSON) should run one search, not one per
    page of 100 (finding 5). Counted in this process, around the Searcher the app uses; the time
    of an export against one search of 100 is reported beside it."""
    from indexer.search import Searcher
    from search_web import create_app

    docs = work / "export-docs"
    docs.mkdir()
    for i in range(1000):
        (docs / f"d{i:04d}.txt").write_text(f"Note {i}\n\nThe harbour crane {i} lifted {i % 7} loads at high tide.\n")
    ix = work / "export-ix"
    r = run(palimpsest("index", str(docs), "--index-dir", str(ix), "--json"), timeout=900)
    if r.returncode != 0:
        report.fail("export index builds", r.stderr[-300:])
        return
    app = create_app({"INDEX_DIR": str(ix), "TESTING": True})
    client = app.test_client()
    calls = [0]
    original = Searcher.search

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(self, *args, **kwargs)

    Searcher.search = counted  # type: ignore[method-assign]
    try:
        searches = {}
        times: dict[str, list[float]] = {}
        for name, target in (("search", "/api/search?q=&limit=100"), ("csv", "/api/search.csv?q="),
                             ("ndjson", "/api/search.ndjson?q=")):  # fmt: skip
            for _ in range(5):
                calls[0] = 0
                started = time.monotonic()
                body = client.get(target).get_data()
                times.setdefault(name, []).append(time.monotonic() - started)
                searches[name] = calls[0]
            if name != "search" and len(body.splitlines()) != 1000 + (name == "csv"):
                report.fail(f"the {name} export has 1,000 rows", len(body.splitlines()))
    finally:
        Searcher.search = original  # type: ignore[method-assign]
        app.extensions["palimpsest"].close()
    median = {k: sorted(v)[2] * 1000 for k, v in times.items()}
    report.figures["export_cost"] = {
        "searches": searches,
        "ms": {k: round(v, 1) for k, v in median.items()},
        "csv_over_search": round(median["csv"] / median["search"], 1),
    }
    progress(f"export of 1,000 documents: {searches['csv']} searches, {median['csv']:.0f} ms "
             f"(one search of 100: {median['search']:.0f} ms)")  # fmt: skip
    for name in ("csv", "ndjson"):
        if searches[name] > 1:
            report.fail(f"a {name} export of 1,000 documents runs one search", f"{searches[name]} searches", "5")


def run_family(form: str, seed: int, work: Path, quiet: bool = False, requests: int | None = None) -> Report:
    progress = Progress("http", quiet)
    started = time.monotonic()
    work = fresh_dir(work / "http")
    report = Report("http", form, "requests", seed)
    write_corpus(work / "docs" / "generated", 60, seed)
    ix = work / "ix"
    from .common import ROOT

    r = run(
        palimpsest("index", str(ROOT / "corpus"), str(work / "docs"), "--index-dir", str(ix), "--json"), timeout=900
    )
    if r.returncode != 0:
        raise RuntimeError(f"the fuzzer's index did not build: {r.stderr[-2000:]}")
    facts = facts_of(ix, app_routes(ix))
    for route in facts["missing_routes"]:
        report.fail("every route is fuzzed", f"{route} is not in the fuzzer's route table")
    gen = Generator(seed, facts)
    total = requests or FORMS[form]["requests"]
    plan = [_fixed(target) for target in FIXED]
    plan += [gen.protocol_request() if gen.rng.random() < 0.02 else gen.request() for _ in range(total - len(plan))]
    progress(f"{total:,} requests generated; serving {len(facts['doc_ids'])} documents")
    done: list[tuple[Req, Answer | str]] = []
    with served(ix, work / "server.log") as port:
        todo: queue.Queue[Req | None] = queue.Queue()
        clients = [Client(port, todo, done) for _ in range(CLIENTS)]
        for c in clients:
            c.start()
        for req in plan:
            todo.put(req)
        for _ in clients:
            todo.put(None)
        last = 0
        while any(c.is_alive() for c in clients):
            time.sleep(1)
            if len(done) - last >= max(1000, total // 20):
                last = len(done)
                progress(f"{last:,}/{total:,} answered")
        for c in clients:
            c.join()
    statuses: dict[str, int] = {}
    latency: dict[str, list[float]] = {}
    for req, outcome in done:
        report.trials += 1
        if isinstance(outcome, Answer):
            statuses[str(outcome.status)] = statuses.get(str(outcome.status), 0) + 1
            latency.setdefault(req.family, []).append(outcome.seconds * 1000)
        broken = check(req, outcome)
        if broken:
            known = req.finding if broken[0] == "no server error" else None
            report.fail(f"{broken[0]}: {req.method} {req.target[:200]}", broken[1], known)
    everything = [x for v in latency.values() for x in v]
    report.figures = {
        "requests": len(done),
        "statuses": dict(sorted(statuses.items())),
        "latency_ms": {
            "all": _percentiles(everything),
            **{k: _percentiles(v) for k, v in sorted(latency.items())},
        },
        "documents": len(facts["doc_ids"]),
        "clients": CLIENTS,
    }
    progress(f"statuses {report.figures['statuses']}; p99 {report.figures['latency_ms']['all']['p99']} ms")
    http_requests = report.trials
    cli_trials(ix, FORMS[form]["cli"], random.Random(seed), report, progress)
    report.figures["cli_runs"] = report.trials - http_requests
    export_cost(work, report, progress)
    report.seconds = time.monotonic() - started
    return report


def _percentiles(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 1),
        "p95": round(percentile(values, 95), 1),
        "p99": round(percentile(values, 99), 1),
        "max": round(max(values, default=0.0), 1),
    }


def main() -> None:
    def extra(parser: Any) -> None:
        parser.add_argument("--requests", type=int, help="number of HTTP requests (default: by form)")

    args = arguments("bench.torture.http_fuzz", __doc__.split("\n\n")[0], extra)
    with work_dir(args.work_dir) as work:
        report = run_family(args.form, args.seed, work, args.quiet, args.requests)
    raise SystemExit(emit([report], args.json))


if __name__ == "__main__":
    main()
