"""Events to the application: the outbox, its delivery over real HTTP signed by the Standard
Webhooks scheme, retries and order per contact. Real database, Redis and HTTP server."""

from __future__ import annotations

import base64
import os
import threading
from datetime import timedelta

import pytest
from app_receiver import start_receiver
from rq import SimpleWorker
from sqlalchemy import func, select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from support import TWILIO, in_flight, post_signed, text_in

from adapter import outcomes, rules
from adapter.app_events.delivery import EVENTS_QUEUE, deliver_due, wake_events
from adapter.app_events.models import AppEvent, EventState
from adapter.db import transaction, utcnow
from adapter.models import EventSource
from adapter.outcomes import Outcome
from adapter.provider import DeliveryReceipt, SendResult
from adapter.queue import named_queue, redis_connection
from adapter.receipts import apply_receipt

SECRET = "whsec_" + base64.b64encode(b"application-side-secret-32-bytes").decode()
PHONES = ["+14155550101", "+14155550102", "+14155550103"]
STAFF = rules.Cause(source=EventSource.STAFF, actor="ops")


@pytest.fixture
def receiver():
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def app(make_app, receiver):
    return make_app(**TWILIO, APP_WEBHOOK_URL=receiver.url, APP_WEBHOOK_SECRET=SECRET)


def change(app, phone: str, action) -> None:  # type: ignore[no-untyped-def]
    with app.app_context(), transaction() as session:
        action(session, rules.get_or_create_contact(session, phone), STAFF)


def pending(app) -> int:
    with app.app_context(), transaction() as session:
        return session.scalar(
            select(func.count())
            .select_from(AppEvent)
            .where(AppEvent.state == EventState.PENDING.value)
        )


def deliver_all(app, rounds: int = 100) -> None:
    """Delivery rounds, the clock moved an hour on each, until nothing is pending."""
    now = utcnow()
    with app.app_context():
        for _ in range(rounds):
            if not pending(app):
                return
            deliver_due(now=now)
            now += timedelta(hours=1)
    raise AssertionError("events still pending")


def recorded(app) -> list[AppEvent]:
    with app.app_context(), transaction() as session:
        return list(session.scalars(select(AppEvent).order_by(AppEvent.id)))


def test_a_forwarded_request_verifies_with_the_standardwebhooks_library(app, receiver):
    form = {
        "MessageSid": "SM" + "7" * 32,
        "AccountSid": TWILIO["TWILIO_ACCOUNT_SID"],
        "From": PHONES[0],
        "To": TWILIO["TWILIO_FROM"],
        "Body": "is the shop open today?",
        "NumMedia": "0",
    }
    assert post_signed(app, "/twilio/inbound", form).status_code == 200
    deliver_all(app)

    [request] = receiver.requests
    payload = Webhook(SECRET).verify(request.body, request.headers)
    assert payload["type"] == "message.received"
    assert payload["data"]["from"] == PHONES[0]
    assert payload["data"]["body"] == "is the shop open today?"
    assert payload["data"]["contact_status"] == "active"
    other = "whsec_" + base64.b64encode(b"not-the-application-secret-32by").decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(request.body, request.headers)
    tampered = request.body.replace(b"open", b"shut")
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(tampered, request.headers)


@pytest.mark.parametrize("action", [rules.block, rules.archive])
def test_a_blocked_or_archived_contacts_messages_are_never_forwarded(app, receiver, action):
    change(app, PHONES[0], action)
    deliver_all(app)
    assert [r.event["type"] for r in receiver.accepted] == ["contact.status_changed"]

    for body in ("hello", "STOP", "START", "please call me"):
        text_in(app, PHONES[0], body)
    deliver_all(app)

    # Only the staff action was reported: not one of the person's messages or keywords.
    assert [r.event["type"] for r in receiver.accepted] == ["contact.status_changed"]
    assert len(recorded(app)) == 1


def test_a_stopped_contact_is_forwarded_and_opt_out_and_in_are_reported_in_order(app, receiver):
    text_in(app, PHONES[0], "STOP")
    text_in(app, PHONES[0], "sorry, wrong button")
    deliver_all(app)

    events = [r.event for r in receiver.accepted]
    assert [e["type"] for e in events] == [
        "message.received",
        "contact.opted_out",
        "message.received",
        "contact.opted_in",
    ]
    assert events[1]["data"]["source"] == "keyword"
    assert events[2]["data"]["contact_status"] == "stopped"
    assert events[3]["data"]["status"] == "active"


def test_the_receiver_down_for_a_while_then_back_gets_every_event_once_in_order(app, receiver):
    receiver.down = True
    for round_ in range(3):
        for phone in PHONES:
            text_in(app, phone, f"message {round_}")
    text_in(app, PHONES[1], "STOP")
    with app.app_context():
        for _ in range(4):
            deliver_due(now=utcnow() + timedelta(hours=_))
    assert receiver.requests and not receiver.accepted
    receiver.down = False
    receiver.fail_next = 5  # and still flaky when it comes back
    deliver_all(app)

    events = recorded(app)
    assert {e.state for e in events} == {"delivered"}
    accepted_ids = [r.webhook_id for r in receiver.accepted]
    # Every event accepted exactly once, under the webhook-id it was first tried with.
    assert sorted(accepted_ids) == sorted(e.webhook_id for e in events)
    assert len(set(accepted_ids)) == len(accepted_ids)
    assert {r.webhook_id for r in receiver.requests} == set(accepted_ids)
    # In order per contact: each contact's events arrived in the order they were recorded.
    for phone in PHONES:
        sent_order = [
            r.webhook_id
            for r in receiver.accepted
            if phone in (r.event["data"].get("from"), r.event["data"].get("phone"))
        ]
        recorded_order = [
            e.webhook_id for e in events if phone in (e.data.get("from"), e.data.get("phone"))
        ]
        assert sent_order == recorded_order
    bodies = [r.event["data"]["body"] for r in receiver.accepted if r.event["data"].get("from")]
    assert sorted(bodies) == sorted([*(f"message {n}" for n in range(3) for _ in PHONES), "STOP"])


def test_a_retry_carries_the_same_id_and_body_and_a_fresh_signature(app, receiver):
    receiver.fail_next = 1
    text_in(app, PHONES[0])
    deliver_all(app)
    first, second = receiver.requests
    assert (first.answered, second.answered) == (503, 204)
    assert first.webhook_id == second.webhook_id
    assert first.body == second.body
    for request in (first, second):
        Webhook(SECRET).verify(request.body, request.headers)


def test_an_event_failing_past_the_retry_window_is_given_up_and_frees_its_contact(make_app):
    receiver, server = start_receiver()
    try:
        app = make_app(
            **TWILIO,
            APP_WEBHOOK_URL=receiver.url,
            APP_WEBHOOK_SECRET=SECRET,
            APP_WEBHOOK_RETRY_SECONDS=3600,
        )
        receiver.fail_next = 2
        text_in(app, PHONES[0], "first")
        text_in(app, PHONES[0], "second")
        with app.app_context():
            deliver_due()  # first fails; second is held back behind it
            assert [r.event["data"]["body"] for r in receiver.requests] == ["first"]
            deliver_due(now=utcnow() + timedelta(hours=2))  # fails again, past the window
            deliver_due(now=utcnow() + timedelta(hours=2))
        states = [(e.data["body"], e.state) for e in recorded(app)]
        assert states == [("first", "failed"), ("second", "delivered")]
    finally:
        server.shutdown()
        server.server_close()


def test_a_change_that_rolls_back_records_no_event(app):
    with app.app_context():
        session = app.extensions["adapter.write_sessionmaker"]()
        contact = rules.get_or_create_contact(session, PHONES[0])
        session.commit()
        rules.stop(session, contact, STAFF)
        session.flush()
        session.rollback()
        session.close()
    assert recorded(app) == []


def test_nothing_is_recorded_without_app_webhook_url(make_app):
    app = make_app(**TWILIO)
    text_in(app, PHONES[0], "STOP")
    change(app, PHONES[1], rules.block)
    assert recorded(app) == []


def test_bulk_changes_are_reported_per_contact(app, receiver):
    for phone in PHONES:
        change(app, phone, lambda *args: None)
    with app.app_context(), transaction() as session:
        rules.bulk_set_status(session, "archived", rules.Cause(source=EventSource.BULK))
    deliver_all(app)
    data = [r.event["data"] for r in receiver.accepted]
    assert sorted(d["phone"] for d in data) == PHONES
    assert {(d["old_value"], d["new_value"], d["source"]) for d in data} == {
        ("active", "archived", "bulk")
    }


def test_message_status_is_reported_once_per_status(app, receiver):
    message_id = in_flight(app, PHONES[0])
    receipt = DeliveryReceipt(
        channel="twilio", message_id=message_id, provider_message_id="SM" + "9" * 32, status=""
    )
    with app.app_context():
        for status in ("sent", "delivered", "delivered"):
            apply_receipt(
                DeliveryReceipt(**{**receipt.__dict__, "status": status})  # a retried callback
            )
    deliver_all(app)
    data = [r.event["data"] for r in receiver.accepted]
    assert [(d["id"], d["status"], d["to"]) for d in data] == [
        (message_id, "sent", PHONES[0]),
        (message_id, "delivered", PHONES[0]),
    ]


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="SQLite lets one writer at a time: the race cannot happen there",
)
def test_a_stop_waits_for_a_status_report_of_its_contact_so_events_keep_their_order(app, receiver):
    """The worker records "sent" for a message while the person's STOP comes in. Had the STOP
    committed first, delivery would post contact.opted_out before the earlier-numbered
    message.status still uncommitted: out of order. The STOP waits for the report instead."""
    message_id = in_flight(app, PHONES[0])
    stopped = threading.Event()

    def person_says_stop() -> None:
        with app.app_context(), transaction() as session:
            contact = rules.get_or_create_contact(session, PHONES[0])
            rules.stop(session, contact, rules.Cause(source=EventSource.KEYWORD))
        stopped.set()

    with app.app_context():
        recorder = app.extensions["adapter.write_sessionmaker"]()
        try:
            outcomes.record(recorder, [Outcome(message_id, 1, result=SendResult("SM" + "7" * 32))])
            stop = threading.Thread(target=person_says_stop)
            stop.start()
            # The STOP is held off while the report is uncommitted...
            assert not stopped.wait(1.0)
            recorder.commit()
        finally:
            recorder.close()
        stop.join(10)
    # ...and commits right after it.
    assert stopped.is_set()
    deliver_all(app)
    assert [r.event["type"] for r in receiver.accepted] == ["message.status", "contact.opted_out"]


def test_the_worker_job_delivers_when_woken(app, receiver):
    text_in(app, PHONES[0])
    with app.app_context():
        assert wake_events(app)
        queue = named_queue(EVENTS_QUEUE, app)
        assert queue.count == 1
        SimpleWorker([queue], connection=redis_connection(app)).work(burst=True)
    assert [r.event["type"] for r in receiver.accepted] == ["message.received"]


def test_a_webhook_url_without_a_secret_is_refused_at_start(make_app):
    from adapter.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="APP_WEBHOOK_SECRET"):
        make_app(APP_WEBHOOK_URL="http://127.0.0.1:9/events")
