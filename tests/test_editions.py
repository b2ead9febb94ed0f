"""Other editions and copies of the notice: the corpus in tests/data/editions/, how each reads."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from .conftest import ROOT

EDITIONS = ROOT / "tests" / "data" / "editions"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_editions", EDITIONS / "make_editions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def edition(name: str) -> str:
    """A corpus file's text."""
    return (EDITIONS / name).read_text("utf-8")


class TestCorpus:
    def test_the_script_regenerates_the_files_byte_for_byte(self) -> None:
        generated: dict[str, str] = _generator().generate()
        on_disk = {p.name for p in EDITIONS.glob("*.txt")}
        assert set(generated) == on_disk
        for name, text in generated.items():
            assert (EDITIONS / name).read_bytes() == text.encode("utf-8"), name

    def test_each_file_differs_from_the_seed(self, seed_text: str) -> None:
        for path in EDITIONS.glob("*.txt"):
            assert path.read_text("utf-8") != seed_text, path.name
