"""Run the torture suite: `python -m bench.torture [--short | --long] [--only FAMILIES] [--json]`.

The families run one after the other (kills, http, xss, hostile); each prints progress on stderr
and a summary at the end: trials, failures, known failures (issue 17 findings not fixed yet, each
named) and what was skipped and why. Exit status 1 when a check failed that is not a known finding.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from . import hostile, http_fuzz, kills, xss
from .common import Report, arguments, emit, work_dir

FAMILIES = {"kills": kills, "http": http_fuzz, "xss": xss, "hostile": hostile}


def main() -> None:
    def extra(parser: Any) -> None:
        parser.add_argument(
            "--only", default=",".join(FAMILIES), help=f"families to run, comma-separated ({', '.join(FAMILIES)})"
        )
        parser.add_argument("--out", type=Path, help="also write the JSON report to this file")

    args = arguments("bench.torture", __doc__.split("\n\n")[0], extra)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        raise SystemExit(f"unknown families: {', '.join(unknown)} (choose from {', '.join(FAMILIES)})")
    reports: list[Report] = []
    started = time.monotonic()
    with work_dir(args.work_dir) as work:
        for name in names:
            reports.append(FAMILIES[name].run_family(args.form, args.seed, work, args.quiet))
    if args.out:
        payload = {"form": args.form, "seed": args.seed, "seconds": round(time.monotonic() - started, 1)}
        args.out.write_text(
            json.dumps({**payload, "families": [r.to_json() for r in reports]}, indent=2, ensure_ascii=False)
        )
    raise SystemExit(emit(reports, args.json))


if __name__ == "__main__":
    main()
