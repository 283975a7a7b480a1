"""The requests of bench/torture/http_fuzz.py: hostile values, and a generator that fills every
route and parameter with them or with what the index holds (words, facet values, ids)."""

from __future__ import annotations

import random
import urllib.parse
from dataclasses import dataclass
from typing import Any

DATE_PARAMS = ("date_from", "date_to", "from", "to")  # search_web.backend.DATE_PARAMS
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
    expect: int | None = None  # the status the answer must have (the reproductions)


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
        if param in DATE_PARAMS:
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
        facet = self.facts["facet_of_param"].get(param, param)
        if facet in self.facts["facets"]:
            return self.facet_value(facet)
        return self.text()

    def query_string(self, params: list[str]) -> str:
        pairs: list[tuple[str, str]] = []
        for p in self.rng.sample(params, self.rng.randint(0, min(len(params), 6))):
            for _ in range(2 if self.rng.random() < 0.1 else 1):  # repeated parameters
                pairs.append((p, self.value(p)))
        if self.rng.random() < 0.05:
            pairs.append((self.pick(["foo", "q[]", "", "=", "%00", "Q", "page "]), self.text()))
        if self.rng.random() < 0.03:
            return "&&=&" + "&".join(f"{k}={v}" for k, v in pairs) + "&"
        return "&".join(f"{k}={v}" if self.rng.random() > 0.02 else k for k, v in pairs)

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
        qs = self.query_string(params) if params else ""
        target = path + ("?" + qs if qs else "")
        method = self.pick(METHODS) if self.rng.random() < 0.1 else "GET"
        headers = ["Host: 127.0.0.1", "User-Agent: torture"]
        if self.rng.random() < 0.05:
            headers.append(self.pick(["Accept: application/json", "Accept: */*", "Accept-Language: fr", "Cookie: a=b"]))
        body = b""
        if method in ("POST", "PUT", "PATCH") and self.rng.random() < 0.5:
            body = b"q=harbour" * self.rng.choice([1, 10_000])
            headers.append(f"Content-Length: {len(body)}")
        head = f"{method} {target} HTTP/1.1\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n"
        return Req(family, method, target, head.encode("latin-1", "replace") + body)

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


# The issue's own reproductions come first in every run: year 0000 is refused with a 400 (finding 1).
FIXED = ["/api/search?from=0000", "/api/search?to=0000", "/search?from=0000", "/search?to=0000",
         "/api/search?date_from=0000", "/search?date_to=0000",
         "/api/search.csv?q=&from=0000", "/api/search?q=" + "x" * (LINE_LIMIT + 10)]  # fmt: skip


def fixed_request(target: str) -> Req:
    """One of the FIXED requests."""
    data = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    over = len(target) > LINE_LIMIT - 20
    return Req("fixed", "GET", target, data, over_long=over, expect=400 if "=0000" in target else None)
