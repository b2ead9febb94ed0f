"""Every line of a notice is accounted for: the stored text of all parts adds up to the input.

For the seed, every notice in tests/data/, the editions in tests/data/editions/ whose lines are all
stored as text, and a generated ledger of over 9,999 tasks, the
text read back from the store, part by part, equals the input's text less what the format
itself defines: numbering, the 关于印发《…》的通知 wrapper, field labels, the 附件 headings,
the page footer, the full stop that ends a key point's title, and white space.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app import models as m
from app.db import unit_of_work
from app.domain.text import fold_characters
from app.parser import parse_notice
from app.services.importer import import_notice

from .conftest import ROOT, SEED

DATA = ROOT / "tests" / "data"
# The editions whose every line is stored as text (the news-site copy has page furniture that is not stored,
# the 2022-style edition's unit lists are stored as links).
EDITIONS = [
    DATA / "editions" / name
    for name in (
        "2023-traditional.txt",
        "2018-section-leads.txt",
        "2023-province.txt",
        "2024-next-year.txt",
    )
]
BIG_LEDGER_TASKS = 10_050

# The format's own furniture, written out here independently of the parser.
_SECTION = re.compile(r"^[一二三四五六七八九十]+、")
_NUMBERING = re.compile(
    r"^(?:[一二三四五六七八九十]+、|\([一二三四五六七八九十]+\)|\d+\s*[.、]|\(\d+\)|[①-⑳㉑-㉟㊱-㊿])"
)
_ATTACHMENT = re.compile(r"^附件\s*\d*\s*(?::.*)?$")
_FOOTER = re.compile(r"^(?:(?:来源|责任编辑|编辑):|[【\[]?(?:打印本页|关闭窗口|返回顶部)[】\]]?$)")
_NOTICE_TITLE = re.compile(r"关于印发《(.+?)》的通知")
_LABEL = re.compile(r"^(?:时间|发布时间|发布日期|联系人)\s*:")


def _bare(text: str) -> str:
    """Text as compared: folded (width, traditional → simplified), without white space or 。."""
    return re.sub(r"[\s。]", "", fold_characters(text))


def _notices() -> list[pytest.param]:  # type: ignore[valid-type]
    files = [SEED, *sorted(DATA.glob("*.txt")), *EDITIONS]
    params = [pytest.param(path.read_text("utf-8"), id=path.name) for path in files]
    params.append(pytest.param(_big_ledger(), id=f"generated-{BIG_LEDGER_TASKS}-task-ledger"))
    return params


def _big_ledger() -> str:
    """The seed with a generated ledger of BIG_LEDGER_TASKS tasks (too large to keep in tests/data)."""
    head = SEED.read_text("utf-8").rsplit("任务台账\n", 1)[0]
    ledger = "\n".join(f"{n}.推进第{n}项工作,开展评估。(中国科协、教育部)" for n in range(1, BIG_LEDGER_TASKS + 1))
    return f"{head}任务台账\n{ledger}\n"


def _input_parts(text: str) -> tuple[Counter[str], str]:
    """(the header's characters, the body's text) of the input, less the format's furniture."""
    lines = [fold_characters(line.strip()) for line in text.split("\n") if line.strip()]
    first_section = next(i for i, line in enumerate(lines) if _SECTION.match(line))
    header: list[str] = []
    for line in lines[:first_section]:
        line = _NOTICE_TITLE.sub(r"\1", line)
        line = line[1:-1] if line.startswith("(") and line.endswith(")") else line
        line = _LABEL.sub("", line).removesuffix(":")
        header.append(line)
    header = list(dict.fromkeys(header))  # the title stands over the page and over the text
    body = [
        _NUMBERING.sub("", line)
        for line in lines[first_section:]
        if not _ATTACHMENT.match(line) and not _FOOTER.match(line)
    ]
    return Counter(_bare("".join(header))), _bare("".join(body))


def _stored_parts(session: Session, document_id: int) -> tuple[Counter[str], str]:
    """(the header's characters, the body's text) as read back from the store."""
    doc = session.get(m.Document, document_id)
    assert doc is not None
    header = [doc.title, doc.issuer, doc.issuer_note, doc.addressees, doc.contact, *doc.cover_letter, *doc.intro]
    if doc.issue_date is not None:
        header.append(f"{doc.issue_date.year}年{doc.issue_date.month}月{doc.issue_date.day}日")
    if doc.published_at is not None:
        published = doc.published_at
        if published.tzinfo is not None:
            published = published.astimezone(dt.timezone(dt.timedelta(hours=8)))
        header.append(published.strftime("%Y-%m-%d %H:%M"))
    body: list[str] = []
    sections = session.exec(
        select(m.Section).where(col(m.Section.document_id) == document_id).order_by(col(m.Section.ordinal))
    ).all()
    for section in sections:
        body += [section.title, *section.lead]
        points = session.exec(
            select(m.KeyPoint).where(col(m.KeyPoint.section_id) == section.id).order_by(col(m.KeyPoint.number))
        ).all()
        for point in points:
            body += [point.title, point.body]
            body += session.exec(
                select(m.SubParagraph.text)
                .where(col(m.SubParagraph.key_point_id) == point.id)
                .order_by(col(m.SubParagraph.position))
            ).all()
    body.append(doc.ledger_title or "")
    body += session.exec(
        select(m.Task.text).where(col(m.Task.document_id) == document_id).order_by(col(m.Task.number))
    ).all()
    return Counter(_bare("".join(h or "" for h in header))), _bare("".join(_NUMBERING.sub("", b) for b in body))


def _first_difference(a: str, b: str) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"first difference at character {at}: input …{a[max(0, at - 20) : at + 20]!r}…, stored …{b[max(0, at - 20) : at + 20]!r}…"


@pytest.mark.parametrize("text", _notices())
def test_stored_text_adds_up_to_the_input(text: str, engine: Engine) -> None:
    notice = parse_notice(text)
    non_blank = [i for i, line in enumerate(text.split("\n"), start=1) if line.strip()]
    assert [a.line for a in notice.lines] == non_blank
    with unit_of_work(engine) as session:
        document_id = import_notice(session, notice).document_id
    with Session(engine) as session:
        stored_header, stored_body = _stored_parts(session, document_id)
    input_header, input_body = _input_parts(text)
    assert stored_header == input_header, (stored_header - input_header, input_header - stored_header)
    assert stored_body == input_body, _first_difference(input_body, stored_body)


def test_the_generated_ledger_has_more_than_9999_tasks() -> None:
    assert len(parse_notice(_big_ledger()).tasks) == BIG_LEDGER_TASKS > 9_999


def test_data_folder_holds_test_notices() -> None:
    assert len(list(DATA.glob("*.txt"))) >= 4
