"""Search engines behind one contract (base.py), each in its own folder (whoosh/, tantivy/, xapian/).

Facets, snippets, collapsing and suggestions talk to `Engine`, never to an engine's library: an
engine stores section records, deletes a document's records, commits, and returns ranked record
numbers for a query tree (and every match, for facet counts from our own store).

An index is created with one engine (`palimpsest index --engine`, $PALIMPSEST_ENGINE, else
DEFAULT_ENGINE), whose name is kept in `<index_dir>/engine`; every later open uses it. An engine
is one entry of ENGINES (its name and the class that opens it, imported only when an index uses
it) and its folder; it keeps its files in a slot of the index directory: `<name>` until a
rebuild, then `<name>-<n>`. The file SLOT_FILE names the live slot (no file: `<name>`); a rebuild
fills a new slot and replaces SLOT_FILE in one rename, so a reader sees the old index or the new.
"""

from __future__ import annotations

import importlib
import os
import threading
from pathlib import Path

from ..errors import EngineMismatchError
from .base import Engine, EngineBatch, Hit

__all__ = [
    "DEFAULT_ENGINE", "ENGINES", "Engine", "EngineBatch", "Hit", "engine_names", "index_engine", "live_slot",
    "open_engine", "read_small", "slot_number", "swap_slot",
]  # fmt: skip

# name -> "module:Class" (relative to this package); the class takes (index_dir, create=False).
ENGINES: dict[str, str] = {
    "whoosh": ".whoosh:WhooshEngine",
    "tantivy": ".tantivy:TantivyEngine",
    "xapian": ".xapian:XapianEngine",
}
DEFAULT_ENGINE = "whoosh"
ENGINE_FILE = "engine"  # in the index directory: the name of the index's engine
SLOT_FILE = "slot"  # in the index directory: the folder of the live engine index


def engine_names() -> list[str]:
    """The registered engines, the default first."""
    return [DEFAULT_ENGINE, *sorted(n for n in ENGINES if n != DEFAULT_ENGINE)]


_SMALL: dict[str, tuple[tuple[int, int, int, int], bytes]] = {}
_SMALL_LOCK = threading.Lock()


def read_small(path: str | Path) -> bytes | None:
    """The bytes of a small file that is replaced by renames or rewritten (a pointer file, an
    engine's metadata), None when it does not exist; read again only when its inode, size or
    times change. Searches ask for the live slot and the index's generation several times per
    call: one stat instead of an open and a read each time."""
    key = os.fspath(path)
    try:
        st = os.stat(key)
    except (FileNotFoundError, NotADirectoryError):
        return None
    sig = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    hit = _SMALL.get(key)
    if hit is not None and hit[0] == sig:
        return hit[1]
    try:
        with open(key, "rb") as fh:
            data = fh.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    with _SMALL_LOCK:
        if len(_SMALL) > 1024:
            _SMALL.clear()
        _SMALL[key] = (sig, data)
    return data


def index_engine(index_dir: str | Path) -> str | None:
    """The engine an index was created with; None when it has none yet. An index written before
    the name was kept is recognised by its engine's folder."""
    path = Path(index_dir)
    stored = read_small(path / ENGINE_FILE)
    if stored is not None:
        name = stored.decode("utf-8").strip()
        if name:
            return name
    found = [name for name in ENGINES if (path / name).is_dir()]
    return found[0] if len(found) == 1 else None


def _engine_class(name: str) -> type:
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r} (engines: {', '.join(engine_names())})")
    module, _, cls = ENGINES[name].partition(":")
    return getattr(importlib.import_module(module, __package__), cls)  # type: ignore[no-any-return]


def live_slot(index_dir: str | Path) -> str:
    """The folder of the live engine index (relative to the index directory)."""
    stored = read_small(Path(index_dir) / SLOT_FILE)
    found = stored.decode("utf-8").strip() if stored is not None else ""
    return found or index_engine(index_dir) or DEFAULT_ENGINE


def slot_number(slot: str) -> int:
    """0 for `<name>`, n for `<name>-<n>`."""
    _name, _, n = slot.partition("-")
    return int(n) if n.isdigit() else 0


def swap_slot(index_dir: str | Path, slot: str) -> None:
    """Make `slot` the live engine index, atomically (and durably: the folder is synced)."""
    folder = Path(index_dir)
    tmp = folder / f".{SLOT_FILE}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(slot + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / SLOT_FILE)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_engine(index_dir: str, create: bool = False, name: str | None = None, slot: str | None = None) -> Engine:
    """The engine of an index directory. `create`: make the index when there is none, with engine
    `name` (default DEFAULT_ENGINE). A `name` other than the index's own is an EngineMismatchError.
    The live slot, following later swaps, or the given `slot` (a rebuild filling a new one)."""
    found = index_engine(index_dir)
    if found is not None and name is not None and name != found:
        raise EngineMismatchError(str(index_dir), found, name)
    chosen = found or name or DEFAULT_ENGINE
    cls = _engine_class(chosen)
    if found is None and create:
        path = Path(index_dir)
        path.mkdir(parents=True, exist_ok=True)
        tmp = path / f".{ENGINE_FILE}.tmp"
        tmp.write_text(chosen + "\n", encoding="utf-8")
        os.replace(tmp, path / ENGINE_FILE)
    return cls(index_dir, create=create, slot=slot)  # type: ignore[no-any-return]
