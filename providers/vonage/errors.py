"""What Vonage's SMS delivery error codes say about the recipient (SPEC §1.3; Vonage's SMS
delivery receipt codes, which the Messages API reports for the SMS channel)."""

from __future__ import annotations

from adapter.provider import Verdict

_VERDICTS = {
    "9": Verdict.OPTED_OUT,  # the recipient opted out of this sender (Opt-out Assist)
    "7": Verdict.PHONE_INVALID,  # number barred
    "33": Verdict.PHONE_INVALID,  # number deactivated / ported out of service
    "1": Verdict.TRANSIENT,  # throttled
}


def verdict_for(code: str | None) -> Verdict:
    return _VERDICTS.get((code or "").strip(), Verdict.NONE)


def error_code(error: object) -> str | None:
    """The code of a Messages API error object: its ``title`` when numeric, else the fragment
    of its ``type`` URL (``https://developer.vonage.com/api-errors/messages#1330``)."""
    if not isinstance(error, dict):
        return None
    title = str(error.get("title") or "").strip()
    if title.isascii() and title.isdigit():
        return title
    kind = str(error.get("type") or "")
    fragment = kind.rpartition("#")[2].strip()
    return fragment if fragment.isascii() and fragment.isdigit() else None
