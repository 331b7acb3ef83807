"""Validation of one record against the questionnaire: hard errors refuse, soft warnings ask.

A message names the rule, never the value checked (SECURITY.md): the HQ returns these messages
to the pushing client and stores them, so a value in one would reflect client text; the form
shows the value next to its message anyway.

Used identically by the desktop (forms, import, demo) and by the HQ server (push). Input values
may be raw (strings from a form or a CSV cell); the result carries the normalised values.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol

from desmig_desktop.domain import umkm
from desmig_desktop.domain.fields import ENTITIES, EntitySpec, FieldSpec, Kind, entity
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.geo import FAR_KM, km_outside_province
from desmig_desktop.domain.household_checks import education_issue, marital_issue
from desmig_desktop.domain.nik import kk_district, kk_findings, parse_nik
from desmig_desktop.domain.phone import check_phone, tidy
from desmig_desktop.domain.reference import is_kemendagri_code, load_countries

_KBLI_DIVISIONS = {
    "A": (1, 3), "B": (5, 9), "C": (10, 33), "D": (35, 35), "E": (36, 39), "F": (41, 43),
    "G": (45, 47), "H": (49, 53), "I": (55, 56), "J": (58, 63), "K": (64, 66), "L": (68, 68),
    "M": (69, 75), "N": (77, 82), "O": (84, 84), "P": (85, 85), "Q": (86, 88), "R": (90, 93),
    "S": (94, 96), "T": (97, 98), "U": (99, 99),
}
HOME_COUNTRY = "ID"  # a placement is work abroad (UU 18/2017), so never in Indonesia
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_TRUE = {"1", "true", "ya", "y", "yes", "benar"}
_FALSE = {"0", "false", "tidak", "t", "no", "n", "salah"}
# Longer digit strings are no questionnaire answer, and ``int()`` refuses beyond 4,300 digits
# with a plain ValueError (Python's int_max_str_digits).
_MAX_DIGITS = 40


class Lookup(Protocol):
    """What validation needs to know beyond the record itself (the local DB or the HQ DB)."""

    def village_exists(self, code: str) -> bool: ...

    def village_assigned(self, code: str) -> bool:
        """Whether the user may record households in village ``code``: on the desktop, one of the
        officer's villages (``store.queries.assigned_villages``). The HQ checks each op against
        the caller's scopes itself (a per-op rejection), so its lookup says yes."""
        ...

    def district_exists(self, code: str) -> bool: ...

    def nik_holder(self, nik: str, exclude_member_id: str | None) -> tuple[str, str] | None:
        """``(member_id, household_id)`` of another live member holding ``nik``, if any."""
        ...


@dataclass(frozen=True)
class Issue:
    field: str
    code: str
    message: str
    hard: bool
    ref: str | None = None  # e.g. the household id holding a duplicate NIK


@dataclass
class Validation:
    values: dict[str, Any]
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.hard]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if not i.hard]

    @property
    def ok(self) -> bool:
        return not self.errors

    def hard(self, key: str, code: str, message: str) -> None:
        self.issues.append(Issue(key, code, message, True))

    def soft(self, key: str, code: str, message: str, ref: str | None = None) -> None:
        self.issues.append(Issue(key, code, message, False, ref))


class CoerceError(ValueError):
    pass


def parse_date(raw: Any) -> dt.date:
    """Accept ISO ``YYYY-MM-DD`` or the displayed ``dd/mm/yyyy``; a datetime gives its date."""
    if isinstance(raw, dt.datetime):  # a date cell with a time: a datetime is also a dt.date
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw).strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return dt.date.fromisoformat(text)  # the stored form: fast path (no strptime)
        except ValueError:
            raise CoerceError(_("Tanggal tidak valid; gunakan format hh/bb/tttt.")) from None
    for fmt in ("%d/%m/%Y",):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CoerceError(_("Tanggal tidak valid; gunakan format hh/bb/tttt."))


def parse_instant(raw: Any) -> str:
    """A moment as stored: UTC ``YYYY-MM-DDTHH:MM:SSZ``. ISO text with an offset (or ``Z``), or a
    datetime; one without an offset is taken as UTC (the app writes UTC); a date is its midnight."""
    if isinstance(raw, dt.datetime):
        moment = raw
    elif isinstance(raw, dt.date):
        moment = dt.datetime(raw.year, raw.month, raw.day)
    else:
        text = str(raw).strip()
        if _CONTROL_RE.search(text):
            raise CoerceError(_("Berisi karakter kontrol yang tidak diizinkan."))
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise CoerceError(_("Waktu tidak valid; gunakan format ISO 8601, misalnya 2026-03-01T08:30:00Z.")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    try:
        return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError):  # year 1 with a positive offset, year 9999 with a negative one
        raise CoerceError(_("Waktu tidak valid; gunakan format ISO 8601, misalnya 2026-03-01T08:30:00Z.")) from None


def parse_money(raw: Any) -> int:
    if isinstance(raw, bool):
        raise CoerceError(_("Jumlah uang harus bilangan bulat rupiah."))
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float):
        if not raw.is_integer():
            raise CoerceError(_("Jumlah uang harus bilangan bulat rupiah."))
        value = int(raw)
    else:
        text = str(raw).strip().replace("Rp", "").replace(" ", "").replace(".", "")
        if not text.lstrip("-").isdigit() or len(text) > _MAX_DIGITS:
            raise CoerceError(_("Jumlah uang harus bilangan bulat rupiah."))
        value = int(text)
    if value < 0:
        raise CoerceError(_("Jumlah uang tidak boleh negatif."))
    return value


def _coerce_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise CoerceError(_("Harus bilangan bulat."))
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    text = str(raw).strip()
    if not re.fullmatch(r"-?\d+", text) or len(text) > _MAX_DIGITS:
        raise CoerceError(_("Harus bilangan bulat."))
    return int(text)


def _coerce_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CoerceError(_("Harus Ya atau Tidak."))


# Kinds whose stored form is the stripped text itself (``coerce``'s fast path for string input).
_TEXT_KINDS = frozenset({Kind.TEXT, Kind.CHOICE, Kind.NIK, Kind.KK, Kind.REGION, Kind.DIGITS, Kind.REF})


def coerce(spec: FieldSpec, raw: Any) -> Any:
    """Normalise one raw value to its stored form; ``None`` for empty; ``CoerceError`` if malformed."""
    if raw is None:
        return None
    kind = spec.kind
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None
        if kind in _TEXT_KINDS:  # nearly every value validated: one strip and one regex scan
            if _CONTROL_RE.search(text):
                raise CoerceError(_("Berisi karakter kontrol yang tidak diizinkan."))
            return text if spec.zero_pad is None else zero_padded(spec, text)
    return _coerce_slow(spec, kind, raw)


def zero_padded(spec: FieldSpec, text: str) -> str:
    """RT and RW as written on the KTP (``006``), whether typed ``6`` in the form or in a spreadsheet."""
    width = spec.zero_pad or 0
    return text.zfill(width) if len(text) < width and text.isascii() and text.isdigit() else text


def _coerce_slow(spec: FieldSpec, kind: Kind, raw: Any) -> Any:
    """``coerce`` for the other kinds and non-string input (an empty string never gets here)."""
    if kind in (Kind.INT,):
        return _coerce_int(raw)
    if kind is Kind.MONEY:
        return parse_money(raw)
    if kind is Kind.FLOAT:
        try:
            value = float(str(raw).replace(",", ".")) if not isinstance(raw, (int, float)) else float(raw)
        except (ValueError, OverflowError):  # an integer beyond a float's range overflows
            raise CoerceError(_("Harus angka desimal.")) from None
        if not math.isfinite(value):  # NaN passes every bound check, then poisons every report
            raise CoerceError(_("Harus angka desimal."))
        return value
    if kind is Kind.DATE:
        return parse_date(raw).isoformat()
    if kind is Kind.DATETIME:
        return parse_instant(raw)
    if kind is Kind.BOOL:
        return _coerce_bool(raw)
    if kind is Kind.MULTI:
        parts = raw if isinstance(raw, (list, tuple, set)) else str(raw).split(",")
        items = sorted({str(p).strip() for p in parts if str(p).strip()})
        unknown = [p for p in items if p not in spec.choice_values]
        if unknown:
            raise CoerceError(_("Pilihan tidak dikenal."))
        return ",".join(items) or None
    if not isinstance(raw, str):
        if isinstance(raw, (int, float)) and kind in (Kind.DIGITS, Kind.TEXT, Kind.PHONE, Kind.CHOICE):
            raw = str(raw)
        else:
            raise CoerceError(_("Harus berupa teks."))
    text = raw.strip()
    if _CONTROL_RE.search(text.replace("\n", "").replace("\t", "") if kind is Kind.LONG_TEXT else text):
        raise CoerceError(_("Berisi karakter kontrol yang tidak diizinkan."))
    if kind is Kind.PHONE:
        text = check_phone(tidy(text)).value  # a foreign number in E.164, an Indonesian one as typed
    if spec.zero_pad is not None:
        text = zero_padded(spec, text)
    if kind is Kind.COUNTRY:
        text = text.upper()
    return text


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
    if not is_kemendagri_code(value) or value.count(".") != 3:
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
    found = check_phone(value)
    if found.code is not None and found.message is not None:
        (v.hard if found.hard else v.soft)(spec.key, found.code, found.message)


def _check_digits(v: Validation, spec: FieldSpec, value: Any, today: dt.date, lookup: Lookup | None) -> None:
    if not (value.isascii() and value.isdigit()):
        v.hard(spec.key, "digits", _("Hanya boleh berisi angka."))
    elif spec.length is not None and len(value) != spec.length:
        v.hard(spec.key, "length", _("Harus tepat {count} digit.", count=spec.length))


def _check_date(v: Validation, spec: FieldSpec, value: Any, today: dt.date, lookup: Lookup | None) -> None:
    day = dt.date.fromisoformat(value)
    if day > today:
        v.hard(spec.key, "future", _("Tanggal tidak boleh di masa depan."))
    elif day.year < 1900:
        v.hard(spec.key, "too_old", _("Tanggal tidak masuk akal (sebelum 1900)."))


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


def _check_kind(v: Validation, spec: FieldSpec, value: Any, today: dt.date, lookup: Lookup | None) -> None:
    if spec.max_length is not None and isinstance(value, str) and len(value) > spec.max_length:
        v.hard(spec.key, "too_long", _("Paling banyak {count} karakter.", count=spec.max_length))
    check = _KIND_CHECKS.get(spec.kind)
    if check is not None:
        check(v, spec, value, today, lookup)


def _relevant(spec: FieldSpec, values: Mapping[str, Any]) -> bool:
    rel = spec.relevant
    return rel is None or rel.of_parent or values.get(rel.field) in rel.values


# Per entity, the fields validation reads (derived ones are computed by the cross checks).
_INPUT_FIELDS = {name: tuple(f for f in spec.fields if f.kind is not Kind.DERIVED) for name, spec in ENTITIES.items()}


def validate(
    entity_name: str,
    raw: Mapping[str, Any],
    *,
    record_id: str | None = None,
    lookup: Lookup | None = None,
    parent: Mapping[str, Any] | None = None,
    today: dt.date | None = None,
) -> Validation:
    """Validate a whole record (all its fields); unknown keys are hard errors."""
    spec = entity(entity_name)
    today = today or dt.date.today()
    values: dict[str, Any] = {}
    v = Validation(values=values)
    for key in raw:
        if not spec.has(key):
            v.hard(key, "unknown_field", _("Isian tidak dikenal: {field}", field=key))
    for fs in _INPUT_FIELDS[entity_name]:
        try:
            value = coerce(fs, raw.get(fs.key))
        except CoerceError as exc:
            v.hard(fs.key, "format", str(exc))
            continue
        rel = fs.relevant
        if value is not None and rel is not None and not rel.of_parent:
            # the question's condition, read from the values so far, else from the raw input
            answer = values[rel.field] if rel.field in values else raw.get(rel.field)
            if answer not in rel.values:
                value = None  # an answer to a question that no longer applies is dropped
        values[fs.key] = value
        if value is None:
            if fs.required and _relevant(fs, values):
                v.hard(fs.key, "required", _("Wajib diisi."))
            continue
        _check_kind(v, fs, value, today, lookup)
    _CROSS_CHECKS.get(entity_name, lambda *a: None)(v, spec, record_id, lookup, parent, today)
    return v


def _check_member(v: Validation, spec: EntitySpec, record_id: str | None, lookup: Lookup | None,
                  parent: Mapping[str, Any] | None, today: dt.date) -> None:
    if not any(i.field in ("birth_date", "education") for i in v.errors):
        found = education_issue(v.values.get("education"), v.values.get("birth_date"), today)
        if found is not None:
            v.soft("education", *found)
    marital = v.values.get("marital_status")
    if marital and not any(i.hard and i.field in ("birth_date", "marital_status") for i in v.issues):
        found = marital_issue(marital, v.values.get("birth_date"), today)
        if found is not None:
            v.soft("marital_status", *found)
    nik = v.values.get("nik")
    if not nik or any(i.field == "nik" for i in v.errors):
        return
    parts, _err = parse_nik(nik)
    assert parts is not None
    if lookup is not None and not lookup.district_exists(parts.district):
        # the province is known (parse_nik refuses the others): most likely a district that was
        # split or renumbered after this NIK was issued, since a NIK keeps its first district
        v.soft("nik", "nik_district", _(
            "6 digit pertama NIK bukan kode kecamatan yang dikenal saat ini. NIK memakai kecamatan pendaftaran "
            "pertama, jadi NIK ini mungkin terbit sebelum pemekaran wilayah; periksa lagi dengan KTP."))
    if v.values.get("sex") in ("L", "P") and v.values["sex"] != parts.sex:
        v.soft("nik", "nik_sex", _("Jenis kelamin tidak sesuai dengan NIK (tanggal lahir perempuan +40)."))
    birth = v.values.get("birth_date")
    if birth and not any(i.field == "birth_date" for i in v.errors):
        if not parts.birth_date_matches(dt.date.fromisoformat(birth)):
            v.soft("nik", "nik_birth", _("Tanggal lahir tidak sesuai dengan NIK."))
    if lookup is not None:
        holder = lookup.nik_holder(nik, record_id)
        if holder is not None:
            v.soft("nik", "nik_duplicate", _("NIK ini sudah dipakai anggota di rumah tangga lain."), ref=holder[1])


def _check_placement(v: Validation, spec: EntitySpec, record_id: str | None, lookup: Lookup | None,
                     parent: Mapping[str, Any] | None, today: dt.date) -> None:
    if v.values.get("country") == HOME_COUNTRY:
        v.hard("country", "country_home", _("Penempatan adalah kerja di luar negeri: negara tujuan tidak boleh "
                                            "Indonesia."))
    departed, returned = v.values.get("departed_on"), v.values.get("returned_on")
    if departed and returned and returned < departed:
        v.hard("returned_on", "return_before_departure", _("Tanggal kembali harus sesudah tanggal berangkat."))
    birth = (parent or {}).get("birth_date")
    if departed and birth:
        b, d = dt.date.fromisoformat(birth), dt.date.fromisoformat(departed)
        age = d.year - b.year - ((d.month, d.day) < (b.month, b.day))
        if age < 18:
            v.soft("departed_on", "minor_departure", _("Usia saat berangkat di bawah 18 tahun ({age} tahun).", age=age))


def _check_business(v: Validation, spec: EntitySpec, record_id: str | None, lookup: Lookup | None,
                    parent: Mapping[str, Any] | None, today: dt.date) -> None:
    code, category = v.values.get("kbli_code"), v.values.get("kbli_category")
    if code and category in _KBLI_DIVISIONS and not any(i.field == "kbli_code" for i in v.errors):
        low, high = _KBLI_DIVISIONS[category]
        if not low <= int(code[:2]) <= high:
            v.hard("kbli_code", "kbli_mismatch", _("Kode KBLI bukan bagian dari kategori {category}.",
                                                   category=category))
    year = v.values.get("started_year")
    if year is not None and year > dt.date.today().year:
        v.hard("started_year", "future", _("Tahun mulai tidak boleh di masa depan."))
    if v.values.get("exporting") and v.values.get("export_ready") is False:
        v.soft("export_ready", "exporting_not_ready", _("Usaha sudah ekspor tetapi ditandai belum layak ekspor."))
    cls, basis = umkm.classify(v.values.get("capital"), v.values.get("annual_turnover"))
    v.values["umkm_class"], v.values["umkm_basis"] = cls, basis


def _check_household(v: Validation, spec: EntitySpec, record_id: str | None, lookup: Lookup | None,
                     parent: Mapping[str, Any] | None, today: dt.date) -> None:
    if v.values.get("consent") is False:
        v.hard("consent", "consent", _("Data hanya boleh disimpan bila responden sudah memberi persetujuan."))
    kk = v.values.get("kk_number")
    if kk and not any(i.field == "kk_number" for i in v.errors):
        _check_kk_structure(v, kk, lookup, today)
    _check_location(v)


def _check_location(v: Validation) -> None:
    """Soft: the point lies far outside the village's province (see ``domain.geo``)."""
    lat, lon, village = v.values.get("latitude"), v.values.get("longitude"), v.values.get("village_code")
    if lat is None or lon is None or not village or any(
            i.hard and i.field in ("latitude", "longitude", "village_code") for i in v.issues):
        return
    km = km_outside_province(village, lat, lon)
    if km is not None and km > FAR_KM:
        v.soft("latitude", "location_far", _(
            "Titik lokasi sekitar {km} km di luar provinsi desa ini; periksa lintang dan bujur (tanda minus lintang "
            "selatan hilang, atau lokasi diambil di tempat lain?).", km=int(round(km))))


def _check_kk_structure(v: Validation, kk: str, lookup: Lookup | None, today: dt.date) -> None:
    """Soft: the No. KK's region prefix, issue date and serial, and its regency against the village's."""
    findings = kk_findings(kk, today)
    for finding in findings:
        v.soft("kk_number", finding.code, finding.message)
    if any(f.code == "kk_province" for f in findings):
        return  # an unknown province says enough about the prefix
    if lookup is not None and not lookup.district_exists(kk_district(kk)):
        v.soft("kk_number", "kk_district", _(
            "6 digit pertama No. KK bukan kode kecamatan yang dikenal saat ini (mungkin terbit sebelum pemekaran "
            "wilayah); periksa lagi dengan kartu keluarga."))
    village = v.values.get("village_code")
    if village and not any(i.field == "village_code" for i in v.errors) and kk_district(kk)[:5] != village[:5]:
        v.soft("kk_number", "kk_regency", _(
            "No. KK diterbitkan di kabupaten/kota lain daripada desa rumah tangga ini; bila keluarga sudah pindah, "
            "periksa apakah ada KK baru."))


_CROSS_CHECKS = {
    "households": _check_household,
    "members": _check_member,
    "placements": _check_placement,
    "businesses": _check_business,
}
