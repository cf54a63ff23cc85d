"""Delivery receipts: Twilio's status callback parsed, then applied to the message and contact."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from support import TWILIO

from adapter import rules
from adapter.errors import InvalidRequest
from adapter.models import Contact, ContactEvent, Message, MessageKind, MessageStatus
from adapter.outbox import create_outbound
from adapter.provider import DeliveryReceipt
from adapter.receipts import apply_receipt
from providers.twilio.receipts import parse_status_callback

PHONE = "+14155550100"
SID = "SM" + "3" * 32


@pytest.fixture
def app(make_app):
    return make_app(**TWILIO)


def handed_over(app, status: MessageStatus = MessageStatus.SENT) -> int:
    """An outbound message Twilio has accepted (SID stored), as the worker leaves it."""
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        contact = rules.get_or_create_contact(session, PHONE)
        message = create_outbound(session, contact, "hi", kind=MessageKind.API, channel="twilio")
        message.status = status.value
        message.attempts = 1
        session.flush()
        if status == MessageStatus.SENT:
            message.provider_message_id = sid_for(message.id)
        session.commit()
        session.close()
        return message.id


def sid_for(message_id: int) -> str:
    return f"SM{message_id:032d}"


def receive(
    app, status: str, error_code: str | None = None, message_id=None, sid=None, attempt=None
) -> bool:
    form = {"MessageSid": sid or sid_for(message_id), "MessageStatus": status}
    if error_code:
        form["ErrorCode"] = error_code
    query = {"message_id": str(message_id)} if message_id else {}
    if attempt is not None:
        query["attempt"] = str(attempt)
    with app.app_context():
        return apply_receipt(parse_status_callback(form, query, channel="twilio"))


def state(app, message_id: int) -> tuple[Message, Contact, list[ContactEvent]]:
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        message = session.get(Message, message_id)
        contact = session.scalar(select(Contact).where(Contact.phone == PHONE))
        events = list(session.scalars(select(ContactEvent).order_by(ContactEvent.id)))
        session.close()
        return message, contact, events


def test_delivered_receipt_marks_the_message_delivered(app):
    message_id = handed_over(app)
    assert receive(app, "delivered", message_id=message_id)
    message, _, events = state(app, message_id)
    assert message.status == "delivered"
    assert events == []


def test_receipt_before_the_send_answer_finds_its_message_by_our_id(app):
    message_id = handed_over(app, MessageStatus.SENDING)
    assert receive(app, "delivered", message_id=message_id, sid=SID)
    message, _, _ = state(app, message_id)
    assert (message.status, message.provider_message_id) == ("delivered", SID)


def test_receipt_without_our_id_falls_back_to_the_provider_sid(app):
    message_id = handed_over(app)
    assert receive(app, "delivered", sid=sid_for(message_id))
    assert state(app, message_id)[0].status == "delivered"


def test_receipt_for_an_unknown_message_changes_nothing(app):
    assert receive(app, "delivered", sid="SM" + "9" * 32) is False


def test_out_of_order_receipts_never_move_a_message_backwards(app):
    message_id = handed_over(app)
    receive(app, "delivered", message_id=message_id)
    receive(app, "sent", message_id=message_id)
    receive(app, "queued", message_id=message_id)
    assert state(app, message_id)[0].status == "delivered"


def test_21610_in_a_receipt_stops_the_contact(app):
    message_id = handed_over(app)
    receive(app, "undelivered", "21610", message_id=message_id)
    message, contact, events = state(app, message_id)
    assert (message.status, message.error_code) == ("undelivered", "21610")
    assert contact.status == "stopped"
    assert (events[-1].source, events[-1].message_id) == ("provider", message_id)


def test_30006_in_a_receipt_marks_the_phone_invalid_not_stopped(app):
    message_id = handed_over(app)
    receive(app, "undelivered", "30006", message_id=message_id)
    _, contact, _ = state(app, message_id)
    assert (contact.status, contact.phone_valid) == ("active", False)


def test_30003_marks_phone_invalid_only_after_three_in_a_row(app):
    for _ in range(2):
        receive(app, "undelivered", "30003", message_id=handed_over(app))
    assert state(app, handed_over(app))[1].phone_valid is True
    receive(app, "undelivered", "30003", message_id=handed_over(app))
    assert state(app, handed_over(app))[1].phone_valid is False


def test_a_delivery_between_30003s_restarts_the_count(app):
    receive(app, "undelivered", "30003", message_id=handed_over(app))
    receive(app, "undelivered", "30003", message_id=handed_over(app))
    receive(app, "delivered", message_id=handed_over(app))
    receive(app, "undelivered", "30003", message_id=handed_over(app))
    receive(app, "undelivered", "30003", message_id=handed_over(app))
    assert state(app, handed_over(app))[1].phone_valid is True


def test_a_repeated_receipt_counts_once(app):
    message_id = handed_over(app)
    for _ in range(3):
        receive(app, "undelivered", "30003", message_id=message_id)
    assert state(app, message_id)[1].unreachable_count == 1


@pytest.mark.parametrize("code", ["30004", "30007"])
def test_blocked_and_filtered_fail_the_message_and_leave_the_contact(app, code):
    message_id = handed_over(app)
    receive(app, "failed", code, message_id=message_id)
    message, contact, events = state(app, message_id)
    assert (message.status, message.error_code) == ("failed", code)
    assert (contact.status, contact.phone_valid, events) == ("active", True, [])


@pytest.mark.parametrize("code", ["30008", "63018"])
def test_a_failure_after_the_hand_over_is_final_never_sent_again(app, code):
    # Twilio had the message; sending it again could text the person twice (SPEC §2).
    message_id = handed_over(app)
    receive(app, "failed", code, message_id=message_id)
    message, contact, _ = state(app, message_id)
    assert (message.status, message.error_code) == ("failed", code)
    assert contact.status == "active"


def test_a_receipt_for_an_earlier_attempts_sid_changes_nothing(app):
    message_id = handed_over(app)
    receive(app, "failed", "30008", message_id=message_id, sid="SM" + "e" * 32)
    message, _, _ = state(app, message_id)
    assert (message.status, message.error_code) == ("sent", None)
    assert message.provider_message_id == sid_for(message_id)


def test_a_receipt_for_an_earlier_attempt_before_the_answer_changes_nothing(app):
    # Attempt 2 is in flight (no sid yet); attempt 1's late callback must not settle it.
    message_id = handed_over(app, MessageStatus.SENDING)
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        session.get(Message, message_id).attempts = 2
        session.commit()
        session.close()
    receive(app, "failed", "30008", message_id=message_id, sid=SID, attempt=1)
    assert state(app, message_id)[0].status == "sending"
    receive(app, "delivered", message_id=message_id, sid=SID, attempt=2)
    assert state(app, message_id)[0].status == "delivered"


def test_a_message_that_ends_sent_carries_no_stale_error_code(app):
    message_id = handed_over(app, MessageStatus.SENDING)
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        session.get(Message, message_id).error_code = "20500"  # an earlier attempt's 500
        session.commit()
        session.close()
    receive(app, "sent", message_id=message_id, sid=SID)
    assert (state(app, message_id)[0].status, state(app, message_id)[0].error_code) == (
        "sent",
        None,
    )


@pytest.mark.parametrize(
    ("form", "message_id", "error"),
    [
        ({"MessageSid": SID}, None, "unknown MessageStatus"),
        ({"MessageSid": SID, "MessageStatus": "exploded"}, None, "unknown MessageStatus"),
        ({"MessageStatus": "delivered"}, None, "MessageSid is missing"),
        ({"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": "x"}, None, "ErrorCode"),
        ({"MessageSid": SID, "MessageStatus": "sent"}, "abc", "message_id must be a number"),
    ],
)
def test_malformed_callbacks_are_refused_with_a_reason(form, message_id, error):
    query = {"message_id": message_id} if message_id else {}
    with pytest.raises(InvalidRequest, match=error):
        parse_status_callback(form, query, channel="twilio")


def test_receipt_status_must_be_a_receipt_status(app):
    with app.app_context(), pytest.raises(ValueError):
        apply_receipt(DeliveryReceipt("twilio", 1, SID, status="queued"))
