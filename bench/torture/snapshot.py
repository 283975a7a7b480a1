"""What an index holds, as the CLI prints it: `verify`, `list`, `versions` of every document and
`search` for a set of queries (all with --json). Run in a process of its own, so nothing a
previous index left in memory can leak into it:

    python -m bench.torture.snapshot INDEX_DIR [--query Q]... > snapshot.json
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from click.testing import CliRunner

from indexer.cli import cli

# Fields of a timeline entry that say which run first saw a version: a run that was killed counts
# as a run, so they differ after a crash without anything being wrong.
RUN_FIELDS = ("first_run",)
HIT_FIELDS = ("doc_id", "version_id", "anchor", "breadcrumb", "title", "score")


def _cli(runner: CliRunner, *args: str) -> tuple[int, Any]:
    result = runner.invoke(cli, [*args, "--json"])
    try:
        data = json.loads(result.stdout)
    except ValueError:
        data = {"output": result.output[-2000:], "exception": repr(result.exception)}
    return result.exit_code, data


def snapshot(index_dir: str, queries: list[str]) -> dict[str, Any]:
    """The index as the CLI shows it (see the module docstring)."""
    runner = CliRunner()
    ix = ["--index-dir", index_dir]
    code, verify = _cli(runner, "verify", *ix)
    _code, documents = _cli(runner, "list", *ix)
    versions = {}
    for d in documents if isinstance(documents, list) else []:
        _code, entries = _cli(runner, "versions", d["doc_id"], *ix)
        versions[d["doc_id"]] = [{k: v for k, v in e.items() if k not in RUN_FIELDS} for e in entries]
    searches = {}
    for q in queries:
        scode, result = _cli(runner, "search", *q.split("\x1f"), *ix, "--limit", "100")
        hits = result.get("hits", []) if isinstance(result, dict) else []
        searches[q] = {
            "exit": scode,
            "total": result.get("total") if isinstance(result, dict) else None,
            "hits": [{k: h.get(k) for k in HIT_FIELDS} for h in hits],
        }
    return {"verify_exit": code, "verify": verify, "documents": documents, "versions": versions, "search": searches}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index_dir")
    parser.add_argument(
        "--query", action="append", default=[], help="a query (CLI arguments separated by \\x1f); repeatable"
    )
    args = parser.parse_args()
    json.dump(snapshot(args.index_dir, args.query), sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
