"""Counts in words: `plural(1, "file")` is "1 file", `plural(3, "file")` is "3 files"."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """`n word` with the word in the singular for exactly one, else `many` (default: word + s)."""
    shown = f"{n:,}"
    return f"{shown} {word if n == 1 else (many or word + 's')}"


def span_of(first: int, shown: int, total: int, word: str, many: str | None = None) -> str:
    """Where a page of results sits in the whole: "3 documents", "1–10 of 42 documents",
    "11 of 11 documents" (a page of one shows one number, never "11-11")."""
    if shown <= 0 or (first == 1 and shown >= total):
        return plural(total, word, many)
    last = first + shown - 1
    where = f"{first:,}" if last == first else f"{first:,}–{last:,}"
    return f"{where} of {plural(total, word, many)}"
