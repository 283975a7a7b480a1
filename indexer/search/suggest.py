"""Spelling suggestions, completion and "more like this", from the index vocabulary through the
engine contract. Functions here take what they need (an engine, texts, a record table) and
return values; the Searcher decides what to do with them."""

from __future__ import annotations

import itertools
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from ..analysis import FUNCTION_WORDS, analyzer_for, fold, is_stop_everywhere, normalize_word
from ..engines import Engine
from ..models import Section
from ..querytree import Bool, Term
from ..records import StringColumn, sorted_position, take_words, words_starting
from .query import ParsedQuery

if TYPE_CHECKING:
    from .facets import RecordTable

RARE_RATIO = 20  # a known word is corrected only when a near word is this many times more frequent
MLT_TERMS = 12
MLT_CANDIDATE_FACTOR = 4  # distinctive terms looked at, per term kept, to find MLT_TERMS shared ones
MLT_RECORDS = 500  # best records looked at to find the related documents


class Vocabulary(NamedTuple):
    """The index's unstemmed words, sorted, and how many records contain each."""

    words: Sequence[str]
    freqs: np.ndarray

    def frequency(self, word: str) -> int:
        i = sorted_position(self.words, word)
        return int(self.freqs[i]) if i < len(self.words) and self.words[i] == word else 0


_DIGIT = re.compile(r"\d")
WHOLE_LETTER = 500  # more candidates than this: the letter's words are decoded once and kept
LETTER_CACHE = 64  # letters kept decoded, of the current vocabulary only
CORRECTIONS_KEPT = 4096  # words whose correction (or its absence) is kept, for the current vocabulary


class _VocabularyCache:
    """Values worked out from one vocabulary, the `limit` latest kept (oldest dropped first), and
    dropped all at once when another vocabulary (a new index generation) is asked about: the
    vocabulary is known by identity, so a freed one's values never serve a later one. Safe
    across threads (the server searches in several)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.items: dict[Any, Any] = {}
        self.of: Sequence[str] | None = None

    def get(self, vocabulary: Vocabulary, key: Any, make: Callable[[], Any]) -> Any:
        with self.lock:
            if self.of is not vocabulary.words:
                self.items.clear()
                self.of = vocabulary.words
            if key in self.items:
                return self.items[key]
        value = make()  # outside the lock: another thread may make it too, with the same result
        with self.lock:
            if self.of is vocabulary.words:
                if len(self.items) >= self.limit:
                    self.items.pop(next(iter(self.items)))
                self.items[key] = value
        return value


_LETTERS = _VocabularyCache(LETTER_CACHE)
_CORRECTIONS = _VocabularyCache(CORRECTIONS_KEPT)


def _is_candidate(word: str) -> bool:
    """A word a correction may propose: 3 letters or more, no digits."""
    return len(word) >= 3 and not _DIGIT.search(word)


def _candidate_flags(words: Sequence[str], span: range) -> np.ndarray:
    """_is_candidate of each of the sorted `words` in `span`. In a StringColumn, from the
    UTF-8 bytes: only the words with bytes outside ASCII and no ASCII digit are decoded (for
    the digits of other scripts), so the words with digits, such as part numbers or a generated
    corpus's marks, cost nothing."""
    if not isinstance(words, StringColumn):
        found = take_words(words, span)
        return np.fromiter((_is_candidate(w) for w in found), dtype=bool, count=len(found))
    chars, digits, wide = words.profile(span.start, span.stop)
    ok = (chars >= 3) & (digits == 0)
    check = np.flatnonzero(ok & (wide > 0))
    if len(check):
        decoded = take_words(words, (check + span.start).tolist())
        ok[check] = np.fromiter((not _DIGIT.search(w) for w in decoded), dtype=bool, count=len(decoded))
    return ok


def _letter(vocabulary: Vocabulary, letter: str) -> tuple[int, np.ndarray, np.ndarray, list[str]]:
    """(position of the first, which are candidates, each one's place among the candidates,
    the candidates) of the vocabulary's words starting with `letter`, decoded once per
    vocabulary (a new index generation brings a new vocabulary object, and the letters of the
    old one are dropped)."""

    def make() -> tuple[int, np.ndarray, np.ndarray, list[str]]:
        span = words_starting(vocabulary.words, letter)
        ok = _candidate_flags(vocabulary.words, span)
        words = take_words(vocabulary.words, (np.flatnonzero(ok) + span.start).tolist())
        return span.start, ok, np.cumsum(ok) - 1, words

    return _LETTERS.get(vocabulary, letter, make)  # type: ignore[no-any-return]


def _candidates(vocabulary: Vocabulary, letter: str, floor: int) -> tuple[list[str], np.ndarray]:
    """The candidate words starting with `letter` that are in at least `floor` records, with
    their frequencies. A frequent word has few such words: they are selected with numpy and
    only they are decoded; a rare or unknown word has the whole letter as candidates."""
    span = words_starting(vocabulary.words, letter)
    at = np.flatnonzero(vocabulary.freqs[span.start : span.stop] >= floor)
    if len(at) > WHOLE_LETTER:
        start, ok, place, words = _letter(vocabulary, letter)
        at = at[ok[at]]
        return [words[i] for i in place[at].tolist()], vocabulary.freqs[at + start]
    found = take_words(vocabulary.words, (at + span.start).tolist())
    keep = [i for i, w in enumerate(found) if _is_candidate(w)]
    return [found[i] for i in keep], vocabulary.freqs[at[keep] + span.start]


def _correction(word: str, vocabulary: Vocabulary, languages: Sequence[str]) -> str | None:
    """A word's correction, kept per vocabulary: questions repeat their words."""
    return _CORRECTIONS.get(  # type: ignore[no-any-return]
        vocabulary, (word, tuple(languages)), lambda: _find_correction(word, vocabulary, languages)
    )


def _find_correction(word: str, vocabulary: Vocabulary, languages: Sequence[str]) -> str | None:
    if any(c.isdigit() for c in word) or len(word) < 4 or is_stop_everywhere(word, languages):
        return None  # numbers, dates, short and stop words are never "corrected"
    low = fold(normalize_word(word))
    freq = vocabulary.frequency(low)
    # Candidates: words at least RARE_RATIO times as frequent (any word, for an unknown one).
    words, freqs = _candidates(vocabulary, low[0], freq * RARE_RATIO if freq else 1)
    if not words:
        return None
    maxdist = 1 if len(low) <= 5 else 2
    found = process.extract(low, words, scorer=OSA.distance, score_cutoff=maxdist, limit=None)
    best = min(((dist, -int(freqs[i]), cand) for cand, dist, i in found if cand != low), default=None)
    if best is None or _same_terms(low, best[2], languages):
        # The nearest frequent word is a form of this one ("papers", "paper"): a real word, and
        # the "correction" would find the same records.
        return None
    cand = best[2]
    return cand.capitalize() if word[:1].isupper() else cand


def _same_terms(word: str, other: str, languages: Sequence[str]) -> bool:
    """Whether two words are the same index term in each of `languages`."""
    return all(analyzer_for(lang).term(word) == analyzer_for(lang).term(other) for lang in languages)


def corrected(parsed: ParsedQuery, vocabulary: Vocabulary, languages: Sequence[str]) -> str | None:
    """The query text with each misspelled word replaced by a much more frequent near word of
    the vocabulary (the other words kept), or None when no word has a correction. The caller
    offers it only when it finds more documents."""
    terms = [n for n in _terms(parsed.tree) if n.text in parsed.words]
    text = parsed.text
    replaced = False
    for node in sorted(terms, key=lambda n: -n.position):
        fix = _correction(node.text, vocabulary, languages)
        if not fix:
            continue
        pos = text.find(node.text, node.position)
        if pos < 0:
            continue
        text = text[:pos] + fix + text[pos + len(node.text) :]
        replaced = True
    return text if replaced else None


def _terms(node: Any) -> list[Term]:
    if isinstance(node, Term):
        return [node] if node.field in (None, "title", "heading", "text") else []
    if isinstance(node, Bool):
        return [t for part in (*node.should, *node.must) for t in _terms(part)]
    return []


def _term_counts(texts: Iterable[tuple[str, str]]) -> tuple[Counter[str], dict[str, Counter[str]]]:
    """Index terms of (text, language) pairs with their counts, and the words each stands for;
    short words, numbers and function words left out."""
    counts: Counter[str] = Counter()
    surface: dict[str, Counter[str]] = {}
    for text, language in texts:
        analyzer = analyzer_for(language)
        for _start, _end, word, term in analyzer.analysed(text[:200_000]):
            low = word.lower()
            if len(word) < 3 or any(c.isdigit() for c in word) or low in FUNCTION_WORDS:
                continue
            counts[term] += 1
            surface.setdefault(term, Counter())[low] += 1
    return counts, surface


def _document_texts(title: str, sections: Sequence[Section]) -> list[tuple[str, str]]:
    """What the index holds of a document's latest version, with languages: title, headings, texts."""
    lang = sections[0].language if sections else "und"
    return [(title, lang), *((s.heading, s.language) for s in sections if s.heading),
            *((s.text, s.language) for s in sections)]  # fmt: skip


def more_like_this(
    documents: Callable[[str], tuple[str, Sequence[Section]]],
    engine: Engine,
    table: RecordTable,
    doc_id: str,
    limit: int = 5,
    elsewhere: Callable[[str], bool] | None = None,
) -> list[dict[str, Any]]:
    """The `limit` documents sharing the most distinctive terms with `doc_id`, with those terms.
    `documents(doc_id)` gives a document's title and latest sections; `elsewhere(word)` tells
    whether another document's latest version has the word: a term found only in this document
    (in any of its versions) links to nothing and is passed over."""
    title, sections = documents(doc_id)
    counts, surface = _term_counts(_document_texts(title, sections))
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
    ranked_docs = sorted(best, key=lambda d: (-best[d], table.doc_ids[d]))[:limit]
    out = []
    for d in ranked_docs:
        other_id = table.doc_ids[d]
        other_title, other_sections = documents(other_id)
        other_counts, _ = _term_counts(_document_texts(other_title, other_sections))
        shared = [words[t] for t in top if t in other_counts]
        out.append({"doc_id": other_id, "title": other_title, "score": round(best[d], 4), "terms": shared})
    return out


COMPLETIONS = 8
CONTEXT_SECTIONS = 20  # best sections for the words already typed, read for what follows them
_WORD = re.compile(r"\w+(?:['’]\w+)*")


def next_words(head: str, last: str, texts: Iterable[str]) -> list[str]:
    """Words starting with `last` that follow the final word of `head` in `texts` (the best
    sections for `head`; most often first), then words starting with `last` found anywhere in
    them. `lachin c` -> corridor, before the globally more frequent `council`."""
    last = last.lower()
    words = [w.lower() for w in _WORD.findall(head)]
    if not words:
        return []
    after: Counter[str] = Counter()
    near: Counter[str] = Counter()
    for text in texts:
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
    prefix: str, vocabulary: Vocabulary, titles: list[str], limit: int = COMPLETIONS, context: list[str] | None = None
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
        words, freqs = vocabulary
        start = sorted_position(words, last)
        end = sorted_position(words, last + "\uffff", start)
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
