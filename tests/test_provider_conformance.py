"""The provider contract, checked the same way for every registered provider.

Each provider has one row in provider_rows.ROWS (its signature scheme, its payloads as its
documentation shows them, its API's answers); every test here runs for every provider in
``providers.all_providers()``, and a provider without a row fails them all. Real database and
Redis; `responses` stands in for the providers' HTTP APIs only.
"""

from __future__ import annotations

import time

import pytest
import requests
import responses
from provider_rows import BASE, ROWS, Webhook
from sqlalchemy import func, select, update
from support import api_caller, make_due

from adapter.models import Contact, ContactEvent, Message
from adapter.provider import Keyword, Verdict
from adapter.worker import run_worker
from providers import all_providers

PHONE = "+14155550100"
# The development provider has no webhooks and no API: it is the one provider without a row.
REGISTERED = [provider.name for provider in all_providers() if provider.name != "dev"]


@pytest.fixture(params=REGISTERED)
def row(request):  # type: ignore[no-untyped-def]
    if request.param not in ROWS:
        pytest.fail(f"provider {request.param!r} has no row in tests/provider_rows.py ROWS")
    return ROWS[request.param]


@pytest.fixture
def app(make_app, row):  # type: ignore[no-untyped-def]
    return make_app(**row.config)


@pytest.fixture
def api_mock():  # type: ignore[no-untyped-def]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def post(app, hook: Webhook):  # type: ignore[no-untyped-def]
    return app.test_client().post(hook.path, data=hook.body, headers=hook.headers)


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        found = tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (Message, Contact, ContactEvent)
        )
        session.close()
        return found  # type: ignore[return-value]


def contact(app) -> Contact:
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        found = session.scalar(select(Contact).where(Contact.phone == PHONE))
        session.close()
        return found


def message(app, message_id: int) -> Message:
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        found = session.get(Message, message_id)
        session.close()
        return found


def text_in(app, row, text: str, n: int, marker: Keyword | None = None) -> None:
    response = post(app, row.sign(row.inbound(PHONE, text, n, marker)))
    assert response.status_code < 300, response.get_data(as_text=True)


def send(app, api_mock, row, reply) -> int:  # type: ignore[no-untyped-def]
    """One API message through the worker, the provider's API answering ``reply``."""
    if isinstance(reply, Exception):
        api_mock.post(row.api_url, body=reply)
    else:
        status, payload = reply
        api_mock.post(row.api_url, json=payload, status=status)
    response = api_caller(app)("POST", "/api/v1/messages", json={"to": PHONE, "body": "hi"})
    assert response.status_code == 202, response.get_json()
    run_worker(app, burst=True)
    return response.get_json()["id"]


def handed_over(app, api_mock, row, n: int = 7) -> tuple[int, str]:
    provider_id = row.provider_id(n)
    message_id = send(app, api_mock, row, row.accepted(provider_id))
    got = message(app, message_id)
    assert (got.status, got.provider_message_id) == ("sent", provider_id)
    return message_id, provider_id


# --- signatures ------------------------------------------------------------------------------


def test_a_validly_signed_inbound_message_is_stored(app, row):
    text_in(app, row, "hello", 1)
    assert counts(app)[0] == 1
    assert contact(app).status == "active"


@pytest.mark.parametrize("forgery", ["missing", "wrong", "stale"])
def test_a_forged_webhook_is_refused_and_changes_nothing(app, row, forgery):
    hook = row.inbound(PHONE, "STOP", 1)
    if forgery == "wrong":
        hook = row.sign(hook, wrong=True)
    elif forgery == "stale":
        if not row.signs_time:
            pytest.skip(f"{row.name}'s signature carries no time; its retries repeat the id")
        hook = row.sign(hook, at=time.time() - 600)
    response = post(app, hook)
    assert response.status_code == 403
    assert counts(app) == (0, 0, 0)


def test_a_signed_webhook_with_an_altered_body_is_refused(app, row):
    if not row.signs_body:
        pytest.skip(f"{row.name}'s credentials do not cover the body")
    signed = row.sign(row.inbound(PHONE, "hello", 1))
    altered = row.inbound(PHONE, "STOP", 1)
    response = post(app, Webhook(signed.path, altered.body, signed.headers))
    assert response.status_code == 403
    assert counts(app) == (0, 0, 0)


# --- inbound ----------------------------------------------------------------------------------


def test_stop_stops_the_contact_and_start_brings_it_back(app, row):
    text_in(app, row, "STOP", 1)
    assert contact(app).status == "stopped"
    text_in(app, row, "START", 2)
    assert contact(app).status == "active"


def test_the_providers_own_opt_out_marker_wins(app, row):
    if not row.has_marker:
        pytest.skip(f"{row.name} flags no keyword on inbound messages: its opt-outs come as errors")
    # Words we would not match, but the provider's keyword handling says it was an opt-out.
    text_in(app, row, "Arrête s'il vous plaît", 1, marker=Keyword.OPT_OUT)
    assert contact(app).status == "stopped"
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        event = session.scalars(select(ContactEvent).order_by(ContactEvent.id.desc())).first()
        session.close()
    assert (event.new_value, event.source) == ("stopped", "provider")
    text_in(app, row, "sure", 2, marker=Keyword.OPT_IN)
    assert contact(app).status == "active"


def test_a_retried_webhook_changes_nothing(app, row):
    hook = row.sign(row.inbound(PHONE, "STOP", 1))
    assert post(app, hook).status_code < 300
    before = counts(app)
    assert post(app, hook).status_code < 300
    assert counts(app) == before


# --- receipts ---------------------------------------------------------------------------------


def test_receipts_update_the_message_and_never_move_it_backwards(app, api_mock, row):
    message_id, provider_id = handed_over(app, api_mock, row)
    delivered = row.sign(row.receipt(message_id, 1, provider_id, "delivered"))
    assert post(app, delivered).status_code < 300
    assert message(app, message_id).status == "delivered"
    late_sent = row.sign(row.receipt(message_id, 1, provider_id, "sent"))
    assert post(app, late_sent).status_code < 300
    assert message(app, message_id).status == "delivered"


def test_a_receipt_that_beats_the_send_answer_finds_the_message_by_our_id(app, api_mock, row):
    message_id, provider_id = handed_over(app, api_mock, row)
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        session.execute(
            update(Message).where(Message.id == message_id).values(provider_message_id=None)
        )
        session.commit()
        session.close()
    assert (
        post(app, row.sign(row.receipt(message_id, 1, provider_id, "delivered"))).status_code < 300
    )
    got = message(app, message_id)
    assert (got.status, got.provider_message_id) == ("delivered", provider_id)


def test_a_forged_receipt_is_refused(app, api_mock, row):
    message_id, provider_id = handed_over(app, api_mock, row)
    forged = row.sign(row.receipt(message_id, 1, provider_id, "failed", "1"), wrong=True)
    assert post(app, forged).status_code == 403
    assert message(app, message_id).status == "sent"


def _assert_verdict(app, message_id: int, verdict: Verdict, code: str) -> None:
    got = message(app, message_id)
    assert got.status in ("failed", "undelivered")
    assert got.error_code == code
    person = contact(app)
    expected = {
        Verdict.OPTED_OUT: ("stopped", True),
        Verdict.PHONE_INVALID: ("active", False),
        Verdict.NONE: ("active", True),
    }[verdict]
    assert (person.status, person.phone_valid) == expected


@pytest.mark.parametrize("verdict", [Verdict.OPTED_OUT, Verdict.PHONE_INVALID, Verdict.NONE])
def test_each_mapped_receipt_error_acts_on_the_contact(app, api_mock, row, verdict):
    code = row.receipt_verdicts[verdict]
    message_id, provider_id = handed_over(app, api_mock, row)
    hook = row.sign(row.receipt(message_id, 1, provider_id, "failed", code))
    assert post(app, hook).status_code < 300
    _assert_verdict(app, message_id, verdict, code)


# --- sending ----------------------------------------------------------------------------------


@pytest.mark.parametrize("verdict", [Verdict.OPTED_OUT, Verdict.PHONE_INVALID, Verdict.NONE])
def test_each_mapped_send_error_acts_on_the_contact(app, api_mock, row, verdict):
    code = row.send_verdicts.get(verdict)
    if code is None:
        pytest.skip(f"{row.name} refuses a send with no code for this: it comes in the receipt")
    message_id = send(app, api_mock, row, row.refused(code))
    _assert_verdict(app, message_id, verdict, code)
    assert len(api_mock.calls) == 1


def test_a_send_carries_the_status_callback_url_with_our_id(app, api_mock, row):
    message_id, _ = handed_over(app, api_mock, row)
    [call] = api_mock.calls
    assert row.callback_url(call.request.body) == (
        f"{BASE}/{row.name}/status?message_id={message_id}&attempt=1"
    )


def test_a_transient_error_is_retried_and_sent_once(app, api_mock, row):
    status, payload = row.refused(row.transient_code)
    api_mock.post(row.api_url, json=payload, status=status)
    message_id = send(app, api_mock, row, row.accepted(row.provider_id(9)))
    assert message(app, message_id).status == "queued"
    make_due(app, message_id)
    run_worker(app, burst=True)
    got = message(app, message_id)
    assert (got.status, got.provider_message_id) == ("sent", row.provider_id(9))
    assert len(api_mock.calls) == 2


def test_a_send_whose_outcome_is_unknown_is_never_sent_again(app, api_mock, row):
    message_id = send(app, api_mock, row, requests.exceptions.ReadTimeout("no answer"))
    run_worker(app, burst=True)
    assert message(app, message_id).status == "sending"
    assert len(api_mock.calls) == 1
