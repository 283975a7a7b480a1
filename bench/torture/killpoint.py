"""Run the CLI and SIGKILL its process group the moment it calls a given function: a crash at
an exact point of a run, where a timed kill lands there only by chance.

    python -m bench.torture.killpoint MODULE:QUALNAME palimpsest-arguments...

Exits 97 without running anything when MODULE has no QUALNAME (the code moved: the trial says
so rather than pass without crashing).
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from typing import Any

MISSING = 97


def main() -> None:
    if len(sys.argv) < 3 or ":" not in sys.argv[1]:
        sys.exit(__doc__)
    module_name, _, qualname = sys.argv[1].partition(":")
    owner: Any = importlib.import_module(module_name)
    *parents, name = qualname.split(".")
    for part in parents:
        owner = getattr(owner, part, None)
    if owner is None or not hasattr(owner, name):
        print(f"killpoint: {module_name} has no {qualname}", file=sys.stderr)
        sys.exit(MISSING)

    def crash(*_args: Any, **_kwargs: Any) -> None:
        os.killpg(os.getpgid(0), signal.SIGKILL)

    setattr(owner, name, crash)
    from indexer.cli import cli

    cli(sys.argv[2:], prog_name="palimpsest")


if __name__ == "__main__":
    main()
