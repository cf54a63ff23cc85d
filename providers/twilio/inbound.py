"""Twilio's messaging webhook form, parsed into the core's neutral inbound message."""

from __future__ import annotations

import re
from collections.abc import Mapping

from adapter.errors import InvalidRequest, TooLarge
from adapter.inputs import without_nul
from adapter.provider import InboundMessage, Keyword

# Twilio accepts at most ten media items on one message.
MAX_MEDIA = 10
# Twilio's own keyword handling (Advanced Opt-Out) reports what it did in OptOutType.
_OPT_OUT_TYPE = {"STOP": Keyword.OPT_OUT, "START": Keyword.OPT_IN, "HELP": Keyword.HELP}
_DIGITS = re.compile(r"[0-9]{1,3}")
# Twilio's ids are two letters and 32 hex digits; anything else that fits the column is taken.
SID = re.compile(r"[A-Za-z0-9]{1,64}")
# Twilio joins a long text into at most 1,600 characters; far more is not from Twilio.
MAX_BODY = 16_000


def parse_sid(form: Mapping[str, str], *names: str) -> str | None:
    """The message id from the first of ``names`` present, None when none is, and
    :class:`InvalidRequest` when it is not an id Twilio could have sent."""
    sid = next((value.strip() for name in names if (value := form.get(name))), "")
    if not sid:
        return None
    if not SID.fullmatch(sid):
        raise InvalidRequest(f"{names[0]} must be 1 to 64 letters and digits")
    return sid


def parse_inbound(form: Mapping[str, str], channel: str) -> InboundMessage:
    """One neutral message from Twilio's form, or :class:`InvalidRequest` saying what is wrong.

    The sender is checked as a phone number by the core, which knows the default region.
    """
    sid = parse_sid(form, "MessageSid", "SmsMessageSid", "SmsSid")
    if sid is None:
        raise InvalidRequest("MessageSid is missing")
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
        without_nul(url)
        for index in range(int(raw_count))
        if (url := (form.get(f"MediaUrl{index}") or "").strip())
    ]
    text = form.get("Body") or ""
    if len(text) > MAX_BODY:
        raise TooLarge(f"Body is {len(text)} characters; at most {MAX_BODY} are taken")
    return InboundMessage(
        channel=channel,
        sender=sender,
        recipient=without_nul((form.get("To") or "").strip()) or None,
        text=without_nul(text),
        provider_message_id=sid,
        media=media,
        provider_keyword=_OPT_OUT_TYPE.get((form.get("OptOutType") or "").strip().upper()),
    )
