"""The README documents the two commands first, every setting and every CLI command."""

from __future__ import annotations

from indexer.cli import cli
from indexer.settings import SETTINGS_TABLE, setting_names
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands() -> None:
    head = "\n".join(README.splitlines()[:5])
    assert "`make run`" in head and "`make test`" in head


def test_every_setting_is_documented() -> None:
    assert [name for name, _default, _help in SETTINGS_TABLE] == setting_names()
    missing = [name for name in setting_names() if f"`{name}`" not in README]
    assert missing == []


def test_every_command_is_documented() -> None:
    missing = [name for name in cli.commands if f"palimpsest {name}" not in README]
    assert missing == []
