"""Per-kind rules on one coerced value: is this NIK, village code, date or amount acceptable?

``check_field`` runs the length limit and the rule of the field's kind (``Kind``) and records
hard errors (and the phone's soft warnings, unless ``Validation.wants_soft`` is off) on the
``Validation``. It sees one field only; rules that compare fields of a record live in
``record_rules``. It runs for every answered field of every record validated (push apply,
import), so the dispatch is one dict lookup.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from desmig_desktop.domain.fields import FieldSpec, Kind
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.issues import Lookup, Validation
from desmig_desktop.domain.nik import parse_nik
from desmig_desktop.domain.phone import check_phone
from desmig_desktop.domain.reference import is_village_code, load_countries

# How far ahead a planned date (``FieldSpec.planned``: a follow-up) may lie. Follow-ups are planned
# weeks or months ahead; two years (leap days included) leaves room for a yearly review while a
# mistyped year (2035 for 2025) is still refused.
PLANNING_HORIZON_DAYS = 2 * 366


@functools.cache
def _country_codes() -> frozenset[str]:
    return frozenset(c.code for c in load_countries())


def _check_choice(v: Validation, spec: FieldSpec, value: Any, today: dt.date, lookup: Lookup | None) -> None:
    if value not in spec.choice_values:
        v.hard(spec.key, "choice", _("Pilihan tidak dikenal."))


def _check_nik(v: Validation, spec: FieldSpec, value: Any, today: dt.date, lookup: Lookup | None) -> None:
    _parts, message = parse_nik(value)
    if message:
        v.hard(spec.key, "nik", message)


def _check_kk(v: Validation, spec: FieldSpec, value: Any, today: dt.date, lookup: Lookup | None) -> None:
    if len(value) != 16 or not (value.isascii() and value.isdigit()):
        v.hard(spec.key, "kk", _("No. KK harus tepat 16 digit angka."))


def _check_region(v: Validation, spec: FieldSpec, value: Any, today: dt.date, lookup: Lookup | None) -> None:
    if not is_village_code(value):
        v.hard(spec.key, "region_format", _(
            "Kode desa harus format Kemendagri PP.KK.CC.DDDD (contoh 32.01.05.2003), bukan kode BPS."))
    elif lookup is not None and not lookup.village_exists(value):
        v.hard(spec.key, "region_unknown", _("Kode desa tidak ada dalam daftar wilayah Kemendagri."))
    elif lookup is not None and not lookup.village_assigned(value):
        # the HQ would reject the op per op; refusing it here keeps it out of the queue
        v.hard(spec.key, "region_scope", _("Di luar desa tugas Anda."))


def _check_country(v: Validation, spec: FieldSpec, value: Any, today: dt.date, lookup: Lookup | None) -> None:
    if value not in _country_codes():
        v.hard(spec.key, "country", _("Kode negara tidak dikenal."))


def _check_phone(v: Validation, spec: FieldSpec, value: Any, today: dt.date, lookup: Lookup | None) -> None:
    found = check_phone(value, soft=v.wants_soft)
    if found.code is not None and found.message is not None:
        (v.hard if found.hard else v.soft)(spec.key, found.code, found.message)


def _check_digits(v: Validation, spec: FieldSpec, value: Any, today: dt.date, lookup: Lookup | None) -> None:
    if not (value.isascii() and value.isdigit()):
        v.hard(spec.key, "digits", _("Hanya boleh berisi angka."))
    elif spec.length is not None and len(value) != spec.length:
        v.hard(spec.key, "length", _("Harus tepat {count} digit.", count=spec.length))


def _check_date(v: Validation, spec: FieldSpec, value: Any, today: dt.date, lookup: Lookup | None) -> None:
    day = dt.date.fromisoformat(value)
    if day.year < 1900:
        v.hard(spec.key, "too_old", _("Tanggal tidak masuk akal (sebelum 1900)."))
    elif not spec.planned:
        if day > today:
            v.hard(spec.key, "future", _("Tanggal tidak boleh di masa depan."))
    elif day > today + dt.timedelta(days=PLANNING_HORIZON_DAYS):
        v.hard(spec.key, "too_far", _("Tanggal rencana paling lambat dua tahun dari hari ini."))


def _check_bounds(v: Validation, spec: FieldSpec, value: Any, today: dt.date, lookup: Lookup | None) -> None:
    if spec.minimum is not None and value < spec.minimum:
        v.hard(spec.key, "min", _("Tidak boleh kurang dari {value}.", value=spec.minimum))
    if spec.maximum is not None and value > spec.maximum:
        v.hard(spec.key, "max", _("Tidak boleh lebih dari {value}.", value=spec.maximum))


_KIND_CHECKS = {
    Kind.CHOICE: _check_choice, Kind.NIK: _check_nik, Kind.KK: _check_kk, Kind.REGION: _check_region,
    Kind.COUNTRY: _check_country, Kind.PHONE: _check_phone, Kind.DIGITS: _check_digits, Kind.DATE: _check_date,
    Kind.INT: _check_bounds, Kind.MONEY: _check_bounds, Kind.FLOAT: _check_bounds,
}


def check_field(v: Validation, spec: FieldSpec, value: Any, today: dt.date, lookup: Lookup | None) -> None:
    """Record on ``v`` what is wrong with ``value``, the coerced, non-empty answer to ``spec``."""
    if spec.max_length is not None and isinstance(value, str) and len(value) > spec.max_length:
        v.hard(spec.key, "too_long", _("Paling banyak {count} karakter.", count=spec.max_length))
    check = _KIND_CHECKS.get(spec.kind)
    if check is not None:
        check(v, spec, value, today, lookup)
