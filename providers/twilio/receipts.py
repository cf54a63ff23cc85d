"""Twilio's status callback, parsed into the core's neutral delivery receipt."""

from __future__ import annotations

import re
from collections.abc import Mapping

from adapter.errors import InvalidRequest
from adapter.models import MessageStatus
from adapter.provider import DeliveryReceipt, Verdict
from adapter.webhooks import callback_reference

from .errors import verdict_for
from .inbound import parse_sid

# Twilio's error codes are five digits; the column keeps up to nine.
_ERROR_CODE = re.compile(r"[0-9]{1,9}")

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


def receipt_status(twilio_status: str) -> str | None:
    """The adapter's status for one of Twilio's MessageStatus values; None when unknown."""
    status = _STATUS.get(twilio_status.strip().lower())
    return status.value if status else None


def parse_status_callback(
    form: Mapping[str, str], query: Mapping[str, str], channel: str
) -> DeliveryReceipt:
    """A receipt from Twilio's form fields and the ``message_id`` and ``attempt`` our callback
    URL carries."""
    raw_status = form.get("MessageStatus") or form.get("SmsStatus") or ""
    status = receipt_status(raw_status)
    if status is None:
        raise InvalidRequest(f"unknown MessageStatus {raw_status.strip().lower()!r}")
    sid = parse_sid(form, "MessageSid", "SmsSid")
    our_id, attempt = callback_reference(query)
    if our_id is None and sid is None:
        raise InvalidRequest("MessageSid is missing")
    raw_code = (form.get("ErrorCode") or "").strip()
    code: int | None = None
    if raw_code:
        if not _ERROR_CODE.fullmatch(raw_code):
            raise InvalidRequest(f"ErrorCode {raw_code[:20]!r} is not a number of up to 9 digits")
        code = int(raw_code)
    return DeliveryReceipt(
        channel=channel,
        message_id=our_id,
        provider_message_id=sid,
        status=status,
        error_code=raw_code or None,
        verdict=verdict_for(code) if code is not None else Verdict.NONE,
        attempt=attempt,
    )
