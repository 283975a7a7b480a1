"""Analyzers: tokenizer, stopwords, stemmer, accent folding.

Whoosh pickles the analyzer into the index, so the stemming function is a plain module-level
function (a bound method of the C stemmer object cannot be pickled). PyStemmer behind an LRU
cache: the issue's measurement put nltk's Snowball at 208k tokens/s and 3.3M/s cached, the same
as PyStemmer; PyStemmer is the smaller dependency.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import Stemmer
from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.support.charset import accent_map

# A short English stop list (33 words, the classic Lucene/SMART core): longer lists hurt
# phrase and name queries more than they help ranking.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)
# English function words: they carry grammar, not topic. Indexed and searchable (only
# STOP_WORDS are not), but never offered as the terms that explain why two documents are
# related. Written for this project: pronouns, determiners, prepositions, conjunctions,
# auxiliaries and the commonest adverbs.
_FUNCTION_WORDS_TEXT = """
    about above across after afterwards again against ago all almost along already also although
    always am among amongst another any anybody anyone anything anyway anywhere around away back
    because been before beforehand behind being below beside besides between beyond both can cannot
    could did do does doing done down during each either else elsewhere enough even ever every
    everybody everyone everything everywhere except far few first following for from further had
    has have having he hence her here hers herself him himself his how however i inside instead
    its itself just last later least less like many may me meanwhile might mine more moreover most
    mostly much must my myself near nearly neither never nevertheless next nobody none nor nothing
    now nowhere off often once one only onto other others otherwise our ours ourselves out outside
    over own per perhaps quite rather really same second several shall she should since so some
    somebody someone something sometimes somewhat somewhere soon still than thanks thats them
    themselves thence thereafter thereby therefore therein thereupon those though through
    throughout thus till too toward towards under unless until up upon us very via was we well
    were what whatever when whence whenever where whereas whereby wherever whether which while
    who whoever whole whom whose why within without would yet you your yours yourself yourselves
"""
FUNCTION_WORDS = STOP_WORDS | frozenset(_FUNCTION_WORDS_TEXT.split())
TOKEN_PATTERN = r"\w+(?:[.'’]\w+)*"

_english = Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem_en(word: str) -> str:
    """English Snowball stem of one lowercased word."""
    return _english.stemWord(word)


def fold(word: str) -> str:
    """One word as the text analyzer indexes it: lowercased, accents folded, stemmed."""
    return stem_en(word.lower().translate(accent_map))


_TOKEN = re.compile(TOKEN_PATTERN)


def folded_tokens(text: str) -> Iterator[tuple[int, int, str, str]]:
    """(start, end, word, folded) for each token of `text` that is not a stop word."""
    for m in _TOKEN.finditer(text):
        word = m.group(0)
        if word.lower() not in STOP_WORDS:
            yield m.start(), m.end(), word, fold(word)


def text_analyzer() -> Analyzer:
    """Body, title and heading text: words, lowercased, stop words dropped, accents folded, stemmed."""
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | StopFilter(stoplist=STOP_WORDS, minsize=1)
        | CharsetFilter(accent_map)
        | StemFilter(stemfn=stem_en, cachesize=-1)
    )


def plain_analyzer() -> Analyzer:
    """Exact-ish text for suggestions and spelling: words, lowercased, accents folded."""
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | CharsetFilter(accent_map)
