"""Loops with a compiled twin: numpy by default, numba's machine code once a process asks.

A loops module (engines/tantivy/loops.py, search/loops.py) writes each loop with numpy and keeps
a `Twin` of its kernels module, which compiles the same loops with numba: one pass where numpy
takes several, with the same operations in the same order, so both give the same numbers bit for
bit (tests compare them). Loading numba and the cached machine code costs about half a second per
process (and about 120 MB), more than the loops save a one-off `palimpsest search` or a small
index: a server or a benchmark loads them when it warms up (`Searcher.warm`) on an index of
COMPILE_FROM records or more, and numpy serves otherwise.

numba does not check bounds: each loops module checks the positions it hands a kernel first and
raises IndexError as numpy would, so a bad position is an error, never a write elsewhere.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from types import ModuleType

import numpy as np

COMPILE_FROM = 50_000  # records: below, numpy's passes take a few milliseconds at most


def within(positions: np.ndarray, size: int) -> None:
    """Raise IndexError, as numpy indexing would, unless every position is in 0..size-1."""
    if len(positions) and (int(positions.min()) < 0 or int(positions.max()) >= size):
        raise IndexError(f"a position outside 0..{size - 1}")


def variants(*arrays: np.ndarray) -> Iterator[tuple[np.ndarray, ...]]:
    """The arrays as given, then read-only copies of them: numba compiles a loop once per kind
    of array, and the kept postings and scores a question reads are read-only."""
    yield arrays
    frozen = tuple(a.copy() for a in arrays)
    for a in frozen:
        a.flags.writeable = False
    yield frozen


class Twin:
    """The compiled twin of a loops module: `active` is the kernels module while in use, else
    None (numpy)."""

    def __init__(self, module: str, package: str, check: Callable[[ModuleType], None]) -> None:
        """`module` (relative to `package`): the kernels; `check(kernels)` calls each once, so
        they are compiled (or loaded from numba's cache) before a question needs them."""
        self.module, self.package, self.check = module, package, check
        self.active: ModuleType | None = None
        self.error = ""  # why the compiled loops could not be used, when they could not
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
                except Exception as exc:  # (no numba, nothing to compile with, no cache folder...)
                    self.error = f"{type(exc).__name__}: {exc}"
                    return False
                self.active = kernels
            return self.active is not None
