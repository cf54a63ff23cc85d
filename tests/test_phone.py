"""E.164 normalisation with phonenumbers (SPEC §1)."""

from __future__ import annotations

import pytest

from adapter.errors import InvalidPhone
from adapter.phone import to_e164


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+14155550100", None, "+14155550100"),
        (" +1 (415) 555-0100 ", None, "+14155550100"),
        ("(415) 555-0100", "US", "+14155550100"),
        ("07400 123456", "GB", "+447400123456"),
        ("+447400123456", "US", "+447400123456"),  # a + wins over the default region
    ],
)
def test_valid_numbers_come_back_in_e164(raw, region, expected):
    assert to_e164(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "missing"),
        ("   ", "missing"),
        (None, "must be a string"),
        (14155550100, "must be a string"),
        ("hello", "not a phone number"),
        ("+1415555", "not a valid phone number"),
        ("+999123456789", "not a"),
        ("+1" + "5" * 80, "too long"),
    ],
)
def test_invalid_numbers_raise_a_clear_error(raw, message):
    with pytest.raises(InvalidPhone, match=message):
        to_e164(raw, "US")


def test_a_number_without_plus_needs_a_region():
    with pytest.raises(InvalidPhone):
        to_e164("4155550100", None)
