"""The README tells a newcomer what they need: the two commands and every setting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings, get_settings

from .conftest import ROOT

README = (ROOT / "README.md").read_text("utf-8")


def test_every_setting_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        assert f"`{field.alias or name}`" in README, field.alias or name


def test_the_two_commands_exist_and_ci_uses_the_test_command() -> None:
    for script in ("scripts/serve", "scripts/test"):
        assert f"./{script}" in README
        assert (ROOT / script).stat().st_mode & 0o111
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text("utf-8")


def test_readme_figures_are_filled_in() -> None:
    assert "BENCH_FIGURES" not in README and "QUALITY_FIGURES" not in README


def test_the_import_report_example_is_what_the_command_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "| `kepu import PATH… [--replace] [--dry-run] [--json]` |" in README
    example = README.split("`kepu import --dry-run --json seed/2023-work-points.txt` prints", 1)[1]
    documented = json.loads(example.split("```json\n", 1)[1].split("```", 1)[0])
    monkeypatch.setenv("KEPU_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["import", "--dry-run", "--json", str(ROOT / "seed" / "2023-work-points.txt")])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == documented
