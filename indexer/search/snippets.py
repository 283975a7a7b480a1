"""Snippets: 1-3 sentences around the best passage, query words and phrases in <mark>.

Works on the section text from the store with the analyser of the section's language
(indexer/analysis.py, as the index does; no engine): each token becomes the term the index
holds, so `corridors` marks for the query word `corridor`, and `Армении` for `Армения`. A phrase is one <mark> over its whole span. Everything outside
the marks is HTML-escaped. Only the first SCAN_CHARS characters are examined, so a 1 MB
section costs no more than a long one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..analysis import TOKEN_PATTERN, analyzer_for, fold, normalize_word

SCAN_CHARS = 60_000
_WORD = re.compile(TOKEN_PATTERN)
MAX_CHARS = 360
# A sentence ends at . ! ? followed by space and a capital, digit or quote ("2 a.m. the" does not end one).
_LINE = re.compile(r"[^\n]+")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[A-Z0-9\"“(\u00c0-\u024f])|\n+")


@dataclass(frozen=True)
class QueryTerms:
    """What to mark: the query's words, phrases and prefixes, as typed; `forms(language)` gives
    them as terms of one language."""

    words: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]
    prefixes: tuple[str, ...] = ()

    @classmethod
    def build(cls, words: Sequence[str], phrases: Sequence[Sequence[str]], prefixes: Sequence[str] = ()) -> QueryTerms:
        return cls(tuple(words), tuple(tuple(p) for p in phrases), tuple(p.lower() for p in prefixes if p))

    def __bool__(self) -> bool:
        return bool(self.words or self.phrases or self.prefixes)


@dataclass(frozen=True)
class _Forms:
    words: frozenset[str]
    phrases: tuple[tuple[str, ...], ...]
    prefixes: tuple[str, ...]


@lru_cache(maxsize=256)
def _forms(terms: QueryTerms, language: str) -> _Forms:
    analyzer = analyzer_for(language)
    words = {t for w in terms.words if (t := analyzer.term(w)) is not None}
    phrases = []
    for p in terms.phrases:
        seq = tuple(t for w in p if (t := analyzer.term(w)) is not None)
        if len(seq) > 1:
            phrases.append(seq)
        elif seq:
            words.add(seq[0])
    return _Forms(frozenset(words), tuple(phrases), terms.prefixes)


def mentions(text: str, terms: QueryTerms, language: str = "en") -> bool:
    """Whether `text` has something `terms` would mark."""
    return bool(_matches(text[:SCAN_CHARS], terms, language))


@lru_cache(maxsize=256)
def _matches(text: str, terms: QueryTerms, language: str) -> tuple[tuple[int, int, str], ...]:
    """`_find_matches`, kept for the last few texts (at most SCAN_CHARS characters each): a page
    asks whether a section has the words, then for its snippet."""
    return _find_matches(text, terms, language)


def _find_matches(text: str, terms: QueryTerms, language: str) -> tuple[tuple[int, int, str], ...]:
    """Spans to mark, as (start, end, key), in text order."""
    forms = _forms(terms, language)
    analyzer = analyzer_for(language)
    # Only words that begin like a query term can match it: the rest are not analysed at all.
    heads = frozenset(
        {w[:2] for w in forms.words} | {w[:2] for p in forms.phrases for w in p} | {fold(p[:2]) for p in forms.prefixes}
    )
    toks = [
        (start, end, term)
        for start, end, word in _candidates(text, heads, bool(forms.phrases))
        if (term := analyzer.term(word)) is not None
    ]
    spans: list[tuple[int, int, str]] = []
    taken: set[int] = set()
    for phrase in forms.phrases:
        n = len(phrase)
        for i in range(len(toks) - n + 1):
            if all(toks[i + j][2] == phrase[j] for j in range(n)) and not taken.intersection(range(i, i + n)):
                spans.append((toks[i][0], toks[i + n - 1][1], " ".join(phrase)))
                taken.update(range(i, i + n))
    for i, (start, end, key) in enumerate(toks):
        if i in taken:
            continue
        if key in forms.words or (
            forms.prefixes and any(normalize_word(text[start:end]).startswith(p) for p in forms.prefixes)
        ):
            spans.append((start, end, key))
    spans.sort()
    return tuple(spans)


def _candidates(text: str, heads: frozenset[str], all_tokens: bool) -> list[tuple[int, int, str]]:
    """(start, end, word) of the tokens that may match: all of them when phrases need positions
    (non-matching tokens then stand between matches), else those starting like a query term."""
    if all_tokens:
        return [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]
    if text.isascii():
        return _ascii_candidates(text, heads)
    return _scan_candidates(text, heads)


def _scan_candidates(text: str, heads: frozenset[str]) -> list[tuple[int, int, str]]:
    """The tokens starting like a query term, every token visited."""
    out = []
    wanted: dict[str, bool] = {}  # two-letter beginnings seen in this text
    for m in _WORD.finditer(text):
        word = m.group(0)
        head = word[:2]
        keep = wanted.get(head)
        if keep is None:
            keep = wanted[head] = fold(normalize_word(head)) in heads
        if keep:
            out.append((m.start(), m.end(), word))
    return out


_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_JOINERS = frozenset(".'")  # the ASCII characters that join two runs of letters into one token


@lru_cache(maxsize=256)
def _head_pattern(heads: frozenset[str]) -> re.Pattern[str] | None:
    """Where a token may begin with one of the ASCII `heads` (any letter case), in ASCII text."""
    ascii_heads = [h for h in heads if h.isascii() and h[:1] in _ASCII_WORD]  # tokens begin with a word character
    if not ascii_heads:
        return None
    alternatives = "|".join(re.escape(h) for h in sorted(ascii_heads, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9_])(?:{alternatives})", re.IGNORECASE | re.ASCII)


def _ascii_candidates(text: str, heads: frozenset[str]) -> list[tuple[int, int, str]]:
    """`_candidates` of an ASCII text (no phrases): the tokens are found where a head occurs at
    the start of a run of letters, instead of visiting every token. In ASCII text a token's head
    is its first two characters lowercased (no accents to fold, no typographic apostrophes)."""
    pattern = _head_pattern(heads)
    if pattern is None:
        return []
    out = []
    for m in pattern.finditer(text):
        start = m.start()
        # Inside a token such as `e.g` or `o'clock`: not where a token starts.
        if start >= 2 and text[start - 1] in _JOINERS and text[start - 2] in _ASCII_WORD:
            continue
        token = _WORD.match(text, start)
        if token is None:
            continue
        word = token.group(0)
        if word[:2].lower() in heads:
            out.append((start, token.end(), word))
    return out


def _sentences(text: str, spans: Sequence[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence; a list item's `- ` marker is left out of it. `spans`: the
    section's sentences as the indexer found them (Punkt, indexer/sentences.py); lines after
    the last of them (a lead's infobox lines) are a sentence each. Without them, a full stop
    before a capital ends a sentence."""
    if spans is None:
        pieces = _regex_pieces(text)
    else:
        pieces = [(a, b) for a, b in spans if b <= len(text)]
        tail = pieces[-1][1] if pieces else 0
        pieces += [(m.start(), m.end()) for m in _LINE.finditer(text, tail)]
    out = []
    for start, end in pieces:
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        if piece.startswith("- ", lead) and piece[lead + 2 :].strip():
            lead += 2
        if piece.strip():
            out.append((start + lead, start + len(piece.rstrip())))
    return out or [(0, len(text))]


def _regex_pieces(text: str) -> list[tuple[int, int]]:
    """Sentences by punctuation alone (no model): a stop before a capital ends one."""
    out = []
    start = 0
    for m in [*_BOUNDARY.finditer(text), None]:
        end = m.start() if m else len(text)
        out.append((start, end))
        if m:
            start = m.end()
    return out


def snippet(
    text: str,
    terms: QueryTerms,
    language: str = "en",
    max_sentences: int = 3,
    extra: Sequence[tuple[int, int, str]] = (),
    sentence_spans: Sequence[tuple[int, int]] | None = None,
) -> str:
    """HTML: a fragment of 1-3 sentences with the query marked (words analysed in the text's
    `language`); the first sentence when nothing matches. `extra`: more spans to mark and to
    choose sentences by (the dates a date filter asks for). `sentence_spans`: the text's sentences as
    the index holds them (see `_sentences`)."""
    head = text[:SCAN_CHARS]
    spans: Sequence[tuple[int, int, str]] = _matches(head, terms, language) if terms else ()
    if extra:
        taken = [(a, b) for a, b, _ in spans]
        spans = sorted(
            [*spans, *((a, b, k) for a, b, k in extra if b <= len(head) and not any(a < y and b > x for x, y in taken))]
        )
    sentences = _sentences(head, sentence_spans)
    if not spans:
        start, end = sentences[0]
        return _render(head, start, min(end, start + MAX_CHARS), [])
    # Score windows of 1-3 sentences: distinct terms covered, then fewer characters, then earliest.
    per_sentence: list[set[str]] = [set() for _ in sentences]
    k = 0
    for a, _b, key in spans:
        while k < len(sentences) - 1 and a >= sentences[k][1]:
            k += 1
        per_sentence[k].add(key)
    best: tuple[int, int, int] | None = None
    best_range = sentences[0]
    for i in range(len(sentences)):
        if not per_sentence[i]:
            continue  # a window starts at a sentence with a match
        keys: set[str] = set()
        for k in range(i, min(i + max_sentences, len(sentences))):
            s_start, s_end = sentences[i][0], sentences[k][1]
            if k > i and s_end - s_start > MAX_CHARS:
                break
            keys |= per_sentence[k]
            score = (len(keys), -(s_end - s_start), -i)
            if best is None or score > best:
                best = score
                best_range = (s_start, s_end)
    start, end = best_range
    if end - start > MAX_CHARS:
        # One long sentence: crop around its first mark, on word boundaries.
        first = next((a for a, b, _ in spans if a >= start), start)
        start = max(start, first - MAX_CHARS // 3)
        start = head.rfind(" ", 0, start) + 1 if start > best_range[0] else start
        end = min(end, start + MAX_CHARS)
        space = head.rfind(" ", start, end)
        end = space if space > start + MAX_CHARS // 2 else end
    inside = [(a, b) for a, b, _ in spans if a >= start and b <= end]
    return _render(head, start, end, inside, prefix=start > 0 and start not in {s for s, _ in sentences})


_LIST_MARK = re.compile(r"\n- ")  # the marker of a list item after the first line of a snippet


def _render(text: str, start: int, end: int, spans: list[tuple[int, int]], prefix: bool = False) -> str:
    out = ["…" if prefix else ""]
    pos = start
    for a, b in spans:
        out.append(html.escape(_LIST_MARK.sub("\n", text[pos:a])))
        out.append(f"<mark>{html.escape(text[a:b])}</mark>")
        pos = b
    out.append(html.escape(_LIST_MARK.sub("\n", text[pos:end])))
    fragment = "".join(out).strip()
    if end < len(text.rstrip()) and not re.search(r"[.!?][\"'”’)\]]*$", text[start:end].rstrip()):
        fragment += " …"
    return " ".join(fragment.split())


def highlight(text: str, terms: QueryTerms, language: str = "en", limit: int = 1_000_000) -> str:
    """HTML: the whole text (its first `limit` characters marked) with every query match in <mark>."""
    spans = [(a, b) for a, b, _key in _find_matches(text[:limit], terms, language)]  # whole texts: not kept
    out = []
    pos = 0
    for a, b in spans:
        out.append(html.escape(text[pos:a]))
        out.append(f"<mark>{html.escape(text[a:b])}</mark>")
        pos = b
    out.append(html.escape(text[pos:]))
    return "".join(out)
