"""Operator commands and the schema guard."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner
from flask.cli import FlaskGroup
from sqlalchemy import select

from adapter import create_app, schema
from adapter.apikeys import find_api_key, hash_key
from adapter.errors import SchemaOutOfDate
from adapter.models import ApiKey

UPGRADE = "flask --app wsgi db upgrade"


@pytest.fixture
def fresh_sqlite(tmp_path):
    """The URL of a new, empty SQLite database, and a list to put apps on it in (disposed after)."""
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    apps = []
    yield url, apps
    for app in apps:
        app.extensions["adapter.engine"].dispose()


def start(url, apps, **config):
    """create_app as gunicorn or a worker process calls it: outside any CLI command."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", **config})
    apps.append(app)
    return app


def flask_cli(url, apps):
    """`flask --app wsgi` on ``url``: the app is built while the command line is parsed."""

    def factory():
        return start(url, apps)

    return FlaskGroup(create_app=factory, load_dotenv=False, set_debug_flag=False)


def stored_keys(app):
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        try:
            return session.scalars(select(ApiKey)).all()
        finally:
            session.close()


# --- create-api-key ---------------------------------------------------------------------------


def test_create_api_key_prints_the_key_once_and_stores_only_its_hash(app):
    result = app.test_cli_runner().invoke(args=["create-api-key", "billing"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith("sk_")
    assert len(key) >= 40
    assert result.output.count(key) == 1
    assert "not shown again" in result.stderr
    (stored,) = stored_keys(app)
    assert stored.name == "billing"
    assert stored.key_hash == hash_key(key)
    assert key not in (stored.key_hash, stored.name)
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        assert find_api_key(session, key).id == stored.id
        assert find_api_key(session, key + "x") is None
        assert find_api_key(session, stored.key_hash) is None
        session.close()


def test_each_key_is_new(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["create-api-key", "billing"]).stdout.strip()
    second = runner.invoke(args=["create-api-key", "crm"]).stdout.strip()
    assert first != second
    assert {k.name for k in stored_keys(app)} == {"billing", "crm"}


def test_a_duplicate_key_name_is_a_clean_error(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["create-api-key", "billing"]).stdout.strip()
    result = runner.invoke(args=["create-api-key", "billing"])
    assert result.exit_code != 0
    assert "'billing' exists already" in result.output
    assert "Traceback" not in result.output
    assert "sk_" not in result.output
    (stored,) = stored_keys(app)
    assert stored.key_hash == hash_key(first)


def test_a_blank_key_name_is_a_clean_error(app):
    result = app.test_cli_runner().invoke(args=["create-api-key", "   "])
    assert result.exit_code != 0
    assert "needs a name" in result.output
    assert "Traceback" not in result.output
    assert stored_keys(app) == []


def test_commands_needing_the_schema_refuse_an_old_one(fresh_sqlite):
    url, apps = fresh_sqlite
    result = CliRunner().invoke(flask_cli(url, apps), ["create-api-key", "x"])
    assert result.exit_code != 0
    assert UPGRADE in result.output
    assert "Traceback" not in result.output


# --- db ---------------------------------------------------------------------------------------


def test_db_current_prints_the_revision(app):
    result = app.test_cli_runner().invoke(args=["db", "current"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == schema.head_revision()


def test_the_app_refuses_an_empty_database_and_names_the_fix(fresh_sqlite):
    url, apps = fresh_sqlite
    with pytest.raises(SchemaOutOfDate, match="has no schema yet") as caught:
        start(url, apps)
    assert f"`{UPGRADE}`" in str(caught.value)


def test_the_app_refuses_a_database_at_another_revision(fresh_sqlite):
    url, apps = fresh_sqlite
    schema.upgrade(url)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0000_old'")
    with pytest.raises(SchemaOutOfDate, match="is at revision 0000_old") as caught:
        start(url, apps)
    assert UPGRADE in str(caught.value)


def test_db_upgrade_brings_a_new_database_up_to_date(fresh_sqlite):
    url, apps = fresh_sqlite
    cli = flask_cli(url, apps)
    runner = CliRunner()
    before = runner.invoke(cli, ["db", "current"])
    assert before.exit_code == 0, before.output
    assert before.output.startswith("none")
    assert UPGRADE in before.output

    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"Database is at revision {schema.head_revision()}." in result.output

    after = runner.invoke(cli, ["db", "current"])
    assert after.output.strip() == schema.head_revision()
    app = start(url, apps)  # the web app and the worker start now
    key = app.test_cli_runner().invoke(args=["create-api-key", "first"])
    assert key.exit_code == 0, key.output
    # Running it again is harmless.
    again = runner.invoke(cli, ["db", "upgrade"])
    assert again.exit_code == 0, again.output
    assert [k.name for k in stored_keys(app)] == ["first"]


# --- commands needing Redis -------------------------------------------------------------------


@pytest.mark.parametrize("command", [["worker", "--burst"], ["requeue"]])
def test_commands_needing_redis_say_so_in_one_line(make_app, command):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    result = app.test_cli_runner().invoke(args=command)
    assert result.exit_code != 0
    assert "Redis at redis://127.0.0.1:1/0 does not answer" in result.output
    assert "REDIS_URL" in result.output
    assert "Traceback" not in result.output


def test_redis_password_is_not_printed(make_app):
    app = make_app(REDIS_URL="redis://:hunter2@127.0.0.1:1/0")
    result = app.test_cli_runner().invoke(args=["requeue"])
    assert "hunter2" not in result.output
    assert "***" in result.output


def test_requeue_queues_messages_left_behind(app):
    from adapter import rules
    from adapter.models import MessageKind
    from adapter.outbox import create_outbound
    from adapter.queue import send_queue

    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        contact = rules.get_or_create_contact(session, "+14155550100")
        create_outbound(session, contact, "hi", kind=MessageKind.API)
        session.commit()
        session.close()
    result = app.test_cli_runner().invoke(args=["requeue"])
    assert result.exit_code == 0, result.output
    assert "Woke 1 channel(s) with due messages." in result.output
    assert send_queue(app).count == 1


# --- dev --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "env", "bind"),
    [
        (None, {}, "127.0.0.1:8000"),
        (None, {"PORT": "9100"}, "127.0.0.1:9100"),
        (None, {"BIND": "0.0.0.0:9200"}, "0.0.0.0:9200"),
        (None, {"PORT": "9100", "BIND": "0.0.0.0:9200"}, "127.0.0.1:9100"),
        (9300, {"PORT": "9100", "BIND": "0.0.0.0:9200"}, "127.0.0.1:9300"),
    ],
)
def test_dev_serves_where_port_or_bind_say_and_the_banner_says_the_same(port, env, bind):
    from adapter.cli import dev_bind

    assert dev_bind(port, env) == bind


def test_dev_on_a_busy_port_says_so_in_one_line_and_starts_nothing(app):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = app.test_cli_runner().invoke(args=["dev", "--port", str(port)])
    assert result.exit_code != 0
    assert f"cannot serve on 127.0.0.1:{port}" in result.output
    assert "--port N or PORT=N" in result.output
    assert "Serving on" not in result.output
