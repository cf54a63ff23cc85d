"""What Telnyx's messaging error codes say about the recipient (SPEC §1.3)."""

from __future__ import annotations

from adapter.provider import Verdict

_VERDICTS = {
    "40300": Verdict.OPTED_OUT,  # "Blocked due to STOP message"
    "40001": Verdict.PHONE_INVALID,  # "Not routable": the destination cannot receive SMS
    "40006": Verdict.TRANSIENT,  # "Recipient server unavailable"
    "10011": Verdict.TRANSIENT,  # "Too many requests"
}


def verdict_for(code: str | None) -> Verdict:
    """The verdict for a Telnyx error ``code``; spam and content codes say nothing of the person."""
    return _VERDICTS.get((code or "").strip(), Verdict.NONE)


def first_error(errors: object) -> tuple[str | None, str]:
    """The code and title of the first entry of a Telnyx ``errors`` list."""
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code")
        return (str(code) if code is not None else None), str(errors[0].get("title") or "")
    return None, ""
