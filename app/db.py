"""Engine and sessions. SQLite is the embedded default; PostgreSQL via DATABASE_URL."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg.abc import PQGen
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Engine, event
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from app.config import Settings

RV = TypeVar("RV")

# Execution option naming the statement that begins a SQLite transaction (see make_engine).
SQLITE_BEGIN = "kepu_sqlite_begin"


# How much longer than statement_timeout a client waits for any answer: the server cancels a
# slow statement itself; only a server that stopped answering altogether reaches this.
ANSWER_GRACE_SECONDS = 5.0


class _BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection that waits for the server's answer at most `answer_within` seconds.

    statement_timeout is enforced by the server, so a server that accepted the connection
    and then stopped answering (frozen, or a silent socket) would hold a request forever;
    psycopg's own wait takes a timeout, which this sets, and a connection left mid-command
    is closed so the pool never hands it out again.
    """

    answer_within: float | None = None

    def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:
        """psycopg's wait, with a deadline unless the caller gave one."""
        try:
            return super().wait(gen, interval, timeout if timeout is not None else self.answer_within)
        except psycopg.OperationalError:
            if self.pgconn.transaction_status == TransactionStatus.ACTIVE:  # no answer came: unusable
                self.pgconn.finish()
            raise


def make_engine(
    url: str,
    *,
    connect_timeout: float = 5.0,
    pool_timeout: float = 5.0,
    statement_timeout: float = 30.0,
    foreign_keys: bool = True,
) -> Engine:
    """An engine for `url`, with SQLite set up for a multi-threaded web server.

    Every wait on the store is bounded, so a store that is down or silent costs a request
    a few seconds and a 503, never a hung worker: connecting (PostgreSQL's connect_timeout),
    waiting for a pooled connection, and a statement (statement_timeout on the server;
    tcp_user_timeout for data the server's machine stops acknowledging).

    Every transaction reads one snapshot of the store: a list read in several statements
    (rows, then their documents, units …) never sees a write that commits between two of
    them. Writers take `for_writing(engine)`. `foreign_keys=False` is for SQLite migrations.
    """
    if not url.startswith("sqlite"):
        timeout_ms = int(statement_timeout * 1000)
        pg = create_engine(
            url,
            # READ COMMITTED, PostgreSQL's default, takes a new snapshot per statement.
            isolation_level="REPEATABLE READ",
            pool_pre_ping=True,
            pool_timeout=pool_timeout,
            connect_args={
                "connect_timeout": max(1, math.ceil(connect_timeout)),
                "options": f"-c statement_timeout={timeout_ms}",
                "tcp_user_timeout": timeout_ms,
            },
        )
        answer_within = statement_timeout + ANSWER_GRACE_SECONDS

        @event.listens_for(pg, "do_connect")
        def _bounded(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
            connection = _BoundedConnection.connect(*cargs, **cparams)
            connection.answer_within = answer_within
            return connection

        return pg
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    if in_memory:
        kwargs["poolclass"] = StaticPool
    else:
        kwargs["pool_timeout"] = pool_timeout
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's legacy mode begins a transaction only before INSERT/UPDATE/DELETE, so each
        # SELECT saw the latest commit; SQLAlchemy's recipe: pysqlite begins nothing, _sqlite_begin does.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Cascading deletes need foreign keys on; WAL lets readers go on during an import.
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Connection) -> None:
        # A deferred BEGIN: under WAL the first read fixes the snapshot, and writers go on meanwhile.
        # In memory every session shares the one connection: a session opened inside another joins its transaction.
        if in_memory and conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
            return
        conn.exec_driver_sql(conn.get_execution_options().get(SQLITE_BEGIN, "BEGIN"))

    return engine


def for_writing(engine: Engine) -> Engine:
    """The engine as a unit of work uses it: it sees, and waits for, the writes committed before its own.

    PostgreSQL: READ COMMITTED, so a write that waited for a row another write held goes on
    with that row as committed, where REPEATABLE READ would fail it. SQLite: BEGIN IMMEDIATE
    takes the write lock first (waiting up to busy_timeout); a deferred transaction that had
    read would fail at once (SQLITE_BUSY_SNAPSHOT) on writing after another write committed.
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{SQLITE_BEGIN: "BEGIN IMMEDIATE"})
    return engine.execution_options(isolation_level="READ COMMITTED")


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed together, or rolled back together on any error."""
    with Session(for_writing(engine)) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def engine_for(settings: Settings) -> Engine:
    """The engine the settings describe, with their timeouts."""
    return make_engine(
        settings.resolved_database_url,
        connect_timeout=settings.db_connect_timeout,
        pool_timeout=settings.db_pool_timeout,
        statement_timeout=settings.db_statement_timeout,
    )


def group_by_first(rows: Iterable[Any], make: Callable[[Any], Any] = lambda row: row[1]) -> dict[Any, list[Any]]:
    """Query rows grouped by their first column: {row[0]: [make(row), …]}, in row order."""
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(make(row))
    return grouped
