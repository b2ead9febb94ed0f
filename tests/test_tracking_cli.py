"""`kepu token create|revoke|list` and `kepu audit`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from app.cli import cli
from app.config import get_settings

from .conftest import SEED

Run = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """The CLI against a data directory of its own, holding the seed."""
    monkeypatch.setenv("KEPU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args))

    assert invoke("import", str(SEED)).exit_code == 0
    yield invoke
    get_settings.cache_clear()


def test_create_prints_the_token_once_and_list_never_shows_it(run: Run) -> None:
    created = run("token", "create", "教育部")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("kepu_") and len(token) == 48
    listed = run("token", "list")
    assert listed.exit_code == 0 and "教育部" in listed.output and token not in listed.output
    assert token[:12] in listed.output and "active" in listed.output
    rows = json.loads(run("token", "list", "--json").output)
    assert rows[0]["department"] == "教育部" and rows[0]["revoked_at"] is None and "token_hash" not in rows[0]


def test_any_spelling_office_and_bad_input(run: Run) -> None:
    assert run("token", "create", "科协").exit_code == 0
    assert run("token", "create", "--office").exit_code == 0
    unknown = run("token", "create", "教育局")
    assert unknown.exit_code == 1 and "教育部" in unknown.output  # a close match is suggested
    assert run("token", "create").exit_code == 1
    rows = json.loads(run("token", "list", "--json").output)
    assert [(r["scope"], r["department"]) for r in rows] == [("unit", "中国科协"), ("office", None)]


def test_revoke_then_audit_shows_both(run: Run) -> None:
    assert run("token", "create", "教育部").exit_code == 0
    revoked = run("token", "revoke", "1")
    assert revoked.exit_code == 0 and "revoked token 1" in revoked.output
    assert "revoked" in run("token", "list").output
    assert run("token", "revoke", "99").exit_code == 1
    trail = [json.loads(line) for line in run("audit").output.splitlines()]
    assert [e["action"] for e in trail] == ["token.revoked", "token.created"]
    assert all(e["actor"] == "cli" for e in trail)
    only = run("audit", "--action", "token.created")
    assert [json.loads(line)["action"] for line in only.output.splitlines()] == ["token.created"]
