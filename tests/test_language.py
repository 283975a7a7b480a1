"""Language detection: labels, short text, the same answer in every process."""

from __future__ import annotations

import subprocess
import sys

from indexer.language import detect, detect_version

SAMPLES = [
    "Le conseil municipal étudiera au printemps un projet de digue mobile.",
    "Die Brücke wurde im Juli für den Verkehr geschlossen und später repariert.",
    "The council approved the repair of the bridge in February.",
    "El puente fue cerrado en julio y las familias fueron evacuadas.",
]


def test_labels() -> None:
    assert [detect(t) for t in SAMPLES] == ["fr", "de", "en", "es"]
    assert detect("ok") == "und"
    assert detect("See also: Velmora, Salt, Brandvik", default="en") == "en"
    assert detect_version(["", "Le pont du port n'a pas subi de dégâts visibles."]) == "fr"


def test_same_labels_in_fresh_processes() -> None:
    code = "from indexer.language import detect; import json,sys; print(json.dumps([detect(t) for t in json.loads(sys.argv[1])]))"
    import json

    outs = {subprocess.check_output([sys.executable, "-c", code, json.dumps(SAMPLES)]).strip() for _ in range(3)}
    assert len(outs) == 1
