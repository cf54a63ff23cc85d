"""The suppression list: a deleted contact's opt-out outlives it, and a contact created later
for the number, by any path, starts stopped. Real database and Redis."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from support import api_caller, text_in

from adapter import rules
from adapter.db import transaction
from adapter.gate import claim
from adapter.models import Contact, ContactEvent, EventSource
from adapter.suppressions import Suppression

PHONE = "+14155550100"


@pytest.fixture
def api(app):
    return api_caller(app, "crm")


def opted_out_and_deleted(app, api, phone: str = PHONE) -> None:
    text_in(app, phone, "STOP")
    assert (
        api("POST", f"/api/v1/contacts/{phone}/status", json={"status": "archived"}).status_code
        == 200
    )
    assert api("DELETE", f"/api/v1/contacts/{phone}").status_code == 204
    assert api("GET", f"/api/v1/contacts/{phone}").status_code == 404


def history(app, phone: str = PHONE) -> list[ContactEvent]:
    with app.app_context(), transaction() as session:
        contact_id = session.scalar(select(Contact.id).where(Contact.phone == phone))
        return list(
            session.scalars(
                select(ContactEvent)
                .where(ContactEvent.contact_id == contact_id)
                .order_by(ContactEvent.id)
            )
        )


def suppressions(app) -> list[Suppression]:
    with app.app_context(), transaction() as session:
        return list(session.scalars(select(Suppression)))


def test_deletion_keeps_a_keyed_hash_never_the_number(app, api):
    opted_out_and_deleted(app, api)
    [entry] = suppressions(app)
    assert len(entry.phone_hash) == 64
    assert PHONE not in entry.phone_hash and PHONE.lstrip("+") not in entry.phone_hash
    # Keyed: the plain hash of the number does not find it.
    import hashlib

    assert entry.phone_hash != hashlib.sha256(PHONE.encode()).hexdigest()


def test_a_contact_that_never_opted_out_leaves_nothing_behind(app, api):
    text_in(app, PHONE, "hello")
    api("POST", f"/api/v1/contacts/{PHONE}/status", json={"status": "archived"})
    assert api("DELETE", f"/api/v1/contacts/{PHONE}").status_code == 204
    assert suppressions(app) == []
    assert api("POST", "/api/v1/contacts", json={"phone": PHONE}).get_json()["status"] == "active"


def test_recreated_through_the_api_it_starts_stopped_in_no_group(app, api):
    opted_out_and_deleted(app, api)
    response = api("POST", "/api/v1/contacts", json={"phone": PHONE, "groups": ["news"]})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["status"], body["groups"]) == ("stopped", [])
    assert "opted out" in body["note"]
    [event] = history(app)
    assert (event.old_value, event.new_value, event.source) == ("active", "stopped", "system")
    assert "opted out on" in event.reason
    assert suppressions(app) == []  # the contact carries the opt-out again


def test_an_api_send_to_the_number_is_suppressed(app, api):
    opted_out_and_deleted(app, api)
    response = api("POST", "/api/v1/messages", json={"to": PHONE, "body": "hello again"})
    assert response.status_code == 202
    assert api("GET", f"/api/v1/contacts/{PHONE}").get_json()["status"] == "stopped"
    with app.app_context(), transaction() as session:
        batch = claim(session, "dev", 10)
    assert batch.claimed == []
    assert batch.suppressed == {"stopped": [response.get_json()["id"]]}


def test_recreated_by_an_inbound_message_it_follows_spec_1_2(app, api):
    opted_out_and_deleted(app, api)
    text_in(app, PHONE, "STOP")  # starts stopped, and an opt-out keeps it there
    assert [(e.new_value, e.source) for e in history(app)] == [("stopped", "system")]
    text_in(app, PHONE, "hi, I'd like the offers again")  # any other message brings it back
    assert api("GET", f"/api/v1/contacts/{PHONE}").get_json()["status"] == "active"


def test_bulk_deletion_remembers_every_opted_out_contact(app, api):
    phones = ["+14155550101", "+14155550102", "+14155550103"]
    text_in(app, phones[0], "STOP")
    text_in(app, phones[1], "STOP")
    text_in(app, phones[2], "hello")
    with app.app_context(), transaction() as session:
        rules.bulk_set_status(session, "archived", rules.Cause(source=EventSource.BULK))
    with app.app_context(), transaction() as session:
        assert rules.bulk_delete_archived(session) == 3
    assert len(suppressions(app)) == 2
    statuses = [
        api("POST", "/api/v1/contacts", json={"phone": phone}).get_json()["status"]
        for phone in phones
    ]
    assert statuses == ["stopped", "stopped", "active"]


def test_a_contact_stopped_while_blocked_is_remembered_too(app, api):
    api("POST", "/api/v1/contacts", json={"phone": PHONE})
    api("POST", f"/api/v1/contacts/{PHONE}/status", json={"status": "blocked"})
    text_in(app, PHONE, "STOP")  # recorded as consent on the blocked contact
    api("POST", f"/api/v1/contacts/{PHONE}/status", json={"status": "archived"})
    assert api("DELETE", f"/api/v1/contacts/{PHONE}").status_code == 204
    assert api("POST", "/api/v1/contacts", json={"phone": PHONE}).get_json()["status"] == "stopped"
