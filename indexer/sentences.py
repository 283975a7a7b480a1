"""Sentence boundaries: nltk's Punkt tokenizer, trained on the indexed corpus itself.

Punkt (Kiss & Strunk 2006) learns from unlabelled text which words before a full stop are
abbreviations ("U.S.", "Dr.", "Jan.", "e.g."), which pairs are collocations across a stop,
which words start sentences and how each word is capitalised where. `train` runs nltk's
`PunktTrainer` on a sample of the corpus (`sample`: the distinct lines of every version's
first PER_VERSION_CHARS characters, versions in id order, SAMPLE_CHARS in all, so the same
corpus gives the same sample and the same parameters in any indexing order); nothing is downloaded. The parameters are kept in the
store's `meta` table (`SentenceModel.to_json`) and retrained by the indexer whenever the
sample changes, so they follow the corpus as it grows.

Learned abbreviations are taken as Punkt finds them when they have an inner stop ("a.k.a",
"n.a.c.a"); a plain word must also be short (MAX_LEARNED_LETTERS) and written with a full
stop at least as often as without (MIN_STOP_SHARE). Punkt's likelihood test alone lets
through, on a sample of a million characters, ordinary words that ended a few sentences
("subsection.", "manually." in the Python docs), which would then end none. A short prior
of English abbreviations is added (titles, months, "U.S."-style initials, Latin) so a small
corpus that never shows them does not break sentences after them.

Lines are never joined: a line break always ends a sentence (headings, list items and
paragraphs are lines in the store's text); Punkt splits within a line.

The indexer finds every section's sentences once, as its last stage (`section_spans`, in worker
processes), and the store keeps them (`pack`ed offsets) beside the text: search reads them and
never runs Punkt (nor imports nltk) on the way to a snippet. When the model is retrained every
section's sentences are found again, a bounded part per run (pipeline.update_sentences), so
once the corpus stops changing they all come from the current model.
"""

from __future__ import annotations

import hashlib
import json
import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

SENTENCE_CHARS = 100_000  # sentences are found in this much of a section (snippets read 60,000)
SAMPLE_CHARS = 1_000_000  # the corpus sample Punkt learns from (about 1.7 s of training)
PER_VERSION_CHARS = 4_000  # at most this much of each version, so one long text does not dominate
MAX_LEARNED_LETTERS = 6  # longer plain words are never abbreviations ("subsection.")
MIN_STOP_SHARE = 1.0  # a learned plain word is kept when written with a stop at least as often as without
MODEL_FORMAT = 1  # bump when SentenceModel's JSON changes
MODEL_KEY = "sentence_model"  # its key in the store's meta table

# Without their final stop, lower case, as Punkt keeps them.
PRIOR_ABBREVIATIONS = frozenset(
    {
        *("mr", "mrs", "ms", "dr", "prof", "rev", "hon", "sr", "jr", "st", "mt", "ft"),
        *("gen", "col", "lt", "sgt", "capt", "cmdr", "adm", "gov", "sen", "rep", "pres"),
        *("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"),
        *("u.s", "u.k", "u.n", "e.u", "u.s.a", "u.s.s.r", "d.c"),
        *("e.g", "i.e", "etc", "vs", "cf", "al", "approx", "ca", "vol", "vols", "pp", "fig", "figs"),
        *("ed", "eds", "inc", "ltd", "co", "corp", "dept"),
    }
)

_LINES = re.compile(r"[^\n]+")


@dataclass(frozen=True)
class SentenceModel:
    """Punkt's learned parameters, in a form that goes to and from JSON."""

    abbreviations: frozenset[str] = PRIOR_ABBREVIATIONS
    collocations: frozenset[tuple[str, str]] = frozenset()
    starters: frozenset[str] = frozenset()
    ortho: dict[str, int] = field(default_factory=dict)
    sample_key: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": MODEL_FORMAT,
                "sample_key": self.sample_key,
                "abbreviations": sorted(self.abbreviations),
                "collocations": sorted(self.collocations),
                "starters": sorted(self.starters),
                "ortho": dict(sorted(self.ortho.items())),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | None) -> SentenceModel:
        """The model stored as `text`; the prior alone when there is none (or an older format)."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
        except ValueError:
            return cls()
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            return cls()
        return cls(
            abbreviations=frozenset(data["abbreviations"]),
            collocations=frozenset((a, b) for a, b in data["collocations"]),
            starters=frozenset(data["starters"]),
            ortho={k: int(v) for k, v in data["ortho"].items()},
            sample_key=str(data.get("sample_key", "")),
        )

    @cached_property
    def _tokenizer(self) -> Any:
        from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

        params = PunktParameters()
        params.abbrev_types = set(self.abbreviations)
        params.collocations = set(self.collocations)
        params.sent_starters = set(self.starters)
        for word, flags in self.ortho.items():
            params.ortho_context[word] = flags
        return PunktSentenceTokenizer(params)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each sentence of `text`, surrounding spaces left out; a line break
        always ends one."""
        out: list[tuple[int, int]] = []
        for line in _LINES.finditer(text):
            out.extend(self.line_spans(text, line.start(), line.end()))
        return out

    def line_spans(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """The sentences of one line, `text[start:end]` (which holds no line break)."""
        piece = text[start:end]
        if not piece.strip():
            return []
        if "." not in piece and "!" not in piece and "?" not in piece:
            lead = len(piece) - len(piece.lstrip())
            return [(start + lead, start + len(piece.rstrip()))]
        out = []
        for a, b in self._tokenizer.span_tokenize(piece):
            sentence = piece[a:b]
            stripped = sentence.strip()
            if stripped:
                a += len(sentence) - len(sentence.lstrip())
                out.append((start + a, start + a + len(stripped)))
        return out


def sample(
    rows: Iterable[tuple[str, str]], budget: int = SAMPLE_CHARS, per_version: int = PER_VERSION_CHARS
) -> list[str]:
    """The training sample: from (version_id, text) rows in version-id order, the lines not
    seen before (revisions of one article repeat most of theirs), at most `per_version`
    characters of each version, `budget` characters in all. A function of the corpus alone,
    not of the order its files were indexed in."""
    out: list[str] = []
    seen: set[str] = set()
    total = 0
    current, used = None, 0
    for version_id, text in rows:
        if version_id != current:
            current, used = version_id, 0
        for line in _LINES.findall(text):
            if used >= per_version:
                break
            line = line.strip()
            if not line or line in seen:
                continue
            seen.add(line)
            piece = line[: per_version - used]
            used += len(piece)
            total += len(piece)
            out.append(piece)
            if total >= budget:
                return out
    return out


def sample_key(texts: Iterable[str]) -> str:
    """A digest of a training sample: the model is retrained only when it changes."""
    h = hashlib.sha256(
        f"format {MODEL_FORMAT} {MIN_STOP_SHARE} {MAX_LEARNED_LETTERS} {sorted(PRIOR_ABBREVIATIONS)}\n".encode()
    )
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()[:24]


def train(texts: list[str]) -> SentenceModel:
    """Learn Punkt's parameters from a sample of the corpus (the prior abbreviations added)."""
    key = sample_key(texts)
    text = "\n".join(texts)
    if not text.strip():
        return SentenceModel(sample_key=key)
    from nltk.tokenize.punkt import PunktTrainer

    trainer = PunktTrainer()
    trainer.train(text, finalize=True)
    params = trainer.get_params()
    with_stop, without_stop = _stop_counts(text, {a for a in params.abbrev_types if "." not in a})
    learned = {
        a
        for a in params.abbrev_types
        if "." in a
        or (
            sum(c.isalpha() for c in a) <= MAX_LEARNED_LETTERS
            and with_stop.get(a, 0) >= without_stop.get(a, 0) * MIN_STOP_SHARE
        )
    }
    return SentenceModel(
        abbreviations=frozenset(learned) | PRIOR_ABBREVIATIONS,
        collocations=frozenset(params.collocations),
        starters=frozenset(params.sent_starters),
        ortho=dict(params.ortho_context),
        sample_key=key,
    )


_WORD_AND_STOP = re.compile(r"(\S+?)(\.?)(?=\s|$)")


def _stop_counts(text: str, words: set[str]) -> tuple[dict[str, int], dict[str, int]]:
    """How often each of `words` (lower case) is written with a full stop after it, and without."""
    with_stop: dict[str, int] = {}
    without_stop: dict[str, int] = {}
    if not words:
        return with_stop, without_stop
    for m in _WORD_AND_STOP.finditer(text):
        word = m.group(1).lower()
        if word in words:
            counts = with_stop if m.group(2) else without_stop
            counts[word] = counts.get(word, 0) + 1
    return with_stop, without_stop


def section_spans(model: SentenceModel, text: str) -> bytes:
    """A section's sentences (in its first SENTENCE_CHARS characters), packed for the store."""
    return pack(model.spans(text[:SENTENCE_CHARS]))


def pack(spans: Sequence[tuple[int, int]]) -> bytes:
    return array("I", [x for span in spans for x in span]).tobytes()


def unpack(blob: bytes) -> list[tuple[int, int]]:
    flat = array("I")
    flat.frombytes(blob)
    return list(zip(flat[0::2], flat[1::2], strict=True))


_WORKER_MODELS: dict[str, SentenceModel] = {}


def spans_job(job: tuple[str, list[tuple[str, int, str]]]) -> list[tuple[str, int, bytes]]:
    """Worker-process job: (model JSON, [(version_id, ordinal, text)]) -> packed sentences."""
    model_json, items = job
    model = _WORKER_MODELS.get(model_json)
    if model is None:
        _WORKER_MODELS.clear()
        model = _WORKER_MODELS[model_json] = SentenceModel.from_json(model_json)
    return [(version_id, ordinal, section_spans(model, text)) for version_id, ordinal, text in items]
