"""Engine and session handling, the same for the web app, the worker and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TypeVar

from flask import current_app, g, has_request_context, request
from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import ExceptionContext, Row
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

# Stable constraint names, so that Alembic migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Execution option naming the BEGIN mode of SQLite transactions.
_SQLITE_BEGIN = "adapter_sqlite_begin"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


M = TypeVar("M", bound=Base)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware in UTC.

    SQLite stores no time zone and hands back naive values; PostgreSQL converts to the session's
    zone. Normalising both ways keeps comparisons in Python correct on every backend.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    """Create the engine; SQLite gets the settings a multi-process deployment needs.

    Errors never carry the statement's values (message text, phone numbers) into a log: the
    parameters are hidden and the database's DETAIL lines, which quote them, are cut.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
        event.listen(engine, "handle_error", _without_detail)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # Hand transaction control to SQLAlchemy (the "begin" listener below); enforce foreign
            # keys, which cascading deletes rely on; WAL lets the web read while the worker writes.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            # Writers begin IMMEDIATE, taking SQLite's single write lock before their first read:
            # a deferred transaction that reads and then writes fails outright ("database is
            # locked") when another writer committed in between, instead of waiting its turn.
            mode = conn.get_execution_options().get(_SQLITE_BEGIN, "")
            conn.exec_driver_sql(f"BEGIN {mode}".strip())

        return engine
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    event.listen(engine, "handle_error", _without_detail)
    return engine


def _without_detail(context: ExceptionContext) -> None:
    """Cut the lines after the first from a database error: PostgreSQL's DETAIL quotes the row
    (``Key (phone)=(+14155550100) already exists``), which must not reach a log."""
    # The wrapping SQLAlchemy error copied the text when it was made: both are cut.
    for error in (context.original_exception, context.sqlalchemy_exception):
        if error is not None and error.args and isinstance(error.args[0], str):
            error.args = (error.args[0].split("\n", 1)[0], *error.args[1:])


def insert_or_ignore(
    session: Session, model: type[Base], conflict: list[str], values: dict[str, object]
) -> int | None:
    """INSERT ``values`` into ``model``'s table unless a row with the same ``conflict`` columns
    exists; the new row's id, or None when one existed (or a concurrent writer's committed).

    One statement, so it cannot race with itself: the unique index decides.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = model.__table__
    statement = (
        dialect.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=conflict)
        .returning(table.c.id)
    )
    return session.execute(statement).scalar()


def attach_row(session: Session, model: type[M], row: Row) -> M:
    """The ``model`` instance of a full row that a Core statement returned, in ``session`` as if
    an ORM query had loaded it: later changes to it are flushed as usual.

    The hot inbound path reads rows with Core because the ORM's loading of a returned row costs
    more Python time than the statement itself; this makes such a row an ordinary instance again.
    """
    values = row._mapping
    existing = session.identity_map.get(identity_key(model, values["id"]))
    if existing is not None:
        # As populate_existing would: the row just read wins over what the session remembered.
        for column, value in values.items():
            set_committed_value(existing, column, value)
        return existing  # type: ignore[return-value]
    instance = model(**values)
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


def make_sessionmaker(engine: Engine, write: bool = False) -> sessionmaker[Session]:
    """Sessions on ``engine``; ``write`` ones serialise with other writers from their first
    statement on SQLite (PostgreSQL's row locks need no such help)."""
    if write and engine.dialect.name == "sqlite":
        engine = engine.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_session() -> Session:
    """The session of the current request, closed when its app context ends; a writer for
    requests that change things."""
    if "db_session" not in g:
        writes = has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
        key = "adapter.write_sessionmaker" if writes else "adapter.sessionmaker"
        g.db_session = current_app.extensions[key]()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def transaction() -> Iterator[Session]:
    """A fresh writer session whose work commits together or not at all."""
    session = current_app.extensions["adapter.write_sessionmaker"]()
    try:
        with session.begin():
            yield session
    finally:
        session.close()
