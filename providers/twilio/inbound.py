"""Twilio's messaging webhook form, parsed into the core's neutral inbound message."""

from __future__ import annotations

import re
from collections.abc import Mapping

from adapter.errors import InvalidRequest
from adapter.provider import InboundMessage, Keyword

# Twilio accepts at most ten media items on one message.
MAX_MEDIA = 10
# Twilio's own keyword handling (Advanced Opt-Out) reports what it did in OptOutType.
_OPT_OUT_TYPE = {"STOP": Keyword.OPT_OUT, "START": Keyword.OPT_IN, "HELP": Keyword.HELP}
_DIGITS = re.compile(r"[0-9]{1,3}")


def parse_inbound(form: Mapping[str, str], channel: str) -> InboundMessage:
    """One neutral message from Twilio's form, or :class:`InvalidRequest` saying what is wrong.

    The sender is checked as a phone number by the core, which knows the default region.
    """
    sid = (form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid") or "").strip()
    if not sid:
        raise InvalidRequest("MessageSid is missing")
    if len(sid) > 64:
        raise InvalidRequest("MessageSid is too long")
    sender = (form.get("From") or "").strip()
    if not sender:
        raise InvalidRequest("From is missing")
    if ":" in sender:
        # whatsapp:+1..., messenger:..., rcs:...: another channel sharing the webhook. Reading
        # the number out of it would answer a WhatsApp STOP by SMS.
        raise InvalidRequest(f"From {sender[:64]!r} is not an SMS sender")
    raw_count = (form.get("NumMedia") or "0").strip()
    # ASCII digits, and few of them: str.isdigit() also accepts "²", and a string of thousands
    # of digits, both of which int() refuses.
    if not _DIGITS.fullmatch(raw_count) or int(raw_count) > MAX_MEDIA:
        raise InvalidRequest(f"NumMedia must be a number from 0 to {MAX_MEDIA}")
    media = [
        url
        for index in range(int(raw_count))
        if (url := (form.get(f"MediaUrl{index}") or "").strip())
    ]
    return InboundMessage(
        channel=channel,
        sender=sender,
        recipient=(form.get("To") or "").strip() or None,
        text=form.get("Body") or "",
        provider_message_id=sid,
        media=media,
        provider_keyword=_OPT_OUT_TYPE.get((form.get("OptOutType") or "").strip().upper()),
    )
