"""Reads the line structure of a notice: header, sections, key points, ledger."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from app.parser.activities import extract_activities
from app.parser.departments import DepartmentDirectory, load_directory
from app.parser.errors import NoticeFormatError
from app.parser.normalise import content_hash, decode, normalise
from app.parser.records import ParsedKeyPoint, ParsedNotice, ParsedSection, ParsedTask
from app.parser.references import extract_references
from app.parser.target_groups import tag_target_groups
from app.parser.trace import trace_tasks
from app.parser.units import split_unit_list

_CN_NUMERAL = "一二三四五六七八九十"
_SECTION = re.compile(rf"^([{_CN_NUMERAL}]+)、\s*(.+)$")
_SUBSECTION = re.compile(rf"^\(([{_CN_NUMERAL}]+)\)\s*(.+)$")
_NUMBERED = re.compile(r"^(\d{1,4})\s*[.、]\s*(\S.*)$")
_ATTACHMENT = re.compile(r"^附件\s*\d*\s*(?::\s*(.*))?$")
_FOOTER = re.compile(r"^(来源|责任编辑|编辑|打印本页|关闭窗口)\s*[:]")
_NOTICE_TITLE = re.compile(r"关于印发《(.+?)》的通知")
_PUBLISHED = re.compile(r"^(?:时间|发布时间|发布日期)\s*:\s*(\d{4}-\d{1,2}-\d{1,2})(?:\s+(\d{1,2}:\d{2}))?")
_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_ISSUER_NOTE = re.compile(r"^\((.*代章)\)$")
_CONTACT = re.compile(r"^\(?\s*联系人\s*:?\s*(.*?)\)?$")
_ISSUER = re.compile(r"(办公室|领导小组|委员会|办公厅)$")
_BARE_TITLE = re.compile(r"^\d{4}年.{0,40}(工作要点|工作计划)$")
_YEAR = re.compile(r"(\d{4})年")
_BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
_TERMINAL = ("。", ")", "”", "!", "?", "！", "？", "」")


@dataclass
class _Line:
    number: int
    raw: str
    norm: str


@dataclass
class _KeyPointDraft:
    number: int
    section: int
    line: int
    raw: str
    norm: str
    paragraphs: list[_Line] = field(default_factory=list)


@dataclass
class _TaskDraft:
    number: int
    line: int
    raw: str
    norm: str


def parse_notice_bytes(raw: bytes, directory: DepartmentDirectory | None = None) -> ParsedNotice:
    """Decode (UTF-8, UTF-8 with BOM, GB18030) and parse a notice."""
    return parse_notice(decode(raw), directory)


def parse_notice(text: str, directory: DepartmentDirectory | None = None) -> ParsedNotice:
    """Parse the text of a work-points notice into records, or raise NoticeFormatError."""
    directory = directory or load_directory()
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = [
        _Line(i, raw.strip(), normalise(raw.strip())) for i, raw in enumerate(text.split("\n"), start=1) if raw.strip()
    ]
    if not lines:
        raise NoticeFormatError("the file is empty; expected the text of a work-points notice")
    first_section = next((i for i, ln in enumerate(lines) if _SECTION.match(ln.norm)), None)
    if first_section is None:
        raise NoticeFormatError(
            f"expected a section heading such as '一、…' somewhere in the notice; none found "
            f"(first line reads {lines[0].raw[:40]!r})",
            line=lines[0].number,
        )
    header = _read_header(lines[:first_section])
    sections, key_points, tasks, ledger_title = _read_body(lines[first_section:])
    if not key_points:
        raise NoticeFormatError(
            "expected numbered key points ('1.…') under the section headings; found none",
            line=lines[first_section].number,
        )
    parsed_points = [_finish_key_point(kp, directory, with_units=not tasks) for kp in key_points]
    parsed_tasks = [_finish_task(task, directory) for task in tasks]
    title = header.pop("title", None)
    year = header.pop("year", None)
    if title is None:
        raise NoticeFormatError(
            "expected a title: a line '关于印发《…》的通知' or '20xx年…工作要点' before the first section",
            line=lines[0].number,
        )
    if year is None:
        raise NoticeFormatError(f"cannot tell the year: the title {title!r} has no '20xx年' and no issue date")

    parsed_points = tag_target_groups(parsed_points)
    parsed_tasks = tag_target_groups(parsed_tasks)
    parsed_tasks = trace_tasks(parsed_tasks, parsed_points)
    named = [d.name for t in parsed_tasks for d in t.departments] + [
        d.name for k in parsed_points for d in k.departments
    ]
    departments = dict.fromkeys(named)
    return ParsedNotice(
        title=title,
        year=year,
        content_hash=content_hash(text),
        ledger_title=ledger_title,
        sections=tuple(sections),
        key_points=tuple(parsed_points),
        tasks=tuple(parsed_tasks),
        activities=extract_activities(parsed_points, parsed_tasks),
        references=extract_references(parsed_points, parsed_tasks, exclude=title),
        departments=tuple(departments),
        **header,
    )


def _read_header(lines: list[_Line]) -> dict:  # type: ignore[type-arg]
    """Classify the lines before the first section; none of them is required to be there."""
    found: dict = {"cover_letter": [], "intro": []}  # type: ignore[type-arg]
    heading_seen = False
    for ln in lines:
        norm = ln.norm
        if m := _NOTICE_TITLE.search(norm):
            found.setdefault("title", m.group(1))
        elif m := _PUBLISHED.match(norm):
            day = dt.date.fromisoformat(_iso_date(m.group(1)))
            hh, mm = (m.group(2) or "0:00").split(":")
            # Publication times on these sites are Beijing time.
            found.setdefault("published_at", dt.datetime.combine(day, dt.time(int(hh), int(mm)), _BEIJING))
        elif m := _DATE.match(norm):
            found.setdefault("issue_date", _date(ln, *m.groups()))
        elif m := _ISSUER_NOTE.match(norm):
            found.setdefault("issuer_note", m.group(1))
        elif (m := _CONTACT.match(norm)) and "联系人" in norm:
            found.setdefault("contact", m.group(1).strip())
        elif norm.endswith(":") and len(norm) <= 60 and "。" not in norm:
            found.setdefault("addressees", ln.raw[:-1].strip())
        elif len(norm) <= 40 and "。" not in norm and _ISSUER.search(norm):
            found.setdefault("issuer", ln.raw)
        elif _BARE_TITLE.match(norm) or norm == found.get("title"):
            found.setdefault("title", norm)
            heading_seen = True
        else:
            found["intro" if heading_seen else "cover_letter"].append(ln.raw)
    if not found["intro"]:
        found["intro"], found["cover_letter"] = found["cover_letter"], []
    found["intro"] = tuple(found["intro"])
    found["cover_letter"] = tuple(found["cover_letter"])
    title = found.get("title")
    if title and (m := _YEAR.search(title)):
        found["year"] = int(m.group(1))
    elif "issue_date" in found:
        found["year"] = found["issue_date"].year
    return found


def _read_body(
    lines: list[_Line],
) -> tuple[list[ParsedSection], list[_KeyPointDraft], list[_TaskDraft], str | None]:
    sections: list[ParsedSection] = []
    key_points: list[_KeyPointDraft] = []
    tasks: list[_TaskDraft] = []
    ledger_title: list[str] = []
    mode = "body"  # body → attachment (title lines) → ledger
    last_content: _Line | None = None
    current_level1: int | None = None
    for ln in lines:
        norm = ln.norm
        if _FOOTER.match(norm):
            break
        if mode == "body" and (m := _SECTION.match(norm)):
            sections.append(ParsedSection(len(sections) + 1, m.group(1), ln.raw[len(m.group(1)) + 1 :].strip()))
            current_level1 = len(sections) - 1
            continue
        if mode == "body" and (m := _SUBSECTION.match(norm)) and current_level1 is not None:
            sections.append(
                ParsedSection(len(sections) + 1, m.group(1), ln.raw[len(m.group(1)) + 2 :].strip(), 2, current_level1)
            )
            continue
        if _ATTACHMENT.match(norm):
            mode = "attachment"
            continue
        numbered = _NUMBERED.match(norm)
        if mode == "body" and numbered:
            number = int(numbered.group(1))
            expected = key_points[-1].number + 1 if key_points else 1
            if number != expected and not (number == 1 and key_points and key_points[-1].section != len(sections) - 1):
                raise NoticeFormatError(f"expected key point {expected}, found {number}", line=ln.number)
            key_points.append(_KeyPointDraft(number, len(sections) - 1, ln.number, ln.raw, norm))
        elif mode == "body":
            if not key_points or key_points[-1].section != len(sections) - 1:
                raise NoticeFormatError(
                    f"expected a numbered key point ('1.…') under section {sections[-1].label}, found {ln.raw[:30]!r}",
                    line=ln.number,
                )
            key_points[-1].paragraphs.append(ln)
        elif numbered:
            mode = "ledger"
            number = int(numbered.group(1))
            expected = tasks[-1].number + 1 if tasks else 1
            if number != expected:
                raise NoticeFormatError(f"expected ledger task {expected}, found {number}", line=ln.number)
            tasks.append(_TaskDraft(number, ln.number, ln.raw, norm))
        elif mode == "attachment":
            ledger_title.append(ln.raw)
        else:  # a ledger item wrapped onto a second line
            tasks[-1].raw += ln.raw
            tasks[-1].norm += norm
        last_content = ln
    if last_content is not None and not last_content.norm.endswith(_TERMINAL):
        raise NoticeFormatError(
            f"the notice ends mid-item: expected the line to end with '。' or a unit list, "
            f"found {last_content.raw[-20:]!r}",
            line=last_content.number,
        )
    title = "".join(t for t in ledger_title if "附件" not in t) or None
    return sections, key_points, tasks, title


def _finish_key_point(draft: _KeyPointDraft, directory: DepartmentDirectory, *, with_units: bool) -> ParsedKeyPoint:
    number_len = len(_NUMBERED.match(draft.norm).group(0)) - len(_NUMBERED.match(draft.norm).group(2))  # type: ignore[union-attr]
    raw = draft.raw[number_len:].strip()
    paragraphs = [p.raw for p in draft.paragraphs]
    units = None
    if with_units:  # editions without a ledger put the unit list at the end of the key point
        last_raw, last_norm = (
            (paragraphs[-1], draft.paragraphs[-1].norm) if paragraphs else (raw, draft.norm[number_len:].strip())
        )
        units = split_unit_list(last_raw, last_norm, directory)
        if units is not None:
            if paragraphs:
                paragraphs[-1] = units.body
            else:
                raw = units.body
    title, sep, body = raw.partition("。")
    return ParsedKeyPoint(
        number=draft.number,
        section=draft.section,
        title=title.strip(),
        body=body.strip(),
        sub_paragraphs=tuple(paragraphs),
        line=draft.line,
        departments=units.departments if units else (),
        all_member_units=units.all_member_units if units else False,
    )


def _finish_task(draft: _TaskDraft, directory: DepartmentDirectory) -> ParsedTask:
    m = _NUMBERED.match(draft.norm)
    assert m is not None
    offset = len(draft.norm) - len(m.group(2))
    raw, norm = draft.raw[offset:], draft.norm[offset:]
    units = split_unit_list(raw, norm, directory)
    if units is None:
        raise NoticeFormatError(
            f"ledger task {draft.number} has no unit list at its end; expected '(牵头单位、参与单位)'",
            line=draft.line,
        )
    return ParsedTask(
        number=draft.number,
        text=raw,
        body=units.body,
        departments=units.departments,
        all_member_units=units.all_member_units,
        line=draft.line,
    )


def _iso_date(text: str) -> str:
    y, m, d = (int(p) for p in text.split("-"))
    return f"{y:04d}-{m:02d}-{d:02d}"


def _date(ln: _Line, y: str, m: str, d: str) -> dt.date:
    try:
        return dt.date(int(y), int(m), int(d))
    except ValueError as exc:
        raise NoticeFormatError(f"not a valid date: {ln.raw!r}", line=ln.number) from exc
