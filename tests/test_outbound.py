"""Outbound: the API's outbox, the gated worker, the Twilio sender and its error verdicts.

Real PostgreSQL/SQLite and real Redis; `responses` stands in for Twilio's HTTP API only.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import requests
import responses
from sqlalchemy import select
from support import ACCOUNT_SID, TWILIO, api_caller, make_due, post_signed

from adapter import rules
from adapter.db import transaction, utcnow
from adapter.dispatch import dispatch_channel, wake
from adapter.gate import claim
from adapter.models import Contact, ContactEvent, Message, MessageKind
from adapter.outbox import create_outbound
from adapter.queue import redis_connection, redis_key, send_queue
from adapter.reconcile import reconcile
from adapter.sendpool import shutdown_send_pool, worker_send_pool
from adapter.sweep import sweep
from adapter.worker import run_worker

MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
PHONE = "+14155550100"


def twilio_created(sid: str = "SM" + "1" * 32) -> dict:
    return {"sid": sid, "status": "queued", "account_sid": ACCOUNT_SID, "error_code": None}


def twilio_error(code: int, status: int = 400) -> dict:
    return {"code": code, "message": f"error {code}", "more_info": "", "status": status}


@pytest.fixture
def app(make_app):
    return make_app(**TWILIO)


@pytest.fixture
def api(app):
    return api_caller(app, "billing")


@pytest.fixture
def twilio():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def send(api, to: str = PHONE, body: str = "Your order shipped", **extra) -> int:
    response = api("POST", "/api/v1/messages", json={"to": to, "body": body, **extra})
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "queued"
    return response.get_json()["id"]


def work(app) -> None:
    run_worker(app, burst=True)


def message(app, message_id: int) -> Message:
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        found = session.get(Message, message_id)
        session.close()
        return found


def contact(app, phone: str = PHONE) -> Contact:
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        found = session.scalar(select(Contact).where(Contact.phone == phone))
        session.close()
        return found


def queue_message(app, body: str = "hi", enqueue_job: bool = True) -> int:
    """Create an outbound message to PHONE the way the API does, without going through HTTP."""
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        person = rules.get_or_create_contact(session, PHONE)
        created = create_outbound(session, person, body, kind=MessageKind.API)
        session.commit()
        session.close()
        if enqueue_job:
            wake(created.channel)
    return created.id


def sent_params(call) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(call.request.body).items()}


def test_message_to_active_contact_is_sent_once_with_the_right_parameters(app, api, twilio):
    twilio.post(MESSAGES_URL, json=twilio_created("SM" + "2" * 32), status=201)
    message_id = send(api)
    work(app)
    work(app)  # a second worker pass finds nothing more to do

    assert len(twilio.calls) == 1
    params = sent_params(twilio.calls[0])
    assert params["To"] == PHONE
    assert params["From"] == TWILIO["TWILIO_FROM"]
    assert params["Body"] == "Your order shipped"
    assert params["StatusCallback"] == (
        f"https://adapter.example.com/twilio/status?message_id={message_id}&attempt=1"
    )
    got = api("GET", f"/api/v1/messages/{message_id}").get_json()
    assert got["status"] == "sent"
    assert message(app, message_id).provider_message_id == "SM" + "2" * 32


def test_messaging_service_sid_is_sent_as_messaging_service(make_app, twilio):
    app = make_app(**{**TWILIO, "TWILIO_FROM": "MG" + "b" * 32})
    twilio.post(MESSAGES_URL, json=twilio_created(), status=201)
    queue_message(app)
    work(app)
    params = sent_params(twilio.calls[0])
    assert params["MessagingServiceSid"] == "MG" + "b" * 32
    assert "From" not in params


def test_stop_committed_after_enqueue_suppresses_the_message(app, api, twilio):
    twilio.post(MESSAGES_URL, json=twilio_created(), status=201)
    message_id = send(api)
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        target = rules.lock_contact(session, PHONE)
        rules.record_opt_out(session, target, rules.Cause(source=rules.EventSource.KEYWORD))
        session.commit()
        session.close()
    work(app)

    assert len(twilio.calls) == 0
    got = api("GET", f"/api/v1/messages/{message_id}").get_json()
    assert got["status"] == "suppressed"
    assert got["reason"] == "stopped"


@pytest.mark.parametrize("status", ["blocked", "archived"])
def test_blocked_and_archived_contacts_get_nothing(app, api, twilio, status):
    twilio.post(MESSAGES_URL, json=twilio_created(), status=201)
    api("POST", "/api/v1/contacts", json={"phone": PHONE})
    api("POST", f"/api/v1/contacts/{PHONE}/status", json={"status": status})
    message_id = send(api)
    work(app)
    assert len(twilio.calls) == 0
    assert message(app, message_id).reason == status


def test_21610_stops_the_contact_as_a_provider_opt_out(app, api, twilio):
    twilio.post(MESSAGES_URL, json=twilio_error(21610), status=400)
    message_id = send(api)
    work(app)

    got = api("GET", f"/api/v1/messages/{message_id}").get_json()
    assert got["status"] == "failed"
    assert got["error_code"] == "21610"
    assert contact(app).status == "stopped"
    events = api("GET", f"/api/v1/contacts/{PHONE}/events").get_json()["events"]
    assert events[0]["new_value"] == "stopped"
    assert events[0]["source"] == "provider"
    assert events[0]["message_id"] == message_id


def test_30006_marks_phone_invalid_and_later_messages_are_suppressed(app, api, twilio):
    twilio.post(MESSAGES_URL, json=twilio_error(30006), status=400)
    first = send(api)
    work(app)
    assert message(app, first).status == "failed"
    assert contact(app).phone_valid is False
    assert contact(app).status == "active"  # not an opt-out

    second = send(api, body="second try")
    work(app)
    assert len(twilio.calls) == 1
    got = api("GET", f"/api/v1/messages/{second}").get_json()
    assert (got["status"], got["reason"]) == ("suppressed", "phone_invalid")


@pytest.mark.parametrize("code", [30004, 30007, 21408])
def test_codes_that_say_nothing_about_the_person_leave_the_contact_alone(app, api, twilio, code):
    twilio.post(MESSAGES_URL, json=twilio_error(code), status=400)
    message_id = send(api)
    work(app)
    got = message(app, message_id)
    assert (got.status, got.error_code) == ("failed", str(code))
    person = contact(app)
    assert (person.status, person.phone_valid) == ("active", True)


def test_server_error_then_success_sends_exactly_once(app, api, twilio):
    # Retry-After keeps the retry minutes away, however slow the machine running the test.
    twilio.post(
        MESSAGES_URL, json=twilio_error(20500, 500), status=500, headers={"Retry-After": "300"}
    )
    twilio.post(MESSAGES_URL, json=twilio_created(), status=201)
    message_id = send(api)
    work(app)
    retrying = message(app, message_id)
    assert retrying.status == "queued"
    assert retrying.next_attempt_at > utcnow()
    work(app)  # not due yet: nothing happens
    assert len(twilio.calls) == 1

    make_due(app, message_id)
    work(app)
    work(app)
    assert len(twilio.calls) == 2
    assert [call.response.status_code for call in twilio.calls] == [500, 201]
    assert message(app, message_id).status == "sent"


def test_429_retry_after_is_honoured(app, api, twilio):
    twilio.post(
        MESSAGES_URL, json=twilio_error(20429, 429), status=429, headers={"Retry-After": "120"}
    )
    message_id = send(api)
    before = utcnow()
    work(app)
    got = message(app, message_id)
    assert got.status == "queued"
    assert got.next_attempt_at >= before + timedelta(seconds=119)
    assert got.next_attempt_at <= utcnow() + timedelta(seconds=121)


def test_connect_timeouts_are_retried_then_failed_after_the_last_attempt(make_app, twilio):
    app = make_app(**TWILIO, SEND_MAX_ATTEMPTS=2)
    twilio.post(MESSAGES_URL, body=requests.exceptions.ConnectTimeout("slow"))
    message_id = send(api_caller(app), body="hi")
    work(app)
    assert message(app, message_id).status == "queued"
    make_due(app, message_id)
    work(app)
    got = message(app, message_id)
    assert (got.status, got.error_code, got.attempts) == ("failed", "connect", 2)
    assert len(twilio.calls) == 2


@pytest.mark.parametrize(
    "failure",
    [requests.exceptions.ReadTimeout("no answer"), requests.exceptions.ConnectionError("reset")],
)
def test_a_send_that_may_have_arrived_is_never_sent_again(make_app, twilio, failure):
    app = make_app(**TWILIO, SENDING_TIMEOUT_SECONDS=0)
    twilio.post(MESSAGES_URL, body=failure)
    twilio.get(MESSAGES_URL, json={"messages": []})
    message_id = send(api_caller(app), body="hi")
    work(app)
    assert message(app, message_id).status == "sending"
    with app.app_context():
        # Twilio has no such message, and the timeout has passed: the application learns of it.
        assert reconcile() == 1
    got = message(app, message_id)
    assert (got.status, got.error_code) == ("failed", "outcome_unknown")
    assert len([call for call in twilio.calls if call.request.method == "POST"]) == 1


def test_the_reconciler_finds_a_send_whose_answer_was_lost(make_app, twilio):
    app = make_app(**TWILIO, SENDING_TIMEOUT_SECONDS=0)
    twilio.post(MESSAGES_URL, body=requests.exceptions.ReadTimeout("no answer"))
    message_id = send(api_caller(app), body="Your code is 1234")
    work(app)
    older = {
        "sid": "SM" + "0" * 32,
        "body": "Your code is 1234",
        "status": "delivered",
        "date_created": "Mon, 01 Jan 2024 00:00:00 +0000",
    }
    ours = {
        "sid": "SM" + "7" * 32,
        "body": "Your code is 1234",
        "status": "sent",
        "date_created": utcnow().strftime("%a, %d %b %Y %H:%M:%S +0000"),
    }
    twilio.get(MESSAGES_URL, json={"messages": [ours, older]})
    with app.app_context():
        assert reconcile() == 1
    got = message(app, message_id)
    assert (got.status, got.provider_message_id, got.error_code) == ("sent", "SM" + "7" * 32, None)
    lookup = next(call for call in twilio.calls if call.request.method == "GET")
    assert "To=%2B14155550100" in lookup.request.url


def test_redis_down_at_enqueue_still_accepts_then_delivers_once_redis_is_back(
    make_app, app, twilio
):
    twilio.post(MESSAGES_URL, json=twilio_created(), status=201)
    # The same database, but Redis unreachable for the web process.
    down = make_app(**TWILIO, REDIS_URL="redis://127.0.0.1:1/0")
    message_id = send(api_caller(down), body="still here")
    assert message(app, message_id).status == "queued"
    assert send_queue(app).count == 0

    # Redis is back: the worker's sweep wakes the channel, once however often it runs.
    with app.app_context():
        assert sweep() == 1
        sweep()
    assert send_queue(app).count == 1
    work(app)
    work(app)
    assert len(twilio.calls) == 1
    assert message(app, message_id).status == "sent"


def test_duplicate_jobs_for_one_message_send_it_once(app, api, twilio):
    twilio.post(MESSAGES_URL, json=twilio_created(), status=201)
    message_id = send(api)
    with app.app_context():
        # Jobs of the one-job-per-message design, as an upgrade may find them on Redis.
        for _ in range(2):
            send_queue(app).enqueue("adapter.sending.send_message", message_id)
    assert send_queue(app).count == 3
    work(app)
    assert len(twilio.calls) == 1


def test_worker_killed_between_sending_and_the_answer_never_sends_again(make_app, twilio):
    app = make_app(**TWILIO, SENDING_TIMEOUT_SECONDS=0)
    twilio.post(MESSAGES_URL, json=twilio_created(), status=201)
    twilio.get(MESSAGES_URL, json={"messages": []})
    created_id = queue_message(app)
    with app.app_context(), transaction() as session:
        # The worker commits `sending`, and dies before Twilio answers.
        assert len(claim(session, "twilio", 10).claimed) == 1
    work(app)
    assert not [call for call in twilio.calls if call.request.method == "POST"]
    assert message(app, created_id).status == "failed"
    assert message(app, created_id).error_code == "outcome_unknown"


def test_sends_per_second_limit_leaves_the_waiting_messages_untouched(make_app, twilio):
    app = make_app(**{**TWILIO, "TWILIO_SENDS_PER_SECOND": "1"})
    twilio.post(MESSAGES_URL, json=twilio_created(), status=201)
    ids = [queue_message(app, f"m{i}", enqueue_job=False) for i in range(3)]
    before = {i: message(app, i).modified_on for i in ids}
    with app.app_context():
        assert dispatch_channel("twilio") == 1
        assert dispatch_channel("twilio") == 0  # the one slot of this second is used
        worker_send_pool(app).wait_idle()
        shutdown_send_pool(app)
        scheduled = redis_connection(app).zscore(redis_key("scheduled"), "twilio")
    assert scheduled is not None and scheduled <= time.time() + 1.0
    statuses = [message(app, i).status for i in ids]
    assert statuses == ["sent", "queued", "queued"]
    assert len(twilio.calls) == 1
    # The waiting messages were not written to while they waited.
    assert [message(app, i).modified_on for i in ids[1:]] == [before[i] for i in ids[1:]]
    assert all(message(app, i).attempts == 0 for i in ids[1:])


def test_compliance_reply_reaches_a_stopped_contact_but_api_messages_do_not(app, twilio):
    twilio.post(MESSAGES_URL, json=twilio_created(), status=201)
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        person = rules.get_or_create_contact(session, PHONE)
        rules.stop(session, person, rules.Cause(source=rules.EventSource.KEYWORD))
        reply = create_outbound(
            session, person, "You are unsubscribed.", kind=MessageKind.COMPLIANCE
        )
        other = create_outbound(session, person, "Sale!", kind=MessageKind.API)
        session.commit()
        wake("twilio")
    work(app)
    assert message(app, reply.id).status == "sent"
    assert (message(app, other.id).status, message(app, other.id).reason) == (
        "suppressed",
        "stopped",
    )
    assert len(twilio.calls) == 1


def test_twilio_api_base_url_is_honoured(make_app, twilio):
    app = make_app(**TWILIO, TWILIO_API_BASE_URL="http://127.0.0.1:9999/stub")
    twilio.post(
        re.compile(r"http://127\.0\.0\.1:9999/stub/2010-04-01/Accounts/.*/Messages\.json"),
        json=twilio_created(),
        status=201,
    )
    created_id = queue_message(app)
    work(app)
    assert len(twilio.calls) == 1
    assert message(app, created_id).status == "sent"


def test_events_record_the_provider_as_source(app, api, twilio):
    twilio.post(MESSAGES_URL, json=twilio_error(21610), status=400)
    send(api)
    work(app)
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        event = session.scalars(select(ContactEvent)).one()
        assert (event.source, event.channel, event.old_value, event.new_value) == (
            "provider",
            "twilio",
            "active",
            "stopped",
        )


def _inbound(app, text: str, sid: str) -> None:
    form = {"From": PHONE, "To": TWILIO["TWILIO_FROM"], "Body": text, "MessageSid": sid}
    assert post_signed(app, "/twilio/inbound", form).status_code == 200


def test_start_then_stop_in_quick_succession_ends_on_the_opt_out_confirmation(app, twilio):
    twilio.post(MESSAGES_URL, json=twilio_created(), status=201)
    _inbound(app, "STOP", "SM" + "1" * 32)
    work(app)
    # START and, before the worker gets to its confirmation, STOP again.
    _inbound(app, "START", "SM" + "2" * 32)
    _inbound(app, "STOP", "SM" + "3" * 32)
    work(app)
    texts = [sent_params(call)["Body"] for call in twilio.calls]
    assert len(texts) == 2
    assert "unsubscribed" in texts[-1]  # the last word matches the contact: stopped
    assert contact(app).status == "stopped"
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        stale = session.scalars(select(Message).where(Message.keyword == "opt_in")).one()
        assert (stale.status, stale.reason) == ("suppressed", "stopped")
        session.close()


def test_stop_then_start_in_quick_succession_sends_no_stale_opt_out_confirmation(app, twilio):
    twilio.post(MESSAGES_URL, json=twilio_created(), status=201)
    _inbound(app, "STOP", "SM" + "1" * 32)
    _inbound(app, "START", "SM" + "2" * 32)
    work(app)
    texts = [sent_params(call)["Body"] for call in twilio.calls]
    assert len(texts) == 1
    assert "unsubscribed" not in texts[0]
    assert contact(app).status == "active"
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        stale = session.scalars(select(Message).where(Message.keyword == "opt_out")).one()
        assert (stale.status, stale.reason) == ("suppressed", "superseded")
        session.close()


def test_compliance_replies_are_claimed_ahead_of_a_backlog(make_app, twilio):
    app = make_app(**{**TWILIO, "TWILIO_SENDS_PER_SECOND": "1"})
    twilio.post(MESSAGES_URL, json=twilio_created(), status=201)
    for i in range(5):
        queue_message(app, f"newsletter {i}", enqueue_job=False)
    _inbound(app, "HELP", "SM" + "4" * 32)
    with app.app_context():
        assert dispatch_channel("twilio") == 1  # one slot this second
        worker_send_pool(app).wait_idle()
        shutdown_send_pool(app)
    assert "newsletter" not in sent_params(twilio.calls[0])["Body"]
