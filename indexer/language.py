"""Language detection per version and per section, deterministic.

py3langid (langid's naive Bayes model on numpy, no sampling) was chosen by
`bench/language_choice.py`: on every prose section of the seeds and corpus it scored 124/124 and
12/12 on short sentences in seven languages, at ~2,900 texts/s with a 0.34 s model load and
identical labels in every process. langid scored the same at ~2,100/s with a 0.92 s load (paid in
every process); langdetect (seeded) 124/124 but 11/12 at ~470/s; lingua (7 languages) the same as
langid at ~340/s. Its only
misses are list-like sections (names, links), which are never sent to it (see `_prose`), and
short or ambiguous text, which stays undetermined ("und") rather than get a wrong label.
"""

from __future__ import annotations

import re
from functools import lru_cache

UNDETERMINED = "und"
_MIN_LETTERS = 12  # below this, a section inherits the version's language
_MIN_CONFIDENCE = 0.6


@lru_cache(maxsize=1)
def _identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str, default: str = UNDETERMINED) -> str:
    """ISO 639-1 code of `text`, or `default` when the text is too short, too list-like or too
    ambiguous to judge: a few words ("digital radiometer", "Radio telescope antennas") are as
    often Latin, Galician or Danish to the model as English (NPL's titles: 942 of 11,429 below
    the bar, 1 left misread)."""
    sample = text[:5000]
    letters = len(re.findall(r"[^\W\d_]", sample))
    if letters < _MIN_LETTERS or not _prose(sample):
        # Lists of names and titles ("See also") say nothing about language.
        return default
    lang, prob = _identifier().classify(sample)
    return str(lang) if float(prob) >= _MIN_CONFIDENCE else default


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
            if float(prob) >= _MIN_CONFIDENCE:
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
