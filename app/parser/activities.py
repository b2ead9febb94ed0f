"""Named activities: events, campaigns, programmes, competitions and observances.

Found by rules that hold for any notice of this family, not from a list of answers:
  * a quoted name “…” that ends like an activity or is followed by 活动/行动/计划/品牌…;
  * a verb of commitment (举办/开展/实施/召开/办好…) followed by a phrase ending like one,
    split on 、 and 和 where each part ends like one;
  * an ordinal 第N届 leading to a name that ends like an event.
Each name found is then linked to every key point and task whose text contains it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.domain.vocabulary import ActivityKind
from app.parser.normalise import normalise
from app.parser.records import ParsedActivity, ParsedKeyPoint, ParsedTask

_QUOTES = '“”‘’"「」『』'
_QUOTED_RUN = re.compile(r"(?:[“\"「][^“”\"「」]{2,40}[”\"」][、和与及]?)+")
_QUOTED = re.compile(r"[“\"「]([^“”\"「」]{2,40})[”\"」]")
_AFTER_QUOTE = re.compile(
    r"^(?:等)?(?:全国)?(?:主题|专项|系列)?(?:科普|学习|家庭亲子|群众性)?(?:宣传|主题|科普)*"
    r"(?P<word>活动|专项行动|行动|品牌|项目|计划|工程|宣传工作|主题活动)"
)
_PROGRAMME_WORD = re.compile(r"^(计划|行动|工程|项目)")
_VERBS = re.compile(r"(?:组织开展|深入开展|深入实施|大力实施|举办|开展|实施|召开|办好|启动|承办|筹办|组织)")
_CLAUSE_END = re.compile(r"[,。;:!?]")
_ORDINAL_EVENT = re.compile(
    r"第[0-9一二三四五六七八九十百]+[届次][^,。;:、和]{2,30}(大赛|竞赛|大会|论坛|展览会|博览会|交流会)"
)
# Name endings, strongest first, with the kind each implies.
_ENDINGS: tuple[tuple[str, ActivityKind], ...] = (
    ("挑战杯", ActivityKind.COMPETITION),
    ("大赛", ActivityKind.COMPETITION),
    ("竞赛", ActivityKind.COMPETITION),
    ("大会", ActivityKind.CONFERENCE),
    ("论坛", ActivityKind.CONFERENCE),
    ("展览会", ActivityKind.CONFERENCE),
    ("博览会", ActivityKind.CONFERENCE),
    ("交流会", ActivityKind.CONFERENCE),
    ("活动周", ActivityKind.OBSERVANCE),
    ("宣传周", ActivityKind.OBSERVANCE),
    ("宣传月", ActivityKind.OBSERVANCE),
    ("日", ActivityKind.OBSERVANCE),
    ("周", ActivityKind.OBSERVANCE),
    ("月", ActivityKind.OBSERVANCE),
    ("计划", ActivityKind.PROGRAMME),
    ("工程", ActivityKind.PROGRAMME),
    ("项目", ActivityKind.PROGRAMME),
    ("行动", ActivityKind.CAMPAIGN),
    ("活动", ActivityKind.CAMPAIGN),
)
# Endings that only make a name inside quotes: "银行" or "进行" are not activities.
_QUOTED_ONLY_ENDINGS: tuple[tuple[str, ActivityKind], ...] = (
    ("行", ActivityKind.CAMPAIGN),
    ("进校园", ActivityKind.CAMPAIGN),
    ("进万家", ActivityKind.CAMPAIGN),
)
_GENERIC = re.compile(
    r"^(各类|各项|相关|有关|系列|主题|科普|群众性|示范|专项|宣传|教育|互动|学习|实践|等|和|及|服务)*(活动|行动|计划|项目|工程)$"
)
_TRAILING_GENERIC = re.compile(r"(等)?(群众性|示范|主题|专项|系列|宣传|教育|科普|互动)*(活动|工作)$")
_LEADING_ORDINAL = re.compile(r"^(第[0-9一二三四五六七八九十百]+[届次]|\d{4}年?)")


def _kind(name: str, *, quoted: bool) -> ActivityKind | None:
    endings = _ENDINGS + (_QUOTED_ONLY_ENDINGS if quoted else ())
    for ending, kind in endings:
        if name.endswith(ending) and len(name) > len(ending) + (1 if kind == ActivityKind.OBSERVANCE else 0):
            return kind
    return None


def _clean(name: str) -> str:
    return name.strip(_QUOTES + " 、和与及等").translate({ord(q): None for q in _QUOTES})


def _from_quotes(text: str) -> dict[str, ActivityKind]:
    found: dict[str, ActivityKind] = {}
    for run in _QUOTED_RUN.finditer(text):
        tail = text[run.end() : run.end() + 16]
        after = _AFTER_QUOTE.match(tail)
        for quoted in _QUOTED.finditer(run.group(0)):
            name = quoted.group(1).strip()
            kind = _kind(name, quoted=True)
            if kind is None and after:
                programme = _PROGRAMME_WORD.match(tail)
                if programme and quoted.end() == len(run.group(0)):
                    name += programme.group(1)  # “高端科研资源科普化”计划
                kind = _kind(name, quoted=True) or ActivityKind.CAMPAIGN
            if kind:
                found.setdefault(_clean(name), kind)
    return found


def _split_items(phrase: str) -> list[str]:
    items: list[str] = []
    for item in re.split(r"[、及]", phrase):
        # "A大赛和B大赛": split on 和 only where the left part already ends like a name.
        parts = item.split("和")
        current = parts[0]
        for part in parts[1:]:
            if _kind(_clean(current), quoted=False):
                items.append(current)
                current = part
            else:
                current += "和" + part
        items.append(current)
    return items


def _from_verbs(text: str) -> dict[str, ActivityKind]:
    found: dict[str, ActivityKind] = {}
    for clause in _CLAUSE_END.split(text):
        verb = _VERBS.search(clause)
        if verb is None:
            continue
        phrase = clause[verb.end() :]
        if "的" in phrase:  # "以智慧助老为重点的银龄科普行动": the name follows the last 的
            phrase = phrase.rsplit("的", 1)[1]
        phrase = re.sub(r"等[^、]*$", "", phrase)
        for item in _split_items(phrase):
            if any(ch in item for ch in _QUOTES + "《》"):
                continue  # quoted names are the quote rule's; cited documents are not activities
            if "等" in item:  # "…培训等专项行动": what precedes 等 is the named thing
                item = item.split("等", 1)[0]
            name = _clean(item)
            stripped = _TRAILING_GENERIC.sub("", name)
            if stripped != name and _kind(stripped, quoted=False) in {
                ActivityKind.OBSERVANCE,
                ActivityKind.COMPETITION,
                ActivityKind.CONFERENCE,
            }:
                name = stripped  # "全国食品安全宣传周活动" → 全国食品安全宣传周
            if not name or _GENERIC.match(name) or len(name) > 40:
                continue
            kind = _kind(name, quoted=False)
            if kind == ActivityKind.CAMPAIGN and name.endswith("活动") and len(_TRAILING_GENERIC.sub("", name)) < 4:
                continue
            if kind:
                found.setdefault(name, kind)
    return found


def _from_ordinals(text: str) -> dict[str, ActivityKind]:
    found: dict[str, ActivityKind] = {}
    for m in _ORDINAL_EVENT.finditer(text):
        name = _clean(m.group(0))
        if kind := _kind(name, quoted=False):
            found.setdefault(name, kind)
    return found


def series_of(name: str) -> str:
    """The name without its edition: 第37届全国青少年科技创新大赛 → 全国青少年科技创新大赛."""
    return _LEADING_ORDINAL.sub("", name) or name


def find_activity_names(text: str) -> dict[str, ActivityKind]:
    """Activity name → kind for one text."""
    text = normalise(text)
    found = _from_quotes(text)
    for name, kind in {**_from_verbs(text), **_from_ordinals(text)}.items():
        found.setdefault(name, kind)
    return found


def extract_activities(key_points: Sequence[ParsedKeyPoint], tasks: Sequence[ParsedTask]) -> tuple[ParsedActivity, ...]:
    """Every activity named in the notice, each linked to the key points and tasks naming it."""
    texts = [("kp", kp.number, kp.full_text) for kp in key_points] + [("task", t.number, t.body) for t in tasks]
    names: dict[str, ActivityKind] = {}
    for _, _, text in texts:
        for name, kind in find_activity_names(text).items():
            names.setdefault(name, kind)
    unquoted = [(where, number, _clean_text(normalise(text))) for where, number, text in texts]
    activities = []
    for name, kind in names.items():
        kps = tuple(n for where, n, text in unquoted if where == "kp" and name in text)
        tks = tuple(n for where, n, text in unquoted if where == "task" and name in text)
        activities.append(ParsedActivity(name, kind, series_of(name), kps, tks))
    return tuple(activities)


def _clean_text(text: str) -> str:
    return text.translate({ord(q): None for q in _QUOTES})
