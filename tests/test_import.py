"""`flask --app wsgi import-contacts FILE.csv`: batches, bad rows reported with their line,
idempotent, statuses recorded with source import. Real database and Redis."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from support import api_caller, text_in

from adapter.db import transaction
from adapter.models import Contact, ContactEvent

GOOD = ["+14155550101", "+14155550102", "+14155550103"]


@pytest.fixture
def api(app):
    return api_caller(app, "crm")


def run(app, tmp_path, text: str, *extra: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "contacts.csv"
    path.write_text(text, encoding="utf-8")
    return app.test_cli_runner().invoke(args=["import-contacts", str(path), *extra])


def contacts(app) -> dict[str, tuple[str, str | None, list[str]]]:
    with app.app_context(), transaction() as session:
        return {
            c.phone: (c.status, c.name, c.group_names)
            for c in session.scalars(select(Contact).order_by(Contact.phone))
        }


def events(app, phone: str) -> list[tuple[str | None, str, str, str | None]]:
    with app.app_context(), transaction() as session:
        return [
            (e.old_value, e.new_value, e.source, e.actor)
            for e in session.scalars(
                select(ContactEvent)
                .join(Contact, Contact.id == ContactEvent.contact_id)
                .where(Contact.phone == phone)
                .order_by(ContactEvent.id)
            )
        ]


BAD_FILE = """phone,name,groups,status
+14155550101,Ada,news;vip,
not a number,Bob,,
+14155550102,Cy,,asleep
+14155550101,Ada again,,
+14155550103,Di,news,blocked
+14155550104,Ed,,,surplus
(415) 555-0105,Flo,,active
"""


@pytest.mark.parametrize("batch_size", ["5000", "2"])
def test_an_import_with_bad_rows_reports_them_and_keeps_going(app, tmp_path, batch_size):
    result = run(app, tmp_path, BAD_FILE, "--batch-size", batch_size)
    assert result.exit_code == 0, result.output
    assert "3 created, 0 updated, 0 unchanged, 4 refused." in result.output
    assert "line 3: 'not a number' is not a phone number" in result.output
    assert "line 4: unknown status 'asleep'" in result.output
    assert "line 5: +14155550101 is on line 2 already" in result.output
    assert "line 7: more cells than the header has columns" in result.output
    assert "1 row(s) joined no group: the contact is not active." in result.output
    assert contacts(app) == {
        "+14155550101": ("active", "Ada", ["news", "vip"]),
        "+14155550103": ("blocked", "Di", []),
        "+14155550105": ("active", "Flo", []),  # the default region reads a national number
    }
    assert events(app, "+14155550103") == [("active", "blocked", "import", "import-contacts")]


def test_running_the_same_file_twice_changes_nothing_the_second_time(app, tmp_path):
    text = "phone,name,groups,status\n" + "".join(
        f"{phone},Person {n},news,{'blocked' if n == 2 else ''}\n" for n, phone in enumerate(GOOD)
    )
    first = run(app, tmp_path, text)
    assert "3 created, 0 updated, 0 unchanged, 0 refused." in first.output
    before = contacts(app), events(app, GOOD[2])
    second = run(app, tmp_path, text)
    assert "0 created, 0 updated, 3 unchanged, 0 refused." in second.output
    assert (contacts(app), events(app, GOOD[2])) == before


def test_updates_names_groups_and_statuses_but_never_resubscribes(app, tmp_path):
    run(app, tmp_path, "phone,name\n" + "".join(f"{p},Old\n" for p in GOOD))
    text_in(app, GOOD[1], "STOP")
    result = run(
        app,
        tmp_path,
        f"phone,name,groups,status\n{GOOD[0]},New,vip,\n{GOOD[1]},,vip,active\n{GOOD[2]},,,archived\n",
    )
    assert "0 created, 2 updated, 0 unchanged, 1 refused." in result.output
    assert f"line 3: {GOOD[1]} opted out: an import never makes a stopped contact active" in (
        result.output
    )
    assert contacts(app) == {
        GOOD[0]: ("active", "New", ["vip"]),
        GOOD[1]: ("stopped", "Old", []),
        GOOD[2]: ("archived", "Old", []),
    }
    assert events(app, GOOD[2]) == [("active", "archived", "import", "import-contacts")]


def test_a_deleted_opt_out_reimported_starts_stopped(app, api, tmp_path):
    text_in(app, GOOD[0], "STOP")
    api("POST", f"/api/v1/contacts/{GOOD[0]}/status", json={"status": "archived"})
    assert api("DELETE", f"/api/v1/contacts/{GOOD[0]}").status_code == 204

    result = run(app, tmp_path, f"phone,groups,status\n{GOOD[0]},news,active\n{GOOD[1]},news,\n")
    assert "2 created, 0 updated, 0 unchanged, 0 refused." in result.output
    assert "1 created stopped" in result.output
    assert contacts(app) == {GOOD[0]: ("stopped", None, []), GOOD[1]: ("active", None, ["news"])}
    [(old, new, source, _)] = events(app, GOOD[0])
    assert (old, new, source) == ("active", "stopped", "system")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name,status\nAda,active\n", "no 'phone' column"),
        ("phone,colour\n+14155550101,red\n", "unknown column(s) 'colour'"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_whole(app, tmp_path, text, words):
    result = run(app, tmp_path, text)
    assert result.exit_code != 0
    assert words in result.output
    assert contacts(app) == {}
