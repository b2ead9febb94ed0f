"""The container's start is idempotent, and the Dockerfile follows the rules we set for it.

No container engine runs here, so the start script's steps run in a temporary directory
with the test venv's `kepu`, and the Dockerfile is linted with hadolint when installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
START = ROOT / "scripts" / "container-start"
SEED = ROOT / "seed" / "2023-work-points.txt"
DOCKERFILE = (ROOT / "Dockerfile").read_text("utf-8")

pytestmark = pytest.mark.slow


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "KEPU_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "KEPU_SEED": str(SEED),
    }


def _start(tmp_path: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(START), *command], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=300
    )


def test_restarts_and_a_replaced_seed_never_fail_the_start(tmp_path: Path) -> None:
    first = _start(tmp_path, "sh", "-c", "echo served-by-$0", "kepu")
    assert first.returncode == 0, first.stderr
    assert "created: document 1" in first.stdout
    assert first.stdout.strip().endswith("served-by-kepu"), "the start must end in the command it is given"

    again = _start(tmp_path, "true")
    assert again.returncode == 0, again.stderr
    assert "unchanged: document 1" in again.stdout

    # An operator replaces the notice with a corrected copy; the next start keeps it.
    corrected = tmp_path / "corrected.txt"
    corrected.write_text(SEED.read_text("utf-8").replace("中国科协", "中国科学技术协会", 1), "utf-8")
    kepu = str(Path(sys.executable).parent / "kepu")
    subprocess.run([kepu, "import", "--replace", str(corrected)], env=_env(tmp_path), check=True, timeout=300)
    after = _start(tmp_path, "true")
    assert after.returncode == 0, after.stderr
    assert "kept: document" in after.stdout and "another version" in after.stdout


def test_dockerfile_installs_dependencies_before_the_code_from_a_hashed_lock() -> None:
    lock = DOCKERFILE.index("--require-hashes")
    code = DOCKERFILE.index("COPY --from=wheel")
    assert lock < code
    assert "pip install -e" not in DOCKERFILE and "--editable" not in DOCKERFILE
    assert "--hash=sha256:" in (ROOT / "requirements.lock").read_text("utf-8")


def test_the_lock_pins_what_pyproject_pins() -> None:
    import tomllib

    pins = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    lock = (ROOT / "requirements.lock").read_text("utf-8")
    for pin in pins:
        name, version = pin.split("==")
        name = name.split("[")[0].lower()
        assert f"\n{name}=={version} " in lock, f"requirements.lock is stale for {pin}: run the command in its header"


def test_dockerfile_runs_as_an_unprivileged_user_with_a_patient_healthcheck() -> None:
    user = DOCKERFILE.index("\nUSER kepu")
    assert DOCKERFILE.index("pip install --no-deps /tmp/wheels") < user, "code installed after USER is writable"
    assert "HEALTHCHECK --start-period=" in DOCKERFILE
    assert 'CMD ["kepu-container-start"]' in DOCKERFILE


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text("utf-8")
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            for source in line.split()[1:-1]:
                assert f"!{source.rstrip('/')}" in ignore.replace("/\n", "\n"), f"{source} is excluded from the context"


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint is not installed here")
def test_hadolint_passes() -> None:
    result = subprocess.run(["hadolint", str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout
