"""Which files a run reads: folders walked, default skips, `.palimpsestignore`, --include/--exclude.

Every path given or found ends up in one of three lists: `files` (to read), `skipped` (not a
document, or left out by a rule, with the reason) and `failed` (could not be looked at: broken
links, loops, unreadable folders). Rules use gitignore syntax (pathspec), relative to the path
given on the command line, in this order of precedence: --exclude; then --include (when given,
only matching files are read, whatever the rules below say); then `.palimpsestignore` files (the
deepest decisive line wins, and `!pattern` re-admits what the defaults skip) over the defaults
below. Hidden files and folders are skipped. A file named on the command line is read whatever
the defaults and ignore files say (--exclude and --include still apply).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from .errors import PathNotFoundError

IGNORE_FILE = ".palimpsestignore"

# What a folder of documents also holds that is not a document: (what it is, patterns).
DEFAULT_SKIPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("script", ("*.js", "*.mjs", "*.cjs", "*.map")),
    ("stylesheet", ("*.css", "*.scss", "*.sass", "*.less")),
    ("image", ("*.png", "*.jpg", "*.jpeg", "*.gif", "*.webp", "*.avif", "*.svg", "*.ico", "*.bmp", "*.tif",
               "*.tiff", "*.heic")),
    ("font", ("*.woff", "*.woff2", "*.ttf", "*.otf", "*.eot")),
    ("audio or video", ("*.mp3", "*.m4a", "*.wav", "*.flac", "*.ogg", "*.oga", "*.opus", "*.mp4", "*.m4v",
                        "*.webm", "*.ogv", "*.mov", "*.avi", "*.mkv")),
    ("archive", ("*.zip", "*.gz", "*.tgz", "*.bz2", "*.xz", "*.zst", "*.7z", "*.rar", "*.tar")),
    # Sphinx, Jupyter Book and the like publish each page's source beside the rendered HTML:
    # indexing both would make every page a second, hidden document or version.
    ("source copy of a rendered page", ("_sources/", "*.rst.txt")),
)  # fmt: skip

_KIND_OF_MODE = (
    (stat.S_ISFIFO, "named pipe"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
)


@dataclass(frozen=True)
class FileRules:
    """What the user asked for on top of the defaults."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    defaults: bool = True


@dataclass
class ScanResult:
    files: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)


class _Spec:
    """One list of gitignore-style patterns and where it came from."""

    def __init__(self, lines: Iterable[str], origin: str, base: str) -> None:
        self.lines = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
        self.spec = pathspec.GitIgnoreSpec.from_lines(self.lines)
        self.origin = origin
        self.base = base  # the folder the patterns are relative to

    def check(self, path: str, is_dir: bool = False) -> tuple[bool | None, str]:
        """(True: ignored, False: re-admitted, None: no line matched; the deciding line)."""
        rel = os.path.relpath(path, self.base)
        if rel.startswith(".."):
            return None, ""
        if is_dir:
            rel += "/"
        result = self.spec.check_file(rel)
        if result.include is None or result.index is None:
            return None, ""
        return bool(result.include), self.lines[result.index].strip()


def _default_reasons() -> dict[str, str]:
    return {p: kind for kind, patterns in DEFAULT_SKIPS for p in patterns}


def _special_kind(mode: int) -> str | None:
    for test, name in _KIND_OF_MODE:
        if test(mode):
            return name
    return None


def check_paths(paths: Iterable[str | Path]) -> list[str]:
    """The given paths as absolute paths; raises PathNotFoundError for one that does not exist
    (one that cannot be looked at, inside a folder that may not be entered, is the scan's to report)."""
    out = []
    for p in paths:
        path = os.path.abspath(p)
        try:
            os.lstat(path)
        except FileNotFoundError:
            raise PathNotFoundError(display_path(path)) from None
        except OSError:
            pass
        out.append(path)
    return out


def display_path(path: str) -> str:
    """`path` as text that can be printed and stored: a name that is not UTF-8 (the bytes an old
    Latin-1 system or a broken archive wrote) shows its odd bytes as \\xe9."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _not_utf8(path: str) -> bool:
    return display_path(path) != path


NOT_UTF8 = "name is not UTF-8 (rename it to index it)"


class _Decider:
    """The rules of one path given on the command line (--include/--exclude are relative to it)."""

    def __init__(self, rules: FileRules, base: str) -> None:
        self.reasons = _default_reasons()
        self.defaults = [_Spec(self.reasons, "default rules", base)] if rules.defaults else []
        self.include = _Spec(rules.include, "--include", base) if rules.include else None
        self.exclude = _Spec(rules.exclude, "--exclude", base) if rules.exclude else None

    def reason(self, path: str, ignore_files: list[_Spec], is_dir: bool, explicit: bool = False) -> str | None:
        """Why `path` is left out, or None to keep it."""
        if self.exclude is not None:
            hit, line = self.exclude.check(path, is_dir)
            if hit:
                return f"excluded by --exclude '{line}'"
        if self.include is not None:
            # --include names what to read, whatever the defaults and ignore files say; folders
            # are walked, since files under them may match.
            hit, _line = self.include.check(path, is_dir)
            return None if hit or is_dir else "not matched by --include"
        if explicit:
            return None
        if os.path.basename(path).startswith("."):
            return "hidden folder" if is_dir else "hidden file"
        decided: tuple[bool | None, str, _Spec | None] = (None, "", None)
        for spec in self.defaults + ignore_files:
            hit, line = spec.check(path, is_dir)
            if hit is not None:
                decided = (hit, line, spec)
        hit, line, spec = decided
        if not hit or spec is None:
            return None
        if spec.origin == "default rules":
            return f"{self.reasons.get(line, 'not a document')} (skipped by default; --include '{line}' reads it)"
        return f"ignored by {spec.origin} ('{line}')"


def scan(paths: Iterable[str | Path], rules: FileRules = FileRules(), skip: Path | None = None) -> ScanResult:
    """Files under the given paths (sorted) and every path that is not read, with the reason."""
    result = ScanResult()
    skip_real = os.path.realpath(skip) if skip else None
    for root in check_paths(paths):
        if _not_utf8(root):
            what = "folder" if os.path.isdir(root) else "file"
            result.failed.append({"path": display_path(root), "reason": f"{what} {NOT_UTF8}"})
            continue
        try:
            st = os.stat(root)
        except OSError:
            result.failed.append({"path": root, "reason": _broken_link_reason(Path(root))})
            continue
        if stat.S_ISDIR(st.st_mode):
            _walk(root, _Decider(rules, root), skip_real, result)
            continue
        kind = _special_kind(st.st_mode)
        why = (
            f"not a regular file ({kind})"
            if kind
            else _Decider(rules, os.path.dirname(root)).reason(root, [], False, explicit=True)
        )
        if why:
            result.skipped.append({"path": root, "reason": why})
        else:
            result.files.append(root)
    result.files = sorted(dict.fromkeys(result.files))
    # A path given and also found under another given folder is reported once.
    result.skipped = sorted({f["path"]: f for f in reversed(result.skipped)}.values(), key=lambda f: f["path"])
    result.failed = sorted({f["path"]: f for f in reversed(result.failed)}.values(), key=lambda f: f["path"])
    return result


def _walk(root: str, decider: _Decider, skip_real: str | None, result: ScanResult) -> None:
    seen: set[str] = set()
    ignore_files: dict[str, _Spec] = {}

    def onerror(exc: OSError) -> None:
        reason = _reason(exc)
        result.failed.append({"path": str(exc.filename), "reason": f"folder not read: {reason}"})

    for folder, dirs, names in os.walk(root, followlinks=True, onerror=onerror):
        real = os.path.realpath(folder)
        if real in seen:
            result.failed.append({"path": folder, "reason": "symlink loop (directory already visited)"})
            dirs[:] = []
            continue
        if skip_real and real == skip_real:
            result.skipped.append({"path": folder, "reason": "the index folder itself"})
            dirs[:] = []
            continue
        seen.add(real)
        if IGNORE_FILE in names:
            ignore_path = os.path.join(folder, IGNORE_FILE)
            try:
                with open(ignore_path, encoding="utf-8", errors="replace") as fh:
                    ignore_files[folder] = _Spec(fh.read().splitlines(), ignore_path, folder)
            except OSError as exc:
                result.failed.append({"path": ignore_path, "reason": exc.strerror or str(exc)})
        specs = [spec for base, spec in ignore_files.items() if _under(folder, base)]
        kept = []
        for d in sorted(dirs):
            full = os.path.join(folder, d)
            if _not_utf8(d):
                result.failed.append({"path": display_path(full), "reason": f"folder {NOT_UTF8}"})
                continue
            why = decider.reason(full, specs, is_dir=True)
            if why:
                result.skipped.append({"path": full, "reason": why})
            else:
                kept.append(d)
        dirs[:] = kept
        for name in sorted(names):
            if name == IGNORE_FILE:
                continue
            full = os.path.join(folder, name)
            if _not_utf8(name):
                result.failed.append({"path": display_path(full), "reason": f"file {NOT_UTF8}"})
                continue
            try:
                st = os.stat(full)
            except OSError:
                result.failed.append({"path": full, "reason": _broken_link_reason(Path(full))})
                continue
            why = decider.reason(full, specs, is_dir=False)
            kind = None if why else _special_kind(st.st_mode)
            if why or kind:
                result.skipped.append({"path": full, "reason": why or f"not a regular file ({kind})"})
            else:
                result.files.append(full)


def _under(folder: str, base: str) -> bool:
    return folder == base or folder.startswith(base.rstrip("/") + "/")


def _reason(exc: OSError) -> str:
    return "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc)).lower()


def _broken_link_reason(path: Path) -> str:
    """Why a path that os.stat refuses cannot be read: a link loop, a broken link, or the error."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        if os.path.islink(path) and isinstance(exc, FileNotFoundError):
            return "broken symlink"
        return _reason(exc)
    return "broken symlink"
