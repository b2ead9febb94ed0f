"""The `kepu` command: exit codes and what it leaves in the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings

from .conftest import SEED, PostgresServer


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Invoke the CLI against a data directory of its own."""
    monkeypatch.setenv("KEPU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, list(args))
    get_settings.cache_clear()


def _counts(run) -> dict:  # type: ignore[no-untyped-def,type-arg]
    result = run("stats")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_import_then_reimport(run) -> None:  # type: ignore[no-untyped-def]
    first = run("import", str(SEED))
    assert first.exit_code == 0, first.output
    assert first.output.startswith("created: document 1")
    second = run("import", str(SEED))
    assert second.exit_code == 0 and second.output.startswith("unchanged: document 1"), second.output
    assert _counts(run)["tasks"] == 67


def test_bad_file_names_the_line_and_writes_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cut = tmp_path / "cut.txt"
    text = SEED.read_text("utf-8")
    cut.write_text(text[: text.index("(中国科协、民政部、科技部、中科院)")], "utf-8")
    result = run("import", str(cut))
    assert result.exit_code == 1
    assert "cut.txt: line" in result.output and "task 66" in result.output
    assert _counts(run)["documents"] == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"\x00\x01\x02" * 100, "binary"), ("随便写点什么".encode(), "section heading")],
)
def test_rejects_non_notices(run, tmp_path: Path, content: bytes, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    result = run("import", str(path))
    assert result.exit_code == 1 and message in result.output


def test_missing_file(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("import", str(tmp_path / "nope.txt"))
    assert result.exit_code == 1 and "cannot read" in result.output


def test_oversized_file(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KEPU_MAX_NOTICE_BYTES", "1000")
    get_settings.cache_clear()
    result = run("import", str(SEED))
    assert result.exit_code == 1 and "over the 1,000-byte limit" in result.output


def test_replace(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("import", str(SEED)).exit_code == 0
    edited = tmp_path / "edited.txt"
    edited.write_text(
        SEED.read_text("utf-8").replace("67.推进全民数字素养与技能监测评估。", "67.推进全民数字素养评估。"), "utf-8"
    )
    refused = run("import", str(edited))
    assert refused.exit_code == 1 and "--replace" in refused.output
    replaced = run("import", "--replace", str(edited))
    assert replaced.exit_code == 0 and replaced.output.startswith("replaced"), replaced.output
    assert _counts(run)["documents"] == 1


@pytest.mark.postgres
def test_import_into_postgres_through_database_url(
    postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres.new_database().replace("postgresql+psycopg://", "postgresql://")
    monkeypatch.setenv("DATABASE_URL", url)  # the plain form people write; Settings picks psycopg 3
    monkeypatch.setenv("KEPU_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        assert runner.invoke(cli, ["import", str(SEED)]).exit_code == 0
        again = runner.invoke(cli, ["import", str(SEED)])
        assert again.output.startswith("unchanged"), again.output
        counts = json.loads(runner.invoke(cli, ["stats"]).output)
        assert (counts["tasks"], counts["departments"]) == (67, 34)
        assert runner.invoke(cli, ["reindex"]).output.startswith("reindexed")
    finally:
        get_settings.cache_clear()


DATA = Path(__file__).resolve().parent / "data"


def _with_ledger(tmp_path: Path, name: str, ledger: str) -> Path:
    path = tmp_path / name
    path.write_text(SEED.read_text("utf-8").rsplit("任务台账\n", 1)[0] + "任务台账\n" + ledger, "utf-8")
    return path


class TestImportReport:
    def test_import_says_what_it_found(self, run) -> None:  # type: ignore[no-untyped-def]
        result = run("import", str(SEED))
        assert result.exit_code == 0, result.output
        assert "(4 sections, 12 key points, 6 sub-paragraphs, 67 tasks, 34 units, " in result.output
        assert "105 lines accounted for" in result.output

    def test_dry_run_stores_nothing(self, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        checked = run("import", "--dry-run", str(SEED))
        assert checked.exit_code == 0, checked.output
        assert checked.output.startswith("checked: 2023-work-points.txt") and "nothing stored" in checked.output
        assert not (tmp_path / "data").exists()
        stored = run("import", str(SEED))
        assert stored.output.startswith("created: document 1"), stored.output

    def test_json_report(self, run) -> None:  # type: ignore[no-untyped-def]
        result = run("import", "--dry-run", "--json", str(SEED))
        assert result.exit_code == 0, result.output
        [report] = json.loads(result.stdout)
        assert (report["status"], report["document_id"], report["year"]) == ("checked", None, 2023)
        assert {k: v for k, v in report["found"].items() if k not in ("activities", "references")} == {
            "sections": 4,
            "key_points": 12,
            "sub_paragraphs": 6,
            "tasks": 67,
            "units": 34,
        }
        assert report["lines"]["task"] == 67 and report["lines"]["total"] == 105

    def test_json_report_of_a_stored_import_and_a_rejected_file(self, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        bad = _with_ledger(tmp_path, "unknown-style.txt", "1)开展评估。(中国科协)\n2)开展培训。(中国科协)\n")
        result = run("import", "--json", str(SEED), str(bad))
        assert result.exit_code == 1, result.output
        stored, rejected = json.loads(result.stdout)
        assert (stored["status"], stored["document_id"], stored["found"]["tasks"]) == ("created", 1, 67)
        assert rejected["status"] == "rejected" and "no ledger task" in rejected["error"]
        assert rejected["line"] == 74 and "'(1)'" in rejected["error"]
        assert _counts(run)["documents"] == 1


class TestLedgersThatUsedToVanish:
    def test_ledger_numbered_in_parentheses_imports_67_tasks(self, run) -> None:  # type: ignore[no-untyped-def]
        result = run("import", str(DATA / "2023-ledger-paren.txt"))
        assert result.exit_code == 0, result.output
        assert "67 tasks" in result.output
        assert _counts(run)["tasks"] == 67

    def test_ledger_of_over_9999_tasks_keeps_them_apart(self, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        path = _with_ledger(
            tmp_path, "big.txt", "".join(f"{n}.推进第{n}项工作。(中国科协)\n" for n in range(1, 10_051))
        )
        result = run("import", "--dry-run", "--json", str(path))
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)[0]["found"]["tasks"] == 10_050

    def test_task_over_the_limit_exits_1_and_writes_nothing(self, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        path = _with_ledger(tmp_path, "long.txt", "1.开展" + "科普" * 1_000 + "。(中国科协)\n")
        result = run("import", str(path))
        assert result.exit_code == 1
        assert "long.txt: line 74: ledger task 1 is over 2,000 characters" in result.output
        assert _counts(run)["documents"] == 0
