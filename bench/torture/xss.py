"""Script payloads in every place a string can appear, on every page family, in real Chromium.

    python -m bench.torture.xss [--short | --long] [--seed N] [--json]

For each payload, documents carry it (beside a marker word naming the place, `pwn3heading`) as a
title, body text, heading, infobox key and value, category, HTML author and site name, file name
and folder name, in a MediaWiki export with two revisions (so it is in a comparison too), an HTML
page and a Markdown file. `palimpsest serve` (gunicorn) serves their index; Chromium (Debian's,
through Playwright) visits every page family with them: document, version, compare (side and
inline), marked-new and query-highlighted document pages, search results, the query echoed,
facet filters and their chips, browsing, help, error pages, JSON answers opened in the browser,
and the search box's completions as the payload is typed.

On every page: no dialog opens, no element the payload would create exists (an on* attribute, a
script that is not /static/app.js, img, svg (other than the app's charts), iframe, object, embed, math, base, video, audio,
a meta or style in the body, a javascript: URL), no Content-Security-Policy violation is reported.
Every place's marker must reach at least one page (a place never shown is a place never tested);
the matrix of which places reached which page families is reported.
"""

from __future__ import annotations

import contextlib
import html
import os
import shutil
import time
import urllib.parse
from pathlib import Path
from typing import Any

from .common import ROOT, Progress, Report, arguments, emit, fresh_dir, palimpsest, run, served, work_dir

CHROMIUM = os.environ.get("PALIMPSEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
PAYLOADS = [
    "<script>alert('{m}')</script>",
    "<img src=x onerror=alert('{m}')>",
    "\"><svg onload=alert('{m}')>",
    "'><iframe srcdoc=\"<script>alert('{m}')</script>\">",
    "javascript:alert('{m}')",
    "</title></textarea></style></noscript><script>alert('{m}')</script>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('{m}')>",
    "{{{{7*7}}}} ${{7*7}} #{{7*7}} {m}",
    "&lt;img src=x onerror=alert('{m}')&gt;",
    "<a href=\"javascript:alert('{m}')\">{m}</a>",
    "\u2028\u2029</script><script>alert('{m}')</script>",
    "<details open ontoggle=alert('{m}')>",
    '<base href="//evil.example/">{m}',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(\'{m}\')">',
    "<form action=javascript:alert('{m}')><button>{m}</button></form>",
    "%3Cscript%3Ealert('{m}')%3C/script%3E",
]
FORMS = {"short": [1, 2, 3], "long": list(range(len(PAYLOADS)))}
PLACES = ("title", "body", "heading", "key", "value", "category", "added", "site", "htmltitle", "mdtitle", "mdbody",
          "mdheading", "file", "folder", "query")  # fmt: skip
# Places a loader may drop when they look like markup (an author name, a page's site name): shown
# when they reach a page, never required to.
OPTIONAL_PLACES = ("author", "htmlsite")

# Elements a payload could create and the app never renders, attributes that run script, URLs
# that do; evaluated in the page.
INJECTED_JS = """() => {
  const bad = [];
  const never = new Set(['IMG', 'SVG', 'IFRAME', 'OBJECT', 'EMBED', 'MATH', 'BASE', 'VIDEO', 'AUDIO',
                         'FRAME', 'FRAMESET', 'APPLET', 'MARQUEE', 'MGLYPH', 'NOSCRIPT']);
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toUpperCase();
    // The app draws its own charts (the date facet, a document's timeline) as inline SVG.
    const ours = tag === 'SVG' && el.matches('svg.chart, svg.timeline') && el.attributes.length <= 7;
    if (never.has(tag) && !ours) bad.push(tag);
    if (tag === 'SCRIPT' && el.getAttribute('src') !== '/static/app.js') bad.push('SCRIPT ' + el.outerHTML.slice(0, 80));
    if ((tag === 'META' || tag === 'STYLE' || tag === 'LINK') && !el.closest('head')) bad.push(tag + ' in body');
    if (tag === 'META' && el.hasAttribute('http-equiv')) bad.push('META http-equiv');
    for (const a of el.attributes) {
      if (/^on/i.test(a.name)) bad.push(tag + '[' + a.name + ']');
      if (a.name === 'srcdoc') bad.push(tag + '[srcdoc]');
      if (/^(href|src|action|formaction|data|xlink:href)$/i.test(a.name) && /^\\s*javascript:/i.test(a.value))
        bad.push(tag + '[' + a.name + '=javascript:]');
    }
  }
  return bad;
}"""
VISIBLE_JS = """() => document.body.innerText + ' ' +
  Array.from(document.querySelectorAll('input, option, textarea')).map(e => e.value).join(' ')"""


def payload(i: int) -> str:
    return PAYLOADS[i].format(m=tag(i))


def tag(i: int) -> str:
    """Payload i's own marker, letters only (loaders drop digits from some names): pwna, pwnb..."""
    return "pwn" + chr(ord("a") + i)


def marker(i: int, place: str) -> str:
    return f"{tag(i)}{place}"


def _safe_name(text: str) -> str:
    """The payload as a file or folder name: no slash, no NUL, at most 120 bytes."""
    name = text.replace("/", "\u2215").replace("\x00", "")
    while len(name.encode()) > 120:
        name = name[:-1]
    return name or "x"


def _wiki(text: str) -> str:
    """Text a wiki page shows as it is: its markup characters written as entities."""
    return html.escape(text, quote=False).replace("[", "&#91;").replace("{", "&#123;").replace("|", "&#124;")


def write_documents(root: Path, i: int) -> None:
    """The three documents of payload i (see the module docstring)."""
    p = payload(i)

    def v(place: str) -> str:
        return f"{p} {marker(i, place)}"

    rev1 = (
        f"{{{{Infobox thing\n| {_wiki(v('key')).replace('=', '&#61;')} = {_wiki(v('value'))}\n| name = quay lamp {i}\n}}}}\n"
        f"The quay lamp {i} is lit at dusk. {_wiki(v('body'))} It burns until dawn.\n\n"
        f"== {_wiki(v('heading'))} ==\nThe lamp keeper writes the hours in a book.\n\n"
        f"[[Category:{_wiki(v('category'))}]]\n"
    )
    rev2 = rev1.replace("It burns until dawn.", f"It burns until dawn. {_wiki(v('added'))}") + (
        f"\n== Repairs ==\nThe glass was replaced in 2021. {_wiki(v('added'))}\n"
    )
    revisions = "".join(
        f"<revision><id>{700 + n}</id><timestamp>202{n}-05-0{n + 1}T10:00:00Z</timestamp>"
        f'<text xml:space="preserve">{html.escape(text)}</text></revision>'
        for n, text in enumerate((rev1, rev2))
    )
    folder = root / f"wiki-{i}"
    folder.mkdir(parents=True)
    (folder / "page.xml").write_text(
        '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="en">'
        f"<siteinfo><sitename>{html.escape(v('site'))}</sitename></siteinfo><page><title>{html.escape(v('title'))}</title>"
        f"<ns>0</ns><id>{i}</id>{revisions}</page></mediawiki>",
        encoding="utf-8",
    )
    e = html.escape
    folder = root / f"web-{i}"
    folder.mkdir()
    (folder / "page.html").write_text(
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{e(v("htmltitle"))}</title>'
        f'<meta name="author" content="{e(v("author"))}"><meta property="og:site_name" content="{e(v("htmlsite"))}">'
        f"</head><body><main><article><h1>{e(v('htmltitle'))}</h1><p>The harbour lamp {i} burns.</p>"
        f"<h2>Keepers</h2><p>The keepers of lamp {i} wrote every hour down. They kept the log dry.</p>"
        f"</article></main></body></html>",
        encoding="utf-8",
    )
    folder = root / _safe_name(v("folder"))
    folder.mkdir()
    (folder / (_safe_name(v("file")) + ".md")).write_text(
        f"# {v('mdtitle')}\n\nThe ferry lantern {i} hangs at the bow. {v('mdbody')}\n\n"
        f"## {v('mdheading')}\n\nIt was lit at every crossing.\n",
        encoding="utf-8",
    )


class Visitor:
    """One Chromium page; each visit records dialogs, injected elements, CSP reports, markers."""

    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.console: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)

    def visit(self, url: str, typing: str | None = None) -> dict[str, Any]:
        self.dialogs.clear()
        self.console.clear()
        self.page.goto(self.base + url, wait_until="load")
        if typing is not None:
            self.page.locator("#q").press_sequentially(typing)
            from playwright.sync_api import TimeoutError as NoCompletion

            # No completion offered is fine: what is checked is that none injects anything.
            with contextlib.suppress(NoCompletion):
                self.page.locator("#q-suggestions option").first.wait_for(state="attached", timeout=3000)
        self.page.wait_for_timeout(30)  # let any handler an injected element has run
        return {
            "injected": self.page.evaluate(INJECTED_JS),
            "dialogs": list(self.dialogs),
            "csp": [c for c in self.console if "Content Security Policy" in c or "Refused to" in c],
            "text": self.page.evaluate(VISIBLE_JS),
        }


def _q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def plan_visits(
    i: int, ids: dict[str, Any], facets: dict[str, list[tuple[str, str]]]
) -> list[tuple[str, str, str | None]]:
    """(page family, URL, text to type) for payload i."""
    p, m = payload(i), tag(i)
    wiki, web, md = ids["wiki"], ids["web"], ids["md"]
    visits: list[tuple[str, str, str | None]] = [
        ("document", f"/doc/{wiki['doc_id']}", None),
        ("version", f"/doc/{wiki['doc_id']}/v/{wiki['first']}", None),
        ("compare side", f"/doc/{wiki['doc_id']}/compare", None),
        ("compare inline", f"/doc/{wiki['doc_id']}/compare?view=inline&formatting=1", None),
        ("document new", f"/doc/{wiki['doc_id']}?new=1", None),
        ("document query", f"/doc/{wiki['doc_id']}?q={_q(p + ' lamp')}", None),
        ("document", f"/doc/{web}", None),
        ("document", f"/doc/{md}", None),
        ("results", f"/search?q={_q(marker(i, 'body') + ' OR ' + marker(i, 'mdbody'))}", None),
        ("results", f"/search?q={_q('lamp ' + m)}&versions=all", None),
        ("query", f"/search?q={_q(p + ' ' + marker(i, 'query'))}", None),
        ("api", f"/api/search?q={_q(marker(i, 'body'))}", None),
        ("api", f"/api/documents/{wiki['doc_id']}", None),
        ("error", f"/doc/{_q(p + marker(i, 'query'))}", None),
        ("error", f"/api/documents/{_q(p + marker(i, 'query'))}", None),
        ("suggest", f"/api/suggest?q={_q(p[:6])}&format=opensearch", None),
        ("completion", "/", p[: max(4, len(p) // 2)]),
    ]
    for facet, param in (
        ("section", "section"),
        ("category", "category"),
        ("infobox", "infobox"),
        ("source", "source"),
    ):
        for value, label in facets.get(facet, []):
            if m in label:
                visits.append((f"facet {facet}", f"/search?{param}={_q(value)}", None))
    return visits


def _facts(port: int, chosen: list[int]) -> tuple[dict[int, dict[str, Any]], dict[str, list[tuple[str, str]]]]:
    import json
    import urllib.request

    def get(url: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{url}", timeout=60) as r:
            return json.loads(r.read())

    browse = get("/api/search?q=&limit=100")
    facets = {k: [(f["value"], f["label"]) for f in v] for k, v in browse["facets"].items()}
    ids: dict[int, dict[str, Any]] = {}
    for i in chosen:
        found: dict[str, Any] = {}
        for place, key in (("title", "wiki"), ("htmltitle", "web"), ("mdtitle", "md")):
            hits = get(f"/api/search?q={_q(marker(i, place))}&limit=5")["hits"]
            doc_id = hits[0]["doc_id"] if hits else "missing"
            if key == "wiki":
                versions = get(f"/api/documents/{doc_id}/versions") if hits else [{"version_id": "missing"}]
                found[key] = {"doc_id": doc_id, "first": versions[0]["version_id"]}
            else:
                found[key] = doc_id
        ids[i] = found
    return ids, facets


def run_family(form: str, seed: int, work: Path, quiet: bool = False) -> Report:
    progress = Progress("xss", quiet)
    started = time.monotonic()
    report = Report("xss", form, "pages", seed)
    if not Path(CHROMIUM).exists():
        report.skip("the XSS matrix", f"no Chromium at {CHROMIUM} (install Debian's chromium)")
        return report
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        report.skip("the XSS matrix", "playwright is not installed (pip install -e '.[dev]')")
        return report
    work = fresh_dir(work / "xss")
    chosen = FORMS[form]
    for i in chosen:
        write_documents(work / "docs", i)
    ix = work / "ix"
    r = run(
        palimpsest("index", str(work / "docs"), str(ROOT / "corpus"), "--index-dir", str(ix), "--json"), timeout=900
    )
    if r.returncode != 0:
        raise RuntimeError(f"the XSS index did not build: {r.stderr[-2000:]}")
    reached: dict[str, dict[str, int]] = {}  # place -> page family -> visits where its marker showed
    literal = 0
    with served(ix, work / "server.log") as port, sync_playwright() as pw:
        ids, facets = _facts(port, chosen)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        visitor = Visitor(browser, f"http://127.0.0.1:{port}")
        visits = [("browse", "/", None), ("help", "/help", None), ("browse", "/search?q=&versions=all", None)]
        visits += [v for i in chosen for v in plan_visits(i, ids[i], facets)]
        progress(f"{len(visits)} pages to visit for {len(chosen)} payloads")
        for n, (family, url, typing) in enumerate(visits, 1):
            seen = visitor.visit(url, typing)
            report.trials += 1
            for what in ("dialogs", "injected", "csp"):
                if seen[what]:
                    report.fail(f"{family} {url[:160]}: {what}", seen[what][:5])
            for i in chosen:
                literal += payload(i) in seen["text"]
                for place in PLACES + OPTIONAL_PLACES:
                    if marker(i, place) in seen["text"]:
                        reached.setdefault(place, {}).setdefault(family, 0)
                        reached[place][family] += 1
            if n % 50 == 0:
                progress(f"{n}/{len(visits)} pages")
        browser.close()
    for place in PLACES:
        if place not in reached:
            report.fail(f"the {place} place reaches a page", "its marker was never shown: that place was not tested")
    report.figures = {
        "payloads": len(chosen),
        "pages": report.trials,
        "places_by_family": {p: dict(sorted(f.items())) for p, f in sorted(reached.items())},
        "optional_places_never_shown": [p for p in OPTIONAL_PLACES if p not in reached],
        "pages_showing_a_payload_as_text": literal,
    }
    report.seconds = time.monotonic() - started
    progress(f"{report.trials} pages, {len(report.failures)} failures")
    return report


def main() -> None:
    args = arguments("bench.torture.xss", __doc__.split("\n\n")[0])
    with work_dir(args.work_dir) as work:
        report = run_family(args.form, args.seed, work, args.quiet)
    raise SystemExit(emit([report], args.json))


if __name__ == "__main__":
    main()
