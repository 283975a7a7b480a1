""" "Did you mean" and "more like this", from the index vocabulary through the Engine interface."""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from ..analysis import FUNCTION_WORDS, STOP_WORDS, folded_tokens
from ..engines import Engine
from ..errors import QueryError
from ..store import Store
from .query import Bool, MatchAll, ParsedQuery, Term, parse

if TYPE_CHECKING:
    from .facets import RecordTable

RARE_RATIO = 20  # a known word is corrected only when a near word is this many times more frequent
MLT_TERMS = 12
MLT_CANDIDATE_FACTOR = 4  # distinctive terms looked at, per term kept, to find MLT_TERMS shared ones
MLT_RECORDS = 500  # best records looked at to find the related documents


class _Counter(Protocol):
    def count_documents(self, tree: Any, latest_only: bool = True) -> int: ...
    def table(self) -> RecordTable: ...

    @property
    def engine(self) -> Engine: ...


def _vocabulary_by_letter(engine: Engine) -> dict[str, tuple[list[str], np.ndarray]]:
    """The engine's vocabulary grouped by first letter, most frequent first (cached per generation)."""
    key = (id(engine), engine.generation())
    cached = _VOCAB.get(id(engine))
    if cached and cached[0] == key:
        return cached[1]
    words, freqs = engine.vocabulary()
    groups: dict[str, list[int]] = {}
    for i, w in enumerate(words):
        if len(w) >= 3 and not any(c.isdigit() for c in w):
            groups.setdefault(w[0], []).append(i)
    out = {}
    for letter, idx in groups.items():
        order = sorted(idx, key=lambda i: (-int(freqs[i]), words[i]))
        out[letter] = ([words[i] for i in order], freqs[order])
    _VOCAB[id(engine)] = (key, out)
    return out


_VOCAB: dict[int, tuple[Any, dict[str, tuple[list[str], np.ndarray]]]] = {}


def _correction(word: str, engine: Engine) -> str | None:
    if any(c.isdigit() for c in word) or len(word) < 4 or word.lower() in STOP_WORDS:
        return None  # numbers, dates and short words are never "corrected"
    low = word.lower()
    group = _vocabulary_by_letter(engine).get(low[0])
    if not group:
        return None
    words, freqs = group
    freq = engine.word_frequency(low)
    # Candidates: words at least RARE_RATIO times as frequent (any word, for an unknown one).
    floor = freq * RARE_RATIO if freq else 1
    n = int(np.searchsorted(-freqs, -floor, side="right"))
    if n == 0:
        return None
    maxdist = 1 if len(low) <= 5 else 2
    found = process.extract(low, words[:n], scorer=OSA.distance, score_cutoff=maxdist, limit=None)
    best = min(((dist, -int(freqs[i]), cand) for cand, dist, i in found if cand != low), default=None)
    if best is None:
        return None
    cand = best[2]
    return cand.capitalize() if word[:1].isupper() else cand


def did_you_mean(parsed: ParsedQuery, searcher: _Counter, total: int, latest_only: bool) -> str | None:
    """The query with misspelled words replaced, only when it would find more documents."""
    terms = [n for n in _terms(parsed.tree) if n.text in parsed.words]
    text = parsed.text
    replaced = False
    for node in sorted(terms, key=lambda n: -n.position):
        fix = _correction(node.text, searcher.engine)
        if not fix:
            continue
        pos = text.find(node.text, node.position)
        if pos < 0:
            continue
        text = text[:pos] + fix + text[pos + len(node.text) :]
        replaced = True
    if not replaced:
        return None
    new = parse(text, searcher.table().infobox_keys)
    return text if searcher.count_documents(new.tree, latest_only) > total else None


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
            if len(word) < 3 or any(c.isdigit() for c in word) or word.lower() in FUNCTION_WORDS:
                continue
            counts[f] += 1
            surface.setdefault(f, Counter())[word.lower()] += 1
    return counts, surface


def _document_texts(store: Store, row: Any) -> list[str]:
    """What the index holds of a document's latest version: title, headings and section texts."""
    sections = store.sections_of(row["latest_version_id"])
    return [row["title"], *(s.heading for s in sections if s.heading), *(s.text for s in sections)]


def more_like_this(
    store: Store,
    engine: Engine,
    table: RecordTable,
    doc_id: str,
    limit: int = 5,
    elsewhere: Callable[[str], bool] | None = None,
) -> list[dict[str, Any]]:
    """The `limit` documents sharing the most distinctive terms with `doc_id`, with those terms.
    `elsewhere(word)` tells whether another document's latest version has the word: a term
    found only in this document (in any of its versions) links to nothing and is passed over."""
    row = store.document_row(doc_id)
    counts, surface = _folded_counts(_document_texts(store, row))
    if not counts:
        return []
    n_records, dfs = engine.term_stats(list(counts))
    weights = {}
    for term, tf in counts.items():
        df = dfs.get(term, 0)
        if df < 2:
            continue  # a word only this section has links to nothing
        weights[term] = (1 + math.log(tf)) * math.log(1 + n_records / df)
    ranked = sorted(weights, key=lambda t: (-weights[t], t))[: MLT_TERMS * MLT_CANDIDATE_FACTOR]
    words = {t: surface[t].most_common(1)[0][0] for t in ranked}
    top = list(itertools.islice((t for t in ranked if elsewhere is None or elsewhere(words[t])), MLT_TERMS))
    if not top:
        return []
    tree = Bool(should=tuple(Term(words[t]) for t in top))
    hits = engine.search(tree, latest_only=True, limit=MLT_RECORDS)
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
        other_counts, _ = _folded_counts(_document_texts(store, other))
        shared = [words[t] for t in top if t in other_counts]
        out.append({"doc_id": other_id, "title": other["title"], "score": round(best[d], 4), "terms": shared})
    return out


COMPLETIONS = 8
CONTEXT_SECTIONS = 20  # best sections for the words already typed, read for what follows them
_WORD = re.compile(r"\w+(?:['’]\w+)*")


def next_words(head: str, last: str, searcher: Any) -> list[str]:
    """Words starting with `last` that follow the final word of `head` in the best sections
    for `head` (most often first), then words starting with `last` found anywhere in them.
    `lachin c` -> corridor, before the globally more frequent `council`."""
    last = last.lower()
    try:
        parsed = parse(head, searcher.table().infobox_keys)
    except QueryError:
        return []
    words = [w.lower() for w in _WORD.findall(head)]
    if isinstance(parsed.tree, MatchAll) or not words:
        return []
    hits = searcher.engine.search(parsed.tree, latest_only=True, limit=CONTEXT_SECTIONS)
    texts = searcher.store.section_texts([h.record_id for h in hits])
    after: Counter[str] = Counter()
    near: Counter[str] = Counter()
    for text in texts.values():
        tokens = [w.lower() for w in _WORD.findall(text)]
        for prev, word in itertools.pairwise(["", *tokens]):
            if word.startswith(last) and word != last and not any(c.isdigit() for c in word):
                near[word] += 1
                if prev == words[-1]:
                    after[word] += 1
    first = sorted(after, key=lambda w: (-after[w], -near[w], w))
    rest = sorted((w for w in near if w not in after), key=lambda w: (-near[w], w))
    return first + rest


def complete(
    prefix: str, engine: Engine, titles: list[str], limit: int = COMPLETIONS, context: list[str] | None = None
) -> list[str]:
    """Completions of what is being typed: document titles starting with it, then the query with
    its last word completed: first by `context` (see `next_words`), then from the vocabulary,
    most frequent words first."""
    text = " ".join(prefix.split())
    if not text:
        return []
    low = text.lower()
    out: list[str] = [t for t in titles if t.lower().startswith(low)][:limit]
    head, _, last = text.rpartition(" ")
    last = last.lower()
    candidates: list[str] = list(context or [])
    if len(last) >= 2:
        words, freqs = engine.vocabulary()
        start = bisect.bisect_left(words, last)
        end = bisect.bisect_left(words, last + "\uffff")
        ranked = sorted(range(start, end), key=lambda i: (-int(freqs[i]), words[i]))
        candidates += [words[i] for i in ranked if words[i] != last and not any(c.isdigit() for c in words[i])]
    seen = {o.lower() for o in out}
    for word in candidates:
        if len(out) >= limit:
            break
        candidate = f"{head} {word}".strip()
        if candidate.lower() not in seen:
            seen.add(candidate.lower())
            out.append(candidate)
    return out
