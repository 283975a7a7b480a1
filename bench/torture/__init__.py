"""The torture suite (issue 17): the product used as an adversary or an unlucky user would.

    kills.py      kill -9 during index, incremental, remove and rebuild runs; the next run must
                  give the index an uninterrupted run gives (verify, ids, results, scores)
    http_fuzz.py  generated requests over every route and parameter of `palimpsest serve`, and the
                  same hostile values through the CLI: no 500, no traceback; latency percentiles
                  (the requests themselves: http_requests.py)
    xss.py        script payloads in every place a string can appear, every page family, in
                  Chromium: no dialog, no injected element
    hostile.py    FIFOs, device links, symlink loops, unreadable folders, huge line counts and
                  vocabularies, deep nesting, compression bombs, bad encodings: each ends in
                  bounded time and memory with a report entry (the cases: hostile_cases.py)
    corpus.py     the generated corpus the kill trials and the fuzzer index
    common.py     the report, the known findings, subprocesses measured for time and memory
    snapshot.py, killpoint.py   helpers run as subprocesses

`python -m bench.torture --long` (make torture) runs them all; `--short` is the form that
tests/test_torture.py runs in `make test`. Failures that are issue 17 findings not fixed yet are
reported as known failures (common.FINDINGS), apart from new ones.
"""
