"""Web latency: /search and /api/search against `palimpsest serve` with 4 concurrent clients.

Usage: python bench/web_latency.py [--queries N] [--clients N] [--index-dir DIR] [--json]

The index is bench/latency_corpus.py's (more than 100,000 sections). `palimpsest serve` (gunicorn,
one worker process per core, 4 threads each) runs on 127.0.0.1. CLIENTS threads send each of the
500 queries of bench/latency_corpus.py (`queries`) to both /search (the HTML page) and /api/search
(which endpoint goes first alternates from query to query), each request timed from send to the
last byte of the response. Two passes: "first" (every query new to the server: term postings read
from disk) and "repeat" (the same 1,000 requests again). Target (issue 4): p95 <= 150 ms.

First search after "ready" (issue 11): the server is started STARTS times (default 5); each time,
from the moment it prints "Palimpsest: ready on URL", one /api/search for a query it has not seen
is timed. Target: at most 1.0 s each time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", "/api/search?q=warm")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the server did not answer in time")


def first_search_after_ready(index_dir: Path, queries: list[str], threads: int) -> dict:
    """Start `palimpsest serve` once per query; time launch -> "ready" and the query's /api/search
    sent as soon as "ready" is printed."""
    ready_s, first_ms = [], []
    for q in queries:
        port = free_port()
        cmd = [sys.executable, "-m", "indexer.cli", "serve", "--index-dir", str(index_dir), "--port", str(port),
               "--threads", str(threads)]  # fmt: skip
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith("Palimpsest: ready on"):
                    break
            else:
                raise SystemExit(f"the server exited with {proc.wait()} before it was ready")
            ready_s.append(time.perf_counter() - t0)
            t1 = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", "/api/search?q=" + urllib.parse.quote_plus(q))
            resp = conn.getresponse()
            resp.read()
            first_ms.append((time.perf_counter() - t1) * 1000)
            if resp.status != 200:
                raise SystemExit(f"first search answered {resp.status}")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return {
        "starts": len(first_ms),
        "ready_s_max": round(max(ready_s), 1),
        "first_search_ms": [round(ms, 1) for ms in first_ms],
        "first_search_ms_max": round(max(first_ms), 1),
    }


def run_clients(port: int, paths: list[str], clients: int) -> tuple[list[tuple[str, float]], int]:
    """(path, latency in ms) of every request, sent by `clients` threads; and the number of non-200s."""
    todo: queue.Queue[str] = queue.Queue()
    for p in paths:
        todo.put(p)
    times: list[tuple[str, float]] = []
    failures = [0]
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            try:
                path = todo.get_nowait()
            except queue.Empty:
                break
            t0 = time.perf_counter()
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                times.append((path, elapsed))
                if resp.status != 200:
                    failures[0] += 1
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, failures[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=int, default=500, help="queries per endpoint (default 500)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    ap.add_argument("--threads", type=int, default=4, help="threads per server worker (default 4)")
    ap.add_argument("--index-dir", type=Path, help="index to build or reuse (default bench/work/latency-index)")
    ap.add_argument("--starts", type=int, default=5, help="server starts for the first search after ready (default 5)")
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args()
    from latency_corpus import build_index, queries
    from search_latency import summary

    index_dir, about = build_index(args.index_dir)
    port = free_port()
    cmd = [sys.executable, "-m", "indexer.cli", "serve", "--index-dir", str(index_dir), "--port", str(port),
           "--threads", str(args.threads)]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        t0 = time.perf_counter()
        wait_ready(port, proc)
        ready = time.perf_counter() - t0
        qs = queries(args.queries)
        result: dict = {
            "date": time.strftime("%Y-%m-%d"),
            "cores": os.cpu_count(),
            "clients": args.clients,
            "server_threads": args.threads,
            "queries": len(qs),
            "records": about.get("sections_written"),
            "server_ready_s": round(ready, 1),
        }
        paths = []
        for n, q in enumerate(qs):
            pair = ["/search?q=" + urllib.parse.quote_plus(q), "/api/search?q=" + urllib.parse.quote_plus(q)]
            paths += pair if n % 2 == 0 else pair[::-1]
        for run in ("first", "repeat"):
            t0 = time.perf_counter()
            timed, failed = run_clients(port, paths, args.clients)
            wall = time.perf_counter() - t0
            for name in ("/search", "/api/search"):
                times = [ms for path, ms in timed if path.startswith(name + "?")]
                result[f"{name} {run}"] = {**summary(times), "requests": len(times)}
            result[f"{run} pass"] = {"failed": failed, "requests_per_s": round(len(timed) / wall, 1)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if args.starts > 0:
        fresh = queries(args.queries + args.starts)[args.queries :] or qs[: args.starts]
        result["after ready"] = first_search_after_ready(index_dir, fresh[: args.starts], args.threads)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['queries']} queries per endpoint, {args.clients} clients, {args.threads} threads per worker, "
        f"{result['cores']} cores (server ready in {result['server_ready_s']} s)"
    )
    for run in ("first", "repeat"):
        p = result[f"{run} pass"]
        print(f"{run} pass: {p['requests_per_s']} requests/s, {p['failed']} failed")
        for name in ("/search", "/api/search"):
            r = result[f"{name} {run}"]
            print(
                f"  {name:12s} p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms  p99 {r['p99_ms']} ms  mean {r['mean_ms']} ms"
            )
    print("target: p95 <= 150 ms")
    if "after ready" in result:
        r = result["after ready"]
        print(
            f"first /api/search after 'ready' ({r['starts']} starts): max {r['first_search_ms_max']} ms "
            f"{r['first_search_ms']} (ready within {r['ready_s_max']} s of launch; target <= 1,000 ms)"
        )


if __name__ == "__main__":
    main()
