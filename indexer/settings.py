"""One table of settings: (name, default, help). Stages never read configuration themselves."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .cleaning import FurnitureRule
from .limits import TextLimits
from .reuse import ReuseRule

# (name, default, help): the README lists every one of these (a test checks it).
SETTINGS_TABLE: tuple[tuple[str, Any, str], ...] = (
    ("index_dir", "index", "Where the index and the document store live (--index-dir, $PALIMPSEST_INDEX)."),
    ("max_file_bytes", 50 * 1024 * 1024, "Files larger than this are skipped with a reason."),
    ("max_html_depth", 400, "HTML nested deeper than this is flattened before parsing."),
    ("max_lines", 200_000, "A version (a file, or one revision of an export) is cut after this many lines."),
    ("max_distinct_words", 50_000, "... and where its words would become more distinct words than this."),
    ("max_sections", 2_000, "... and before its heading that would start one section more than this."),
    ("max_file_seconds", 300.0, "A file still being read after this many seconds is stopped and fails (0: no limit)."),
    ("max_file_memory_mb", 512, "A file whose reading grows a worker by more than this many MB is stopped and fails."),
    ("near_dup_threshold", 0.5, "MinHash/LSH Jaccard threshold on word 5-shingles for near-duplicate candidates."),
    ("near_dup_verify", 0.5, "Exact shingle Jaccard a candidate pair must reach to be grouped as versions."),
    ("minhash_perms", 128, "MinHash permutations per version."),
    ("shingle_size", 5, "Words per shingle for near-duplicate detection."),
    ("chrome_repeat_min", 3, "A short line of web text in this many documents of one source is left out of the index."),
    ("chrome_repeat_share", 0.1, "... and in at least this share of the source's documents (page furniture)."),
    ("chrome_max_words", 8, "Lines with more words than this are never treated as page chrome."),
    ("lock_wait_seconds", 0.0, "How long `index` waits for another writer before reporting the index busy."),
    ("workers", 0, "Worker processes for parsing (0 = one per core)."),
    ("reuse", True, "Find passages that different documents share (text reuse) at index time."),
    ("reuse_min_words", 12, "Shared words a passage needs to count as reuse."),
    ("reuse_min_content_share", 0.5, "... and the share of them that must not be stop words (stock phrases)."),
    ("reuse_shingle", 5, "Words per shingle of the reuse fingerprints."),
    ("reuse_window", 8, "Winnowing window in shingles: every shared run of window + shingle - 1 words is found."),
    ("reuse_max_gap", 3, "Words that may differ between two stretches of one shared passage, on each side."),
    ("reuse_max_sources", 50, "A fingerprint found in more places than this is a stock passage, not a lead."),
    (
        "reuse_max_candidates",
        20,
        "A new document is compared with at most this many others (sharing the most and rarest fingerprints).",
    ),
    (
        "engine",
        "whoosh",
        "Search engine of a new index, whoosh, tantivy or xapian (--engine, $PALIMPSEST_ENGINE); an index keeps its own.",
    ),
)


@dataclass(frozen=True)
class Settings:
    """Resolved settings passed into the pipeline."""

    index_dir: Path = Path("index")
    max_file_bytes: int = 50 * 1024 * 1024
    max_html_depth: int = 400
    max_lines: int = 200_000
    max_distinct_words: int = 50_000
    max_sections: int = 2_000
    max_file_seconds: float = 300.0
    max_file_memory_mb: int = 512
    near_dup_threshold: float = 0.5
    near_dup_verify: float = 0.5
    minhash_perms: int = 128
    shingle_size: int = 5
    chrome_repeat_min: int = 3
    chrome_repeat_share: float = 0.1
    chrome_max_words: int = 8
    lock_wait_seconds: float = 0.0
    workers: int = 0
    reuse: bool = True
    reuse_min_words: int = 12
    reuse_min_content_share: float = 0.5
    reuse_shingle: int = 5
    reuse_window: int = 8
    reuse_max_gap: int = 3
    reuse_max_sources: int = 50
    reuse_max_candidates: int = 20
    engine: str | None = None  # None: the index's own engine, or the default for a new index

    @property
    def furniture(self) -> FurnitureRule:
        """When a repeated short line of web text is page furniture."""
        return FurnitureRule(self.chrome_repeat_min, self.chrome_repeat_share)

    @property
    def text_limits(self) -> TextLimits:
        """The most lines, distinct words and sections a version keeps."""
        return TextLimits(self.max_lines, self.max_distinct_words, self.max_sections)

    @property
    def reuse_rule(self) -> ReuseRule:
        """What counts as text reuse and how it is found."""
        return ReuseRule(
            self.reuse_min_words, self.reuse_min_content_share, self.reuse_shingle, self.reuse_window,
            self.reuse_max_gap, self.reuse_max_sources, self.reuse_max_candidates,
        )  # fmt: skip

    @property
    def worker_count(self) -> int:
        return self.workers or max(1, os.cpu_count() or 1)


def resolve_index_dir(cli_value: str | None) -> Path:
    """--index-dir, else $PALIMPSEST_INDEX, else ./index."""
    if cli_value:
        return Path(cli_value)
    env = os.environ.get("PALIMPSEST_INDEX")
    return Path(env) if env else Path("index")


def setting_names() -> list[str]:
    """Names of every setting, for documentation checks."""
    return [f.name for f in fields(Settings)]
