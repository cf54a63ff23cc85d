"""E.164 normalisation with `phonenumbers`, refused in our own words."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException

from .errors import InvalidPhone

# Longer than any E.164 number can be; refuse before handing megabytes to the parser.
_MAX_INPUT_LENGTH = 64
_LETTER = re.compile(r"[^\W\d_]")
_EXAMPLE = "e.g. +14155550100"


def to_e164(raw: object, default_region: str | None = None) -> str:
    """Return ``raw`` as an E.164 string, or raise :class:`InvalidPhone` saying why not.

    ``default_region`` (ISO 3166 alpha-2, e.g. ``US``) is used only for numbers written without
    a leading ``+``. Letters are never read as the digits they share a key with, and a number
    with an extension is refused: an SMS cannot reach an extension.
    """
    if not isinstance(raw, str):
        raise InvalidPhone('phone number must be a string in E.164 form, e.g. "+14155550100"')
    if not raw.strip():
        raise InvalidPhone(f"phone number is missing: give it in E.164 form, {_EXAMPLE}")
    text = raw.strip()
    if len(text) > _MAX_INPUT_LENGTH:
        raise InvalidPhone("phone number is too long to be a phone number")
    region = None if text.startswith("+") else default_region
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise InvalidPhone(_parse_error(text, region, exc)) from None
    if number.extension:
        raise InvalidPhone(f"{text!r} has an extension: a text message cannot reach one")
    if _LETTER.search(text):
        raise InvalidPhone(f"{text!r} has letters in it: write the number in digits, {_EXAMPLE}")
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"{text!r} is not a valid phone number{_hint(text, region)}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_error(text: str, region: str | None, exc: NumberParseException) -> str:
    if exc.error_type == NumberParseException.NOT_A_NUMBER:
        return f"{text!r} is not a phone number"
    if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        if region is None and not text.startswith("+"):
            return f"{text!r} has no country code: write it with + and one, {_EXAMPLE}"
        return f"{text!r} starts with no country code we know{_hint(text, region)}"
    why = "is too long" if exc.error_type == NumberParseException.TOO_LONG else "is too short"
    return f"{text!r} {why} to be a phone number{_hint(text, region)}"


def _hint(text: str, region: str | None) -> str:
    """What to try instead, for the mistakes people make most."""
    if text.startswith("00") and region is not None:
        return (
            f" for DEFAULT_REGION {region}: write an international number with + instead of 00, "
            f"e.g. +{text[2:].lstrip()}"
        )
    if not text.startswith("+"):
        return f" (read as a {region} number, DEFAULT_REGION; add + and the country code)"
    return ""
