"""Fixtures: a real database (PostgreSQL when TEST_DATABASE_URL is set, SQLite otherwise) brought up
with the project's own migrations, and a real Redis on a database of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import text
from sqlalchemy.orm import Session

from adapter import create_app
from adapter.db import make_engine
from adapter.models import Base
from adapter.schema import upgrade
from providers import all_providers

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        # The test database is ours to wipe: start every run from an empty schema, so the
        # migrations themselves are tested.
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def redis_client() -> Iterator[Redis]:
    client = Redis.from_url(TEST_REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def make_app(database_url: str, redis_client: Redis, tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    """Build an app on the test database and Redis; extra settings as keyword arguments."""
    # No provider credentials from the developer's environment leak into a test.
    prefixes = tuple(f"{provider.env_prefix}_" for provider in all_providers())
    for key in list(os.environ):
        if key.startswith(prefixes) or key in (
            "PUBLIC_BASE_URL",
            "DEFAULT_REGION",
            "DEFAULT_CHANNEL",
        ):
            monkeypatch.delenv(key, raising=False)
    apps: list[Flask] = []

    def factory(**overrides: object) -> Flask:
        config = {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "REDIS_URL": TEST_REDIS_URL,
            "SECRET_KEY": "test-secret",
            **overrides,
        }
        app = create_app(config)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        _empty_tables(app)
        app.extensions["adapter.engine"].dispose()


def _empty_tables(app: Flask) -> None:
    with app.extensions["adapter.engine"].begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def app(make_app) -> Flask:  # type: ignore[no-untyped-def]
    return make_app()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session for arranging and checking state; tests commit it like the app would."""
    with app.app_context():
        db_session = app.extensions["adapter.sessionmaker"]()
        try:
            yield db_session
        finally:
            db_session.rollback()
            db_session.close()
