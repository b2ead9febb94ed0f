"""Two editions side by side: which tasks continue, which are new, which were dropped, and per unit."""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.domain.vocabulary import Role, TaskChange
from app.errors import InvalidParameter, NotFound
from app.models import row_id
from app.parser.lineage import same_wording
from app.services.catalogue import tasks_public
from app.services.lineage import match_tasks


def compare_documents(session: Session, a: int, b: int) -> s.DocumentComparison:
    """Tasks of `a` matched to tasks of `b` (as lineage matches them), the new, the dropped, and per unit."""
    if a == b:
        raise InvalidParameter(f"compare a document with another one: both ids are {a}")
    docs = {}
    for document_id in (a, b):
        doc = session.get(m.Document, document_id)
        if doc is None:
            raise NotFound(f"no document with id {document_id}")
        docs[document_id] = s.DocumentRef.model_validate(doc, from_attributes=True)
    rows = session.exec(select(m.Task).where(col(m.Task.document_id).in_([a, b])).order_by(col(m.Task.number))).all()
    owner = {row_id(t): t.document_id for t in rows}
    tasks = {t.id: _brief(t) for t in tasks_public(session, rows)}
    links = match_tasks(session, a, b)
    matched = [_match(tasks[x.previous], tasks[x.current], x.score) for x in links]
    linked = {x.previous for x in links} | {x.current for x in links}
    new = [t for t in tasks.values() if owner[t.id] == b and t.id not in linked]
    dropped = [t for t in tasks.values() if owner[t.id] == a and t.id not in linked]
    changes = [x.change for x in matched]
    return s.DocumentComparison(
        a=docs[a],
        b=docs[b],
        counts=s.ComparisonCounts(
            same=changes.count(TaskChange.SAME),
            reworded=changes.count(TaskChange.REWORDED) + changes.count(TaskChange.REWORDED_AND_UNITS_CHANGED),
            units_changed=changes.count(TaskChange.UNITS_CHANGED)
            + changes.count(TaskChange.REWORDED_AND_UNITS_CHANGED),
            new=len(new),
            dropped=len(dropped),
        ),
        matched=matched,
        new=new,
        dropped=dropped,
        units=_unit_deltas(matched, new, dropped),
    )


def _brief(task: s.TaskPublic) -> s.TaskBrief:
    return s.TaskBrief(
        id=task.id,
        number=task.number,
        body=task.body,
        departments=task.departments,
        all_member_units=task.all_member_units,
    )


def _roles(task: s.TaskBrief) -> list[tuple[str, Role]]:
    return [(d.name, d.role) for d in task.departments]


def _match(a: s.TaskBrief, b: s.TaskBrief, score: float) -> s.TaskMatch:
    reworded = not same_wording(a.body, b.body)
    # A unit's role counts: the same units with another lead is a change of units.
    units_changed = sorted(_roles(a)) != sorted(_roles(b)) or a.all_member_units != b.all_member_units
    change = {
        (False, False): TaskChange.SAME,
        (True, False): TaskChange.REWORDED,
        (False, True): TaskChange.UNITS_CHANGED,
        (True, True): TaskChange.REWORDED_AND_UNITS_CHANGED,
    }[(reworded, units_changed)]
    names_a, names_b = [n for n, _ in _roles(a)], [n for n, _ in _roles(b)]
    return s.TaskMatch(
        a=a,
        b=b,
        score=score,
        change=change,
        units_gained=[n for n in names_b if n not in names_a],
        units_lost=[n for n in names_a if n not in names_b],
    )


def _unit_deltas(matched: list[s.TaskMatch], new: list[s.TaskBrief], dropped: list[s.TaskBrief]) -> list[s.UnitDelta]:
    gained: dict[str, list[s.TaskRef]] = defaultdict(list)
    lost: dict[str, list[s.TaskRef]] = defaultdict(list)
    for x in matched:
        for name in x.units_gained:
            gained[name].append(s.TaskRef(id=x.b.id, number=x.b.number))
        for name in x.units_lost:
            lost[name].append(s.TaskRef(id=x.a.id, number=x.a.number))
    for task in new:
        for name, _ in _roles(task):
            gained[name].append(s.TaskRef(id=task.id, number=task.number))
    for task in dropped:
        for name, _ in _roles(task):
            lost[name].append(s.TaskRef(id=task.id, number=task.number))
    names = sorted(set(gained) | set(lost), key=lambda n: (-len(gained[n]) - len(lost[n]), n))
    return [s.UnitDelta(name=n, gained=gained[n], lost=lost[n]) for n in names]
