"""The OpenAPI component schemas match tests/data/openapi-schemas.json: refactoring the models must not change the API.

After a deliberate change, regenerate the file with `python -m tests.test_openapi` and review the diff.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from app.config import Settings
from app.main import create_app

SNAPSHOT = Path(__file__).resolve().parent / "data" / "openapi-schemas.json"


def component_schemas(data_dir: Path) -> dict[str, Any]:
    """The component schemas of a new app's OpenAPI document (built without starting the app)."""
    app = create_app(Settings(KEPU_DATA_DIR=data_dir))
    schemas: dict[str, Any] = app.openapi()["components"]["schemas"]
    return schemas


def _dump(schemas: dict[str, Any]) -> str:
    return json.dumps(schemas, ensure_ascii=False, indent=2) + "\n"


def test_component_schemas_match_the_snapshot(tmp_path: Path) -> None:
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    actual = json.loads(_dump(component_schemas(tmp_path)))  # through JSON: tuples and lists compare alike
    assert sorted(actual) == sorted(expected), "schemas added or removed; regenerate with python -m tests.test_openapi"
    changed = [name for name in expected if actual[name] != expected[name]]
    assert not changed, f"schemas changed: {changed}; regenerate with python -m tests.test_openapi if deliberate"
    # Key order is part of the document (field order shows in the docs), which == on dicts ignores.
    assert [list(actual[n].get("properties", {})) for n in sorted(actual)] == [
        list(expected[n].get("properties", {})) for n in sorted(expected)
    ], "field order changed"


def main() -> None:
    """Regenerate the snapshot from the current models."""
    with tempfile.TemporaryDirectory() as tmp:
        SNAPSHOT.write_text(_dump(component_schemas(Path(tmp))), encoding="utf-8")


if __name__ == "__main__":
    main()
