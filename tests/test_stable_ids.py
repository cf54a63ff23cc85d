"""Ids are never handed out twice (issue 8): on SQLite without AUTOINCREMENT, deleting the
newest rows gave their ids to the next ones, so an API client holding an id saw someone else's
message behind it."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from support import TWILIO, api_caller, post_signed

from adapter.db import make_engine
from adapter.models import Contact, ContactEvent, Message
from adapter.schema import MIGRATIONS, upgrade

OLD = "+14155550100"
NEW = "+14155550101"
TABLES = (Contact, Message, ContactEvent)


def inbound(app, sender: str, sid: int, body: str = "hello") -> None:
    form = {"MessageSid": f"SM{sid:032d}", "From": sender, "Body": body, "NumMedia": "0"}
    response = post_signed(app, "/twilio/inbound", form)
    assert response.status_code == 200, response.get_data(as_text=True)


def newest_ids(app) -> list[int]:
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        try:
            return [session.scalar(select(func.max(table.id))) or 0 for table in TABLES]
        finally:
            session.close()


def test_a_deleted_contacts_ids_are_never_given_to_new_rows(make_app):
    app = make_app(**TWILIO)
    api = api_caller(app)
    inbound(app, OLD, 1, "STOP")
    assert (
        api("POST", f"/api/v1/contacts/{OLD}/status", json={"status": "archived"}).status_code
        == 200
    )
    old = newest_ids(app)
    assert api("DELETE", f"/api/v1/contacts/{OLD}").status_code == 204

    inbound(app, NEW, 2, "STOP")
    assert (
        api("POST", f"/api/v1/contacts/{NEW}/status", json={"status": "archived"}).status_code
        == 200
    )
    new = newest_ids(app)
    assert all(n > o for n, o in zip(new, old, strict=True)), (old, new)
    # A client that kept the deleted message's id finds nothing there, not someone else's.
    assert api("GET", f"/api/v1/messages/{old[1]}").status_code == 404


def schema(url: str) -> dict[str, str]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT type || ' ' || name, sql FROM sqlite_master WHERE sql IS NOT NULL")
        ).all()
    engine.dispose()
    return dict(rows)


def test_the_sqlite_migration_keeps_every_row_index_and_trigger(make_app, tmp_path):
    url = f"sqlite:///{tmp_path / 'before.sqlite3'}"
    previous = ScriptDirectory(str(MIGRATIONS)).get_revision("0006").down_revision
    upgrade(url, str(previous))
    app = make_app(**TWILIO, DATABASE_URL=url, SCHEMA_CHECK=False)
    inbound(app, OLD, 1, "STOP")
    inbound(app, NEW, 2, "hello")
    before, counted = schema(url), newest_ids(app)

    upgrade(url)

    after = schema(url)
    # AUTOINCREMENT keeps each table's highest id ever in sqlite_sequence.
    assert sorted(after) == sorted([*before, "table sqlite_sequence"])
    for table in ("contacts", "messages", "contact_events"):
        assert "AUTOINCREMENT" in after[f"table {table}"]
        assert "AUTOINCREMENT" not in before[f"table {table}"]
    assert {k: v for k, v in after.items() if not k.startswith("table ")} == {
        k: v for k, v in before.items() if not k.startswith("table ")
    }
    assert newest_ids(app) == counted
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
    # The folder counts the admin page reads are still kept by their triggers.
    inbound(app, "+14155550102", 3)
    engine = make_engine(url)
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT sum(n) FROM contact_counts")).scalar()
        assert kept == connection.execute(text("SELECT count(*) FROM contacts")).scalar() == 3
    engine.dispose()
