"""Layers point one way: checked on the imports of every module (ast, no import side effects)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("indexer", "search_web")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _imports(module: str, path: Path) -> set[str]:
    """Absolute names of everything a module imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            out.add(name)
            out.update(f"{name}.{alias.name}" for alias in node.names)
    return out


def _violations(rule: str, allowed_in: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for module, path in _modules().items():
        if module.startswith(allowed_in):
            continue
        for name in _imports(module, path):
            if name == forbidden or name.startswith(forbidden):
                bad.append(f"{rule}: {module} imports {name}")
    return sorted(set(bad))


def test_whoosh_lives_in_its_engine_folder() -> None:
    assert _violations("whoosh", ("indexer.engines.whoosh",), ("whoosh",)) == []


def test_tantivy_lives_in_its_engine_folder() -> None:
    assert _violations("tantivy", ("indexer.engines.tantivy",), ("tantivy",)) == []


def test_xapian_lives_in_its_engine_folder() -> None:
    assert _violations("xapian", ("indexer.engines.xapian",), ("xapian",)) == []


def test_only_the_contract_of_the_engines_is_imported_outside_them() -> None:
    contract = {
        "base", "Engine", "EngineBatch", "Hit", "open_engine", "engine_names", "index_engine", "DEFAULT_ENGINE",
        "live_slot", "slot_number", "swap_slot",
    }  # fmt: skip
    bad = [
        f"{module} imports {name}"
        for module, path in _modules().items()
        if not module.startswith("indexer.engines")
        for name in _imports(module, path)
        if name.startswith("indexer.engines.")
        and name.split(".")[2] not in contract
        # `palimpsest cluster` and `--cluster`: the small API of the Xapian engine's shard servers.
        and not (module == "indexer.cli" and name.startswith("indexer.engines.xapian.cluster"))
    ]
    assert bad == []


def test_engines_and_the_query_tree_do_not_reach_up() -> None:
    upward = ("indexer.search", "indexer.pipeline", "indexer.writer", "indexer.cli", "search_web")
    bad = [
        f"{module} imports {name}"
        for module, path in _modules().items()
        if module.startswith(("indexer.engines", "indexer.querytree", "indexer.analysis", "indexer.facets"))
        for name in _imports(module, path)
        if name.startswith(upward)
    ]
    assert bad == []


def test_nothing_below_the_web_imports_it_or_flask() -> None:
    bad = [
        f"{module} imports {name}"
        for module, path in _modules().items()
        if module.startswith("indexer")
        for name in _imports(module, path)
        if name.startswith(("search_web", "flask", "gunicorn"))
        and not (module == "indexer.cli" and name.startswith("search_web.server"))  # `palimpsest serve`
    ]
    assert bad == []


def test_sql_lives_in_the_store() -> None:
    bad = []
    for module, path in _modules().items():
        if module == "indexer.store":
            continue
        text = path.read_text(encoding="utf-8")
        for word in (".execute(", ".executemany(", ".executescript(", "sqlite3.connect("):
            if word in text:
                bad.append(f"{module} calls {word}")
    assert bad == []
