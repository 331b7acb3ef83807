"""Structure of the two identity numbers: NIK ``PPKKCC DDMMYY SSSS`` and No. KK ``PPKKCC DDMMYY SSSS``.

Both start with the Kemendagri district code of registration (``PP`` province, ``KK`` regency,
``CC`` district) and end with a four-digit serial. In a NIK the middle six digits are the birth
date (women: day + 40); in a No. KK they are the date the card was issued.

**Two-digit years.** A date part is a real calendar date when it exists in 19YY or in 20YY.
Only 29 February depends on the century, and since 2000 was a leap year 20YY is leap exactly
when YY is a multiple of 4 — which also covers every leap 19YY (1900, the one non-leap century
year, has YY = 00, and 2000 is leap). So a date part is checked against the year 2000 + YY.
A No. KK's issue year is read as 20YY: 16-digit family-card numbers exist only since the SIAK
roll-out of the 2000s (UU 23/2006), so an issue date after today is suspicious.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.reference import province_codes


@dataclass(frozen=True)
class NikParts:
    district: str  # dotted Kemendagri district code of first registration, e.g. "32.01.05"
    sex: str  # "L" or "P" (women have 40 added to the day)
    day: int
    month: int
    year2: int
    serial: str

    def birth_date_matches(self, birth: dt.date) -> bool:
        return (birth.day, birth.month, birth.year % 100) == (self.day, self.month, self.year2)


def date_part(day: int, month: int, year2: int) -> dt.date | None:
    """The date ``DD MM YY`` stands for in 20YY, or ``None`` if no such calendar date exists
    (in 19YY nor 20YY: see the module docstring)."""
    try:
        return dt.date(2000 + year2, month, day)
    except ValueError:
        return None


def is_issued_province(code: str) -> bool:
    """Whether ``code`` (two digits) is a province of the Kemendagri region table."""
    return code in province_codes()


def parse_nik(nik: str) -> tuple[NikParts | None, str | None]:
    """Split a NIK into its parts, or return the hard error message that refuses it."""
    if len(nik) != 16 or not (nik.isascii() and nik.isdigit()):
        return None, _("NIK harus tepat 16 digit angka.")
    raw_day, month, serial = int(nik[6:8]), int(nik[8:10]), nik[12:16]
    if 1 <= raw_day <= 31:
        sex, day = "L", raw_day
    elif 41 <= raw_day <= 71:
        sex, day = "P", raw_day - 40
    else:
        return None, _("Tanggal lahir dalam NIK (digit 7–8) harus 01–31, atau 41–71 untuk perempuan.")
    if not 1 <= month <= 12:
        return None, _("Bulan lahir dalam NIK (digit 9–10) harus 01–12.")
    if serial == "0000":
        return None, _("Nomor urut NIK (4 digit terakhir) tidak boleh 0000.")
    year2 = int(nik[10:12])
    if date_part(day, month, year2) is None:
        return None, _("Tanggal lahir dalam NIK (digit 7–12) tidak ada di kalender, mis. 30 Februari atau "
                       "29 Februari di tahun bukan kabisat.")
    if not is_issued_province(nik[0:2]):
        return None, _("Kode provinsi dalam NIK (digit 1–2) tidak pernah diterbitkan Kemendagri.")
    district = f"{nik[0:2]}.{nik[2:4]}.{nik[4:6]}"
    return NikParts(district, sex, day, month, year2, serial), None


@dataclass(frozen=True)
class KkFinding:
    """One structural doubt about a No. KK (always a soft warning: the card in hand decides)."""

    code: str
    message: str


def kk_findings(kk: str, today: dt.date) -> list[KkFinding]:
    """Soft structure checks of a 16-digit No. KK: issued province, issue date, serial.

    The district part is checked against the region table by the caller (it needs the lookup).
    """
    out: list[KkFinding] = []
    if not is_issued_province(kk[0:2]):
        out.append(KkFinding("kk_province", _(
            "Kode provinsi dalam No. KK (digit 1–2) tidak dikenal; periksa lagi dengan kartu keluarga.")))
    issued = date_part(int(kk[6:8]), int(kk[8:10]), int(kk[10:12]))
    if issued is None:
        out.append(KkFinding("kk_date", _(
            "Tanggal terbit dalam No. KK (digit 7–12) bukan tanggal yang ada di kalender.")))
    elif issued > today:
        out.append(KkFinding("kk_date_future", _("Tanggal terbit dalam No. KK (digit 7–12) ada di masa depan.")))
    if kk[12:16] == "0000":
        out.append(KkFinding("kk_serial", _("Nomor urut No. KK (4 digit terakhir) tidak boleh 0000.")))
    return out


def kk_district(kk: str) -> str:
    """The dotted district code a No. KK was issued in (``32.01.05``)."""
    return f"{kk[0:2]}.{kk[2:4]}.{kk[4:6]}"


def make_nik(district: str, sex: str, birth: dt.date, serial: int) -> str:
    """Compose a structurally valid NIK (used for synthetic demo data)."""
    day = birth.day + (40 if sex == "P" else 0)
    return f"{district.replace('.', '')}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"
