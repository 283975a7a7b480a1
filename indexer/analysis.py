"""Analysers per language: words -> index terms, the same for every engine and for queries.

`analyzer_for(language)` gives an `Analyzer` for an ISO 639-1 code: words are lowercased,
typographic apostrophes made plain, the language's stop words dropped, the rest stemmed with
its Snowball stemmer (PyStemmer: English, Russian, Armenian, Turkish, French, German and two
dozen more) and Latin letters folded to their base form (é -> e, after stemming, so the stemmer
still sees the accents it knows). A language without a stemmer gets the neutral analyser:
lowercase and folding, no stemming, no stop words.

Sections are analysed in their own detected language; a query word is analysed in every
language of the index (`query_terms`), so a Russian query finds a Russian section by another
inflection of its words, and an English-only index behaves as a purely English one.

Stop lists are short on purpose (articles, the commonest prepositions and conjunctions): with
BM25 a long list costs more in unsearchable words than it gains in ranking (bench/RESULTS.md:
the 33-word English list against none and against 330 function words). Written for this
project. `FUNCTION_WORDS` (English) are indexed and searchable, but never offered as the words
that explain why two documents are related.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

import Stemmer

UNDETERMINED = "und"  # a section whose language was not detected
UNDETERMINED_AS = "en"  # ... is analysed as this language (see analyzer_for)
# A query word is read in the index's languages of its script that hold at least this share of
# the sections (query_languages).
QUERY_LANGUAGE_SHARE = 0.02
# Scripts of the stemmed languages that are not written in Latin letters.
SCRIPTS = {
    "ar": "ARABIC", "fa": "ARABIC", "hy": "ARMENIAN", "ru": "CYRILLIC", "sr": "CYRILLIC", "uk": "CYRILLIC",
    "bg": "CYRILLIC", "be": "CYRILLIC", "kk": "CYRILLIC", "mk": "CYRILLIC", "el": "GREEK", "hi": "DEVANAGARI",
    "ne": "DEVANAGARI", "mr": "DEVANAGARI", "ta": "TAMIL", "yi": "HEBREW", "he": "HEBREW", "ka": "GEORGIAN",
    "zh": "CJK", "ja": "CJK", "ko": "HANGUL", "th": "THAI",
}  # fmt: skip
# ISO 639-1 -> PyStemmer's Snowball algorithm.
STEMMERS = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish",
    "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian", "fi": "finnish", "fr": "french",
    "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian",
    "fa": "persian", "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip

_STOP_LISTS = {
    # The classic 33-word core (Lucene, SMART): bench/RESULTS.md compares it with none and with more.
    "en": "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with",
    "fr": "le la les l un une des du de d et ou en au aux à ce ces cet cette qui que qu est sont dans "
    "par pour sur ne pas se sa son ses",
    "de": "der die das den dem des ein eine einer eines einem einen und oder in im an am auf aus bei mit "
    "nach von vom zu zum zur ist sind war nicht",
    "es": "el la los las un una unos unas de del y o en a al que por para con se su sus es son no lo",
    "it": "il lo la i gli le un uno una di del della dei delle e o in a al alla da con per su che non è si",
    "pt": "o a os as um uma uns umas de do da dos das e ou em no na nos nas por para com que não se é",
    "nl": "de het een en of in op aan van voor met is zijn niet dat die te er",
    "ru": "и в во на с со к ко у о об от до по за из не но а или что как это то же ли бы",
}
STOP_WORDS: frozenset[str] = frozenset(_STOP_LISTS["en"].split())

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

# A word: letters and digits, with inner apostrophes and dots (`country's`, `U.S`).
TOKEN_PATTERN = r"\w+(?:[.'’‘ʼ′]\w+)*"
_TOKEN = re.compile(TOKEN_PATTERN)
# Typographic apostrophes and primes read as the plain apostrophe, soft and non-breaking
# hyphens as nothing and a hyphen: `country’s` is `country's`.
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "′": "'", "\u00ad": "", "\u2011": "-"})
# Latin letters that do not decompose into a base letter and a mark.
_LATIN_EXTRA = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th"})


def normalize_word(word: str) -> str:
    """A word as every analyser first sees it: lowercased, apostrophes made plain."""
    return word.translate(_APOSTROPHES).lower()


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """Latin letters without their accents (`école` -> `ecole`); other scripts as they are
    (a Cyrillic `й` keeps its breve: it is another letter)."""
    if word.isascii():
        return word
    out = []
    for ch in unicodedata.normalize("NFKD", word.translate(_LATIN_EXTRA)):
        if unicodedata.combining(ch) and out and "LATIN" in unicodedata.name(out[-1], ""):
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def tokens(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, word) of every word of `text`."""
    for m in _TOKEN.finditer(text):
        yield m.start(), m.end(), m.group(0)


_SPACE = re.compile(r"\s")


def fold_word(word: str) -> str:
    """One word folded (`fold`), without the spaces a compatibility form can decompose to (the
    Arabic ligature U+FC5E is a space and two marks): a term never holds a space."""
    folded = fold(word)
    return "".join(folded.split()) if _SPACE.search(folded) else folded


_PLAIN: dict[str, str] = {}  # a word as found -> plain_terms' form of it (the first 50,000 words met)


def plain_terms(text: str) -> list[str]:
    """Every word of `text` lowercased and folded, unstemmed: the vocabulary that spelling
    suggestions, completion and prefix or fuzzy words are read from."""
    out = []
    known = _PLAIN.get
    for word in _TOKEN.findall(text):  # (the pattern's group does not capture: whole words)
        t = known(word)
        if t is None:
            t = fold_word(normalize_word(word))
            if len(_PLAIN) < 50_000:  # (common words are met early; about 11 MB at most)
                _PLAIN[word] = t = word if t == word else t
        if t:
            out.append(t)
    return out


@dataclass(frozen=True)
class Analyzer:
    """Words -> index terms for one language."""

    language: str
    stop_words: frozenset[str] = frozenset()
    stemmer_name: str | None = None
    _cache: dict[str, str | None] = field(default_factory=dict, compare=False, repr=False)

    def term(self, word: str) -> str | None:
        """The index term of one word, or None for a stop word."""
        hit = self._cache.get(word, "")
        if hit != "":
            return hit
        low = normalize_word(word)
        if low in self.stop_words:
            out = None
        else:
            stemmed = _stemmer(self.stemmer_name).stemWord(low) if self.stemmer_name else low
            out = fold_word(stemmed) or None  # nothing left of it: no term
        if len(self._cache) < 200_000:
            self._cache[word] = out
        return out

    def terms(self, text: str) -> list[str]:
        """The index terms of `text` in order (stop words left out)."""
        out = []
        known = self._cache.get
        for word in _TOKEN.findall(text):  # (the pattern's group does not capture: whole words)
            t = known(word, "")
            if t == "":
                t = self.term(word)
            if t is not None:
                out.append(t)
        return out

    def analysed(self, text: str) -> Iterator[tuple[int, int, str, str]]:
        """(start, end, word, term) of every word of `text` that is not a stop word."""
        for m in _TOKEN.finditer(text):
            t = self.term(m.group(0))
            if t is not None:
                yield m.start(), m.end(), m.group(0), t

    def is_stop(self, word: str) -> bool:
        return normalize_word(word) in self.stop_words


@cache
def _stemmer(name: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(name)


_ANALYZERS: dict[str, Analyzer] = {}  # by language code, made on first use


def analyzer_for(language: str | None) -> Analyzer:
    """The analyser of an ISO 639-1 language code; the neutral one for a language without a
    stemmer. Text whose language was not detected ("und": too short or ambiguous) is read as
    UNDETERMINED_AS: English's stemmer changes only Latin letters, so words of other scripts are
    read as the neutral analyser would."""
    code = (language or UNDETERMINED).lower().split("-")[0]
    found = _ANALYZERS.get(code)
    if found is None:
        base = UNDETERMINED_AS if code == UNDETERMINED else code
        name = STEMMERS.get(base)
        stop = frozenset(_STOP_LISTS.get(base, "").split())
        found = _ANALYZERS[code] = Analyzer(code, stop, name) if name else Analyzer(code)
    return found


def script_of(word: str) -> str:
    """The script of a word's first letter (LATIN, CYRILLIC, ARMENIAN, ...), "" for none."""
    for ch in word:
        if ch.isalpha():
            return unicodedata.name(ch, "").split(" ")[0]
    return ""


def query_languages(word: str, index: Mapping[str, int], share: float = QUERY_LANGUAGE_SHARE) -> list[str]:
    """The languages to read a query word in, given the index's sections per language: those
    written in the word's script, among the index's languages that hold at least `share` of
    its sections or any section at all when few others use that script. A handful of sections
    misread as another language of the same script (short English titles taken for Latin or
    Danish) does not change how the rest are searched; a few Russian sections in an English
    index are searched in Russian."""
    script = script_of(word)
    total = sum(index.values()) or 1
    same = {lang: n for lang, n in index.items() if script in ("", SCRIPTS.get(_base(lang), "LATIN"))}
    kept = [lang for lang, n in same.items() if n / total >= share]
    if not kept and same:
        kept = [max(sorted(same), key=lambda lang: same[lang])]  # the script's main language
    return sorted({_base(lang) for lang in kept} or {UNDETERMINED_AS})


def _base(language: str) -> str:
    code = language.lower().split("-")[0]
    return UNDETERMINED_AS if code == UNDETERMINED else code


def query_terms(word: str, languages: Iterable[str]) -> list[str]:
    """The index terms a query word may have in a section of any of `languages` (sorted, each
    once; empty when it is a stop word in all of them)."""
    return sorted({t for lang in languages if (t := analyzer_for(lang).term(word)) is not None})


def is_stop_everywhere(word: str, languages: Iterable[str]) -> bool:
    """Whether a word is left out of the index in every one of `languages`."""
    return not query_terms(word, languages)


def is_query_stop(word: str, languages: Sequence[str], frequency: Callable[[str], int]) -> bool:
    """Whether a query word says nothing in an index of several languages: a stop word in one of
    them whose forms in the others are in no section (`frequency(term)`: records having it).
    `the` in an English and French index is English's stop word, not a French term; `war` in an
    English and German one is a stop word of German and an English word found in the index."""
    forms = [analyzer_for(lang).term(word) for lang in languages]
    if all(f is None for f in forms):
        return True
    if all(f is not None for f in forms):
        return False
    return all(frequency(f) == 0 for f in forms if f is not None)


def function_words_for(language: str | None) -> frozenset[str]:
    """Words that carry grammar rather than content in a language: its stop words, and for
    English the longer FUNCTION_WORDS list (a shared run of mostly these is a stock phrase)."""
    code = (language or UNDETERMINED).lower().split("-")[0]
    base = UNDETERMINED_AS if code == UNDETERMINED else code
    return FUNCTION_WORDS if base == "en" else analyzer_for(code).stop_words
