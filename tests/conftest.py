"""Fixtures: the seed and corpus paths, built indexes (session scope), a CLI runner, the engine.

Every test that builds or reads an index runs once per engine (`suite_engines()`): it
uses the `engine` fixture, directly, through `seed_index`/`corpus_index`, or through its
module's `pytestmark`; new indexes are created with that engine ($PALIMPSEST_ENGINE, which the
CLI reads too, and `settings_for`). A test about one engine's internals says so with
`@pytest.mark.engine("whoosh")` and runs on that engine only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from indexer.cli import cli
from indexer.engines import engine_names
from indexer.pipeline import index_paths
from indexer.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
CORPUS = ROOT / "corpus"

SEED_000 = "000_2e55a8d225a90a61.txt"
SEED_001 = "001_440125025c05213e.txt"
SEED_002 = "002_63f49949f0851ed6.txt"
SEED_003 = "003_051351aac0f67f5e.txt"
SEED_004 = "004_a267bfd401575bfc.txt"


# Engines the whole suite runs on: every registered engine but xapian, whose own tests
# (tests/test_xapian.py) cover it locally and over a cluster; $PALIMPSEST_TEST_ENGINES
# (comma-separated, e.g. `xapian` or `whoosh,tantivy,xapian`) chooses others.
SUITE_ENGINES = [name for name in engine_names() if name != "xapian"]


def suite_engines() -> list[str]:
    wanted = [n.strip() for n in os.environ.get("PALIMPSEST_TEST_ENGINES", "").split(",") if n.strip()]
    unknown = sorted(set(wanted) - set(engine_names()))
    if unknown:
        raise pytest.UsageError(f"PALIMPSEST_TEST_ENGINES names unknown engines: {', '.join(unknown)}")
    return wanted or SUITE_ENGINES


@pytest.fixture(scope="session", params=suite_engines())
def engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """The engine of the indexes a test creates (each test that uses it runs once per engine)."""
    before = os.environ.get("PALIMPSEST_ENGINE")
    os.environ["PALIMPSEST_ENGINE"] = request.param
    yield request.param
    if before is None:
        os.environ.pop("PALIMPSEST_ENGINE", None)
    else:
        os.environ["PALIMPSEST_ENGINE"] = before


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the runs of a test marked `engine(name, ...)` on the other engines."""
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("engine")
        callspec = getattr(item, "callspec", None)
        name = callspec.params.get("engine") if callspec is not None else None
        (drop if marker is not None and name is not None and name not in marker.args else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"../shared/seeds not found at {SEEDS}: the seed documents live outside the repo")
    return SEEDS


def settings_for(index_dir: Path, **kw: Any) -> Settings:
    """Settings for a test index (created with the `engine` fixture's engine); one worker keeps
    small runs in-process."""
    engine = kw.pop("engine", os.environ.get("PALIMPSEST_ENGINE"))
    return Settings(index_dir=index_dir, workers=kw.pop("workers", 1), engine=engine, **kw)


@pytest.fixture(scope="session")
def seed_index(seeds: Path, engine: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp(f"seed_index_{engine}")
    index_paths([seeds], settings_for(index_dir, engine=engine))
    return index_dir


@pytest.fixture(scope="session")
def corpus_index(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp(f"corpus_index_{engine}")
    index_paths([CORPUS], settings_for(index_dir, engine=engine))
    return index_dir


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run_cli(runner: CliRunner, *args: str) -> Any:
    """Run a command with --json and return the parsed output (asserting success)."""
    result = runner.invoke(cli, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def doc_by_title(runner: CliRunner, index_dir: Path, prefix: str) -> dict[str, Any]:
    docs = run_cli(runner, "list", "--index-dir", str(index_dir))
    matches = [d for d in docs if d["title"].startswith(prefix)]
    assert len(matches) == 1, docs
    return matches[0]


def zip_with_method(data: bytes, method: int) -> bytes:
    """A zip file's bytes with its first central directory entry's compression method replaced
    (99: one zipfile does not know, which it reports with NotImplementedError)."""
    at = data.index(b"PK\x01\x02") + 10
    return data[:at] + method.to_bytes(2, "little") + data[at + 2 :]
