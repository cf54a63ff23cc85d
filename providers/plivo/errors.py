"""What Plivo's message error codes say about the recipient (SPEC §1.3; Plivo's error code list
for the MDR and status callbacks)."""

from __future__ import annotations

from adapter.provider import Verdict

_VERDICTS = {
    "200": Verdict.OPTED_OUT,  # the destination opted out (STOP) of the source number
    "50": Verdict.PHONE_INVALID,  # invalid destination number
    "70": Verdict.PHONE_INVALID,  # destination permanently unavailable
    "80": Verdict.UNREACHABLE,  # destination temporarily unavailable
    "20": Verdict.TRANSIENT,  # network error at the carrier
}


def verdict_for(code: str | None) -> Verdict:
    """The verdict for a Plivo error ``code``; spam (30) and the rest say nothing of the person."""
    return _VERDICTS.get((code or "").strip().lstrip("0") or "0", Verdict.NONE)
