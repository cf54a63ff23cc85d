"""Checks every stored string and id passes: bad input is a 400, never a database error."""

from __future__ import annotations

from .errors import InvalidRequest

# Largest value of the INTEGER columns ids live in (PostgreSQL's int4); a bigger id names nothing.
MAX_ID = 2**31 - 1


def storable(value: str, field: str) -> str:
    """``value`` unchanged if every database can store it, else :class:`InvalidRequest`.

    PostgreSQL text holds no NUL character, and a lone surrogate is not Unicode at all (JSON's
    ``"\\ud800"`` decodes to one): neither can be stored, so neither is taken.
    """
    if "\x00" in value:
        raise InvalidRequest(f"'{field}' contains a NUL character (\\u0000): it cannot be stored")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest(
            f"'{field}' contains a lone surrogate (e.g. \\ud800), which is not valid Unicode"
        ) from None
    return value


def without_nul(value: str) -> str:
    """``value`` with each NUL replaced by U+FFFD: for text a provider delivered, which is kept
    rather than refused (the person already sent it)."""
    return value.replace("\x00", "\ufffd")
