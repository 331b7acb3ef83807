"""Phone numbers at home and abroad (issue 20 §5): a table of valid and hostile numbers, through
``validate`` — the code the form, the import and the HQ server all run."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desmig_desktop.domain.phone import allowed_formats
from desmig_desktop.domain.privacy import mask_identifiers
from desmig_desktop.domain.validation import validate

TODAY = dt.date(2026, 6, 1)


def household(phone: object) -> dict[str, object]:
    return {"village_code": "32.01.05.2003", "head_name": "Budi", "visited_on": "2026-01-02", "consent": True,
            "phone": phone}


def phone_issues(phone: object) -> tuple[object, list[tuple[str, bool]]]:
    result = validate("households", household(phone), today=TODAY)
    return result.values.get("phone"), [(i.code, i.hard) for i in result.issues if i.field == "phone"]


@pytest.mark.parametrize("typed, stored", [
    # Indonesian numbers: kept as typed (as before), separators dropped
    ("081234567890", "081234567890"),
    ("0812-3456-7890", "081234567890"),
    ("0812 3456 7890", "081234567890"),
    ("(0274) 512345", "0274512345"),  # a landline in Yogyakarta
    ("+6281234567890", "+6281234567890"),
    ("+62 812 3456 7890", "+6281234567890"),
    ("6281234567890", "6281234567890"),
    ("08123456", "08123456"),  # the shortest the old rule took
    ("0060123456789", "0060123456789"),  # 0 and 12 digits: the old rule took it, so it stays valid
    # abroad: E.164
    ("+60 12-345 6789", "+60123456789"),  # Malaysia
    ("+852 9123 4567", "+85291234567"),  # Hong Kong
    ("+886 912 345 678", "+886912345678"),  # Taiwan
    ("+966 50 123 4567", "+966501234567"),  # Saudi Arabia
    ("+971 50 123 4567", "+971501234567"),  # United Arab Emirates
    ("+82 10-1234-5678", "+821012345678"),  # South Korea
    ("+65 8123 4567", "+6581234567"),  # Singapore
    ("+81 90-1234-5678", "+819012345678"),  # Japan
])
def test_valid_numbers_are_stored_normalised(typed: str, stored: str) -> None:
    value, issues = phone_issues(typed)
    assert (value, issues) == (stored, [])


@pytest.mark.parametrize("typed, code", [
    ("0812", "phone"),  # too short
    ("0812345", "phone"),
    ("08123456789012345", "phone"),  # too long
    ("+62 812", "phone"),  # Indonesian, too short
    ("62", "phone"),
    ("0812abc4567", "phone"),  # letters
    ("HP 081234567890", "phone"),
    ("nomor saya", "phone"),
    ("60123456789", "phone"),  # foreign without +: ambiguous, refused
    ("+60 12", "phone"),  # under 7 digits after +
    ("+", "phone"),
    ("++60123456789", "phone"),
    ("+0 123456789", "phone"),  # no country code starts with 0
    ("+999 1234567", "phone_country"),  # no such country code
    ("+0 60123456789", "phone"),
    ("+60 1234 5678 9012 345", "phone"),  # over 15 digits
    ("+852 1234", "phone_length"),  # too short for Hong Kong
    ("+60 12 3456 7890 123", "phone_length"),  # too long for Malaysia
    ("+1 202 555 01", "phone_length"),
])
def test_hostile_numbers_are_refused_with_the_allowed_formats(typed: str, code: str) -> None:
    _value, issues = phone_issues(typed)
    assert issues == [(code, True)]
    message = next(i.message for i in validate("households", household(typed), today=TODAY).issues)
    assert allowed_formats() in message


def test_a_possible_but_unallocated_foreign_number_is_a_warning_not_a_refusal() -> None:
    # Hong Kong numbers starting 1 are not allocated to phones; the length is right
    value, issues = phone_issues("+852 1234 5678")
    assert (value, issues) == ("+85212345678", [("phone_unusual", False)])


@pytest.mark.parametrize("country", ["+60", "+852", "+886", "+966", "+971", "+82", "+65", "+974"])
def test_foreign_number_is_stored_once_normalised_and_revalidates_unchanged(country: str) -> None:
    first = validate("households", household(f"{country} 5 0123 4567"), today=TODAY)
    again = validate("households", household(first.values["phone"]), today=TODAY)
    assert again.values["phone"] == first.values["phone"] and again.issues == first.issues


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789+ -()abc", max_size=20))
def test_any_text_is_either_stored_in_a_valid_form_or_refused(typed: str) -> None:
    result = validate("households", household(typed), today=TODAY)
    errors = [i for i in result.errors if i.field == "phone"]
    stored = result.values.get("phone")
    if stored is None or errors:
        return
    # what was stored validates again to itself: the server accepts what the laptop saved
    assert validate("households", household(stored), today=TODAY).values["phone"] == stored
    assert stored.startswith(("0", "62", "+")) and stored.lstrip("+").isdigit()


def test_a_stored_number_from_before_is_still_valid() -> None:
    # the old rule: 0/62/+62 then 7 to 13 digits; every such number still passes unchanged
    for prefix in ("0", "62", "+62"):
        for digits in range(7, 14):
            number = prefix + "8" * digits
            assert phone_issues(number) == (number, [])


def test_foreign_numbers_are_masked_in_logs() -> None:
    masked = mask_identifiers("hp +60123456789 dan +85291234567 atau +6281234567890")
    assert "60123456789" not in masked and "85291234567" not in masked and "81234567890" not in masked
    assert masked == "hp +60********* dan +85********* atau +62***********"
