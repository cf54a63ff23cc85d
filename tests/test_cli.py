"""Operator commands and the schema guard."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from adapter import create_app
from adapter.apikeys import find_api_key, hash_key
from adapter.errors import SchemaOutOfDate
from adapter.models import ApiKey


def test_create_api_key_prints_the_key_once_and_stores_only_its_hash(app):
    result = app.test_cli_runner().invoke(args=["create-api-key", "billing"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith("sk_")
    assert "not shown again" in result.stderr
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        stored = session.scalars(select(ApiKey)).one()
        assert stored.name == "billing"
        assert stored.key_hash == hash_key(key)
        assert key not in (stored.key_hash, stored.name)
        assert find_api_key(session, key).id == stored.id
        assert find_api_key(session, key + "x") is None


def test_a_duplicate_key_name_is_a_clean_error(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["create-api-key", "billing"])
    result = runner.invoke(args=["create-api-key", "billing"])
    assert result.exit_code != 0
    assert "exists already" in result.output
    assert "Traceback" not in result.output


def test_the_app_refuses_an_empty_database_and_names_the_fix(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    with pytest.raises(SchemaOutOfDate, match="flask --app wsgi db upgrade"):
        create_app({"DATABASE_URL": url})


def test_db_upgrade_brings_a_new_database_up_to_date(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "SCHEMA_CHECK": False})
    runner = app.test_cli_runner()
    assert "none" in runner.invoke(args=["db", "current"]).output
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Database is at revision" in result.output
    create_app({"DATABASE_URL": url})  # starts now


def test_commands_needing_the_schema_refuse_an_old_one(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "SCHEMA_CHECK": False})
    result = app.test_cli_runner().invoke(args=["create-api-key", "x"])
    assert result.exit_code != 0
    assert "flask --app wsgi db upgrade" in result.output


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
        message = create_outbound(session, contact, "hi", kind=MessageKind.API)
        message.enqueued_at = None  # as the API leaves it when Redis was down
        session.commit()
    result = app.test_cli_runner().invoke(args=["requeue"])
    assert result.exit_code == 0, result.output
    assert "Queued 1 message(s)." in result.output
    assert send_queue(app).count == 1
