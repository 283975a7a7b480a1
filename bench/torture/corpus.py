"""A generated corpus for the kill trials and the HTTP fuzzer: every format the indexer reads
(Markdown, wikitext, HTML, plain text, MediaWiki exports with revisions), saved copies that are
versions of one document, dates, infoboxes, and words of uneven frequency so that scores depend on
the index statistics. The same seed gives the same files."""

from __future__ import annotations

import html
import random
from pathlib import Path

# Words every query set can rely on, and a vocabulary of made-up words drawn with a Zipf-like
# weight (a few frequent, many rare), so document frequencies differ from word to word.
COMMON = ("harbour", "bridge", "tram", "ferry", "crane", "tide", "council", "estuary", "quay", "lantern")
_SYLLABLES = ("ka", "lo", "ven", "dra", "mi", "sol", "tor", "ule", "bri", "sen", "ga", "rho", "nim", "pa", "zu")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip


def vocabulary(size: int = 900) -> list[str]:
    words = [a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in ("", "n", "s", "th")]
    return sorted(set(words))[:size]


class Writer:
    """Sentences and paragraphs from one seeded random source."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.vocab = vocabulary()
        self.weights = [1 / (rank + 1) for rank in range(len(self.vocab))]

    def words(self, n: int) -> list[str]:
        out = self.rng.choices(self.vocab, self.weights, k=n)
        for i in range(0, n, 7):
            if self.rng.random() < 0.5:
                out[i] = self.rng.choice(COMMON)
        return out

    def sentence(self) -> str:
        words = self.words(self.rng.randint(6, 16))
        if self.rng.random() < 0.3:
            words.insert(self.rng.randint(0, len(words)), self.date())
        return " ".join(words).capitalize() + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(2, 5)))

    def date(self) -> str:
        return f"{self.rng.randint(1, 28)} {self.rng.choice(MONTHS)} {self.rng.randint(1890, 2024)}"

    def title(self) -> str:
        return " ".join(w.capitalize() for w in self.words(self.rng.randint(2, 4)))

    def sections(self, n: int) -> list[tuple[str, list[str]]]:
        return [(self.title(), [self.paragraph() for _ in range(self.rng.randint(1, 3))]) for _ in range(n)]


def markdown(w: Writer) -> str:
    out = [f"# {w.title()}", "", w.paragraph(), ""]
    for heading, paragraphs in w.sections(w.rng.randint(2, 5)):
        out += [f"## {heading}", "", *[p + "\n" for p in paragraphs]]
    return "\n".join(out)


def wikitext(w: Writer, title: str) -> str:
    infobox = [
        f"- {k}: {v}"
        for k, v in (("Name", title), ("Opened", w.date()), ("Length", f"{w.rng.randint(10, 900)} metres"))
    ]
    out = [f"= {title} =", "", "Infobox", *infobox, "", w.paragraph(), ""]
    for heading, paragraphs in w.sections(w.rng.randint(2, 4)):
        out += [f"=={heading}==", "", *[p + "\n" for p in paragraphs]]
    return "\n".join(out)


def html_page(w: Writer) -> str:
    title = w.title()
    body = "".join(
        f"<h2>{html.escape(h)}</h2>" + "".join(f"<p>{html.escape(p)}</p>" for p in ps)
        for h, ps in w.sections(w.rng.randint(2, 4))
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} | Courier</title>'
        f'<meta name="author" content="{html.escape(w.title())}"></head><body><main><article>'
        f"<h1>{html.escape(title)}</h1><p>{html.escape(w.paragraph())}</p>{body}</article></main></body></html>"
    )


def mediawiki(w: Writer, title: str, revisions: int) -> str:
    revs = []
    text = w.paragraph()
    for r in range(revisions):
        text += "\n\n== " + w.title() + " ==\n" + w.paragraph()
        revs.append(
            f"<revision><id>{1000 + r}</id><timestamp>20{10 + r:02d}-0{1 + r % 9}-1{r % 9}T10:00:00Z</timestamp>"
            f'<text xml:space="preserve">{html.escape(text)}</text></revision>'
        )
    return (
        '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="en">'
        f"<siteinfo><sitename>Torture Wiki</sitename></siteinfo><page><title>{html.escape(title)}</title><ns>0</ns>"
        f"<id>1</id>{''.join(revs)}</page></mediawiki>"
    )


def write_corpus(root: Path, documents: int, seed: int) -> list[Path]:
    """`documents` files under `root` (in five folders, one per format); every tenth has a saved
    copy with one paragraph more, a later version of the same document. Returns the files."""
    w = Writer(seed)
    written = []
    for i in range(documents):
        kind = i % 5
        folder = root / ("reports", "wiki", "web", "notes", "exports")[kind]
        folder.mkdir(parents=True, exist_ok=True)
        if kind == 0:
            path, text = folder / f"report-{i:04d}.md", markdown(w)
        elif kind == 1:
            path, text = folder / f"article-{i:04d}.txt", wikitext(w, w.title())
        elif kind == 2:
            path, text = folder / f"page-{i:04d}.html", html_page(w)
        elif kind == 3:
            path, text = folder / f"note-{i:04d}.txt", w.title() + "\n\n" + "\n\n".join(w.paragraph() for _ in range(3))
        else:
            path, text = folder / f"export-{i:04d}.xml", mediawiki(w, w.title(), w.rng.randint(2, 4))
        path.write_text(text, encoding="utf-8")
        written.append(path)
        if i % 10 == 1 and kind != 4:
            copy = path.with_name(f"{path.stem}-saved{path.suffix}")
            extra = w.paragraph()
            copy.write_text(
                text.replace("</article>", f"<p>{extra}</p></article>") if kind == 2 else text + "\n\n" + extra + "\n"
            )
            written.append(copy)
    return written


def mutate(root: Path, seed: int, share: float = 0.15) -> dict[str, int]:
    """An incremental change: a share of the files edited (new versions), as many new files, some
    exact copies. Returns how many of each."""
    w = Writer(seed + 1)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    chosen = w.rng.sample(files, max(1, int(len(files) * share)))
    for p in chosen:
        text = p.read_text(encoding="utf-8")
        if p.suffix == ".html":
            text = text.replace("</article>", f"<p>{html.escape(w.paragraph())}</p></article>")
        elif p.suffix == ".xml":
            text = text.replace(
                "</page>",
                f'<revision><id>9{w.rng.randint(100, 999)}</id><timestamp>2025-01-01T00:00:00Z</timestamp><text xml:space="preserve">{html.escape(w.paragraph())}</text></revision></page>',
            )
        else:
            text += "\n\n" + w.paragraph() + "\n"
        p.write_text(text, encoding="utf-8")
    added = root / "added"
    added.mkdir(exist_ok=True)
    for i in range(len(chosen)):
        (added / f"new-{i:03d}.md").write_text(markdown(w), encoding="utf-8")
    copies = 0
    for p in chosen[: max(1, len(chosen) // 4)]:
        (added / f"copy-of-{p.parent.name}-{p.name}").write_bytes(p.read_bytes())
        copies += 1
    return {"edited": len(chosen), "added": len(chosen), "copies": copies}
