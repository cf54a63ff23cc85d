"""What Bandwidth's messaging error codes say about the recipient (SPEC §1.3; Bandwidth's
messaging error codes)."""

from __future__ import annotations

from adapter.provider import Verdict

_VERDICTS = {
    "4775": Verdict.OPTED_OUT,  # the destination opted out (STOP) of messages from this sender
    "4720": Verdict.PHONE_INVALID,  # invalid destination: not a valid number
    "4721": Verdict.PHONE_INVALID,  # destination not in service
}


def verdict_for(code: str | None) -> Verdict:
    """The verdict for a Bandwidth ``errorCode``. 5xxx are carrier-side failures, worth one more
    try at most; after the hand-over a failure is final, so they say nothing of the person."""
    return _VERDICTS.get((code or "").strip(), Verdict.NONE)
