"""Loops with a compiled twin: numpy by default, numba's machine code once a process asks.

A loops module (engines/tantivy/loops.py, search/loops.py) writes each loop with numpy and keeps
a `Twin` of its kernels module, which compiles the same loops with numba: one pass where numpy
takes several, with the same operations in the same order, so both give the same numbers bit for
bit (tests compare them). Loading numba and the cached machine code costs about half a second per
process, more than the loops save a one-off `palimpsest search`; a server or a benchmark loads
them when it warms up (`Searcher.warm`), and numpy serves until then.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from types import ModuleType


class Twin:
    """The compiled twin of a loops module: `active` is the kernels module while in use, else
    None (numpy)."""

    def __init__(self, module: str, package: str, check: Callable[[ModuleType], None]) -> None:
        """`module` (relative to `package`): the kernels; `check(kernels)` calls each once, so
        they are compiled (or loaded from numba's cache) before a question needs them."""
        self.module, self.package, self.check = module, package, check
        self.active: ModuleType | None = None
        self._lock = threading.Lock()

    def use(self, wanted: bool = True) -> bool:
        """Switch to the compiled loops (False: back to numpy); whether they are in use. Without
        numba, or when it cannot compile here, numpy stays."""
        with self._lock:
            if not wanted:
                self.active = None
            elif self.active is None:
                try:
                    kernels = importlib.import_module(self.module, self.package)
                    self.check(kernels)
                except Exception:  # (no numba, nothing to compile with, no cache folder...)
                    return False
                self.active = kernels
            return self.active is not None
