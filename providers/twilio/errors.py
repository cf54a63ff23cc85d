"""What Twilio's error codes say about the recipient (SPEC §1.3, Twilio's error dictionary)."""

from __future__ import annotations

from adapter.provider import Verdict

OPTED_OUT = frozenset({21610})  # "Attempt to send to unsubscribed recipient"
PHONE_INVALID = frozenset(
    {
        21211,  # invalid 'To' number
        21612,  # 'To' number cannot be reached by this sender / not SMS-capable
        21614,  # 'To' number is not a valid mobile number (landline)
        21635,  # 'To' number cannot be a landline
        30005,  # unknown destination handset
        30006,  # landline or unreachable carrier
    }
)
UNREACHABLE = frozenset({30003})  # handset unreachable: invalid only after three in a row
TRANSIENT = frozenset(
    {
        20429,  # too many requests
        63018,  # rate limit exceeded for the sender
        30008,  # unknown error
    }
)


def verdict_for(code: int | None, http_status: int | None = None) -> Verdict:
    """The verdict for a Twilio error ``code`` (or, without one, an HTTP status)."""
    if code in OPTED_OUT:
        return Verdict.OPTED_OUT
    if code in PHONE_INVALID:
        return Verdict.PHONE_INVALID
    if code in UNREACHABLE:
        return Verdict.UNREACHABLE
    if code in TRANSIENT:
        return Verdict.TRANSIENT
    if http_status is not None and (http_status == 429 or http_status >= 500):
        return Verdict.TRANSIENT
    # 30004 (blocked), 30007 (filtered) and the rest say nothing about the person.
    return Verdict.NONE
