"""The application API of SPEC §5: authentication, validation, contacts, idempotency."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from support import api_caller

from adapter.models import Contact, Message
from adapter.queue import send_queue

PHONE = "+14155550100"


@pytest.fixture
def api(app):
    return api_caller(app, "crm")


def count(app, model) -> int:
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        try:
            return session.scalar(select(func.count()).select_from(model))
        finally:
            session.close()


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sk_wrong"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_requests_without_a_valid_key_get_401_and_change_nothing(app, api, headers):
    # `api` has created a real key: these requests do not carry it.
    response = app.test_client().post(
        "/api/v1/messages", json={"to": PHONE, "body": "hi"}, headers=headers
    )
    assert response.status_code == 401
    assert "API key" in response.get_json()["error"]
    assert count(app, Message) == 0


def test_accepted_message_is_committed_queued_and_on_the_queue(app, api):
    response = api("POST", "/api/v1/messages", json={"to": PHONE, "body": "hello"})
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued"
    assert api("GET", f"/api/v1/messages/{body['id']}").get_json()["status"] == "queued"
    assert send_queue(app).count == 1


def test_numbers_without_plus_use_the_default_region(make_app):
    api = api_caller(make_app(DEFAULT_REGION="GB"))
    response = api("POST", "/api/v1/messages", json={"to": "07400 123456", "body": "hi"})
    assert response.status_code == 202
    assert response.get_json()["to"] == "+447400123456"


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"body": "hi"}, "'to' is required"),
        ({"to": PHONE}, "'body' is required"),
        ({"to": PHONE, "body": "   "}, "'body' is empty"),
        ({"to": PHONE, "body": 42}, "'body' must be a string, not a number"),
        ({"to": "not a number", "body": "hi"}, "not a phone number"),
        ({"to": "+1415555", "body": "hi"}, "not a valid phone number"),
        ({"to": 14155550100, "body": "hi"}, "'to' must be a string, not a number: a phone"),
        ({"to": PHONE, "body": "x" * 1601}, "at most 1600"),
        ({"to": PHONE, "body": "hi", "idempotency_key": 7}, "'idempotency_key' must be"),
        ({"to": PHONE, "body": "hi", "idempotency_key": "k" * 201}, "longer than 200"),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_bad_message_input_is_a_400_that_says_what_is_wrong(app, api, payload, error):
    response = api("POST", "/api/v1/messages", json=payload)
    assert response.status_code == 400
    assert error in response.get_json()["error"]
    assert count(app, Message) == 0
    assert count(app, Contact) == 0


@pytest.mark.parametrize(
    "content_type", [None, "application/x-www-form-urlencoded", "text/plain; charset=utf-8"]
)
def test_json_labelled_as_something_else_is_read_as_json(app, api, content_type):
    """``curl -d '{...}'`` without ``-H "Content-Type: application/json"`` sends a form label."""
    headers = {"Content-Type": content_type} if content_type else {}
    data = b'{"to": "+14155550100", "body": "hi"}'
    response = api("POST", "/api/v1/messages", data=data, headers=headers)
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["to"] == PHONE


def test_a_real_form_is_refused_as_not_json(app, api):
    response = api("POST", "/api/v1/messages", data={"to": PHONE, "body": "hi"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "the request body must be a JSON object"
    assert count(app, Message) == 0


def test_malformed_json_is_a_400(app, api):
    response = api(
        "POST", "/api/v1/messages", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "the request body must be a JSON object"


def test_same_idempotency_key_returns_the_first_message_and_queues_once(app, api):
    payload = {"to": PHONE, "body": "pay now", "idempotency_key": "invoice-17"}
    first = api("POST", "/api/v1/messages", json=payload)
    second = api("POST", "/api/v1/messages", json=payload)
    assert first.status_code == second.status_code == 202
    assert first.get_json()["id"] == second.get_json()["id"]
    assert count(app, Message) == 1
    assert send_queue(app).count == 1


def test_unknown_message_and_unknown_route_are_json_404s(api):
    response = api("GET", "/api/v1/messages/999999")
    assert response.status_code == 404
    assert "no message" in response.get_json()["error"]
    response = api("GET", "/api/v1/nothing-here")
    assert response.status_code == 404
    assert "error" in response.get_json()
    response = api("PUT", "/api/v1/messages")
    assert response.status_code == 405
    assert "error" in response.get_json()


def test_contact_create_read_and_conflict(api):
    response = api(
        "POST", "/api/v1/contacts", json={"phone": PHONE, "name": "Ann", "groups": ["news", "vip"]}
    )
    assert response.status_code == 201
    assert response.get_json() == {
        "phone": PHONE,
        "name": "Ann",
        "status": "active",
        "phone_valid": True,
        "last_seen_on": None,
        "groups": ["news", "vip"],
    }
    assert api("GET", "/api/v1/contacts/%2B14155550100").get_json()["name"] == "Ann"
    again = api("POST", "/api/v1/contacts", json={"phone": PHONE})
    assert again.status_code == 409
    assert "exists already" in again.get_json()["error"]


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({}, "'phone' is required"),
        ({"phone": "12"}, "phone number"),
        ({"phone": PHONE, "groups": "news"}, "'groups' must be a list"),
        ({"phone": PHONE, "groups": [""]}, "'groups[0]' is empty"),
        ({"phone": PHONE, "name": ""}, "'name' is empty"),
    ],
)
def test_bad_contact_input_is_a_400(app, api, payload, error):
    response = api("POST", "/api/v1/contacts", json=payload)
    assert response.status_code == 400
    assert error in response.get_json()["error"]
    assert count(app, Contact) == 0


def test_unknown_contact_is_a_404(api):
    for path in (f"/api/v1/contacts/{PHONE}", f"/api/v1/contacts/{PHONE}/events"):
        response = api("GET", path)
        assert response.status_code == 404
        assert "no contact" in response.get_json()["error"]
    response = api("POST", f"/api/v1/contacts/{PHONE}/status", json={"status": "blocked"})
    assert response.status_code == 404


def test_status_change_records_the_key_and_reason_and_history_is_newest_first(api):
    api("POST", "/api/v1/contacts", json={"phone": PHONE, "groups": ["news"]})
    response = api(
        "POST",
        f"/api/v1/contacts/{PHONE}/status",
        json={"status": "stopped", "reason": "asked by phone"},
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "stopped"
    assert response.get_json()["groups"] == []
    api("POST", f"/api/v1/contacts/{PHONE}/status", json={"status": "active"})

    events = api("GET", f"/api/v1/contacts/{PHONE}/events").get_json()["events"]
    assert [(e["old_value"], e["new_value"]) for e in events] == [
        ("stopped", "active"),
        ("active", "stopped"),
    ]
    assert events[1]["source"] == "api"
    assert events[1]["actor"] == "crm"
    assert events[1]["reason"] == "asked by phone"
    assert events[1]["groups_left"] == ["news"]
    # Reactivation does not re-add groups.
    assert api("GET", f"/api/v1/contacts/{PHONE}").get_json()["groups"] == []


def test_unknown_status_is_a_400_that_lists_the_valid_ones(api):
    api("POST", "/api/v1/contacts", json={"phone": PHONE})
    response = api("POST", f"/api/v1/contacts/{PHONE}/status", json={"status": "deleted"})
    assert response.status_code == 400
    assert "active, stopped, blocked, archived" in response.get_json()["error"]


def test_unblocking_someone_who_opted_out_returns_them_stopped_with_a_note(app, api):
    api("POST", "/api/v1/contacts", json={"phone": PHONE})
    api("POST", f"/api/v1/contacts/{PHONE}/status", json={"status": "blocked"})
    from adapter import rules

    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        person = rules.lock_contact(session, PHONE)
        rules.record_opt_out(session, person, rules.Cause(source=rules.EventSource.KEYWORD))
        session.commit()
    response = api("POST", f"/api/v1/contacts/{PHONE}/status", json={"status": "active"})
    assert response.get_json()["status"] == "stopped"
    assert "opted out" in response.get_json()["note"]


def test_delete_is_refused_unless_archived(app, api):
    api("POST", "/api/v1/contacts", json={"phone": PHONE})
    api("POST", "/api/v1/messages", json={"to": PHONE, "body": "hi"})
    refused = api("DELETE", f"/api/v1/contacts/{PHONE}")
    assert refused.status_code == 409
    assert "archive it first" in refused.get_json()["error"]
    assert count(app, Contact) == 1

    api("POST", f"/api/v1/contacts/{PHONE}/status", json={"status": "archived"})
    assert api("DELETE", f"/api/v1/contacts/{PHONE}").status_code == 204
    assert count(app, Contact) == 0
    assert count(app, Message) == 0
    assert api("GET", f"/api/v1/contacts/{PHONE}").status_code == 404
