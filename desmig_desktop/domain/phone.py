"""Phone numbers: Indonesian ones as the officers write them, foreign ones in E.164.

A PMI abroad has a number of the country they work in (+60 Malaysia, +852 Hong Kong, +886
Taiwan, +966 Saudi Arabia …). Those are parsed by ``phonenumbers`` (Google's libphonenumber
metadata, kept up to date upstream) rather than by hand-written rules per country; this module
is the one place in the domain that imports it (``tests/unit/test_layering.py`` allows exactly
this module), because the HQ server validates pushed records with this same code.

The rules:

* **Indonesian** (``0…``, ``62…``, ``+62…``): unchanged from before foreign numbers were
  accepted — separators dropped, then ``0``/``62``/``+62`` and 7–13 more digits. The number
  stays in the form it was typed (``0812…`` is not rewritten to ``+62812…``), so every number
  stored before this change is still valid and still compares equal.
* **Foreign**: ``+`` and the country code. Hard: the country code exists and the number has a
  possible length for that country (``is_possible_number``: lengths change rarely, so a laptop
  and the server with different ``phonenumbers`` releases agree). Soft: the digits do not match
  a number range of that country (``is_valid_number``: ranges are added every few months; a
  brand-new range must not make a real number unsaveable). Stored as E.164: ``+60123456789``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from desmig_desktop.domain.i18n import _

_SEPARATORS = re.compile(r"[\s\-().]")
_INDONESIAN = re.compile(r"^(\+62|62|0)\d{7,13}$")
_FOREIGN = re.compile(r"^\+[1-9]\d{6,14}$")  # "+", a country code and the number: 7–15 digits (E.164)


@dataclass(frozen=True)
class PhoneCheck:
    """The stored form of a phone number and what is wrong with it (``hard`` refuses it)."""

    value: str
    code: str | None = None
    message: str | None = None
    hard: bool = False


def allowed_formats() -> str:
    """The sentence every phone message ends with (also the field's tooltip)."""
    return _("Gunakan nomor Indonesia (0812…, 62812… atau +62812…) atau nomor luar negeri dengan + dan kode "
             "negara, misalnya +60 12 345 6789 (Malaysia) atau +852 9123 4567 (Hong Kong).")


def tidy(text: str) -> str:
    """The typed number without spaces, dashes, dots and brackets (the stored form of an Indonesian one)."""
    return _SEPARATORS.sub("", text)


def check_phone(text: str, *, soft: bool = True) -> PhoneCheck:
    """Classify an already tidied number; ``value`` is what to store. ``soft=False``: skip the
    number-range check, whose only finding is soft (the value and the hard findings are the same)."""
    if _INDONESIAN.match(text):
        return PhoneCheck(text)
    if text.startswith("+62") or not text.startswith("+"):
        return PhoneCheck(text, "phone", _("No. HP tidak valid. {formats}", formats=allowed_formats()), True)
    if not _FOREIGN.match(text):
        return PhoneCheck(text, "phone", _("No. HP luar negeri harus berisi + lalu 7–15 angka. {formats}",
                                           formats=allowed_formats()), True)
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        number = None
    country = number.country_code if number is not None else None
    if number is None or country is None or phonenumbers.region_code_for_country_code(country) == "ZZ":
        return PhoneCheck(text, "phone_country", _("Kode negara pada No. HP tidak dikenal. {formats}",
                                                   formats=allowed_formats()), True)
    region = phonenumbers.region_code_for_country_code(country)
    stored = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_possible_number(number):
        return PhoneCheck(stored, "phone_length", _(
            "Panjang No. HP tidak mungkin untuk nomor negara {country} (+{prefix}). {formats}",
            country=region, prefix=number.country_code, formats=allowed_formats()), True)
    if soft and not phonenumbers.is_valid_number(number):
        return PhoneCheck(stored, "phone_unusual", _(
            "No. HP ini tidak cocok dengan pola nomor negara {country} (+{prefix}); periksa lagi.",
            country=region, prefix=number.country_code))
    return PhoneCheck(stored)
