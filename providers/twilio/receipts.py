"""Twilio's status callback, parsed into the core's neutral delivery receipt."""

from __future__ import annotations

from collections.abc import Mapping

from adapter.errors import InvalidRequest
from adapter.models import MessageStatus
from adapter.provider import DeliveryReceipt, Verdict

from .errors import verdict_for

# Twilio's MessageStatus values, by what they mean for the adapter. Statuses before "sent"
# (accepted, queued, sending) say Twilio has the message, which the send's answer said already.
_STATUS = {
    "accepted": MessageStatus.SENT,
    "scheduled": MessageStatus.SENT,
    "queued": MessageStatus.SENT,
    "sending": MessageStatus.SENT,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}


def parse_status_callback(
    form: Mapping[str, str], message_id: str | None, channel: str
) -> DeliveryReceipt:
    """A receipt from Twilio's form fields and the ``message_id`` our callback URL carries."""
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if status not in _STATUS:
        raise InvalidRequest(f"unknown MessageStatus {status!r}")
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip() or None
    try:
        our_id = int(message_id) if message_id else None
    except ValueError:
        raise InvalidRequest("message_id must be a number") from None
    if our_id is None and sid is None:
        raise InvalidRequest("MessageSid is missing")
    raw_code = (form.get("ErrorCode") or "").strip()
    code: int | None = None
    if raw_code:
        try:
            code = int(raw_code)
        except ValueError:
            raise InvalidRequest(f"ErrorCode {raw_code!r} is not a number") from None
    return DeliveryReceipt(
        channel=channel,
        message_id=our_id,
        provider_message_id=sid,
        status=_STATUS[status].value,
        error_code=raw_code or None,
        verdict=verdict_for(code) if code is not None else Verdict.NONE,
    )
