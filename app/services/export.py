"""The ledger as a spreadsheet: CSV (UTF-8 with BOM) and an Excel workbook (openpyxl)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from app import schemas as s
from app.domain.vocabulary import Role, TaskStatus

COLUMNS = ("序号", "任务", "牵头单位", "参与单位", "状态", "最近进展", "更新日期")
WIDTHS = (8, 60, 18, 30, 10, 50, 12)
STATUS_LABELS = {
    TaskStatus.NOT_STARTED: "未开始",
    TaskStatus.IN_PROGRESS: "进行中",
    TaskStatus.DONE: "已完成",
    TaskStatus.BLOCKED: "受阻",
}
# A cell starting with one of these is read as a formula by spreadsheets (CSV/formula injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Row = tuple[str, ...]


def neutralise(value: str) -> str:
    """A leading apostrophe keeps a spreadsheet from running a cell as a formula (OWASP's advice)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def rows(tasks: Iterable[s.TaskPublic]) -> list[Row]:
    """One row per task, in the columns of COLUMNS, every text cell neutralised."""
    out: list[Row] = []
    for t in tasks:
        lead = "、".join(d.name for d in t.departments if d.role == Role.LEAD)
        participants = [d.name for d in t.departments if d.role == Role.PARTICIPANT]
        if t.all_member_units:
            participants.append("各成员单位")
        out.append(
            (
                str(t.number),
                neutralise(t.body),
                neutralise(lead),
                neutralise("、".join(participants)),
                STATUS_LABELS[t.status],
                neutralise(t.last_note or ""),
                t.last_reported_on.isoformat() if t.last_reported_on else "",
            )
        )
    return out


def to_csv(table: Sequence[Row]) -> bytes:
    """CSV with a BOM, so Excel on Windows reads the Chinese as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(table)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(table: Sequence[Row], by_department: Mapping[str, Sequence[Row]] | None = None) -> bytes:
    """A workbook: 全部任务 first, then one sheet per unit when asked; frozen header, widths, wrapped text."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    _fill(sheet, "全部任务", table)
    for name, unit_rows in (by_department or {}).items():
        _fill(book.create_sheet(), _sheet_title(name), unit_rows)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _fill(sheet: Worksheet, title: str, table: Sequence[Row]) -> None:
    sheet.title = title
    sheet.append(COLUMNS)
    for row in table:
        sheet.append(list(row))
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[1]:
        cell.font = bold
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = wrap
            cell.data_type = "s"  # text, never a formula, whatever it starts with
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"


def _sheet_title(name: str) -> str:
    # Excel: at most 31 characters, none of []:*?/\
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)
    return cleaned[:31] or "单位"
