"""Reads the line structure of a notice: header, sections, key points, ledger."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

from app.domain.departments import DepartmentDirectory, load_directory
from app.domain.text import fold_characters
from app.parser.activities import extract_activities
from app.parser.errors import NoticeFormatError
from app.parser.normalise import content_hash, decode
from app.parser.numbering import KNOWN_STYLES, Numbered, is_part_of_item, numbered, written
from app.parser.records import LineAccount, ParsedKeyPoint, ParsedNotice, ParsedSection, ParsedTask
from app.parser.references import extract_references
from app.parser.target_groups import tag_target_groups
from app.parser.trace import trace_tasks
from app.parser.units import split_unit_list

MAX_TASK_CHARS = 2_000
"""A ledger task longer than this is refused: lines that are no task were read into it."""
MAX_LEDGER_TITLE_LINES = 3
MAX_LEDGER_TITLE_CHARS = 60
"""Between the attachment heading and the first task only a short title may stand."""
MAX_ADDRESSEES_CHARS = 60
"""An addressee line ('…各成员单位:') is short; a longer line ending in ':' is letter text."""
MAX_ISSUER_CHARS = 40
"""An issuer line ('…办公室') is a name, not a sentence."""

_CN_NUMERAL = "一二三四五六七八九十"
_SECTION = re.compile(rf"^([{_CN_NUMERAL}]+)、\s*(.+)$")
_SUBSECTION = re.compile(rf"^\(([{_CN_NUMERAL}]+)\)\s*(.+)$")
_ATTACHMENT = re.compile(r"^附件\s*\d*\s*(?::\s*(.*))?$")
_LEDGER_HEADING = re.compile(r"^.{0,50}任务台账$")
_FOOTER = re.compile(
    r"^(?:(?:来源|责任编辑|编辑|出处)\s*:|(?:浏览次数|点击数|阅读次数)\s*:?\s*\d*$"
    r"|(?:[【\[]?(?:打印本页|关闭窗口|返回顶部)[】\]]?\s*)+$)"
)
_FOOTER_SOURCE = re.compile(r"^来源\s*:\s*(.+)$")
_NOTICE_TITLE = re.compile(r"关于印发《(.+?)》的通知")
_PUBLISHED = re.compile(
    r"^(?:时间|发布时间|发布日期)\s*:\s*(\d{4}-\d{1,2}-\d{1,2})(?:\s+(\d{1,2}:\d{2}))?(?:\s+(?:出处|来源)\s*:\s*(.+))?"
)
# A news site's page around the notice: where it came from (kept), a summary and a hit counter (not stored).
_SOURCE = re.compile(r"^(?:出处|来源)\s*:\s*(.+)$")
_SITE = re.compile(r"^(?:(?:摘要|内容摘要|导读)\s*:|(?:浏览次数|点击数|阅读次数|浏览量)\s*:?\s*\d*$)")
_PROVINCE = re.compile(r"^\d{4}年(.{1,10}?(?:省|自治区|市))(?:全民|科学素质)")
# Titles of the same family's other documents, and how to name them in a refusal.
_OTHER_FAMILIES = (
    (re.compile(r"纲要"), "the outline (纲要) itself"),
    (re.compile(r"实施方案"), "an implementation plan (实施方案)"),
    (re.compile(r"规划"), "a plan (规划)"),
    (re.compile(r"意见"), "guidance (意见)"),
)
_WORK_POINTS = re.compile(r"(工作要点|工作计划)$")
_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_ISSUER_NOTE = re.compile(r"^\((.*代章)\)$")
_CONTACT = re.compile(r"^\(?\s*联系人\s*:?\s*(.*?)\)?$")
_ISSUER = re.compile(r"(办公室|领导小组|委员会|办公厅)$")
_BARE_TITLE = re.compile(r"^\d{4}年.{0,40}(工作要点|工作计划)$")
_YEAR = re.compile(r"(\d{4})年")
_BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
_SENTENCE_END = re.compile(r"[。;!?](?:\([^()]*\))?$")
_CLOSED = re.compile(r"\)\s*[。.;]?\s*$")
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
    text_start: int
    paragraphs: list[_Line] = field(default_factory=list)


@dataclass
class _TaskDraft:
    number: int
    line: int
    raw: str
    norm: str
    text_start: int


def parse_notice_bytes(raw: bytes, directory: DepartmentDirectory | None = None) -> ParsedNotice:
    """Decode (UTF-8, UTF-8 with BOM, GB18030) and parse a notice."""
    return parse_notice(decode(raw), directory)


def parse_notice(text: str, directory: DepartmentDirectory | None = None) -> ParsedNotice:
    """Parse the text of a work-points notice into records, or raise NoticeFormatError."""
    directory = directory or load_directory()
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = [
        _Line(i, raw.strip(), fold_characters(raw.strip()))
        for i, raw in enumerate(text.split("\n"), start=1)
        if raw.strip()
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
    accounts: dict[int, str] = {}
    header = _read_header(lines[:first_section], accounts)
    _check_family(header.get("title"), lines[0])
    body = _read_body(lines[first_section:], accounts, directory)
    sections, key_points, tasks, ledger_title = body.sections, body.key_points, body.tasks, body.ledger_title
    if "source" not in header and body.footer_source:
        header["source"] = body.footer_source
    if unaccounted := next((ln for ln in lines if ln.number not in accounts), None):
        raise NoticeFormatError(
            f"this line fits nowhere (not a header field, intro, section, key point, sub-paragraph, task, "
            f"footer or wrapper): {unaccounted.raw[:30]!r}",
            line=unaccounted.number,
        )
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
    province = m.group(1) if (m := _PROVINCE.match(title)) else None

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
        province=province,
        content_hash=content_hash(text),
        ledger_title=ledger_title,
        sections=tuple(sections),
        key_points=tuple(parsed_points),
        tasks=tuple(parsed_tasks),
        activities=extract_activities(parsed_points, parsed_tasks),
        references=extract_references(parsed_points, parsed_tasks, exclude=title),
        departments=tuple(departments),
        lines=tuple(LineAccount(ln.number, accounts[ln.number]) for ln in lines),
        **header,
    )


def _read_header(lines: list[_Line], accounts: dict[int, str]) -> dict:  # type: ignore[type-arg]
    """Classify the lines before the first section; none of them is required to be there."""
    found: dict = {"cover_letter": [], "intro": []}  # type: ignore[type-arg]
    heading_seen = False
    for ln in lines:
        kind, heading = _header_line(ln, found, heading_seen)
        accounts[ln.number] = kind
        heading_seen = heading_seen or heading
    if not found["intro"]:
        found["intro"], found["cover_letter"] = found["cover_letter"], []
        for ln in lines:
            if accounts[ln.number] == "cover_letter":
                accounts[ln.number] = "intro"
    found["intro"] = tuple(found["intro"])
    found["cover_letter"] = tuple(found["cover_letter"])
    title = found.get("title")
    if title and (m := _YEAR.search(title)):
        found["year"] = int(m.group(1))
    elif "issue_date" in found:
        found["year"] = found["issue_date"].year
    return found


def _header_line(ln: _Line, found: dict, heading_seen: bool) -> tuple[str, bool]:  # type: ignore[type-arg]
    """File one header line in `found`: (the field it went to, whether it is the notice's own heading).

    A field is kept once; a line repeating it (the title above and over the text) is
    accounted to it, a line giving it another value is kept as letter or intro text.
    """
    norm = ln.norm
    field_value: tuple[str, object] | None = None
    heading = False
    if m := _NOTICE_TITLE.search(norm):
        field_value = ("title", m.group(1))
    elif m := _PUBLISHED.match(norm):
        day = dt.date.fromisoformat(_iso_date(m.group(1)))
        hh, mm = (m.group(2) or "0:00").split(":")
        # Publication times on these sites are Beijing time.
        field_value = ("published_at", dt.datetime.combine(day, dt.time(int(hh), int(mm)), _BEIJING))
        if m.group(3):  # 发布时间:… 出处:… on one line
            found.setdefault("source", ln.raw[m.start(3) :].strip())
    elif m := _SOURCE.match(norm):
        field_value = ("source", ln.raw[m.start(1) :].strip())
    elif _SITE.match(norm):
        return "site", False
    elif m := _DATE.match(norm):
        field_value = ("issue_date", _date(ln, *m.groups()))
    elif m := _ISSUER_NOTE.match(norm):
        field_value = ("issuer_note", m.group(1))
    elif (m := _CONTACT.match(norm)) and "联系人" in norm:
        field_value = ("contact", m.group(1).strip())
    elif norm.endswith(":") and len(norm) <= MAX_ADDRESSEES_CHARS and "。" not in norm:
        field_value = ("addressees", ln.raw[:-1].strip())
    elif len(norm) <= MAX_ISSUER_CHARS and "。" not in norm and _ISSUER.search(norm):
        field_value = ("issuer", ln.raw)
    elif _BARE_TITLE.match(norm) or norm == found.get("title"):
        field_value = ("title", norm)
        heading = True
    if field_value is not None and found.setdefault(*field_value) == field_value[1]:
        return field_value[0], heading
    kind = "intro" if heading_seen else "cover_letter"
    found[kind].append(ln.raw)
    return kind, heading


def _check_family(title: str | None, first: _Line) -> None:
    """Refuse another kind of document of the same family (the 纲要 itself, a 实施方案), naming it."""
    if title is None or _WORK_POINTS.search(title):
        return
    what = next((name for pattern, name in _OTHER_FAMILIES if pattern.search(title)), None)
    looks = f"looks like {what}" if what else "is titled like no work-points notice"
    raise NoticeFormatError(
        f"this document {looks}: {title!r}; expected a yearly work-points notice ('20xx年…工作要点'), so nothing "
        f"was read from it",
        line=first.number,
    )


@dataclass
class _Body:
    sections: list[ParsedSection]
    key_points: list[_KeyPointDraft]
    tasks: list[_TaskDraft]
    ledger_title: str | None
    footer_source: str | None


def _read_body(lines: list[_Line], accounts: dict[int, str], directory: DepartmentDirectory) -> _Body:
    reader = _BodyReader(lines, accounts, directory)
    for index, ln in enumerate(lines):
        reader.read(index, ln)
    reader.finish()
    sections = [replace(s, lead=tuple(reader.leads.get(i, ()))) for i, s in enumerate(reader.sections)]
    title = "".join(reader.ledger_title) or None
    return _Body(sections, reader.key_points, reader.tasks, title, reader.footer_source)


class _BodyReader:
    """Reads sections, key points and the ledger line by line, recording where each line went."""

    def __init__(self, lines: list[_Line], accounts: dict[int, str], directory: DepartmentDirectory) -> None:
        self.lines = lines
        self.directory = directory
        self.accounts = accounts
        self.sections: list[ParsedSection] = []
        self.key_points: list[_KeyPointDraft] = []
        self.tasks: list[_TaskDraft] = []
        self.ledger_title: list[str] = []
        self.leads: dict[int, list[str]] = {}  # section index → its lead paragraphs
        self.footer_source: str | None = None
        self.mode = "body"  # body → attachment (heading and title lines) → ledger
        self.attachment: _Line | None = None
        self.footer: _Line | None = None
        self.last_content: _Line | None = None
        self.current_level1: int | None = None
        self.point_style: str | None = None
        self.task_style: str | None = None

    def read(self, index: int, ln: _Line) -> None:
        """Place one line, or raise NoticeFormatError saying why it fits nowhere."""
        norm = ln.norm
        if self.footer is not None or _FOOTER.match(norm):
            self._footer(ln)
            return
        kind = self._place(index, ln)
        self.accounts[ln.number] = kind
        if kind in ("key_point", "sub_paragraph", "task", "section_lead"):
            self.last_content = ln

    def _footer(self, ln: _Line) -> None:
        if self.footer is not None and not _FOOTER.match(ln.norm):
            raise NoticeFormatError(
                f"this line fits nowhere: it follows the page footer (line {self.footer.number}, "
                f"{self.footer.raw[:20]!r}), where only lines such as '来源:…', '责任编辑:…' or '打印本页' "
                f"belong; found {ln.raw[:30]!r}",
                line=ln.number,
            )
        self.footer = self.footer or ln
        if (m := _FOOTER_SOURCE.match(ln.norm)) and self.footer_source is None:
            self.footer_source = ln.raw[m.start(1) :].strip()
        self.accounts[ln.number] = "footer"

    def _place(self, index: int, ln: _Line) -> str:
        """Headings first, then the attachment heading, then a body or a ledger line by the mode."""
        norm = ln.norm
        if self.mode == "body" and (heading := self._heading(ln)) is not None:
            return heading
        if _ATTACHMENT.match(norm):
            return self._attachment_heading(ln)
        item = numbered(norm)
        if self.mode == "body":
            if item is None and _LEDGER_HEADING.match(norm) and self.key_points:
                self.mode = "attachment"
                self.attachment = self.attachment or ln
                self.ledger_title.append(ln.raw)
                return "ledger_title"
            return self._body_line(ln, item)
        return self._ledger_line(index, ln, item)

    def _heading(self, ln: _Line) -> str | None:
        """A section 一、… or a middle level （一）… under one; None for any other line."""
        if m := _SECTION.match(ln.norm):
            self.sections.append(
                ParsedSection(len(self.sections) + 1, m.group(1), ln.raw[len(m.group(1)) + 1 :].strip())
            )
            self.current_level1 = len(self.sections) - 1
            return "section"
        if (m := _SUBSECTION.match(ln.norm)) and self.current_level1 is not None:
            label = m.group(1)
            title = ln.raw[len(label) + 2 :].strip()
            self.sections.append(ParsedSection(len(self.sections) + 1, label, title, 2, self.current_level1))
            return "section"
        return None

    def _attachment_heading(self, ln: _Line) -> str:
        """附件… opens the ledger; a second one inside the ledger is an error."""
        if self.mode == "ledger":
            raise NoticeFormatError(
                f"expected ledger task {self.tasks[-1].number + 1} or the end of the ledger, "
                f"found a second attachment heading {ln.raw[:30]!r}",
                line=ln.number,
            )
        self.mode = "attachment"
        self.attachment = self.attachment or ln
        return "wrapper"

    def _body_line(self, ln: _Line, item: Numbered | None) -> str:
        # In the key points a lower-ranked style numbers sub-paragraphs: (1)… inside key point 9.
        if item is not None and (self.point_style is None or item.style == self.point_style):
            return self._key_point(ln, item)
        if item is not None and self.point_style is not None and not is_part_of_item(item.style, self.point_style):
            expected = self.key_points[-1].number + 1
            raise NoticeFormatError(
                f"numbering switched from {self.point_style!r} to {item.style!r} in the key points: expected key "
                f"point {expected} written {written(expected, self.point_style)!r} or a sub-paragraph, "
                f"found {ln.raw[:30]!r}",
                line=ln.number,
            )
        current = len(self.sections) - 1
        if not self.key_points or self.key_points[-1].section != current:
            # Before the section's first key point: its lead paragraph (2018-style editions).
            self.leads.setdefault(current, []).append(ln.raw)
            return "section_lead"
        self.key_points[-1].paragraphs.append(ln)
        return "sub_paragraph"

    def _key_point(self, ln: _Line, item: Numbered) -> str:
        points = self.key_points
        expected = points[-1].number + 1 if points else 1
        restarts = item.number == 1 and points and points[-1].section != len(self.sections) - 1
        if item.number != expected and not restarts:
            raise NoticeFormatError(f"expected key point {expected}, found {item.number}", line=ln.number)
        self.point_style = item.style
        points.append(_KeyPointDraft(item.number, len(self.sections) - 1, ln.number, ln.raw, ln.norm, item.text_start))
        return "key_point"

    def _ledger_line(self, index: int, ln: _Line, item: Numbered | None) -> str:
        if item is not None and (self.task_style is None or item.style == self.task_style):
            expected = self.tasks[-1].number + 1 if self.tasks else 1
            if item.number != expected:
                raise NoticeFormatError(f"expected ledger task {expected}, found {item.number}", line=ln.number)
            self.mode = "ledger"
            self.task_style = item.style
            self.tasks.append(_TaskDraft(item.number, ln.number, ln.raw, ln.norm, item.text_start))
            self._check_length(self.tasks[-1])
            return "task"
        if item is not None and self.task_style is not None:  # a ledger item has no numbered parts
            expected = self.tasks[-1].number + 1
            raise NoticeFormatError(
                f"numbering switched from {self.task_style!r} to {item.style!r} in the ledger: expected ledger "
                f"task {expected} written {written(expected, self.task_style)!r}, found {ln.raw[:30]!r}",
                line=ln.number,
            )
        if self.mode == "attachment":
            norm = ln.norm
            too_long = len(self.ledger_title) >= MAX_LEDGER_TITLE_LINES or len(norm) > MAX_LEDGER_TITLE_CHARS
            if too_long or _SENTENCE_END.search(norm):  # a title is short and is no sentence
                raise self._no_tasks(index)
            if "附件" in norm:
                return "wrapper"
            self.ledger_title.append(ln.raw)
            return "ledger_title"
        # A ledger item wrapped onto the next line; an item already closed by its unit list takes no more.
        task = self.tasks[-1]
        if _closed_by_unit_list(task, self.directory):
            raise NoticeFormatError(
                f"this line fits nowhere: ledger task {task.number} already ends with its unit list, and the line "
                f"is not numbered like the tasks ({self.task_style!r}); found {ln.raw[:30]!r}",
                line=ln.number,
            )
        task.raw += ln.raw
        task.norm += ln.norm
        self._check_length(task)
        return "task"

    def _check_length(self, task: _TaskDraft) -> None:
        text = task.raw[task.text_start :]
        if len(text) > MAX_TASK_CHARS:
            raise NoticeFormatError(
                f"ledger task {task.number} is over {MAX_TASK_CHARS:,} characters (MAX_TASK_CHARS), so it is "
                f"probably several items, or lines that are no task, read as one; it starts {text[:20]!r}",
                line=task.line,
            )

    def _no_tasks(self, index: int) -> NoticeFormatError:
        attachment = self.attachment
        assert attachment is not None
        unread = [ln for ln in self.lines[index:] if not _FOOTER.match(ln.norm)][:3] or self.lines[index : index + 1]
        shown = "; ".join(f"line {ln.number}: {ln.raw[:30]!r}" for ln in unread)
        styles = ", ".join(f"'{written(1, s)}'" for s in KNOWN_STYLES)
        return NoticeFormatError(
            f"the attachment heading at line {attachment.number} ({attachment.raw[:20]!r}) is followed by no ledger "
            f"task the parser can read; first lines not read: {shown}. Ledger tasks are numbered {styles}",
            line=unread[0].number,
        )

    def finish(self) -> None:
        """Checks that need the whole body: a ledger heading with tasks, an item that is complete."""
        if self.attachment is not None and not self.tasks:
            title = next((i for i, ln in enumerate(self.lines) if self.accounts.get(ln.number) == "ledger_title"), None)
            if title is not None:
                raise self._no_tasks(title)
        last = self.last_content
        if last is not None and not last.norm.endswith(_TERMINAL):
            raise NoticeFormatError(
                f"the notice ends mid-item: expected the line to end with '。' or a unit list, found {last.raw[-20:]!r}",
                line=last.number,
            )


def _closed_by_unit_list(task: _TaskDraft, directory: DepartmentDirectory) -> bool:
    # Only a list of units the directory knows closes an item: a line may wrap after "(纪念馆)".
    if not _CLOSED.search(task.norm):
        return False
    units = split_unit_list(task.raw, task.norm, directory)
    return units is not None and all(directory.resolve(d.name) for d in units.departments)


def _finish_key_point(draft: _KeyPointDraft, directory: DepartmentDirectory, *, with_units: bool) -> ParsedKeyPoint:
    number_len = draft.text_start
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
    offset = draft.text_start
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
