"""The channel settings that steer the detector: ``<PREFIX>_OPT_OUT_INTENT`` (what an intent
does) and ``<PREFIX>_OPT_OUT_INTENT_LANGUAGES`` (which grammars read the messages)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from .detector import GRAMMARS

DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "es", "fr")


class Policy(StrEnum):
    """What an opt-out intent does (SPEC §3, *Revocation in a sentence*)."""

    # The contact is left as it is and gets one clarification a day.
    ASK = "ask"
    # As an opt-out keyword, with source ``intent``.
    STOP = "stop"
    # Only recorded and forwarded with ``"opt_out_intent": true``.
    FLAG = "flag"


def parse_policy(value: Any) -> Policy:
    """``ask`` (also for an unset or blank setting), ``stop`` or ``flag``, in any case."""
    text = str(value or "").strip().casefold()
    if not text:
        return Policy.ASK
    try:
        return Policy(text)
    except ValueError:
        choices = ", ".join(policy.value for policy in Policy)
        raise ValueError(f"OPT_OUT_INTENT must be one of {choices}, not {value!r}") from None


def parse_languages(value: Any) -> tuple[str, ...]:
    """Language codes separated by commas or spaces (``"en, fr"``), in the order the grammars
    are tried; an unset or blank setting gives English, Spanish and French."""
    codes: list[str] = []
    for code in str(value or "").replace(",", " ").split():
        code = code.strip().casefold()
        if code not in GRAMMARS:
            supported = ", ".join(GRAMMARS)
            raise ValueError(
                f"OPT_OUT_INTENT_LANGUAGES: no grammar for {code!r}; supported: {supported}"
            )
        if code not in codes:
            codes.append(code)
    return tuple(codes) or DEFAULT_LANGUAGES
