"""Search engines behind one contract (base.py), each in its own folder (whoosh/).

Facets, snippets, collapsing and suggestions talk to `Engine`, never to an engine's library: an
engine stores section records, deletes a document's records, commits, and returns ranked record
numbers for a query tree (and every match, for facet counts from our own store).
"""

from .base import Engine, EngineBatch, Hit

__all__ = ["Engine", "EngineBatch", "Hit", "open_engine"]


def open_engine(index_dir: str, create: bool = False) -> Engine:
    """The engine of an index directory (Whoosh)."""
    from .whoosh import WhooshEngine

    return WhooshEngine(index_dir, create=create)
