"""Hostile and careless input (issue 8): every bad request is a 4xx saying what is wrong, never a
500 and never a half-written record; concurrent requests each get a consistent answer."""

from __future__ import annotations

import threading
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from support import TWILIO, api_caller, post_signed

from adapter.models import Contact, ContactEvent, Group, Message

PHONE = "+14155550100"
NUL = "a\x00b"
SURROGATE = "\ud800"


@pytest.fixture
def app(make_app):
    return make_app(**TWILIO)


@pytest.fixture
def api(app):
    return api_caller(app, "crm")


def rows(app, model, *where) -> int:
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        try:
            return session.scalar(select(func.count()).select_from(model).where(*where))
        finally:
            session.close()


def inbound_form(**fields: str) -> dict[str, str]:
    return {
        "MessageSid": "SM" + "1" * 32,
        "From": PHONE,
        "To": TWILIO["TWILIO_FROM"],
        "Body": "hello",
        "NumMedia": "0",
        **fields,
    }


# --- strings no database can store ------------------------------------------------------------


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "surrogate"])
@pytest.mark.parametrize("field", ["body", "idempotency_key"])
def test_unstorable_text_in_a_message_is_a_400_naming_the_field(app, api, field, bad):
    payload = {"to": PHONE, "body": "hi", field: bad}
    response = api("POST", "/api/v1/messages", json=payload)
    assert response.status_code == 400
    assert f"'{field}' contains a" in response.get_json()["error"]
    assert rows(app, Message) == 0
    assert rows(app, Contact) == 0


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "surrogate"])
@pytest.mark.parametrize(("field", "value"), [("name", "{}"), ("groups", ["{}"])])
def test_unstorable_text_in_a_contact_is_a_400_naming_the_field(app, api, field, value, bad):
    payload = {"phone": PHONE, field: value.format(bad) if isinstance(value, str) else [bad]}
    response = api("POST", "/api/v1/contacts", json=payload)
    assert response.status_code == 400
    assert f"'{field}' contains a" in response.get_json()["error"]
    assert rows(app, Contact) == 0
    assert rows(app, Group) == 0


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "surrogate"])
def test_unstorable_reason_is_a_400_and_the_status_stays(app, api, bad):
    assert api("POST", "/api/v1/contacts", json={"phone": PHONE}).status_code == 201
    response = api(
        "POST", f"/api/v1/contacts/{PHONE}/status", json={"status": "blocked", "reason": bad}
    )
    assert response.status_code == 400
    assert "'reason' contains a" in response.get_json()["error"]
    assert api("GET", f"/api/v1/contacts/{PHONE}").get_json()["status"] == "active"
    assert rows(app, ContactEvent) == 0


@pytest.mark.parametrize("path", [f"/api/v1/contacts/{NUL}", "/api/v1/contacts/%00"])
def test_a_nul_in_a_phone_in_the_url_is_a_400(api, path):
    response = api("GET", path)
    assert response.status_code == 400
    assert "phone number" in response.get_json()["error"]


def test_json_nested_100000_deep_is_a_400(app, api):
    deep = "[" * 100_000 + "]" * 100_000
    response = api(
        "POST", "/api/v1/messages", data=deep, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.get_json()["error"]


@pytest.mark.parametrize("message_id", ["2147483648", "9223372036854775808", "9" * 23])
def test_ids_beyond_the_column_are_a_404(api, message_id):
    response = api("GET", f"/api/v1/messages/{message_id}")
    assert response.status_code == 404
    assert "error" in response.get_json()


# --- webhooks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [{"MessageSid": NUL}, {"MessageSid": "SM" + "1" * 63}, {"MessageSid": "SM 1"}],
    ids=["nul", "65-characters", "space"],
)
def test_a_message_id_twilio_cannot_have_sent_is_a_400(app, fields):
    response = post_signed(app, "/twilio/inbound", inbound_form(**fields))
    assert response.status_code == 400
    assert "MessageSid must be 1 to 64 letters and digits" in response.get_data(as_text=True)
    assert rows(app, Message) == 0


def test_nul_in_an_inbound_body_and_media_url_is_kept_as_a_replacement_character(app):
    form = inbound_form(Body=NUL, NumMedia="1", MediaUrl0="https://media.example/" + NUL)
    assert post_signed(app, "/twilio/inbound", form).status_code == 200
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        message = session.scalars(select(Message)).one()
        assert message.body == "a\ufffdb"
        assert message.media == ["https://media.example/a\ufffdb"]
        session.close()


@pytest.mark.parametrize(
    ("query", "fields", "error"),
    [
        ({}, {"ErrorCode": "11111111111111111"}, "ErrorCode '11111111111111111' is not a number"),
        ({"message_id": "9223372036854775808"}, {}, "message_id must be a number up to"),
        ({"message_id": "2147483648"}, {}, "message_id must be a number up to"),
        ({"message_id": "1", "attempt": "9" * 30}, {}, "attempt must be a number up to"),
        ({}, {"MessageSid": NUL}, "MessageSid must be"),
        ({}, {"MessageSid": "SM" + "1" * 63}, "MessageSid must be"),
    ],
)
def test_status_callbacks_out_of_range_are_a_400(app, query, fields, error):
    path = "/twilio/status" + (f"?{urlencode(query)}" if query else "")
    form = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "failed", **fields}
    response = post_signed(app, path, form)
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)


# --- sizes ------------------------------------------------------------------------------------


def test_a_20_mb_json_body_is_refused_with_413_before_it_is_parsed(app, api):
    payload = '{"to": "' + PHONE + '", "body": "' + "x" * 20_000_000 + '"}'
    response = api(
        "POST", "/api/v1/messages", data=payload, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "error" in response.get_json()
    assert rows(app, Message) == 0


@pytest.mark.parametrize("size", [10_000_000, 20_000])
def test_an_inbound_body_far_beyond_twilio_is_refused_with_413(app, size):
    response = post_signed(app, "/twilio/inbound", inbound_form(Body="x" * size))
    assert response.status_code == 413
    assert rows(app, Message) == 0


def test_the_request_size_limit_is_a_setting(make_app):
    api = api_caller(make_app(MAX_CONTENT_LENGTH=100))
    response = api("POST", "/api/v1/messages", json={"to": PHONE, "body": "x" * 200})
    assert response.status_code == 413


# --- idempotency ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "second", [{"to": "+14155550101", "body": "hi"}, {"to": PHONE, "body": "something else"}]
)
def test_an_idempotency_key_reused_for_another_message_is_a_409(app, api, second):
    first = api(
        "POST", "/api/v1/messages", json={"to": PHONE, "body": "hi", "idempotency_key": "k"}
    )
    assert first.status_code == 202
    response = api("POST", "/api/v1/messages", json={**second, "idempotency_key": "k"})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert "idempotency_key 'k' was already used" in error
    assert f"message {first.get_json()['id']}" in error
    assert rows(app, Message) == 1


def test_the_same_request_with_its_key_is_the_same_message(api):
    payload = {"to": PHONE, "body": "hi", "idempotency_key": "k"}
    first = api("POST", "/api/v1/messages", json=payload)
    again = api("POST", "/api/v1/messages", json=payload)
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.get_json()["id"] == again.get_json()["id"]


# --- confusing answers ------------------------------------------------------------------------


def test_a_status_change_without_status_says_it_is_required(api):
    api("POST", "/api/v1/contacts", json={"phone": PHONE})
    response = api("POST", f"/api/v1/contacts/{PHONE}/status", json={"reason": "x"})
    assert response.status_code == 400
    assert "'status' is required" in response.get_json()["error"]


def test_a_status_in_capitals_is_taken(api):
    api("POST", "/api/v1/contacts", json={"phone": PHONE})
    response = api("POST", f"/api/v1/contacts/{PHONE}/status", json={"status": "Blocked"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "blocked"


def test_a_contact_created_blocked_is_blocked_with_an_event(app, api):
    response = api("POST", "/api/v1/contacts", json={"phone": PHONE, "status": "blocked"})
    assert response.status_code == 201
    assert response.get_json()["status"] == "blocked"
    events = api("GET", f"/api/v1/contacts/{PHONE}/events").get_json()["events"]
    assert [(e["old_value"], e["new_value"], e["source"]) for e in events] == [
        ("active", "blocked", "api")
    ]


def test_a_contact_created_stopped_cannot_join_groups(app, api):
    payload = {"phone": PHONE, "status": "stopped", "groups": ["news"]}
    response = api("POST", "/api/v1/contacts", json=payload)
    assert response.status_code == 400
    assert "cannot join groups" in response.get_json()["error"]
    assert rows(app, Contact) == 0


# --- logs -------------------------------------------------------------------------------------


def test_database_errors_carry_neither_the_values_nor_the_row(app, api):
    assert api("POST", "/api/v1/contacts", json={"phone": PHONE}).status_code == 201
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        session.add(Contact(phone=PHONE, name="Ada Lovelace", status="active"))
        with pytest.raises(IntegrityError) as caught:
            session.flush()
        session.close()
    text = str(caught.value)
    assert "uq_contacts_phone" in text or "contacts.phone" in text
    assert PHONE not in text
    assert "Ada Lovelace" not in text
    assert "DETAIL" not in text


# --- races ------------------------------------------------------------------------------------


def at_once(count: int, call) -> list:
    """``call(i)`` in ``count`` threads released together; their results in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        results[index] = call(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_messages_to_one_new_number_are_all_accepted(app, api):
    for round_ in range(10):
        phone = f"+1415555{round_:04d}"
        answers = at_once(
            4,
            lambda i, phone=phone: api(
                "POST", "/api/v1/messages", json={"to": phone, "body": f"hello {i}"}
            ),
        )
        assert [a.status_code for a in answers] == [202] * 4, [a.get_json() for a in answers]
        assert rows(app, Contact, Contact.phone == phone) == 1
    assert rows(app, Message) == 40


def test_concurrent_creation_of_one_contact_is_one_201_and_the_rest_409(app, api):
    for round_ in range(10):
        phone = f"+1415555{round_:04d}"
        answers = at_once(
            4,
            lambda i, phone=phone: api(
                "POST", "/api/v1/contacts", json={"phone": phone, "name": f"caller {i}"}
            ),
        )
        codes = sorted(a.status_code for a in answers)
        assert codes == [201, 409, 409, 409], [a.get_json() for a in answers]
        winner = next(a for a in answers if a.status_code == 201).get_json()
        assert all(
            "exists already" in a.get_json()["error"] for a in answers if a.status_code == 409
        )
        # The one stored is the one answered 201: nobody was told "created" and then dropped.
        assert api("GET", f"/api/v1/contacts/{phone}").get_json()["name"] == winner["name"]


def test_concurrent_contacts_naming_one_new_group_all_join_it(app, api):
    answers = at_once(
        4,
        lambda i: api(
            "POST", "/api/v1/contacts", json={"phone": f"+141555501{i:02d}", "groups": ["new"]}
        ),
    )
    assert [a.status_code for a in answers] == [201] * 4, [a.get_json() for a in answers]
    assert rows(app, Group) == 1


@pytest.mark.parametrize(
    ("method", "path", "payload", "error"),
    [
        ("POST", "/api/v1/groups", {"name": NUL}, "'name' contains a NUL"),
        ("POST", "/api/v1/groups", {"name": SURROGATE}, "'name' contains a lone surrogate"),
        ("PUT", f"/api/v1/groups/a%00b/members/{PHONE}", None, "'name' contains a NUL"),
        ("GET", "/api/v1/contacts?q=a%00b", None, "'q' contains a NUL"),
        ("GET", "/api/v1/contacts?cursor=9223372036854775808", None, "'cursor' must be"),
        ("GET", "/api/v1/messages?cursor=%C2%B2", None, "'cursor' must be"),
    ],
)
def test_groups_and_listings_refuse_what_cannot_be_stored_or_compared(
    app, api, method, path, payload, error
):
    response = api(method, path, json=payload)
    assert response.status_code == 400
    assert error in response.get_json()["error"]
    assert rows(app, Group) == 0
