"""Language detection per version and per section, deterministic.

langid (naive Bayes, no sampling) was chosen by `bench/language_choice.py`: on the seed and
corpus sections plus short sentences in seven languages it scored 143/143 and 12/12 on short
sentences, at ~800 texts/s, with identical labels in every process; langdetect (seeded)
scored 0.972 / 11/12 at ~540/s, lingua (7 languages) 1.0 / 12/12 at ~380/s.
"""

from __future__ import annotations

import re
from functools import lru_cache

UNDETERMINED = "und"
_MIN_LETTERS = 12  # below this, a section inherits the version's language
_MIN_CONFIDENCE = 0.6


@lru_cache(maxsize=1)
def _identifier():  # type: ignore[no-untyped-def]
    from langid.langid import LanguageIdentifier, model

    return LanguageIdentifier.from_modelstring(model, norm_probs=True)


def detect(text: str, default: str = UNDETERMINED) -> str:
    """ISO 639-1 code of `text`, or `default` when the text is too short or too ambiguous."""
    sample = text[:5000]
    letters = len(re.findall(r"[^\W\d_]", sample))
    if letters < _MIN_LETTERS:
        return default
    if default != UNDETERMINED and not _prose(sample):
        # Lists of names and titles ("See also") say nothing about language.
        return default
    lang, prob = _identifier().classify(sample)
    if prob < _MIN_CONFIDENCE and default != UNDETERMINED:
        return default
    return str(lang)


def _prose(text: str) -> bool:
    """Enough running words, most of them not names or numbers, to judge a language."""
    words = re.findall(r"\w+", text)
    if len(words) < 10:
        return False
    lower = sum(1 for w in words if w[0].islower())
    return lower >= 0.5 * len(words)


def detect_version(section_texts: list[str]) -> str:
    """Language of a whole version: detection over the start of its text."""
    joined = "\n".join(section_texts)
    return detect(joined[:8000])


def detect_sections(section_texts: list[str]) -> tuple[str, list[str]]:
    """(version language, one label per section) with one detection per prose section.

    The version's language is the label covering most characters; sections too short or too
    list-like to judge take it. Only when no section is prose is the whole text detected."""
    labels: list[str | None] = []
    weight: dict[str, int] = {}
    for text in section_texts:
        sample = text[:3000]
        label = None
        if _prose(sample):
            lang, prob = _identifier().classify(sample)
            if prob >= _MIN_CONFIDENCE:
                label = str(lang)
                weight[label] = weight.get(label, 0) + len(sample)
        labels.append(label)
    if weight:
        version = max(sorted(weight), key=lambda k: weight[k])
    else:
        version = detect_version(section_texts)
    return version, [label or version for label in labels]


def preload() -> None:
    """Load the model now (before worker processes fork, so they share it)."""
    _identifier()
