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
search of 100: one evaluation each (finding 5).
"""

from __future__ import annotations

import contextlib
import csv
import http.client
import io
import json
import queue
import random
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import Progress, Report, arguments, emit, fresh_dir, palimpsest, percentile, run, served, work_dir
from .corpus import COMMON, write_corpus
from .http_requests import DATES, FIXED, HOSTILE_TEXT, Generator, Req, fixed_request

FORMS = {"short": {"requests": 1000, "cli": 6}, "long": {"requests": 100_000, "cli": 150}}
SLOW_SECONDS = 30.0
CLIENTS = 4


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


@dataclass
class Verdict:
    """What is kept of a request once checked (the answers themselves would fill gigabytes)."""

    family: str
    method: str
    target: str
    status: int | None
    seconds: float
    broken: tuple[str, Any] | None

    @classmethod
    def of(cls, req: Req, outcome: Answer | str) -> Verdict:
        answered = isinstance(outcome, Answer)
        return cls(
            req.family, req.method, req.target[:200], outcome.status if answered else None,
            outcome.seconds if answered else 0.0, check(req, outcome),
        )  # fmt: skip


class Client(threading.Thread):
    """Sends requests from a queue over one keep-alive connection at a time."""

    def __init__(self, port: int, todo: queue.Queue[Req | None], done: list[Verdict]) -> None:
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
            self.done.append(Verdict.of(req, outcome))
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
    if req.expect is not None and a.status != req.expect:
        return f"answered {req.expect}", a.status
    path = urllib.parse.unquote(urllib.parse.urlsplit(req.target).path, errors="replace")
    ctype = a.headers.get("content-type", "")
    if req.method in ("HEAD", "OPTIONS") or a.status in (301, 302, 304, 308):  # no body to read
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
    from search_web.backend import facet_params, state_params

    app = create_app({"INDEX_DIR": str(ix), "TESTING": True})
    c = app.test_client()
    browse = c.get("/api/search?q=&limit=100").get_json()
    facets = {k: [f["value"] for f in v] for k, v in browse["facets"].items()}
    doc_ids = sorted({h["doc_id"] for h in browse["hits"]})
    version_ids = sorted({v["version_id"] for d in doc_ids for v in c.get(f"/api/documents/{d}/versions").get_json()})
    app.extensions["palimpsest"].close()
    search = [*state_params(), "page"]  # every parameter the app reads for a result list
    routes = [
        ("search", "/", search), ("search", "/search", search), ("api-search", "/api/search", search),
        ("export", "/api/search.csv", search), ("export", "/api/search.ndjson", search), ("help", "/help", []),
        ("opensearch", "/opensearch.xml", []), ("document", "/doc/<doc_id>", ["q", "new"]),
        ("document", "/doc/<doc_id>/v/<version_id>", ["q", "new"]),
        ("compare", "/doc/<doc_id>/compare", ["a", "b", "view", "formatting", "thousands"]),
        ("api-document", "/api/documents/<doc_id>", ["version"]),
        ("api-document", "/api/documents/<doc_id>/versions", []),
        ("api-document", "/api/documents/<doc_id>/reuse", []),
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
        "facet_of_param": facet_params(),
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
    "--language": ["en", "zz", ""],
    "--doc-type": ["html", "nope", ""],
    "--sort": ["relevance", "date", "oldest", "nope"],
}


def cli_trials(ix: Path, n: int, rng: random.Random, report: Report, progress: Progress) -> None:
    """`palimpsest search` (and show, versions, diff, similar) with hostile values: exit 0, 1 or 2
    and never a traceback; year 0000 (finding 1) is a one-line error with exit 1."""
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
            report.fail(f"CLI {' '.join(args)[:120]!r}: one line, exit 0/1/2", r.stderr.strip()[-300:])
        elif args in fixed and (r.returncode, len(r.stderr.strip().splitlines())) != (1, 1):
            report.fail(f"CLI {' '.join(args)!r}: exit 1 and one line", (r.returncode, r.stderr.strip()[-300:]))
    progress(f"{len(commands[:n])} CLI runs")


def export_cost(work: Path, report: Report, progress: Progress) -> None:
    """An empty-query export of 1,000 documents (CSV and NDJSON) evaluates the search once, not once
    per page of 100 (finding 5). Evaluations are counted in this process, around the Searcher the
    app uses; the time of an export against one search of 100 is reported beside it."""
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
    original = Searcher._evaluate

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(self, *args, **kwargs)

    Searcher._evaluate = counted  # type: ignore[method-assign]
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
        Searcher._evaluate = original  # type: ignore[method-assign]
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
        if searches[name] != 1:
            report.fail(f"a {name} export of 1,000 documents evaluates the search once", f"{searches[name]} times")


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
    plan = [fixed_request(target) for target in FIXED]
    plan += [gen.protocol_request() if gen.rng.random() < 0.02 else gen.request() for _ in range(total - len(plan))]
    progress(f"{total:,} requests generated; serving {len(facts['doc_ids'])} documents")
    done: list[Verdict] = []
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
    for v in done:
        report.trials += 1
        if v.status is not None:
            statuses[str(v.status)] = statuses.get(str(v.status), 0) + 1
            latency.setdefault(v.family, []).append(v.seconds * 1000)
        if v.broken:
            report.fail(f"{v.broken[0]}: {v.method} {v.target}", v.broken[1])
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
