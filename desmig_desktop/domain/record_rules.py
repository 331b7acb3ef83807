"""Rules across the fields of one record, per entity (household, member, placement, business; the
programme's records in ``programme``).

They run after every field is coerced and checked on its own (``field_rules``) and skip a rule
whose inputs already have a hard error. Most are soft (NIK against sex and birth date, the No. KK's
structure and regency, a location far outside the province); a few refuse (no consent, a placement
in Indonesia, a return before departure, a KBLI code outside its category). A business also gets
its derived UMKM class here.

A soft rule runs only while the ``Validation`` wants soft warnings (``wants_soft``; the HQ's push
validates with ``soft=False``): each rule guards its soft part, in place, and never a hard check
or a derived value. The member's rules are all soft, so a member costs nothing here then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from desmig_desktop.domain import umkm
from desmig_desktop.domain.fields import EntitySpec
from desmig_desktop.domain.geo import FAR_KM, km_outside_province
from desmig_desktop.domain.household_checks import education_issue, marital_issue
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.issues import Lookup, Validation
from desmig_desktop.domain.nik import kk_district, kk_findings, parse_nik
from desmig_desktop.domain.programme import (
    check_cooperative_member,
    check_officer_activity,
    check_service,
    check_village_profile,
    no_rule,
)

_KBLI_DIVISIONS = {
    "A": (1, 3), "B": (5, 9), "C": (10, 33), "D": (35, 35), "E": (36, 39), "F": (41, 43),
    "G": (45, 47), "H": (49, 53), "I": (55, 56), "J": (58, 63), "K": (64, 66), "L": (68, 68),
    "M": (69, 75), "N": (77, 82), "O": (84, 84), "P": (85, 85), "Q": (86, 88), "R": (90, 93),
    "S": (94, 96), "T": (97, 98), "U": (99, 99),
}
HOME_COUNTRY = "ID"  # a placement is work abroad (UU 18/2017), so never in Indonesia


def _check_member(v: Validation, spec: EntitySpec, record_id: str | None, lookup: Lookup | None,
                  parent: Mapping[str, Any] | None, today: dt.date) -> None:
    if not v.wants_soft:
        return  # every rule below is soft (the NIK's own hard checks are ``field_rules``')
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
    if (birth and not any(i.field == "birth_date" for i in v.errors)
            and not parts.birth_date_matches(dt.date.fromisoformat(birth))):
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
    if departed and birth and v.wants_soft:
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
    if year is not None and year > today.year:
        v.hard("started_year", "future", _("Tahun mulai tidak boleh di masa depan."))
    if v.wants_soft and v.values.get("exporting") and v.values.get("export_ready") is False:
        v.soft("export_ready", "exporting_not_ready", _("Usaha sudah ekspor tetapi ditandai belum layak ekspor."))
    cls, basis = umkm.classify(v.values.get("capital"), v.values.get("annual_turnover"))
    v.values["umkm_class"], v.values["umkm_basis"] = cls, basis


def _check_household(v: Validation, spec: EntitySpec, record_id: str | None, lookup: Lookup | None,
                     parent: Mapping[str, Any] | None, today: dt.date) -> None:
    if v.values.get("consent") is False:
        v.hard("consent", "consent", _("Data hanya boleh disimpan bila responden sudah memberi persetujuan."))
    if not v.wants_soft:
        return  # the No. KK's structure and the location are soft
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
            "selatan hilang, atau lokasi diambil di tempat lain?).", km=round(km)))


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


# (record so far, its entity, its id, the lookup, the parent record (a placement's member), today)
RecordRule = Callable[[Validation, EntitySpec, str | None, Lookup | None, Mapping[str, Any] | None, dt.date], None]

# Per entity name, its record rule (every entity of the questionnaire has one).
RECORD_RULES: dict[str, RecordRule] = {
    "households": _check_household,
    "members": _check_member,
    "placements": _check_placement,
    "businesses": _check_business,
    # the programme's records (issue 15): ``domain.programme``
    "village_profiles": check_village_profile,
    "services": check_service,
    "business_supports": no_rule,
    "parenting_activities": no_rule,
    "parenting_attendance": no_rule,
    "cooperatives": no_rule,
    "cooperative_members": check_cooperative_member,
    "cooperative_businesses": no_rule,
    "officer_activities": check_officer_activity,
}
