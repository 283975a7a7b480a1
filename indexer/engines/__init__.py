"""Search engines behind one narrow interface (base.py); whoosh_engine.py is the only one so far.

Facets, snippets, collapsing and suggestions talk to `Engine`, never to Whoosh: an engine
stores section records, deletes a document's records, commits, and returns ranked record ids
for a text query with filters (and every matching id, for facet counts from our own store).
"""

from .base import Engine, EngineBatch, Hit

__all__ = ["Engine", "EngineBatch", "Hit", "open_engine"]


def open_engine(index_dir: str, create: bool = False) -> Engine:
    """The engine for an index directory (Whoosh)."""
    from .whoosh_engine import WhooshEngine

    return WhooshEngine(index_dir, create=create)
