"""The store as the search engine's record source: the SQL the engine must not run itself.

`StoreRecords(engine)` implements app.search.source.RecordSource: the services hand it to
SearchIndex, which never imports the models or the database. `record_changes` is the one
function every write path calls, in its own transaction, so that replicas can catch up
from the change log instead of rebuilding.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import Engine, delete, func, text, update
from sqlmodel import Session, col, select

from app import models as m
from app.domain.departments import load_directory
from app.domain.vocabulary import RecordKind
from app.models import row_id
from app.search.records import Record, first_sentence, make_record
from app.search.source import Changes, SourceVersion
from app.services import links

log = logging.getLogger(__name__)
# Entries kept in the change log; a replica whose position fell off it rebuilds in full.
CHANGE_LOG_KEEP = 10_000
# PostgreSQL channel a write notifies (delivered at commit) so replicas need not poll.
CHANGE_CHANNEL = "kepu_changes"


class StoreRecords:
    """The store's records, version, change log and dictionary names, read through an engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def version(self) -> SourceVersion:
        """The store's generation, a fingerprint of its documents, its record count and change-log head."""
        return read_store_version(self.engine)

    def terms(self) -> list[str]:
        """Names for the jieba dictionary: activities and every unit spelling."""
        return store_terms(self.engine)

    def records(self, document_ids: Iterable[int] | None = None) -> Iterator[Record]:
        """Every searchable record of the given documents (all when None), read in one session."""
        with Session(self.engine) as session:
            yield from iter_records(session, document_ids)

    def records_by_uid(self, uids: Iterable[str]) -> Iterator[Record]:
        """The records with these index ids that the store still holds."""
        with Session(self.engine) as session:
            yield from records_by_uid(session, uids)

    def changes(self, since: int, until: int) -> Changes | None:
        """What changed after position `since` up to `until`; None when `since` was trimmed from the log."""
        with Session(self.engine) as session:
            return read_changes(session, since, until)


# --- writing the change log ---------------------------------------------------------


def record_changes(session: Session, *, documents: Iterable[int] = (), records: Iterable[str] = ()) -> int:
    """Log that these documents (every record of each) or records ("task:12", see `record_uid`) changed.

    Call it from every write, inside the write's transaction (it only flushes): the store's
    generation moves and the entries commit, or roll back, with the change itself. Returns
    the new generation. The generation row is locked first, so entries get their sequence
    numbers in commit order and a replica reading the log never skips one still in flight.
    """
    generation = bump_generation(session)
    now = dt.datetime.now(dt.UTC)
    entries = [m.ChangeLog(document_id=d, changed_at=now) for d in sorted(set(documents))]
    entries += [m.ChangeLog(record=r, changed_at=now) for r in sorted(set(records))]
    # Nothing named: a change the log cannot describe; replicas rebuild rather than miss it.
    entries = entries or [m.ChangeLog(changed_at=now)]
    session.add_all(entries)
    session.flush()
    _trim(session, max(row_seq(e) for e in entries))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANGE_CHANNEL, "payload": ""})
    return generation


def bump_generation(session: Session) -> int:
    """Mark the store as changed; replicas compare this with their index's generation."""
    state = session.get(m.StoreState, 1)
    if state is None:
        state = m.StoreState(id=1, generation=0)
        session.add(state)
        session.flush()
    session.execute(
        update(m.StoreState)
        .where(col(m.StoreState.id) == 1)
        .values(generation=m.StoreState.generation + 1, updated_at=dt.datetime.now(dt.UTC))
    )
    session.flush()
    session.refresh(state)
    return state.generation


def row_seq(entry: m.ChangeLog) -> int:
    """The sequence number of a flushed change-log entry."""
    if entry.seq is None:
        raise RuntimeError("change-log entry not flushed")
    return entry.seq


def _trim(session: Session, head: int) -> None:
    floor = head - CHANGE_LOG_KEEP
    state = session.get(m.StoreState, 1)
    if state is None or floor <= state.trimmed_through:
        return
    session.execute(delete(m.ChangeLog).where(col(m.ChangeLog.seq) <= floor))
    session.execute(update(m.StoreState).where(col(m.StoreState.id) == 1).values(trimmed_through=floor))
    session.flush()


# --- reading versions and changes ---------------------------------------------------


def read_store_version(engine: Engine) -> SourceVersion:
    """The store's generation, a fingerprint of its documents, how many records it indexes to, the log's head.

    The generation is read before the log's head: every write the generation counts then
    has its entries at or below the head (an index that applied them agrees with it).
    """
    with Session(engine) as session:
        state = session.get(m.StoreState, 1)
        generation = state.generation if state else 0
        hashes = session.exec(select(m.Document.id, m.Document.content_hash).order_by(col(m.Document.id))).all()
        count = sum(
            int(session.exec(select(func.count()).select_from(model)).one())
            for model in (m.Task, m.KeyPoint, m.Activity)
        )
        head = session.exec(select(func.max(m.ChangeLog.seq))).one()
        trimmed = session.exec(select(m.StoreState.trimmed_through).where(col(m.StoreState.id) == 1)).first()
        count += current_report_count(session)
    digest = hashlib.sha256(json.dumps([list(h) for h in hashes]).encode()).hexdigest()[:16]
    return SourceVersion(generation, digest, count, position=int(head if head is not None else (trimmed or 0)))


def read_changes(session: Session, since: int, until: int) -> Changes | None:
    """Documents and records changed in (since, until]; None (rebuild) when some were trimmed or are unnamed."""
    trimmed = session.exec(select(m.StoreState.trimmed_through).where(col(m.StoreState.id) == 1)).first() or 0
    if since < trimmed or since > until:  # fell off the log, or the store is not the one indexed
        return None
    rows = session.exec(
        select(m.ChangeLog.document_id, m.ChangeLog.record).where(
            col(m.ChangeLog.seq) > since, col(m.ChangeLog.seq) <= until
        )
    ).all()
    if any(d is None and r is None for d, r in rows):  # an unnamed change: rebuild
        return None
    return Changes(
        until,
        frozenset(d for d, _ in rows if d is not None),
        frozenset(r for _, r in rows if r is not None),
    )


def store_terms(engine: Engine) -> list[str]:
    """Names from the store for the jieba dictionary: activities and every unit spelling."""
    directory = load_directory()
    with Session(engine) as session:
        activities = session.exec(select(m.Activity.name)).all()
        units = session.exec(select(m.Department.name)).all()
    return [*activities, *units, *directory.all_spellings()]


# --- reading records ----------------------------------------------------------------


def iter_records(session: Session, document_ids: Iterable[int] | None = None) -> Iterator[Record]:
    """Every searchable record of the given documents (all documents when None).

    Records come in (document, key points before tasks, number) order: Whoosh breaks score
    ties by document number, so that order is the tie-break users see. An activity comes
    after the ledger, under the earliest document naming it (whichever documents asked).
    """
    query = select(m.Document.id, m.Document.year).order_by(col(m.Document.id))
    if document_ids is not None:
        query = query.where(col(m.Document.id).in_(list(document_ids)))
    years: dict[int, int] = {int(i): y for i, y in session.exec(query) if i is not None}
    if not years:
        return
    yield from _ledger_records(session, years, key_point_ids=None, task_ids=None)
    activity_ids = None if document_ids is None else _activities_named_in(session, list(years))
    yield from _activity_records(session, activity_ids)
    yield from _report_records(session, col(m.Task.document_id).in_(list(years)))


def records_by_uid(session: Session, uids: Iterable[str]) -> Iterator[Record]:
    """The records with these index ids (kind:id) that the store still holds; missing ones are skipped."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for uid in uids:
        kind, _, ref = uid.partition(":")
        if ref.isdigit():
            wanted[kind].add(int(ref))
    kp_ids, task_ids = wanted[RecordKind.KEY_POINT.value], wanted[RecordKind.TASK.value]
    doc_ids = {
        *session.exec(select(m.KeyPoint.document_id).where(col(m.KeyPoint.id).in_(kp_ids))),
        *session.exec(select(m.Task.document_id).where(col(m.Task.id).in_(task_ids))),
    }
    if doc_ids:
        years = {
            int(i): y
            for i, y in session.exec(
                select(m.Document.id, m.Document.year)
                .where(col(m.Document.id).in_(list(doc_ids)))
                .order_by(col(m.Document.id))
            )
            if i is not None
        }
        yield from _ledger_records(session, years, key_point_ids=kp_ids, task_ids=task_ids)
    if wanted[RecordKind.ACTIVITY.value]:
        yield from _activity_records(session, sorted(wanted[RecordKind.ACTIVITY.value]))
    if wanted[RecordKind.REPORT.value]:  # a corrected report has no record: applying it deletes it
        yield from _report_records(session, col(m.ProgressReport.id).in_(sorted(wanted[RecordKind.REPORT.value])))


def _activities_named_in(session: Session, document_ids: list[int]) -> list[int]:
    query = select(m.Activity.id).where(links.activities_named_in(document_ids)).order_by(col(m.Activity.id))
    return [i for i in session.exec(query) if i is not None]


def _ledger_records(
    session: Session, years: dict[int, int], *, key_point_ids: set[int] | None, task_ids: set[int] | None
) -> Iterator[Record]:
    """Key points and tasks of these documents (only the given ids of each, when given)."""
    ids = list(years)
    kp_scope = col(m.KeyPoint.id).in_(key_point_ids) if key_point_ids is not None else None
    task_scope = col(m.Task.id).in_(task_ids) if task_ids is not None else None
    doc_kps = col(m.KeyPoint.document_id).in_(ids)
    doc_tasks = col(m.Task.document_id).in_(ids)
    kp_where = [doc_kps] if kp_scope is None else [doc_kps, kp_scope]
    task_where = [doc_tasks] if task_scope is None else [doc_tasks, task_scope]

    # Every key point's section is needed: a task's section is its traced key point's.
    kp_section: dict[int, str] = {}
    for kp_id, label in session.exec(select(m.KeyPoint.id, m.Section.label).join(m.Section).where(doc_kps)):
        if kp_id is not None:
            kp_section[int(kp_id)] = label
    kp_owners = select(m.KeyPoint.id).where(*kp_where)
    task_owners = select(m.Task.id).where(*task_where)
    key_points = session.exec(
        select(m.KeyPoint).where(*kp_where).order_by(col(m.KeyPoint.document_id), col(m.KeyPoint.number))
    ).all()
    paragraphs = links.sub_paragraphs(session, kp_owners)
    kp_groups = links.target_groups(session, m.KeyPointTargetGroup, m.KeyPointTargetGroup.key_point_id, kp_owners)
    kp_units = links.unit_roles(session, m.KeyPointDepartment, m.KeyPointDepartment.key_point_id, kp_owners)
    tasks = session.exec(select(m.Task).where(*task_where).order_by(col(m.Task.document_id), col(m.Task.number))).all()
    task_units = links.unit_roles(session, m.TaskDepartment, m.TaskDepartment.task_id, task_owners)
    task_groups = links.target_groups(session, m.TaskTargetGroup, m.TaskTargetGroup.task_id, task_owners)
    # A task is indexed under its best key point's section, with that key point's title as context.
    task_points = links.traced_key_points(session, task_owners)

    points_by_doc: dict[int, list[m.KeyPoint]] = defaultdict(list)
    for kp in key_points:
        points_by_doc[kp.document_id].append(kp)
    tasks_by_doc: dict[int, list[m.Task]] = defaultdict(list)
    for task in tasks:
        tasks_by_doc[task.document_id].append(task)
    for document_id in sorted(years):
        for kp in points_by_doc[document_id]:
            kp_id = row_id(kp)
            yield make_record(
                RecordKind.KEY_POINT.value,
                kp_id,
                document_id,
                years[document_id],
                kp.number,
                kp.title,
                "\n".join([kp.body, *paragraphs[kp_id]]),
                kp_units[kp_id],
                [kp_section[kp_id]],
                kp_groups[kp_id],
                all_members=kp.all_member_units,
            )
        for task in tasks_by_doc[document_id]:
            task_id = row_id(task)
            title, body = first_sentence(task.body)
            yield make_record(
                RecordKind.TASK.value,
                task_id,
                document_id,
                years[document_id],
                task.number,
                title,
                body,
                task_units[task_id],
                [kp_section[k.id] for k in task_points[task_id][:1]],
                task_groups[task_id],
                all_members=task.all_member_units,
                context=" ".join(k.title for k in task_points[task_id][:1]),
            )


def _activity_records(session: Session, activity_ids: list[int] | None) -> Iterator[Record]:
    """Activities (all named ones when None), each under the earliest document naming it, over every document."""
    mentions: dict[int, dict[str, set[Any]]] = defaultdict(lambda: {"tasks": set(), "kps": set(), "docs": set()})
    for activity_id, by_tasks in links.mentions(session, m.TaskActivity, m.Task, activity_ids).items():
        for task in by_tasks:
            mentions[activity_id]["tasks"].add((task.document_id, task.number, task.id))
            mentions[activity_id]["docs"].add(task.document_id)
    for activity_id, by_key_points in links.mentions(session, m.KeyPointActivity, m.KeyPoint, activity_ids).items():
        for kp in by_key_points:
            mentions[activity_id]["kps"].add(kp.id)
            mentions[activity_id]["docs"].add(kp.document_id)
    if not mentions:
        return
    named_kps = sorted({k for seen in mentions.values() for k in seen["kps"]})
    kp_section = dict(
        session.exec(
            select(m.KeyPoint.id, m.Section.label).join(m.Section).where(col(m.KeyPoint.id).in_(named_kps))
        ).all()
    )
    named_docs = sorted({d for seen in mentions.values() for d in seen["docs"]})
    years = dict(session.exec(select(m.Document.id, m.Document.year).where(col(m.Document.id).in_(named_docs))).all())
    activities = session.exec(
        select(m.Activity).where(col(m.Activity.id).in_(list(mentions))).order_by(col(m.Activity.id))
    ).all()
    for activity in activities:
        seen = mentions[row_id(activity)]
        # An activity shared by several editions is indexed once, under its earliest document.
        document_id = min(seen["docs"])
        yield make_record(
            RecordKind.ACTIVITY.value,
            row_id(activity),
            document_id,
            years[document_id],
            0,
            activity.name,
            activity.series,
            # No units: an activity is found by its name, not by who runs the tasks naming it.
            [],
            sorted({kp_section[k] for k in seen["kps"]}),
            [],
            extra={
                "activity_kind": activity.kind,
                "tasks": [[task_id, number] for doc, number, task_id in sorted(seen["tasks"]) if doc == document_id],
            },
        )


def current_report_count(session: Session) -> int:
    """How many reports the index holds: those no correction replaced."""
    corrected = select(m.ProgressReport.corrects_id).where(col(m.ProgressReport.corrects_id).is_not(None))
    current = select(func.count()).select_from(m.ProgressReport).where(col(m.ProgressReport.id).not_in(corrected))
    return int(session.exec(current).one())


def _report_records(session: Session, condition: Any) -> Iterator[Record]:
    # Progress reports are searched by their note (kind=report, never in the default ledger list).
    corrected = select(m.ProgressReport.corrects_id).where(col(m.ProgressReport.corrects_id).is_not(None))
    rows = session.exec(
        select(m.ProgressReport, m.Task, m.Document.year)
        .join(m.Task, col(m.Task.id) == m.ProgressReport.task_id)
        .join(m.Document, col(m.Document.id) == m.Task.document_id)
        .where(condition, col(m.ProgressReport.id).not_in(corrected))
        .order_by(col(m.ProgressReport.id))
    ).all()
    units = links.unit_roles(session, m.TaskDepartment, m.TaskDepartment.task_id, {task.id for _, task, _ in rows})
    roles = {(task_id, u.name): (u.full_name, u.role) for task_id, named in units.items() for u in named}
    for report, task, year in rows:
        full_name, role = roles.get((row_id(task), report.department), (report.department, "participant"))
        yield make_record(
            "report",
            row_id(report),
            task.document_id,
            year,
            task.number,
            f"{report.department} {report.reported_on.isoformat()} 进展",
            report.note,
            [(report.department, full_name, role)],
            [],
            [],
            extra={
                "task": [task.id, task.number],
                "status": report.status,
                "reported_on": report.reported_on.isoformat(),
            },
        )


class ChangeListener:
    """Wakes replicas when PostgreSQL announces a write (LISTEN/NOTIFY), so they need not wait for the next poll.

    Polling stays on underneath: a lost connection only costs latency. Reconnects every
    RECONNECT_SECONDS while the server is away, and wakes once after (re)connecting.
    """

    RECONNECT_SECONDS = 5.0

    def __init__(self, engine: Engine, on_change: Callable[[], None]) -> None:
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kepu-change-listener", daemon=True)

    def start(self) -> ChangeListener:
        """Listen in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (within a second)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANGE_CHANNEL}")
                    self.on_change()  # whatever was written while not listening
                    while not self._stop.is_set():
                        if any(True for _ in conn.notifies(timeout=1.0, stop_after=1)):
                            self.on_change()
            except psycopg.Error as exc:
                log.warning("listening for store changes failed (%s); polling meanwhile", exc)
                self._stop.wait(self.RECONNECT_SECONDS)
