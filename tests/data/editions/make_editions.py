"""Generate the editions test corpus from the 2023 seed: `python tests/data/editions/make_editions.py`.

Each file differs from the seed the way real copies and editions do, and each change is
written out below, so anyone can see what a file holds and why a test expects what it
does. The output is deterministic; tests/test_editions.py checks that running this script
again gives the checked-in files byte for byte.

- 2023-traditional.txt     the seed in traditional characters (OpenCC s2t), as mirror sites publish it
- 2018-section-leads.txt   a 2018-style edition: a lead paragraph under each section, a （一） middle
                           heading over the key points, the ledger as in the seed
- 2023-news-site.txt       the seed wrapped in a news site's page: 发布时间/出处, a summary, the title
                           again and 浏览次数 before; 责任编辑, 来源 and 打印本页 after
- 2022-inline-units.txt    a 2022-style edition: three heading levels (一、/（一）/1.), the units in
                           parentheses after each item, no ledger
- 2023-province.txt        《2023年某省全民科学素质行动工作要点》: a provincial edition, provincial units
- 2024-next-year.txt       a synthetic next year: tasks added, dropped, reworded and moved between units
                           (NEXT_YEAR_* below), the others renumbered
- 2023-cut-off.txt         the seed cut off in the middle of ledger task 30
- 2021-outline.txt         another family: the 2021—2035 纲要 itself (refused)
- 2021-province-plan.txt   another family: a provincial 实施方案 (refused)
"""

from __future__ import annotations

import re
from pathlib import Path

from opencc import OpenCC

HERE = Path(__file__).resolve().parent
SEED = HERE.parent.parent.parent / "seed" / "2023-work-points.txt"
TITLE = "2023年全民科学素质行动工作要点"
ISSUER = "全民科学素质纲要实施工作办公室"

# --- the synthetic next year (2024), relative to the seed's ledger ------------------------
NEXT_YEAR_DROPPED = (13, 32, 43)
"""Seed tasks the 2024 edition no longer has."""
NEXT_YEAR_REWORDED = {
    15: "举办2024年全国科技活动周。",
    41: "开展第十四次中国公民科学素质抽样调查。推动将公民科学素质指标纳入国民经济和社会发展统计公报。",
    58: "举办第38届全国青少年科技创新大赛。",
    67: "推进全民数字素养与技能监测评估,发布年度监测报告。",
}
"""Seed task → its new wording (the unit list is kept)."""
NEXT_YEAR_UNITS = {
    38: "(卫生健康委)",
    61: "(民政部、中国科协)",
}
"""Seed task → its new unit list (the wording is kept): 38 moves from 市场监管总局 to 卫生健康委,
61 gains 民政部 as lead."""
NEXT_YEAR_ADDED = (
    "开展低空经济科普宣传活动,普及无人驾驶航空器安全飞行知识。(交通运输部、中国科协)",
    "开展海洋科普进校园活动,普及海洋生态保护知识。(自然资源部、教育部)",
    "推进老年人智能技术运用培训,帮助老年人融入数字生活。(民政部、中国科协)",
)
"""New tasks, appended after the seed's last task."""

# --- the 2022-style edition: units after each key point (no ledger) ----------------------
INLINE_UNITS = {
    1: "(中央宣传部、中国科协)",
    2: "(中国科协、中央宣传部)",
    3: "(中央宣传部、中国科协、广电总局)",
    4: "(中国科协、教育部、科技部、中科院、工程院)",
    5: "(中国科协、财政部)",
    6: "(中国科协、民政部)",
    7: "(教育部、中科院、中国科协)",
    8: "(中国科协、中央宣传部、应急管理部)",
    9: "(中国科协牵头,各成员单位参与)",
    10: "(中国科协、科技部、中科院)",
    11: "(中国科协、统计局)",
    12: "(科技部、中国科协、人力资源和社会保障部)",
}
MIDDLE_HEADINGS = ("(一)总体部署", "(二)重点举措")
"""The 2022-style edition splits each section's key points under these two headings."""

SECTION_LEADS = {
    "一": "各成员单位要把学习贯彻党的二十大精神作为首要任务,结合职责抓好落实。",
    "二": "坚持价值引领,把弘扬科学精神贯穿科学素质建设全过程。",
    "三": "聚焦供给侧改革,提升科普服务的质量和覆盖面。",
    "四": "完善工作机制,推动形成社会化协同推进的工作格局。",
}
"""The 2018-style edition's lead paragraph under each section heading."""

PROVINCE_UNITS = {
    "中国科协": "省科协",
    "教育部": "省教育厅",
    "科技部": "省科技厅",
    "中科院": "省科学院",
    "工程院": "省工程院",
    "中央宣传部": "省委宣传部",
    "中央组织部": "省委组织部",
}
"""Units of the provincial edition: the seed's national units, renamed where a province has its own."""

CUT_OFF_AT = "30.举办“中国航海日”“水上交通安全"
"""The cut-off copy ends here, in the middle of ledger task 30."""


def _seed() -> str:
    return SEED.read_text("utf-8")


def _retitle(text: str, year: int, published: str, issued: str) -> str:
    """The seed's header and titles moved to another year."""
    text = text.replace("2023年全民科学素质", f"{year}年全民科学素质")
    text = text.replace("时间: 2023-03-24 13:58", f"时间: {published}")
    return text.replace("2023年3月22日", issued)


def _split_ledger(text: str) -> tuple[str, list[str], str]:
    """(everything up to the ledger's title, the ledger's task lines, the footer)."""
    head, _, rest = text.partition("  任务台账\n")
    body, _, footer = rest.rpartition("\n\n来源:")
    tasks = [line.strip() for line in body.split("\n") if line.strip()]
    return head + "  任务台账\n", tasks, "来源:" + footer


def _task_parts(line: str) -> tuple[int, str, str]:
    """(number, wording, unit list) of a seed ledger line '12.text(units)'."""
    m = re.match(r"^(\d+)\.(.*?)(\([^()]*\))$", line)
    assert m is not None, line
    return int(m.group(1)), m.group(2), m.group(3)


def traditional() -> str:
    """The seed in traditional characters."""
    return str(OpenCC("s2t").convert(_seed()))


def section_leads() -> str:
    """2018 style: a lead paragraph under each section, then （一） over its key points."""
    text = _retitle(_seed(), 2018, "2018-03-20 10:00", "2018年3月16日")
    out: list[str] = []
    for line in text.split("\n"):
        out.append(line)
        m = re.match(r"^  ([一二三四])、", line)
        if m:
            out += ["", f"  {SECTION_LEADS[m.group(1)]}", "", "  (一)主要任务"]
    return "\n".join(out)


def news_site() -> str:
    """The seed inside a news site's page furniture."""
    text = _seed()
    notice_title = f"关于印发《{TITLE}》的通知"
    body = text.split(f"{notice_title}\n\n时间: 2023-03-24 13:58\n\n{notice_title}\n\n", 1)[1]
    body = body.rsplit("\n来源:", 1)[0].rstrip("\n")
    before = [
        notice_title,
        "发布时间:2023-03-24 13:58  出处:中国科协科普部",
        "摘要:纲要办印发2023年全民科学素质行动工作要点,部署四个方面十二项重点工作和六十七项重点任务。",
        notice_title,
        "浏览次数:3861",
    ]
    after = ["责任编辑:王蕾", "来源:全民科学素质纲要实施工作办公室", "【打印本页】【关闭窗口】"]
    return "\n\n".join(before) + "\n\n" + body + "\n\n" + "\n".join(after) + "\n"


def inline_units() -> str:
    """2022 style: 一、/（一）/1. headings, units after each key point, no ledger."""
    text = _retitle(_seed(), 2022, "2022-03-29 09:30", "2022年3月25日")
    text = text.split("\n\n  附件:", 1)[0]
    text = text.replace("请结合职责,共同推动落实", "请结合职责认真贯彻落实")
    lines = text.split("\n")
    out: list[str] = []
    in_section = 0  # key points seen in the current section
    last_item: int | None = None
    for line in lines:
        if re.match(r"^  [一二三四]、", line):
            in_section = 0
        m = re.match(r"^  (\d+)\.", line)
        if m:
            if last_item is not None:
                _close_item(out, last_item)
            if in_section in (0, 2):
                out += [f"  {MIDDLE_HEADINGS[in_section // 2]}", ""]
            in_section += 1
            last_item = int(m.group(1))
        elif re.match(r"^  [一二三四]、", line) and last_item is not None:
            _close_item(out, last_item)
            last_item = None
        out.append(line)
    assert last_item is not None
    _close_item(out, last_item)
    return "\n".join(out) + "\n\n来源:" + ISSUER + "\n"


def _close_item(out: list[str], number: int) -> None:
    """Append the unit list to the last non-blank line written."""
    at = max(i for i, line in enumerate(out) if line.strip())
    out[at] = out[at].rstrip() + INLINE_UNITS[number]


def province() -> str:
    """《2023年某省全民科学素质行动工作要点》 with provincial units."""
    text = _seed().replace(TITLE, "2023年某省全民科学素质行动工作要点")
    text = text.replace("2023年全民科学素质行动重点工作", "2023年某省全民科学素质行动重点工作")
    text = text.replace(
        f"{ISSUER}各成员单位:", "各市全民科学素质工作领导小组办公室,省全民科学素质工作领导小组各成员单位:"
    )
    text = text.replace(f"  {ISSUER}\n", "  某省全民科学素质工作领导小组办公室\n")
    text = text.replace("(中国科协办公厅代章)", "(某省科协办公室代章)")
    text = text.replace("2023年全民科学素质工作要坚持", "2023年全省科学素质工作要坚持")
    text = text.replace("来源:" + ISSUER, "来源:某省科学技术协会")
    head, tasks, footer = _split_ledger(text)
    renamed = []
    for line in tasks:
        number, wording, units = _task_parts(line)
        for national, provincial in PROVINCE_UNITS.items():
            units = re.sub(rf"(?<=[(、]){national}(?=[、)牵])", provincial, units)
        renamed.append(f"  {number}.{wording}{units}")
    return head + "\n" + "\n\n".join(renamed) + "\n\n" + footer


def next_year() -> str:
    """2024: the seed's ledger with the NEXT_YEAR_* changes, renumbered."""
    text = _retitle(_seed(), 2024, "2024-03-15 10:30", "2024年3月12日")
    head, tasks, footer = _split_ledger(text)
    items: list[str] = []
    for line in tasks:
        number, wording, units = _task_parts(line)
        if number in NEXT_YEAR_DROPPED:
            continue
        items.append(NEXT_YEAR_REWORDED.get(number, wording) + NEXT_YEAR_UNITS.get(number, units))
    items += NEXT_YEAR_ADDED
    ledger = "\n\n".join(f"  {n}.{item}" for n, item in enumerate(items, 1))
    return head + "\n" + ledger + "\n\n" + footer


def cut_off() -> str:
    """The seed cut off in the middle of ledger task 30."""
    text = _seed()
    return text[: text.index(CUT_OFF_AT) + len(CUT_OFF_AT)] + "\n"


def outline() -> str:
    """Another family: the outline 纲要 (2021—2035) itself, in its own shape."""
    return (
        "\n\n".join(
            [
                "国务院关于印发《全民科学素质行动规划纲要(2021—2035年)》的通知",
                "各省、自治区、直辖市人民政府,国务院各部委、各直属机构:",
                "  现将《全民科学素质行动规划纲要(2021—2035年)》印发给你们,请认真贯彻执行。",
                "  国务院",
                "  2021年6月3日",
                "  全民科学素质行动规划纲要(2021—2035年)",
                "  科学素质是国民素质的重要组成部分,是社会文明进步的基础。",
                "  一、指导思想",
                "  坚持把科学普及放在与科技创新同等重要的位置。",
                "  二、目标",
                "  1.到2025年,我国公民具备科学素质的比例超过15%。",
                "  2.到2035年,我国公民具备科学素质的比例达到25%。",
            ]
        )
        + "\n"
    )


def province_plan() -> str:
    """Another family: a provincial implementation plan (实施方案)."""
    return (
        "\n\n".join(
            [
                "关于印发《某省全民科学素质行动实施方案(2021—2025年)》的通知",
                "各市人民政府,省政府各部门:",
                "  现将《某省全民科学素质行动实施方案(2021—2025年)》印发给你们,请结合实际认真组织实施。",
                "  某省人民政府办公厅",
                "  2021年9月30日",
                "  一、总体要求",
                "  1.到2025年,全省公民具备科学素质的比例达到13%。",
                "  二、重点任务",
                "  2.实施青少年科学素质提升行动。",
            ]
        )
        + "\n"
    )


def generate() -> dict[str, str]:
    """File name → text, for every file of the corpus."""
    return {
        "2023-traditional.txt": traditional(),
        "2018-section-leads.txt": section_leads(),
        "2023-news-site.txt": news_site(),
        "2022-inline-units.txt": inline_units(),
        "2023-province.txt": province(),
        "2024-next-year.txt": next_year(),
        "2023-cut-off.txt": cut_off(),
        "2021-outline.txt": outline(),
        "2021-province-plan.txt": province_plan(),
    }


def main() -> None:
    """Write every file beside this script (UTF-8, LF)."""
    for name, text in generate().items():
        (HERE / name).write_bytes(text.encode("utf-8"))


if __name__ == "__main__":
    main()
