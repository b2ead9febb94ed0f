"""The README tells a newcomer what they need: the two commands and every setting."""

from __future__ import annotations

from app.config import Settings

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
