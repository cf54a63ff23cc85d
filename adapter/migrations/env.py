"""Alembic environment: runs migrations on the URL that `adapter.schema` puts in the config."""

from alembic import context
from sqlalchemy import event

from adapter.db import make_engine
from adapter.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    if engine.dialect.name == "sqlite":
        # A migration that rebuilds a table drops the old one: with foreign keys enforced, that
        # would cascade-delete every row referring to it. SQLite ignores this PRAGMA inside a
        # transaction, so it is set as each connection opens (after make_engine turned them on);
        # the rows are checked against their foreign keys once the migrations are done.
        event.listen(engine, "connect", _foreign_keys_off)
    with engine.connect() as connection:
        # Batch mode lets later migrations alter SQLite tables (it copies and swaps them).
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
            if engine.dialect.name == "sqlite":
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"rows left without their parent rows: {broken[:5]}")
    engine.dispose()


def _foreign_keys_off(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    dbapi_connection.execute("PRAGMA foreign_keys=OFF")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
