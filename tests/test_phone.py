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
        ("+999123456789", "no country code we know"),
        ("+1 415 555 0100 0100 0100 0100", "too long"),
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
    with pytest.raises(InvalidPhone, match="has no country code: write it with \\+"):
        to_e164("4155550100", None)


@pytest.mark.parametrize("raw", ["+1415555ABCD", "1-800-FLOWERS", "+1 415 555 O100"])
def test_letters_are_never_read_as_the_digits_on_their_key(raw):
    with pytest.raises(InvalidPhone, match="has letters in it: write the number in digits"):
        to_e164(raw, "US")


@pytest.mark.parametrize("raw", ["+14155550100 ext. 12", "+14155550100x12", "+14155550100;ext=7"])
def test_an_extension_is_refused_not_dropped(raw):
    with pytest.raises(InvalidPhone, match="has an extension: a text message cannot reach one"):
        to_e164(raw, "US")


def test_a_00_prefix_outside_its_region_gets_a_hint_to_use_plus():
    with pytest.raises(InvalidPhone) as caught:
        to_e164("0044 20 7946 0958", "US")
    assert "for DEFAULT_REGION US" in caught.value.message
    assert "with + instead of 00, e.g. +44 20 7946 0958" in caught.value.message
    # Where 00 is the international prefix, the same number is taken.
    assert to_e164("0044 20 7946 0958", "GB") == "+442079460958"


@pytest.mark.parametrize("raw", ["hello", "+1415555", "+999123456789"])
def test_errors_are_in_our_words_not_the_libraries(raw):
    with pytest.raises(InvalidPhone) as caught:
        to_e164(raw, "US")
    assert "The string supplied" not in caught.value.message
    assert "(1)" not in caught.value.message
