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
        ("+1.415.555.0100", "GB", "+14155550100"),
        ("(415) 555-0100", "US", "+14155550100"),
        ("4155550100", "US", "+14155550100"),
        ("07400 123456", "GB", "+447400123456"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+447400123456", "US", "+447400123456"),  # a + wins over the default region
    ],
)
def test_valid_numbers_come_back_in_e164(raw, region, expected):
    assert to_e164(raw, region) == expected


def test_the_default_region_decides_what_a_national_number_means():
    # The same digits are a London number for a GB deployment and nothing valid in the US.
    assert to_e164("020 7946 0018", "GB") == "+442079460018"
    with pytest.raises(InvalidPhone, match="not a valid phone number"):
        to_e164("020 7946 0018", "US")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "missing"),
        ("   ", "missing"),
        (None, "must be a string"),
        (14155550100, "must be a string"),
        (["+14155550100"], "must be a string"),
        ("hello", "not a phone number"),
        ("+", "not a phone number"),
        ("+1415555", "not a valid phone number"),
        ("+11234567890", "not a valid phone number"),  # the right length, no such area code
        ("+999123456789", "not a"),
        ("+1 415 555 0100 0100 0100 0100", "not a"),
        ("+1" + "5" * 80, "too long"),
        ("4" * 10_000, "too long"),
    ],
)
def test_invalid_numbers_raise_a_clear_error(raw, message):
    with pytest.raises(InvalidPhone, match=message) as caught:
        to_e164(raw, "US")
    # The API answers these with a 400 that says what is wrong.
    assert caught.value.http_status == 400
    assert caught.value.message == str(caught.value)


def test_a_number_without_plus_needs_a_region():
    with pytest.raises(InvalidPhone, match="not a phone number"):
        to_e164("4155550100", None)
