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
    letters = len(re.findall(r"[^\W\d_]", text[:5000]))
    if letters < _MIN_LETTERS:
        return default
    lang, prob = _identifier().classify(text[:5000])
    if prob < _MIN_CONFIDENCE and default != UNDETERMINED:
        return default
    return str(lang)


def detect_version(section_texts: list[str]) -> str:
    """Language of a whole version: detection over the start of its text."""
    joined = "\n".join(section_texts)
    return detect(joined[:8000])
