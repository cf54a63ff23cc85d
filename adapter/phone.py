"""E.164 normalisation with `phonenumbers`."""

from __future__ import annotations

import phonenumbers

from .errors import InvalidPhone

# Longer than any E.164 number can be; refuse before handing megabytes to the parser.
_MAX_INPUT_LENGTH = 64


def to_e164(raw: object, default_region: str | None = None) -> str:
    """Return ``raw`` as an E.164 string, or raise :class:`InvalidPhone` saying why not.

    ``default_region`` (ISO 3166 alpha-2, e.g. ``US``) is used only for numbers written without
    a leading ``+``.
    """
    if not isinstance(raw, str):
        raise InvalidPhone('phone number must be a string in E.164 form, e.g. "+14155550100"')
    if not raw.strip():
        raise InvalidPhone("phone number is missing: give it in E.164 form, e.g. +14155550100")
    text = raw.strip()
    if len(text) > _MAX_INPUT_LENGTH:
        raise InvalidPhone("phone number is too long to be a phone number")
    region = None if text.startswith("+") else default_region
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"{text!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
