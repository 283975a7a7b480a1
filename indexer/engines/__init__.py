"""Search engines behind one contract (base.py), each in its own folder (whoosh/).

Facets, snippets, collapsing and suggestions talk to `Engine`, never to an engine's library: an
engine stores section records, deletes a document's records, commits, and returns ranked record
numbers for a query tree (and every match, for facet counts from our own store).
"""

import os
from pathlib import Path

from .base import Engine, EngineBatch, Hit

__all__ = ["Engine", "EngineBatch", "Hit", "live_slot", "open_engine", "slot_number", "swap_slot"]

# The engine's files live in a folder of the index directory, its slot: `whoosh` until a rebuild,
# then `whoosh-<n>`. The file POINTER names the live slot (no file: `whoosh`); a rebuild fills a
# new slot and replaces POINTER in one rename, so a reader sees the old index or the new one.
POINTER = "engine"
DEFAULT_SLOT = "whoosh"


def live_slot(index_dir: str | Path) -> str:
    """The folder of the live engine index (relative to the index directory)."""
    try:
        return (Path(index_dir) / POINTER).read_text(encoding="utf-8").strip() or DEFAULT_SLOT
    except FileNotFoundError:
        return DEFAULT_SLOT


def slot_number(slot: str) -> int:
    """0 for `whoosh`, n for `whoosh-<n>`."""
    _name, _, n = slot.partition("-")
    return int(n) if n.isdigit() else 0


def swap_slot(index_dir: str | Path, slot: str) -> None:
    """Make `slot` the live engine index, atomically (and durably: the folder is synced)."""
    folder = Path(index_dir)
    tmp = folder / f"{POINTER}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(slot + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / POINTER)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_engine(index_dir: str, create: bool = False, slot: str | None = None) -> Engine:
    """The engine of an index directory (Whoosh): the live slot, following later swaps, or the
    given `slot` (a rebuild filling a new one)."""
    from .whoosh import WhooshEngine

    return WhooshEngine(index_dir, create=create, slot=slot)
