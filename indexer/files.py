"""Files written beside an index that readers may open at any moment."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np


def write_npz(path: Path, arrays: Mapping[str, np.ndarray], mode_of: Path) -> Path:
    """Save `arrays` as an .npz file at `path`, atomically: written aside in the same folder and
    renamed into place once whole, so a reader (or a run after a killed one) finds the old file or
    the new one, never a part. Not synced (as the snapshot never was): both callers' files are
    derived from the index, made again when missing or unreadable, and syncing a million
    sections' snapshot (350 MB) would cost about 1.3 s per index run. Readable as `mode_of` is (a file the same readers open; 0644
    when it is missing), since a temporary file is made readable by its owner only."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".npz", dir=path.parent)
    try:
        os.fchmod(fd, stat.S_IMODE(mode_of.stat().st_mode) if mode_of.exists() else 0o644)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
