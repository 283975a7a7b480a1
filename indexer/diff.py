"""Version comparison: (Version, Version) -> VersionDiff, section by section, word by word.

Engine-independent and deterministic. Steps:

1. Sections are aligned: same normalized heading path, then a fuzzy heading match (renamed
   headings), then content similarity (unheaded or renamed-and-edited sections). Each pair is
   unchanged, changed, renamed and/or moved; the rest are added or removed.
2. Inside a changed section, paragraphs are aligned (equal ones first, then the most similar
   pairs); a paragraph deleted in one place and inserted unchanged in another is a move.
3. Paired paragraphs get a word-level diff. Tokens are words (with their inner hyphens,
   apostrophes and digit groups: "7,600" is one token) and single punctuation marks; a word is
   never split. Tokens are compared by a normalized key, so differences of formatting only
   (typographic quotes and dashes, spacing, list markers, and thousands separators when asked)
   are equal by key: they are counted as formatting and shown only on request.
4. Metadata: title, infobox fields (added, removed, changed), document dates.

Every operation carries the text of both sides, so A's and B's normalized texts can be rebuilt
from the diff alone (`VersionDiff.text_a()` / `text_b()`); diff(B, A) mirrors diff(A, B).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from .models import Section, Version

HEADING_MATCH = 85  # rapidfuzz ratio for a renamed heading
CONTENT_MATCH = 60  # token-set ratio for sections matched by their text
PARAGRAPH_MATCH = 0.5  # similarity (Indel) for two paragraphs to be diffed word by word
MOVE_MATCH = 0.85  # similarity for a deleted and an inserted paragraph to be one moved paragraph
_TOKEN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\w+(?:[-'’.]\w+)*|[^\w\s]", re.UNICODE)
_LIST_MARKER = re.compile(r"^\s*(?:[-*•·▪‣◦]|\d{1,3}[.)])\s+")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'",
                         "–": "-", "—": "-", "−": "-", "‐": "-", "‑": "-", "\u00a0": " "})  # fmt: skip


@dataclass(frozen=True)
class Options:
    """What counts as formatting (hidden by default, counted always)."""

    thousands: bool = False  # "7,600" and "7600" equal
    show_formatting: bool = False


@dataclass
class WordOp:
    """One run of tokens: equal, insert, delete, replace, or format (equal once normalized)."""

    op: str
    a: str = ""
    b: str = ""


@dataclass
class ParagraphDiff:
    """One paragraph position: equal, changed (with word ops), inserted, deleted or moved."""

    status: str
    a: str = ""
    b: str = ""
    ops: list[WordOp] = field(default_factory=list)
    moved_to: int | None = None  # for a move: the paragraph's index in B
    moved_from: int | None = None  # ... and in A


@dataclass
class SectionDiff:
    """One aligned section (or an added/removed one)."""

    status: str  # unchanged | changed | added | removed
    heading_a: str | None
    heading_b: str | None
    anchor_a: str | None
    anchor_b: str | None
    renamed: bool = False
    moved: bool = False
    paragraphs: list[ParagraphDiff] = field(default_factory=list)
    words_inserted: int = 0
    words_deleted: int = 0
    formatting: int = 0

    @property
    def label(self) -> str:
        return self.heading_b if self.heading_b is not None else (self.heading_a or "")


@dataclass
class VersionDiff:
    """Everything that changed from version A to version B."""

    a: str  # version ids
    b: str
    title: tuple[str | None, str | None] | None
    infobox: dict[str, list[dict[str, Any]]]  # added / removed / changed
    dates: dict[str, list[str]]  # added / removed
    sections: list[SectionDiff]
    summary: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def text_a(self) -> str:
        """A's normalized section texts, in A's order, rebuilt from the diff."""
        return _rebuild(self.sections, "a")

    def text_b(self) -> str:
        """B's normalized section texts, in B's order, rebuilt from the diff."""
        return _rebuild(self.sections, "b")


def normalize_paragraph(text: str) -> str:
    """A paragraph as compared: list marker dropped, quotes and dashes plain, spaces single."""
    text = unicodedata.normalize("NFC", text)
    text = _LIST_MARKER.sub("", text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Words (never split) and punctuation marks."""
    return _TOKEN.findall(text)


def _key(token: str, opts: Options) -> str:
    key = token.translate(_QUOTES)
    if opts.thousands and re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", key):
        key = key.replace(",", "")
    return key


def _heading_key(section: Section) -> str:
    crumb = section.breadcrumb or ""
    return " > ".join(re.sub(r"[\W_]+", " ", part).strip().casefold() for part in crumb.split(" > "))


def paragraphs_of(section: Section) -> list[str]:
    return [p for p in (normalize_paragraph(x) for x in section.text.split("\n")) if p]


_MIRROR = {"insert": "delete", "delete": "insert", "equal": "equal", "replace": "replace"}


def _opcodes(a: Sequence[str], b: Sequence[str]) -> list[tuple[str, int, int, int, int]]:
    """A shortest edit script (longest common subsequence, rapidfuzz's Indel), with a deletion
    next to an insertion merged into one replacement. Among equally short scripts the choice is
    made on the pair in a fixed orientation, so B -> A gives exactly the mirror of A -> B."""
    if list(b) < list(a):
        return [(_MIRROR[t], j1, j2, i1, i2) for t, i1, i2, j1, j2 in _script(b, a)]
    return _script(a, b)


def _script(a: Sequence[str], b: Sequence[str]) -> list[tuple[str, int, int, int, int]]:
    out: list[tuple[str, int, int, int, int]] = []
    for op in Indel.opcodes(list(a), list(b)):
        tag, i1, i2, j1, j2 = op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end
        if out and tag in ("insert", "delete") and out[-1][0] in ("insert", "delete", "replace") and out[-1][0] != tag:
            _t, a1, _a2, b1, _b2 = out[-1]
            out[-1] = ("replace", a1, i2, b1, j2)
        else:
            out.append((tag, i1, i2, j1, j2))
    return out


def _spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _TOKEN.finditer(text)]


def word_ops(a: str, b: str, opts: Options) -> list[WordOp]:
    """Word-level diff of two paragraphs; equal-by-key tokens that differ in form are `format`.

    Each op's text runs from the end of the previous token to the end of its own last token, so
    the ops' `a` texts concatenate to exactly `a` (and `b` to `b`): spacing is kept as written."""
    sa, sb = _spans(a), _spans(b)
    ka = [_key(a[x:y], opts) for x, y in sa]
    kb = [_key(b[x:y], opts) for x, y in sb]

    def cut(text: str, spans: list[tuple[int, int]], i: int, j: int) -> str:
        if i == j:
            return ""
        start = spans[i - 1][1] if i > 0 else 0
        return text[start : spans[j - 1][1]]

    out: list[WordOp] = []

    def add(op: str, ta: str, tb: str) -> None:
        if out and out[-1].op == op:
            out[-1].a += ta
            out[-1].b += tb
        else:
            out.append(WordOp(op, ta, tb))

    for tag, i1, i2, j1, j2 in _opcodes(ka, kb):
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                same = a[sa[i][0] : sa[i][1]] == b[sb[j][0] : sb[j][1]]
                add("equal" if same else "format", cut(a, sa, i, i + 1), cut(b, sb, j, j + 1))
        else:
            add(tag, cut(a, sa, i1, i2), cut(b, sb, j1, j2))
    return out


def _count(ops: Sequence[WordOp]) -> tuple[int, int, int]:
    ins = sum(len(tokens(o.b)) for o in ops if o.op in ("insert", "replace"))
    dele = sum(len(tokens(o.a)) for o in ops if o.op in ("delete", "replace"))
    fmt = sum(len(tokens(o.a)) for o in ops if o.op == "format")
    return ins, dele, fmt


def diff_paragraphs(pa: list[str], pb: list[str], opts: Options) -> list[ParagraphDiff]:
    """Paragraphs in B's order (deleted ones where they stood in A), with moves detected."""
    ka = [" ".join(_key(t, opts) for t in tokens(p)) for p in pa]
    kb = [" ".join(_key(t, opts) for t in tokens(p)) for p in pb]
    out: list[ParagraphDiff] = []
    for tag, i1, i2, j1, j2 in _opcodes(ka, kb):
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                ops = word_ops(pa[i], pb[j], opts) if pa[i] != pb[j] else [WordOp("equal", pa[i], pb[j])]
                out.append(ParagraphDiff("equal", pa[i], pb[j], ops))
            continue
        # Pair the most similar paragraphs of the two runs, keeping their order; the rest are
        # inserted or deleted.
        pairs = _pair_similar(ka[i1:i2], kb[j1:j2])
        pairs = [(i1 + x, j1 + y) for x, y in pairs]
        left, right = list(range(i1, i2)), list(range(j1, j2))
        if not pairs and left and right:
            # Nothing pairs up, often because the text was split into paragraphs differently:
            # compare the two runs word by word as one block.
            block_a, block_b = "\n".join(pa[i1:i2]), "\n".join(pb[j1:j2])
            out.append(ParagraphDiff("changed", block_a, block_b, word_ops(block_a, block_b, opts)))
            continue
        paired_a = {i for i, _ in pairs}
        by_b = {j: i for i, j in pairs}
        pending = [i for i in left if i not in paired_a]  # deleted, in A order
        for j in right:
            if j in by_b:
                i = by_b[j]
                while pending and pending[0] < i:  # deleted paragraphs that stood before it in A
                    k = pending.pop(0)
                    out.append(ParagraphDiff("deleted", pa[k], "", [WordOp("delete", pa[k], "")]))
                out.append(ParagraphDiff("changed", pa[i], pb[j], word_ops(pa[i], pb[j], opts)))
            else:
                out.append(ParagraphDiff("inserted", "", pb[j], [WordOp("insert", "", pb[j])]))
        for k in pending:
            out.append(ParagraphDiff("deleted", pa[k], "", [WordOp("delete", pa[k], "")]))
    _mark_moves(out, opts)
    return out


def _pair_similar(ka: list[str], kb: list[str]) -> list[tuple[int, int]]:
    """Order-keeping pairs of similar paragraphs, best first; the same pairs either way round."""
    if kb < ka:
        return sorted((y, x) for x, y in _pair_similar(kb, ka))
    scored = []
    for i, x in enumerate(ka):
        for j, y in enumerate(kb):
            r = Indel.normalized_similarity(x, y)
            if r > PARAGRAPH_MATCH:
                scored.append((-r, abs(i - j), i + j, i, j))
    pairs: list[tuple[int, int]] = []
    for _r, _d, _s, i, j in sorted(scored):
        if all((i - x) * (j - y) > 0 for x, y in pairs):
            pairs.append((i, j))
    return sorted(pairs)


def _mark_moves(paras: list[ParagraphDiff], opts: Options) -> None:
    """A deleted paragraph inserted elsewhere, unchanged or nearly so (MOVE_MATCH), is a move, not
    a deletion and an insertion; a move's own edits are word ops on its new place. Best pairs
    first, ties by position, so B -> A finds the same moves."""
    key = lambda t: " ".join(_key(x, opts) for x in tokens(t))  # noqa: E731
    deleted = [n for n, p in enumerate(paras) if p.status == "deleted"]
    inserted = [n for n, p in enumerate(paras) if p.status == "inserted"]
    if not deleted or not inserted:
        return
    keys = {n: key(paras[n].a or paras[n].b) for n in deleted + inserted}
    scored = []
    for d in deleted:
        for i in inserted:
            r = 1.0 if keys[d] == keys[i] else Indel.normalized_similarity(keys[d], keys[i])
            if r >= MOVE_MATCH:
                scored.append((-r, abs(d - i), d + i, min(d, i), d, i))
    used: set[int] = set()
    for *_rank, d, i in sorted(scored):
        if d in used or i in used:
            continue
        used |= {d, i}
        source, target = paras[d], paras[i]
        source.status, source.moved_to = "moved", i
        target.status, target.moved_from = "moved", d
        source.ops = [WordOp("equal", source.a, "")]
        target.a = source.a
        target.ops = word_ops(source.a, target.b, opts)


def align_sections(sa: Sequence[Section], sb: Sequence[Section]) -> list[tuple[int | None, int | None]]:
    """Pairs (index in A, index in B); None for an added or removed section. In B's order, with
    removed sections placed after the B section that follows their A predecessor."""
    match = _match_sections(sa, sb)
    return _layout(match, len(sa), len(sb))


def _section_keys(sections: Sequence[Section]) -> list[tuple[str, str]]:
    return [(_heading_key(s), " ".join(s.text.split())) for s in sections]


def _match_sections(sa: Sequence[Section], sb: Sequence[Section]) -> dict[int, int]:
    """A index -> B index; computed in a fixed orientation so that B -> A is the mirror."""
    if _section_keys(sb) < _section_keys(sa):
        return {j: i for i, j in _match_sections(sb, sa).items()}
    keys_a = [_heading_key(s) for s in sa]
    keys_b = [_heading_key(s) for s in sb]
    match: dict[int, int] = {}
    used_b: set[int] = set()
    # 1. Exact heading path (first unused occurrence).
    for i, k in enumerate(keys_a):
        for j, kb in enumerate(keys_b):
            if j not in used_b and kb == k:
                match[i] = j
                used_b.add(j)
                break
    # 2. Fuzzy heading (renamed), 3. content (unheaded, or renamed and rewritten).
    for scorer, threshold, text_of in (
        (fuzz.ratio, HEADING_MATCH, lambda s, k: k),
        (fuzz.token_set_ratio, CONTENT_MATCH, lambda s, k: " ".join(s.text.split())[:5000]),
    ):
        candidates = []
        for i, s in enumerate(sa):
            if i in match:
                continue
            for j, t in enumerate(sb):
                if j in used_b:
                    continue
                score = scorer(text_of(s, keys_a[i]), text_of(t, keys_b[j]))
                if score >= threshold:
                    candidates.append((-score, abs(i - j), i + j, i, j))
        for _neg, _dist, _sum, i, j in sorted(candidates):
            if i not in match and j not in used_b:
                match[i] = j
                used_b.add(j)
    return match


def _layout(match: dict[int, int], n_a: int, n_b: int) -> list[tuple[int | None, int | None]]:
    by_b = {j: i for i, j in match.items()}
    out: list[tuple[int | None, int | None]] = []
    removed = [i for i in range(n_a) if i not in match]
    for j in range(n_b):
        out.append((by_b.get(j), j))
    # A removed section goes right after the pair holding its nearest earlier A neighbour.
    for i in removed:
        prev = max((k for k in match if k < i), default=None)
        pos = 0 if prev is None else next(n for n, (x, _y) in enumerate(out) if x == prev) + 1
        while pos < len(out) and out[pos][1] is None:
            pos += 1
        out.insert(pos, (i, None))
    return out


def diff_versions(va: Version, vb: Version, opts: Options | None = None) -> VersionDiff:
    """Compare two versions (of one document, usually)."""
    opts = opts or Options()
    pairs = align_sections(va.sections, vb.sections)
    matched = [(i, j) for i, j in pairs if i is not None and j is not None]
    in_order = _longest_increasing({i: j for i, j in matched})
    sections: list[SectionDiff] = []
    for i, j in pairs:
        a = va.sections[i] if i is not None else None
        b = vb.sections[j] if j is not None else None
        pa = paragraphs_of(a) if a else []
        pb = paragraphs_of(b) if b else []
        if a is None:
            paras = [ParagraphDiff("inserted", "", p, [WordOp("insert", "", p)]) for p in pb]
            status = "added"
        elif b is None:
            paras = [ParagraphDiff("deleted", p, "", [WordOp("delete", p, "")]) for p in pa]
            status = "removed"
        else:
            paras = diff_paragraphs(pa, pb, opts)
            status = "changed" if any(shows_change(p) for p in paras) else "unchanged"
        sd = SectionDiff(
            status=status,
            heading_a=a.breadcrumb if a else None,
            heading_b=b.breadcrumb if b else None,
            anchor_a=a.anchor if a else None,
            anchor_b=b.anchor if b else None,
            renamed=bool(a and b and _heading_key(a) != _heading_key(b)),
            moved=bool(a and b and i not in in_order),
            paragraphs=paras,
        )
        for p in paras:
            if p.status == "moved" and p.moved_to is not None:
                continue  # a move's own edits are counted at its new place
            ins, dele, fmt = _count(p.ops)
            sd.words_inserted += ins
            sd.words_deleted += dele
            sd.formatting += fmt
        sections.append(sd)
    summary = {
        "sections_unchanged": sum(s.status == "unchanged" and not s.renamed and not s.moved for s in sections),
        "sections_changed": sum(s.status == "changed" for s in sections),
        "sections_added": sum(s.status == "added" for s in sections),
        "sections_removed": sum(s.status == "removed" for s in sections),
        "sections_moved": sum(s.moved for s in sections),
        "sections_renamed": sum(s.renamed for s in sections),
        "words_inserted": sum(s.words_inserted for s in sections),
        "words_deleted": sum(s.words_deleted for s in sections),
        "formatting_changes": sum(s.formatting for s in sections),
        "paragraphs_moved": sum(p.status == "moved" and p.moved_to is not None for s in sections for p in s.paragraphs),
    }
    return VersionDiff(
        a=va.version_id,
        b=vb.version_id,
        title=(va.title, vb.title) if (va.title or "") != (vb.title or "") else None,
        infobox=_infobox_diff(va.infobox, vb.infobox),
        dates=_dates_diff(va.dates, vb.dates),
        sections=sections,
        summary=summary,
    )


def _longest_increasing(match: dict[int, int]) -> set[int]:
    """A indices of the largest set of pairs whose B order follows A order (the rest moved)."""
    items = sorted(match.items())
    best: list[list[int]] = []
    for i, j in items:
        chain = max((c for c in best if match[c[-1]] < j), key=len, default=[])
        best.append([*chain, i])
    return set(max(best, key=len, default=[]))


def _infobox_diff(a: dict[str, Any], b: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    text = lambda v: v.get("text", v.get("value")) if isinstance(v, dict) else v  # noqa: E731
    return {
        "added": [{"key": k, "value": text(b[k])} for k in b if k not in a],
        "removed": [{"key": k, "value": text(a[k])} for k in a if k not in b],
        "changed": [{"key": k, "a": text(a[k]), "b": text(b[k])} for k in a if k in b and text(a[k]) != text(b[k])],
    }


def _dates_diff(a: Sequence[dict[str, str]], b: Sequence[dict[str, str]]) -> dict[str, list[str]]:
    da = {f"{d.get('kind')}: {d.get('value')}" for d in a}
    db = {f"{d.get('kind')}: {d.get('value')}" for d in b}
    return {"added": sorted(db - da), "removed": sorted(da - db)}


def shows_change(p: ParagraphDiff, show_formatting: bool = False) -> bool:
    """Whether a paragraph has something to show (formatting only when it is shown)."""
    return p.status != "equal" or any(
        o.op not in ("equal", "format") or (show_formatting and o.op == "format") for o in p.ops
    )


def with_context(paragraphs: Sequence[ParagraphDiff], show_formatting: bool, context: int) -> list[tuple[str, Any]]:
    """("para", p) for paragraphs that change and `context` around them, ("skip", n) for each run
    of n unchanged paragraphs left out."""
    changed = [n for n, p in enumerate(paragraphs) if shows_change(p, show_formatting)]
    keep = {m for n in changed for m in range(n - context, n + context + 1)}
    out: list[tuple[str, Any]] = []
    skipped = 0
    for n, p in enumerate(paragraphs):
        if n in keep:
            if skipped:
                out.append(("skip", skipped))
                skipped = 0
            out.append(("para", p))
        else:
            skipped += 1
    if skipped:
        out.append(("skip", skipped))
    return out


def normalized_text(version: Version) -> str:
    """A version's text as the diff sees it: normalized paragraphs, sections apart."""
    return "\n\n".join(t for t in ("\n".join(paragraphs_of(s)) for s in version.sections) if t)


def _rebuild(sections: Sequence[SectionDiff], side: str) -> str:
    """One side's text from the word operations alone (each op holds both sides' text)."""
    out = []
    for s in sections:
        paras = [
            "".join(o.a if side == "a" else o.b for o in p.ops)
            for p in s.paragraphs
            # A move stands at both places: its old text is rebuilt from the source, its new from the target.
            if not (p.status == "moved" and (p.moved_from is not None if side == "a" else p.moved_to is not None))
        ]
        text = "\n".join(x for x in paras if x)
        if text:
            out.append(text)
    return "\n\n".join(out)
