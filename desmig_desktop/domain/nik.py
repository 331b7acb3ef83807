"""NIK (Nomor Induk Kependudukan) structure: PPKKCC DDMMYY SSSS."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from desmig_desktop.domain.i18n import _


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
    district = f"{nik[0:2]}.{nik[2:4]}.{nik[4:6]}"
    return NikParts(district, sex, day, month, int(nik[10:12]), serial), None


def make_nik(district: str, sex: str, birth: dt.date, serial: int) -> str:
    """Compose a structurally valid NIK (used for synthetic demo data)."""
    day = birth.day + (40 if sex == "P" else 0)
    return f"{district.replace('.', '')}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"
