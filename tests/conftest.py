"""Fixtures: the seed and corpus paths, built indexes (session scope), a CLI runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from indexer.cli import cli
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


@pytest.fixture(scope="session")
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"../shared/seeds not found at {SEEDS}: the seed documents live outside the repo")
    return SEEDS


def settings_for(index_dir: Path, **kw: Any) -> Settings:
    """Settings for a test index; one worker keeps small runs in-process."""
    return Settings(index_dir=index_dir, workers=kw.pop("workers", 1), **kw)


@pytest.fixture(scope="session")
def seed_index(seeds: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("seed_index")
    index_paths([seeds], settings_for(index_dir))
    return index_dir


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("corpus_index")
    index_paths([CORPUS], settings_for(index_dir))
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
