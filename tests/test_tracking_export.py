"""The ledger as CSV and xlsx: columns, BOM, statuses, formula injection neutralised, one sheet per unit."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.config import Settings
from app.db import unit_of_work
from app.main import create_app
from app.parser import ParsedNotice
from app.services import export
from app.services.importer import import_notice

from .conftest import SEED
from .tracking import bearer, make_token

HEADER = ["序号", "任务", "牵头单位", "参与单位", "状态", "最近进展", "更新日期"]
EVIL = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture(scope="module")
def reported(
    tmp_path_factory: pytest.TempPathFactory, notice: ParsedNotice, seeded_index: Path
) -> Iterator[TestClient]:
    """A seeded SQLite store where 教育部 reported on task 9 with a note that looks like a formula."""
    from app.db import make_engine
    from app.migrate import upgrade

    data = tmp_path_factory.mktemp("export")
    shutil.copytree(seeded_index, data / "data")
    url = f"sqlite:///{data / 'store.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        import_notice(session, notice, source_name=SEED.name)
    moe = make_token(engine, "教育部")
    app = create_app(Settings(KEPU_DATA_DIR=data / "data"), engine=engine)
    with TestClient(app) as client:
        body = {"status": "in_progress", "note": EVIL, "reported_on": dt.date(2023, 6, 30).isoformat()}
        assert client.post("/api/v1/tasks/9/reports", json=body, headers=bearer(moe)).status_code == 201
        yield client
    engine.dispose()


def _csv_rows(raw: bytes) -> list[list[str]]:
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


class TestCsv:
    def test_header_rows_status_and_neutralised_note(self, reported: TestClient) -> None:
        r = reported.get("/api/v1/tasks.csv")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        rows = _csv_rows(r.content)
        assert rows[0] == HEADER and len(rows) == 68
        nine = next(row for row in rows if row[0] == "9")
        assert nine[2] == "教育部" and nine[3] == "中国科协" and nine[4] == "进行中"
        assert nine[5] == "'" + EVIL and nine[6] == "2023-06-30"
        assert next(row for row in rows if row[0] == "55")[3].endswith("各成员单位")

    def test_same_filters_as_the_task_list(self, reported: TestClient) -> None:
        rows = _csv_rows(reported.get("/api/v1/tasks.csv", params={"status": "in_progress"}).content)
        assert [row[0] for row in rows[1:]] == ["9"]
        led = _csv_rows(reported.get("/api/v1/tasks.csv", params={"department": "教育部", "role": "lead"}).content)
        assert len(led) - 1 == 7
        assert reported.get("/api/v1/tasks.csv", params={"department": "无此单位"}).status_code == 422

    def test_export_with_format_parameter(self, reported: TestClient) -> None:
        assert _csv_rows(reported.get("/api/v1/tasks/export", params={"format": "csv"}).content)[0] == HEADER
        assert reported.get("/api/v1/tasks/export", params={"format": "pdf"}).status_code == 422
        assert reported.get("/api/v1/tasks/export").content.startswith(b"PK")


class TestXlsx:
    def test_one_sheet_frozen_header_wrapped_widths(self, reported: TestClient) -> None:
        r = reported.get("/api/v1/tasks.xlsx")
        assert r.status_code == 200 and "spreadsheetml" in r.headers["content-type"]
        book = load_workbook(io.BytesIO(r.content))
        assert book.sheetnames == ["全部任务"]
        sheet = book["全部任务"]
        assert [c.value for c in sheet[1]] == HEADER
        assert sheet.freeze_panes == "A2" and sheet.max_row == 68
        assert sheet.column_dimensions["B"].width >= 40 and sheet["B2"].alignment.wrap_text
        nine = next(row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] == "9")
        assert nine[4] == "进行中" and nine[5] == "'" + EVIL and nine[6] == "2023-06-30"
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)

    def test_a_sheet_per_unit_when_asked(self, reported: TestClient) -> None:
        book = load_workbook(io.BytesIO(reported.get("/api/v1/tasks.xlsx", params={"by_department": True}).content))
        assert book.sheetnames[0] == "全部任务" and "教育部" in book.sheetnames and len(book.sheetnames) == 35
        assert book["教育部"].max_row - 1 == 12  # named as lead or participant


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_like_cells_are_neutralised(value: str) -> None:
    assert export.neutralise(value) == "'" + value
    assert export.neutralise("正常文本=1") == "正常文本=1"
