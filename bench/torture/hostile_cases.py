"""The hostile inputs of bench/torture/hostile.py: each case writes its files (and, for those large
on purpose, a control: the same bytes written the ordinary way) into a folder it is given."""

from __future__ import annotations

import gzip
import os
import random
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .corpus import Writer


@dataclass
class Case:
    """A hostile input: `build(folder, scale)` writes it and returns (path to index, the paths
    that must each get a report entry). `control(folder, scale)` writes the same bytes the
    ordinary way, for the cases that are large on purpose (finding 4's kind)."""

    name: str
    build: Callable[[Path, str], tuple[Path, list[Path]]]
    control: Callable[[Path, str], Path] | None = None
    long_only: bool = False
    alone: bool = False  # in a run of its own in the short form too
    needs_permissions: bool = False


def _size(scale: str, short: int, long: int) -> int:
    return long if scale == "long" else short


def _file(folder: Path, name: str, data: bytes) -> tuple[Path, list[Path]]:
    path = folder / name
    path.write_bytes(data)
    return path, [path]


def _letters_word(i: int) -> str:
    """A distinct made-up word for each i below 26**6 (no digits: 'q' + 6 letters + 'z')."""
    out = ""
    for _ in range(6):
        i, r = divmod(i, 26)
        out += "abcdefghijklmnopqrstuvwxyz"[r]
    return "q" + out + "z"


def _short_words(scale: str) -> list[str]:
    rng = random.Random(5)
    n = _size(scale, 200_000, 5_000_000)
    return ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 5))) for _ in range(n)]


def short_lines(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    """Millions of short lines (the finding: 5 million lines, 24 MB)."""
    return _file(folder, "lines.txt", "".join(w + "\n" for w in _short_words(scale)).encode())


def short_lines_control(folder: Path, scale: str) -> Path:
    """The same words, as sentences in paragraphs."""
    words = _short_words(scale)
    paras = [" ".join(words[i : i + 60]) + ".\n\n" for i in range(0, len(words), 60)]
    return _file(folder, "lines-control.txt", "".join(paras).encode())[0]


def _distinct(scale: str) -> int:
    return _size(scale, 250_000, 1_000_000)


def distinct_words(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    """A vocabulary of distinct words (the finding: 1 million, 9 MB)."""
    words = (_letters_word(i * 7919 % 308_915_776) for i in range(_distinct(scale)))
    return _file(folder, "vocabulary.txt", " ".join(words).encode())


def distinct_words_control(folder: Path, scale: str) -> Path:
    """As many words of the same length, from a vocabulary of 1,000."""
    rng = random.Random(9)
    vocab = [_letters_word(i * 7919 % 308_915_776) for i in range(1000)]
    return _file(folder, "vocabulary-control.txt", " ".join(rng.choices(vocab, k=_distinct(scale))).encode())[0]


def _line_words(scale: str) -> list[str]:
    return Writer(7).words(_size(scale, 200_000, 3_000_000))


def one_line(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    """Megabytes of words without a line break."""
    return _file(folder, "one-line.txt", " ".join(_line_words(scale)).encode())


def one_line_control(folder: Path, scale: str) -> Path:
    words = _line_words(scale)
    paras = [" ".join(words[i : i + 80]) + ".\n\n" for i in range(0, len(words), 80)]
    return _file(folder, "one-line-control.txt", "".join(paras).encode())[0]


def _heading_count(scale: str) -> int:
    return _size(scale, 10_000, 200_000)


def many_headings(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    """A Markdown file of tens of thousands of sections."""
    text = "".join(f"## Heading {i}\n\nLine {i} of the harbour log.\n\n" for i in range(_heading_count(scale)))
    return _file(folder, "headings.md", f"# Many headings\n\n{text}".encode())


def many_headings_control(folder: Path, scale: str) -> Path:
    """The same lines as paragraphs (the heading marks replaced by spaces)."""
    text = "".join(f"   Heading {i}\n\nLine {i} of the harbour log.\n\n" for i in range(_heading_count(scale)))
    return _file(folder, "headings-control.md", f"# Many headings\n\n{text}".encode())[0]


def many_files(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    root = folder / "many"
    root.mkdir()
    for i in range(_size(scale, 500, 20_000)):
        (root / f"f{i:05d}.txt").write_text(f"Tiny note {i} about the quay.\n")
    return root, [root]


def nested_html(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    n = _size(scale, 20_000, 200_000)
    page = (
        "<html><head><title>Deep</title></head><body>"
        + "<div>" * n
        + "deep harbour text"
        + "</div>" * n
        + "</body></html>"
    )
    return _file(folder, "deep.html", page.encode())


def nested_quotes(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    n = _size(scale, 5_000, 50_000)
    return _file(folder, "quotes.md", ("# Quotes\n\n" + ">" * n + " deep quote about the ferry\n").encode())


def nested_lists(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    n = _size(scale, 2_000, 10_000)
    return _file(folder, "lists.md", ("# Lists\n\n" + "".join("  " * i + "- item\n" for i in range(n))).encode())


def nested_templates(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    n = _size(scale, 2_000, 20_000)
    text = "{{a|" * n + "deep" + "}}" * n + "\n\nThe ferry crossed the estuary."
    return _file(folder, "templates.xml", _mediawiki("Templates", text).encode())


def nested_xml(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    n = _size(scale, 20_000, 200_000)
    return _file(folder, "deep.xml", ("<?xml version='1.0'?>" + "<a>" * n + "x" + "</a>" * n).encode())


def nested_folders(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    root = folder / "nest"
    deep = root
    for _ in range(_size(scale, 60, 300)):
        deep = deep / "d"
    deep.mkdir(parents=True)
    (deep / "bottom.txt").write_text("The note at the bottom of the folders.\n")
    return root, [deep / "bottom.txt"]


def _mediawiki(title: str, text: str) -> str:
    esc = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="en">'
        f"<siteinfo><sitename>Hostile</sitename></siteinfo><page><title>{title}</title><ns>0</ns><id>1</id>"
        f'<revision><id>1</id><timestamp>2021-01-01T00:00:00Z</timestamp><text xml:space="preserve">{esc}'
        "</text></revision></page></mediawiki>"
    )


def gzip_bomb(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    """200 MB of zeros in 200 kB, as .gz, and the same bytes named .txt and .html."""
    root = folder / "gz"
    root.mkdir()
    zeros = b"\0" * (1 << 20)
    with gzip.open(root / "bomb.txt.gz", "wb", compresslevel=9) as f:
        for _ in range(_size(scale, 50, 200)):
            f.write(zeros)
    data = (root / "bomb.txt.gz").read_bytes()
    (root / "bomb.txt").write_bytes(data)
    (root / "bomb.html").write_bytes(data)
    return root, [root / "bomb.txt.gz", root / "bomb.txt", root / "bomb.html"]


def zip_bomb(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    root = folder / "zip"
    root.mkdir()
    with zipfile.ZipFile(root / "bomb.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("zeros.txt", b"\0" * _size(scale, 50, 200) * (1 << 20))
    (root / "bomb.md").write_bytes((root / "bomb.zip").read_bytes())
    return root, [root / "bomb.zip", root / "bomb.md"]


def entity_bombs(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    """XML entity expansion: nested (billion laughs) and one large entity used many times."""
    root = folder / "entities"
    root.mkdir()
    decls = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    laughs = f'<?xml version="1.0"?><!DOCTYPE mediawiki [{decls}]>' + _mediawiki("Laughs", "x").replace(
        '<text xml:space="preserve">x', '<text xml:space="preserve">&a9;'
    )
    (root / "laughs.xml").write_text(laughs)
    big = "x" * 100_000
    quad = f'<?xml version="1.0"?><!DOCTYPE mediawiki [<!ENTITY b "{big}">]>' + _mediawiki("Quadratic", "x").replace(
        '<text xml:space="preserve">x', '<text xml:space="preserve">' + "&b;" * 10_000
    )
    (root / "quadratic.xml").write_text(quad)
    return root, [root / "laughs.xml", root / "quadratic.xml"]


def encodings(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    """Bad and unusual encodings, control characters, empty files, odd names."""
    root = folder / "enc"
    root.mkdir()
    text = "The harbour crane lifted the ferry's anchor at dawn; the tide was calm.\n\n" * 20
    files = {
        "invalid-utf8.txt": text.encode()[:300] + b"\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1" + text.encode(),
        "utf16-bom.txt": text.encode("utf-16"),
        "utf16be-no-bom.txt": text.encode("utf-16-be"),
        "utf32.txt": text.encode("utf-32"),
        "latin1.txt": ("Café, naïve, façade: " + text).encode("latin-1"),
        "overlong.txt": b"Over\xc0\xaflong \xe0\x80\xaf and surrogates \xed\xa0\x80\xed\xb0\x80 " + text.encode(),
        "nul-bytes.txt": text.encode().replace(b" ", b" \0"),
        "bom-only.txt": b"\xef\xbb\xbf",
        "empty.txt": b"",
        "whitespace.txt": b" \n\t\n \r\n" * 100,
        "ansi-escapes.txt": b"\x1b]0;owned\x07\x1b[2J\x1b[31mRed harbour\x1b[0m title\n\n" + text.encode(),
        "mixed.txt": text.encode() + "Ærøskøbing".encode("latin-1") + "橋".encode() + text.encode("utf-16"),
        "charset-lie.html": b'<html><head><meta charset="shift_jis"><title>Caf\xc3\xa9 harbour</title></head><body><p>'
        + text.encode()
        + b"</p></body></html>",
        "utf16.html": f"<html><head><title>Sixteen</title></head><body><p>{text}</p></body></html>".encode("utf-16"),
        "binary.md": random.Random(3).randbytes(100_000),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    odd = [
        "line\nbreak.txt",
        "x" * 251 + ".txt",
        " leading space.txt",
        "-dash.txt",
    ]
    for name in odd:
        (root / name).write_text(text)
    return root, [root / n for n in [*files, *odd]]


def undecodable_name(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    """A file whose name is not UTF-8 (as an old Latin-1 system or a broken archive writes it)."""
    root = folder / "names"
    root.mkdir()
    path = root / os.fsdecode(b"caf\xe9-\xff.txt")
    path.write_text("A note about the harbour caf\u00e9, named by an old system.\n")
    (root / "plain.txt").write_text("A note with a plain name beside it.\n")
    return root, [path, root / "plain.txt"]


def special_files(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    """A FIFO, a socket, links to devices, symlink loops, a broken link, sparse files."""
    root = folder / "special"
    root.mkdir()
    os.mkfifo(root / "pipe.txt")
    # Bound from inside the folder: a socket's path is limited to 107 bytes, a temp folder's may be longer.
    bind = "import socket; socket.socket(socket.AF_UNIX).bind('socket.txt')"
    subprocess.run([sys.executable, "-c", bind], cwd=root, check=True)
    for dev in ("zero", "urandom", "null"):
        (root / f"{dev}.txt").symlink_to(f"/dev/{dev}")
    (root / "loop-a.txt").symlink_to(root / "loop-b.txt")
    (root / "loop-b.txt").symlink_to(root / "loop-a.txt")
    (root / "self.txt").symlink_to(root / "self.txt")
    (root / "broken.txt").symlink_to(root / "nowhere.txt")
    (root / "sub").mkdir()
    (root / "sub" / "up").symlink_to(root)  # a folder that contains itself
    (root / "sub" / "note.txt").write_text("A note beside a link to its own parent folder.\n")
    with open(root / "sparse-over-limit.txt", "wb") as f:
        f.truncate(60 * 1024 * 1024)
    with open(root / "sparse-under-limit.txt", "wb") as f:
        f.truncate(45 * 1024 * 1024)
    paths = ["pipe.txt", "socket.txt", "zero.txt", "urandom.txt", "null.txt", "loop-a.txt", "loop-b.txt", "self.txt",
             "broken.txt", "sub/up", "sub/note.txt", "sparse-over-limit.txt", "sparse-under-limit.txt"]  # fmt: skip
    return root, [root / p for p in paths]


def fifo_given(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    """A FIFO named on the command line (nothing ever writes to it)."""
    path = folder / "named.pipe"
    os.mkfifo(path)
    return path, [path]


def device_given(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    path = folder / "zero.txt"
    path.symlink_to("/dev/zero")
    return path, [path]


def unreadable(folder: Path, scale: str) -> tuple[Path, list[Path]]:
    root = folder / "perm"
    (root / "locked").mkdir(parents=True)
    (root / "locked" / "secret.txt").write_text("Nobody may read this note.\n")
    (root / "no-exec").mkdir()
    (root / "no-exec" / "hidden.txt").write_text("A folder that can be listed but not entered.\n")
    (root / "closed.txt").write_text("A file nobody may read.\n")
    (root / "open.txt").write_text("A file anybody may read about the harbour.\n")
    os.chmod(root / "locked", 0)
    os.chmod(root / "no-exec", stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    os.chmod(root / "closed.txt", 0)
    return root, [root / "locked", root / "no-exec", root / "closed.txt", root / "open.txt"]


CASES = [
    Case("5 million short lines", short_lines, short_lines_control, long_only=True),
    Case("1 million distinct words", distinct_words, distinct_words_control),
    Case("one 20 MB line", one_line, one_line_control, long_only=True),
    Case("200,000 headings", many_headings, many_headings_control),
    Case("20,000 small files", many_files),
    Case("HTML nested 200,000 deep", nested_html),
    Case("Markdown quotes nested 50,000 deep", nested_quotes),
    Case("Markdown lists nested 10,000 deep", nested_lists),
    Case("wiki templates nested 20,000 deep", nested_templates),
    Case("XML nested 200,000 deep", nested_xml),
    Case("folders nested 300 deep", nested_folders),
    Case("gzip bomb", gzip_bomb),
    Case("zip bomb", zip_bomb),
    Case("XML entity bombs", entity_bombs),
    Case("bad encodings and names", encodings),
    Case("a file name that is not UTF-8", undecodable_name, alone=True),
    Case("FIFO, socket, device links, loops, sparse files", special_files),
    Case("a FIFO on the command line", fifo_given),
    Case("a device link on the command line", device_given),
    Case("unreadable folders and files", unreadable, needs_permissions=True),
]
# A case that fails the way a known finding says: {case: finding}. The large-on-purpose cases
# (those with a control) are finding 4 when they cost too much.
CASE_FINDINGS: dict[str, str] = {}
