"""kepu installs like a library: a wheel built from the tree migrates and imports in a fresh venv.

The wheel is built from the tracked files only (a copy of `git ls-files`), installed with
no access to the checkout, and run from an unrelated directory: a migration script or a
data file left out of the package data fails here, not on a server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seed" / "2023-work-points.txt"

pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; the dependencies come from the test venv's site-packages."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to know which files are tracked")
    base = tmp_path_factory.mktemp("wheel")
    tree = base / "tree"
    for name in _run("git", "ls-files", "-z", cwd=ROOT).split("\0"):
        if name and (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", base / "dist", tree, cwd=base)
    (wheel,) = (base / "dist").glob("kepu_ledger-*.whl")

    venv = base / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=base)
    # The dependencies, not kepu itself: a plain path entry does not run the editable
    # install's .pth hook, so `app` can only come from the wheel.
    site = Path(
        subprocess.check_output(
            [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (site / "test-venv-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        venv / "bin" / "python",
        "install",
        "--quiet",
        "--no-deps",
        wheel,
        cwd=base,
    )
    return venv


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    where = _run(installed / "bin" / "python", "-c", "import app, app.migrations; print(app.__file__)", cwd=tmp_path)
    assert str(installed) in where and str(ROOT) not in where


def test_the_wheel_migrates_imports_and_serves_the_app(installed: Path, tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "KEPU_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
    }
    kepu = installed / "bin" / "kepu"
    _run(kepu, "migrate", cwd=tmp_path, env=env)
    (report,) = json.loads(_run(kepu, "import", SEED, "--json", cwd=tmp_path, env=env))
    assert (report["status"], report["found"]["tasks"]) == ("created", 67)
    # Every module the service needs (routers, pages, templates) is in the wheel.
    script = (
        "from fastapi.testclient import TestClient\n"
        "from app.main import create_app\n"
        "with TestClient(create_app()) as c:\n"
        "    r = c.get('/api/v1/tasks', params={'limit': 1}); assert r.json()['total'] == 67, r.text\n"
        "    r = c.get('/', params={'q': '科普'}); assert r.status_code == 200 and '台账任务' in r.text, r.status_code\n"
        "    r = c.get('/static/app.css'); assert r.status_code == 200\n"
        "print('ok')\n"
    )
    assert _run(installed / "bin" / "python", "-c", script, cwd=tmp_path, env=env).strip().endswith("ok")
