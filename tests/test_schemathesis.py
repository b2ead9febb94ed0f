"""Schemathesis against the live service: generated requests, no 5xx, every response as documented.

A bounded run (fixed seed, a few examples per operation, no stateful phase) over every
operation in /openapi.json, with the checks the API promises: never a server error, the
documented content type and the documented schema for every response.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import SEED
from .live import KEPU, serving

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service over the seed, as `kepu serve` runs it."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    env = {**os.environ, "KEPU_DATA_DIR": str(tmp / "data")}
    env.pop("DATABASE_URL", None)
    subprocess.run([*KEPU, "import", str(SEED)], env=env, check=True, capture_output=True, timeout=120)
    with serving(env, tmp / "server.log") as url:
        yield url


def test_generated_requests_get_documented_answers(base_url: str, tmp_path: Path) -> None:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{base_url}/openapi.json",
        f"--checks={CHECKS}",
        "--phases=examples,coverage,fuzzing",
        "--max-examples=5",
        "--seed=20261203",
        "--generation-database=none",
        "--workers=1",
        "--request-timeout=10",
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    counted = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counted is not None, output[-3000:]
    generated, passed = int(counted.group(1)), int(counted.group(2))
    assert generated == passed and generated >= 200, output[-3000:]
    tested = re.search(r"Tested: (\d+)", output)
    selected = re.search(r"Selected: (\d+)/(\d+)", output)
    assert tested and selected, output[-3000:]
    assert int(tested.group(1)) == int(selected.group(2)) >= 15, "every operation in the schema was tested"
