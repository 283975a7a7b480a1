""" "Did you mean" and "more like this", from the index vocabulary through the Engine interface."""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING, Any

from ..analysis import STOP_WORDS, folded_tokens
from ..engines import Engine
from ..store import Store
from .query import Bool, ParsedQuery, Term, parse

if TYPE_CHECKING:
    from .facets import RecordTable

RARE_RATIO = 20  # a known word is corrected only when a near word is this many times more frequent
MLT_TERMS = 12


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance with adjacent transpositions (short words only)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _correction(word: str, engine: Engine) -> str | None:
    if any(c.isdigit() for c in word) or len(word) < 4 or word.lower() in STOP_WORDS:
        return None  # numbers, dates and short words are never "corrected"
    low = word.lower()
    freq = engine.word_frequency(low)
    maxdist = 1 if len(low) <= 5 else 2
    best: tuple[int, int, str] | None = None
    for cand, df in engine.terms_near(low, maxdist=maxdist, prefix=1):
        if cand == low or any(c.isdigit() for c in cand):
            continue
        if freq and df < freq * RARE_RATIO:
            continue
        dist = edit_distance(low, cand)
        key = (dist, -df, cand)
        if dist <= maxdist and (best is None or key < best):
            best = key
    if best is None:
        return None
    cand = best[2]
    return cand.capitalize() if word[:1].isupper() else cand


def did_you_mean(parsed: ParsedQuery, engine: Engine, table: RecordTable, total: int, latest_only: bool) -> str | None:
    """The query with misspelled words replaced, only when it would find more documents."""
    terms = [n for n in _terms(parsed.tree) if n.text in parsed.words]
    text = parsed.text
    replaced = False
    for node in sorted(terms, key=lambda n: -n.position):
        fix = _correction(node.text, engine)
        if not fix:
            continue
        pos = text.find(node.text, node.position)
        if pos < 0:
            continue
        text = text[:pos] + fix + text[pos + len(node.text) :]
        replaced = True
    if not replaced:
        return None
    new = parse(text, table.infobox_keys)
    hits = engine.search(new.tree, latest_only=latest_only)
    docs = {int(table.doc[table.index[h.record_id]]) for h in hits if h.record_id in table.index}
    return text if len(docs) > total else None


def _terms(node: Any) -> list[Term]:
    if isinstance(node, Term):
        return [node] if node.field in (None, "title", "heading", "text") else []
    if isinstance(node, Bool):
        return [t for part in (*node.should, *node.must) for t in _terms(part)]
    return []


def _folded_counts(texts: list[str]) -> tuple[Counter[str], dict[str, Counter[str]]]:
    counts: Counter[str] = Counter()
    surface: dict[str, Counter[str]] = {}
    for text in texts:
        for _start, _end, word, f in folded_tokens(text[:200_000]):
            if len(word) < 3 or any(c.isdigit() for c in word):
                continue
            counts[f] += 1
            surface.setdefault(f, Counter())[word.lower()] += 1
    return counts, surface


def more_like_this(
    store: Store, engine: Engine, table: RecordTable, doc_id: str, limit: int = 5
) -> list[dict[str, Any]]:
    """The `limit` documents sharing the most distinctive terms with `doc_id`, with those terms."""
    row = store.document_row(doc_id)
    texts = [s.text for s in store.sections_of(row["latest_version_id"])]
    texts.append(row["title"])
    counts, surface = _folded_counts(texts)
    if not counts:
        return []
    n_records, dfs = engine.term_stats(list(counts))
    weights = {}
    for term, tf in counts.items():
        df = dfs.get(term, 0)
        if df < 2:
            continue  # a word only this document has links to nothing
        weights[term] = (1 + math.log(tf)) * math.log(1 + n_records / df)
    top = sorted(weights, key=lambda t: (-weights[t], t))[:MLT_TERMS]
    if not top:
        return []
    words = {t: surface[t].most_common(1)[0][0] for t in top}
    tree = Bool(should=tuple(Term(words[t]) for t in top))
    hits = engine.search(tree, latest_only=True)
    own = table.doc_index.get(doc_id, -1)
    best: dict[int, float] = {}
    for h in hits:
        i = table.index.get(h.record_id)
        if i is None or int(table.doc[i]) == own:
            continue
        d = int(table.doc[i])
        best[d] = max(best.get(d, 0.0), h.score)
    ranked = sorted(best, key=lambda d: (-best[d], table.doc_ids[d]))[:limit]
    out = []
    for d in ranked:
        other_id = table.doc_ids[d]
        other = store.document_row(other_id)
        other_counts, _ = _folded_counts(
            [s.text for s in store.sections_of(other["latest_version_id"])] + [other["title"]]
        )
        shared = [words[t] for t in top if t in other_counts]
        out.append({"doc_id": other_id, "title": other["title"], "score": round(best[d], 4), "terms": shared})
    return out
