"""Measure language detectors for indexer/language.py: accuracy, speed, run-to-run stability.

Usage: python bench/language_choice.py [--json]
Texts: every section of ../shared/seeds (English) and corpus/ (labelled by hand below),
plus short sentences we wrote in several languages (short text is where detectors flip).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHORT = [
    ("en", "The bridge was closed in July."),
    ("en", "Ceasefire violations continued."),
    ("fr", "Le pont a été fermé en juillet."),
    ("fr", "Les familles ont été évacuées."),
    ("de", "Die Brücke wurde im Juli geschlossen."),
    ("de", "Der Rat hat die Reparatur genehmigt."),
    ("es", "El puente fue cerrado en julio."),
    ("es", "Las familias fueron evacuadas del barrio."),
    ("ru", "Мост был закрыт в июле."),
    ("ru", "Семьи были эвакуированы из района."),
    ("hy", "Կամուրջը փակվել է հուլիսին։"),
    ("it", "Il ponte è stato chiuso a luglio."),
]


def texts() -> list[tuple[str, str]]:
    from indexer.cleaning import clean
    from indexer.sectioning import split_sections
    from indexer.sources import load_file

    out: list[tuple[str, str]] = list(SHORT)
    files = sorted((ROOT.parent / "shared" / "seeds").glob("*.txt")) + sorted((ROOT / "corpus").rglob("*.*"))
    for f in files:
        lang = "fr" if "crue" in f.name else "en"
        for raw in load_file(f, 10**8):
            for s in split_sections(clean(raw).blocks):
                if len(s.text) > 20:
                    out.append((lang, s.text))
    return out


def detectors():
    import langdetect
    import langid
    from lingua import Language, LanguageDetectorBuilder

    langdetect.DetectorFactory.seed = 0
    lingua_langs = [Language.ENGLISH, Language.FRENCH, Language.GERMAN, Language.SPANISH,
                    Language.RUSSIAN, Language.ARMENIAN, Language.ITALIAN]  # fmt: skip
    lingua = LanguageDetectorBuilder.from_languages(*lingua_langs).build()

    def ld(t: str) -> str:
        try:
            return langdetect.detect(t)
        except langdetect.LangDetectException:
            return "und"

    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    py3 = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

    def li(t: str) -> str:
        return langid.classify(t)[0]

    def p3(t: str) -> str:
        return str(py3.classify(t)[0])

    def lg(t: str) -> str:
        r = lingua.detect_language_of(t)
        return r.iso_code_639_1.name.lower() if r else "und"

    return {"langdetect(seeded)": ld, "langid": li, "py3langid": p3, "lingua(7 langs)": lg}


LOADERS = {
    "langdetect(seeded)": "import langdetect; langdetect.detect('warm up text')",
    "langid": "import langid; langid.classify('warm up text')",
    "py3langid": "from py3langid.langid import MODEL_FILE as M, LanguageIdentifier as I; I.from_model_file(M, norm_probs=True)",
    "lingua(7 langs)": "from lingua import Language as L, LanguageDetectorBuilder as B; "
    "B.from_languages(L.ENGLISH, L.FRENCH, L.GERMAN, L.SPANISH, L.RUSSIAN, L.ARMENIAN, L.ITALIAN).build()",
}


def load_seconds(name: str) -> float:
    """Time to import and load a detector's model in a fresh process (paid once per worker)."""
    code = f"import time; t = time.perf_counter(); {LOADERS[name]}; print(time.perf_counter() - t)"
    return round(float(subprocess.check_output([sys.executable, "-c", code], text=True)), 2)


def _prose(text: str) -> bool:
    from indexer.language import _prose as prose

    return prose(text)


def run(names: list[str] | None = None) -> dict:
    data = texts()
    result = {}
    for name, fn in detectors().items():
        if names and name not in names:
            continue
        fn("warm up")
        t0 = time.perf_counter()
        labels = [fn(t) for _, t in data]
        dt = time.perf_counter() - t0
        correct = sum(1 for (gold, _), got in zip(data, labels, strict=True) if gold == got)
        short_ok = sum(
            1 for (gold, _), got in zip(data[: len(SHORT)], labels[: len(SHORT)], strict=True) if gold == got
        )
        prose = [i for i, (_, t) in enumerate(data) if _prose(t[:3000])]
        prose_ok = sum(1 for i in prose if labels[i] == data[i][0])
        result[name] = {
            "texts": len(data),
            "accuracy": round(correct / len(data), 3),
            # The pipeline only asks for a label on prose (see indexer/language.py).
            "prose_accuracy": f"{prose_ok}/{len(prose)}",
            "short_correct": f"{short_ok}/{len(SHORT)}",
            "texts_per_s": round(len(data) / dt),
            "labels": labels,
        }
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--labels-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.labels_only:
        print(json.dumps({k: v["labels"] for k, v in run().items()}))
        return
    res = run()
    # Stability: the same labels from three fresh processes.
    runs = [json.loads(subprocess.check_output([sys.executable, __file__, "--labels-only"])) for _ in range(3)]
    for name in res:
        res[name]["model_load_s"] = load_seconds(name)
        res[name]["stable_across_processes"] = all(r[name] == res[name]["labels"] for r in runs)
        del res[name]["labels"]
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        for name, r in res.items():
            print(f"{name:20s} " + "  ".join(f"{k}={v}" for k, v in r.items()))


if __name__ == "__main__":
    main()
