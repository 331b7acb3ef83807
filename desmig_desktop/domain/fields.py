"""The questionnaire, declared once.

Every field of every entity is one ``FieldSpec``. The same specs drive the local database
columns, validation (desktop and HQ server), form widgets, list columns and export headers.
A new question is one new entry here plus a store migration.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from enum import Enum


class Kind(Enum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    INT = "int"
    MONEY = "money"  # non-negative rupiah, integer
    FLOAT = "float"
    DATE = "date"  # ISO YYYY-MM-DD
    DATETIME = "datetime"  # a UTC instant, ISO YYYY-MM-DDTHH:MM:SSZ (laptop clock: informational only)
    BOOL = "bool"
    CHOICE = "choice"
    MULTI = "multi"  # sorted, comma-joined choice values
    NIK = "nik"
    KK = "kk"
    REGION = "region"  # Kemendagri village code PP.KK.CC.DDDD
    COUNTRY = "country"  # ISO 3166-1 alpha-2
    PHONE = "phone"
    DIGITS = "digits"  # fixed-length digit string (KBLI code, NIB)
    REF = "ref"  # id of a parent/related record
    DERIVED = "derived"  # computed by the domain, never typed

    # ``Enum.__hash__`` is Python code (``hash(self._name_)``), and validation hashes a kind for
    # every field of every op (the kind-set and rule-table lookups: ~20 per op pushed, ~3 µs of
    # HQ CPU per op). Members equal only themselves (``Enum`` defines no ``__eq__``), so their
    # identity is as good a hash, computed in C.
    __hash__ = object.__hash__


@dataclass(frozen=True)
class Choice:
    value: str
    label_id: str
    label_en: str


@dataclass(frozen=True)
class Relevance:
    """The field is asked only when ``field`` (of the same record, or ``of_parent``) has one of ``values``."""

    field: str
    values: tuple[str | bool, ...]
    of_parent: bool = False


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label_id: str
    label_en: str
    kind: Kind
    required: bool = False
    choices: tuple[Choice, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    length: int | None = None  # exact length, for DIGITS
    zero_pad: int | None = None  # DIGITS stored left-padded with zeros to this width (RT "6" is "006")
    relevant: Relevance | None = None
    ref_entity: str | None = None
    list_column: int | None = None  # its place among the columns of a list of these records (1: first)
    # Recorded by the app, never typed (GPS accuracy, interview times): not a form input, but
    # stored, validated, synced and exported like any other field.
    hidden: bool = False

    @functools.cached_property
    def choice_values(self) -> frozenset[str]:
        """The allowed stored values (computed once: validation asks for every field of every op)."""
        return frozenset(c.value for c in self.choices)

    def choice_label(self, value: str, lang: str = "id") -> str:
        for c in self.choices:
            if c.value == value:
                return c.label_en if lang == "en" else c.label_id
        return value


@dataclass(frozen=True)
class EntitySpec:
    name: str  # table name, also the sync entity name
    label_id: str
    label_en: str
    fields: tuple[FieldSpec, ...]
    # The field (a ``Kind.REF``) that points to the parent record; its ``ref_entity`` names the parent.
    parent_key: str | None = None
    relevant: Relevance | None = None  # whole entity relevance (placements)
    _by_key: dict[str, FieldSpec] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key.update({f.key: f for f in self.fields})
        if self.parent_key is not None:
            parent = self._by_key.get(self.parent_key)
            if parent is None or parent.kind is not Kind.REF or not parent.ref_entity:
                raise ValueError(f"{self.name}: parent_key {self.parent_key!r} is not a REF field naming its entity")

    @property
    def parent_entity(self) -> str | None:
        """The parent record's entity, read from the ``parent_key`` field (declared there once)."""
        return self._by_key[self.parent_key].ref_entity if self.parent_key else None

    def field(self, key: str) -> FieldSpec:
        return self._by_key[key]

    def has(self, key: str) -> bool:
        return key in self._by_key

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields)


def list_columns(spec: EntitySpec) -> tuple[str, ...]:
    """The keys of ``spec``'s fields that lists of its records show, in column order (``list_column``)."""
    listed = sorted((f.list_column, f.key) for f in spec.fields if f.list_column is not None)
    return tuple(key for _place, key in listed)


def _choices(*items: tuple[str, str, str]) -> tuple[Choice, ...]:
    return tuple(Choice(*item) for item in items)


MIGRATION_STATUS = _choices(
    ("bukan", "Bukan PMI", "Not a migrant worker"),
    ("calon_pmi", "Calon PMI", "Prospective migrant worker"),
    ("pmi_aktif", "PMI aktif (sedang di luar negeri)", "Migrant worker abroad now"),
    ("pmi_purna", "PMI purna (sudah kembali)", "Returned migrant worker"),
)
PLACEMENT_STATUSES: tuple[str | bool, ...] = ("pmi_aktif", "pmi_purna")

RELATIONSHIP = _choices(
    ("kepala", "Kepala keluarga", "Head of household"),
    ("suami_istri", "Suami/istri", "Spouse"),
    ("anak", "Anak", "Child"),
    ("menantu", "Menantu", "Child-in-law"),
    ("cucu", "Cucu", "Grandchild"),
    ("orang_tua", "Orang tua", "Parent"),
    ("mertua", "Mertua", "Parent-in-law"),
    ("famili_lain", "Famili lain", "Other relative"),
    ("lainnya", "Lainnya", "Other"),
)
EDUCATION = _choices(
    ("tidak_sekolah", "Tidak/belum sekolah", "No schooling"),
    ("sd", "SD/sederajat", "Primary school"),
    ("smp", "SMP/sederajat", "Junior secondary"),
    ("sma", "SMA/SMK/sederajat", "Senior secondary"),
    ("diploma", "Diploma (D1–D4)", "Diploma"),
    ("s1", "S1", "Bachelor"),
    ("s2_s3", "S2/S3", "Postgraduate"),
)
MARITAL = _choices(
    ("belum_kawin", "Belum kawin", "Never married"),
    ("kawin", "Kawin", "Married"),
    ("cerai_hidup", "Cerai hidup", "Divorced"),
    ("cerai_mati", "Cerai mati", "Widowed"),
)
JOB = _choices(
    ("prt", "Pekerja rumah tangga", "Domestic worker"),
    ("caregiver", "Perawat/caregiver", "Caregiver/nurse"),
    ("pabrik", "Pabrik/manufaktur", "Factory"),
    ("perkebunan", "Perkebunan/pertanian", "Plantation/agriculture"),
    ("konstruksi", "Konstruksi", "Construction"),
    ("abk_perikanan", "ABK perikanan", "Fishing vessel crew"),
    ("pelaut_niaga", "Pelaut niaga", "Merchant seafarer"),
    ("perhotelan", "Perhotelan/restoran", "Hotel/restaurant"),
    ("lainnya", "Lainnya", "Other"),
)
SECTOR = _choices(("formal", "Formal", "Formal"), ("informal", "Informal", "Informal"))
SCHEME = _choices(
    ("p3mi", "P3MI/agensi", "Placement agency (P3MI)"),
    ("g2g", "G to G", "Government to government"),
    ("mandiri", "Perseorangan/mandiri", "Independent"),
    ("non_prosedural", "Non-prosedural", "Non-procedural"),
)
REMITTANCE_USE = _choices(
    ("konsumsi", "Konsumsi", "Consumption"),
    ("rumah", "Rumah", "Housing"),
    ("pendidikan", "Pendidikan", "Education"),
    ("modal_usaha", "Modal usaha", "Business capital"),
    ("tabungan", "Tabungan", "Savings"),
)
PROBLEM_KIND = _choices(
    ("gaji", "Gaji tidak dibayar", "Unpaid wages"),
    ("kekerasan", "Kekerasan/pelecehan", "Abuse/harassment"),
    ("phk", "PHK sepihak", "Unfair dismissal"),
    ("dokumen", "Dokumen ditahan", "Documents withheld"),
    ("sakit", "Kecelakaan/sakit", "Accident/illness"),
    ("lainnya", "Lainnya", "Other"),
)
KBLI_CATEGORY = _choices(
    ("A", "A — Pertanian, kehutanan dan perikanan", "A — Agriculture, forestry and fishing"),
    ("B", "B — Pertambangan dan penggalian", "B — Mining and quarrying"),
    ("C", "C — Industri pengolahan", "C — Manufacturing"),
    ("D", "D — Pengadaan listrik dan gas", "D — Electricity and gas supply"),
    ("E", "E — Pengadaan air, pengelolaan sampah dan daur ulang", "E — Water supply and waste management"),
    ("F", "F — Konstruksi", "F — Construction"),
    ("G", "G — Perdagangan besar dan eceran; reparasi kendaraan", "G — Wholesale and retail trade; vehicle repair"),
    ("H", "H — Pengangkutan dan pergudangan", "H — Transportation and storage"),
    ("I", "I — Penyediaan akomodasi dan makan minum", "I — Accommodation and food service"),
    ("J", "J — Informasi dan komunikasi", "J — Information and communication"),
    ("K", "K — Aktivitas keuangan dan asuransi", "K — Financial and insurance activities"),
    ("L", "L — Real estat", "L — Real estate"),
    ("M", "M — Aktivitas profesional, ilmiah dan teknis", "M — Professional, scientific and technical"),
    ("N", "N — Aktivitas penyewaan dan sewa guna usaha, ketenagakerjaan, agen perjalanan",
     "N — Rental, employment, travel agency and support"),
    ("O", "O — Administrasi pemerintahan, pertahanan dan jaminan sosial wajib", "O — Public administration and defence"),
    ("P", "P — Pendidikan", "P — Education"),
    ("Q", "Q — Aktivitas kesehatan manusia dan aktivitas sosial", "Q — Human health and social work"),
    ("R", "R — Kesenian, hiburan dan rekreasi", "R — Arts, entertainment and recreation"),
    ("S", "S — Aktivitas jasa lainnya", "S — Other service activities"),
    ("T", "T — Aktivitas rumah tangga sebagai pemberi kerja", "T — Households as employers"),
    ("U", "U — Aktivitas badan internasional dan ekstra internasional", "U — Extraterritorial organisations"),
)
UMKM_CLASS = _choices(
    ("mikro", "Mikro", "Micro"),
    ("kecil", "Kecil", "Small"),
    ("menengah", "Menengah", "Medium"),
    ("besar", "Besar", "Large"),
)
UMKM_BASIS = _choices(("modal", "Modal usaha", "Capital"), ("omzet", "Hasil penjualan tahunan", "Annual sales"))
CAPITAL_SOURCE = _choices(
    ("remitansi", "Remitansi", "Remittances"),
    ("tabungan", "Tabungan", "Savings"),
    ("pinjaman", "Pinjaman", "Loan"),
    ("bantuan", "Bantuan", "Grant/aid"),
    ("lainnya", "Lainnya", "Other"),
)
BUSINESS_STATUS = _choices(("aktif", "Aktif", "Active"), ("tutup", "Tutup", "Closed"))
SEX = _choices(("L", "Laki-laki", "Male"), ("P", "Perempuan", "Female"))

F = FieldSpec
K = Kind

HOUSEHOLDS = EntitySpec(
    "households", "Rumah tangga", "Household",
    (
        F("village_code", "Desa/kelurahan", "Village", K.REGION, required=True, list_column=2),
        F("hamlet", "Dusun", "Hamlet", K.TEXT, max_length=100),
        F("rt", "RT", "RT", K.DIGITS, max_length=3, zero_pad=3),
        F("rw", "RW", "RW", K.DIGITS, max_length=3, zero_pad=3),
        F("address", "Alamat", "Address", K.TEXT, max_length=300),
        F("kk_number", "No. KK", "Family card no.", K.KK, list_column=3),
        F("head_name", "Nama kepala keluarga", "Head of household", K.TEXT, required=True,
          max_length=150, list_column=1),
        F("phone", "No. HP", "Phone", K.PHONE),
        F("latitude", "Lintang", "Latitude", K.FLOAT, minimum=-11.5, maximum=6.5),
        F("longitude", "Bujur", "Longitude", K.FLOAT, minimum=94.5, maximum=141.5),
        F("visited_on", "Tanggal kunjungan", "Visit date", K.DATE, required=True, list_column=4),
        F("consent", "Persetujuan responden", "Respondent consent", K.BOOL, required=True),
        F("notes", "Catatan", "Notes", K.LONG_TEXT, max_length=2000),
        # Recorded by the app, after the typed fields (spreadsheet columns keep their places).
        # Where latitude/longitude came from the laptop's location service ("Ambil lokasi"): its
        # accuracy radius and when the fix was taken; both empty for typed coordinates.
        F("location_accuracy_m", "Akurasi lokasi (m)", "Location accuracy (m)", K.FLOAT, minimum=0,
          maximum=100_000, hidden=True),
        F("location_at", "Waktu lokasi diambil", "Location taken at", K.DATETIME, hidden=True),
        # Set by the editor: the first edit of a new household, and its first save.
        F("interview_started_at", "Wawancara dimulai", "Interview started", K.DATETIME, hidden=True),
        F("interview_ended_at", "Wawancara selesai", "Interview ended", K.DATETIME, hidden=True),
    ),
)

MEMBERS = EntitySpec(
    "members", "Anggota rumah tangga", "Household member",
    (
        F("household_id", "Rumah tangga", "Household", K.REF, required=True, ref_entity="households"),
        F("nik", "NIK", "National ID (NIK)", K.NIK, list_column=2),
        F("name", "Nama", "Name", K.TEXT, required=True, max_length=150, list_column=1),
        F("sex", "Jenis kelamin", "Sex", K.CHOICE, required=True, choices=SEX),
        F("birth_place", "Tempat lahir", "Place of birth", K.TEXT, max_length=100),
        F("birth_date", "Tanggal lahir", "Date of birth", K.DATE),
        F("relationship", "Hubungan dengan kepala", "Relationship to head", K.CHOICE, required=True,
          choices=RELATIONSHIP, list_column=3),
        F("education", "Pendidikan", "Education", K.CHOICE, choices=EDUCATION),
        F("marital_status", "Status perkawinan", "Marital status", K.CHOICE, choices=MARITAL),
        F("occupation", "Pekerjaan", "Occupation", K.TEXT, max_length=100),
        F("migration_status", "Status migrasi", "Migration status", K.CHOICE, required=True,
          choices=MIGRATION_STATUS, list_column=4),
        F("phone", "No. HP", "Phone", K.PHONE),
    ),
    parent_key="household_id",
)

PLACEMENTS = EntitySpec(
    "placements", "Riwayat penempatan", "Placement abroad",
    (
        F("member_id", "Anggota", "Member", K.REF, required=True, ref_entity="members"),
        F("country", "Negara tujuan", "Destination country", K.COUNTRY, required=True, list_column=1),
        F("job", "Jabatan/pekerjaan", "Job", K.CHOICE, required=True, choices=JOB, list_column=2),
        F("sector", "Sektor", "Sector", K.CHOICE, choices=SECTOR),
        F("scheme", "Skema penempatan", "Placement scheme", K.CHOICE, choices=SCHEME),
        F("agency_name", "Nama P3MI/agensi", "Agency name", K.TEXT, max_length=150,
          relevant=Relevance("scheme", ("p3mi",))),
        F("departed_on", "Tanggal berangkat", "Departure date", K.DATE, list_column=3),
        F("returned_on", "Tanggal kembali", "Return date", K.DATE, list_column=4),
        F("monthly_remittance", "Remitansi per bulan", "Monthly remittance", K.MONEY,
          maximum=1_000_000_000),
        F("remittance_use", "Penggunaan remitansi", "Use of remittances", K.MULTI, choices=REMITTANCE_USE),
        F("had_problem", "Pernah mengalami masalah", "Had a problem", K.BOOL),
        F("problem_kind", "Jenis masalah", "Kind of problem", K.CHOICE, choices=PROBLEM_KIND,
          relevant=Relevance("had_problem", (True,))),
        F("bpjs_ketenagakerjaan", "Peserta BPJS Ketenagakerjaan", "BPJS employment insurance", K.BOOL),
    ),
    parent_key="member_id",
    relevant=Relevance("migration_status", PLACEMENT_STATUSES, of_parent=True),
)

BUSINESSES = EntitySpec(
    "businesses", "Unit usaha", "Business",
    (
        F("household_id", "Rumah tangga", "Household", K.REF, required=True, ref_entity="households"),
        F("owner_member_id", "Pemilik", "Owner", K.REF, ref_entity="members"),
        F("name", "Nama usaha", "Business name", K.TEXT, required=True, max_length=150, list_column=1),
        F("kbli_category", "Kategori KBLI", "KBLI category", K.CHOICE, required=True,
          choices=KBLI_CATEGORY, list_column=2),
        F("kbli_code", "Kode KBLI (5 digit)", "KBLI code (5 digits)", K.DIGITS, length=5),
        F("products", "Produk/jasa", "Products/services", K.TEXT, max_length=300),
        F("started_year", "Tahun mulai", "Year started", K.INT, minimum=1945),
        F("workers", "Jumlah pekerja", "Workers", K.INT, minimum=0, maximum=100_000),
        F("capital", "Modal usaha (di luar tanah & bangunan)", "Capital (excl. land & buildings)", K.MONEY,
          maximum=10**15),
        F("annual_turnover", "Hasil penjualan tahunan", "Annual sales", K.MONEY, maximum=10**15),
        F("umkm_class", "Kelas UMKM", "MSME class", K.DERIVED, choices=UMKM_CLASS, list_column=3),
        F("umkm_basis", "Dasar kelas UMKM", "MSME class basis", K.DERIVED, choices=UMKM_BASIS),
        F("capital_source", "Sumber modal", "Source of capital", K.CHOICE, choices=CAPITAL_SOURCE),
        F("nib", "NIB", "Business ID (NIB)", K.DIGITS, length=13),
        F("export_ready", "Layak ekspor", "Export-ready", K.BOOL, list_column=4),
        F("exporting", "Sudah ekspor", "Exporting", K.BOOL),
        F("cooperative_member", "Anggota koperasi", "Cooperative member", K.BOOL),
        F("received_support", "Pernah menerima bantuan/pendampingan", "Received support", K.BOOL),
        F("status", "Status usaha", "Status", K.CHOICE, required=True, choices=BUSINESS_STATUS),
    ),
    parent_key="household_id",
)

ENTITIES: dict[str, EntitySpec] = {e.name: e for e in (HOUSEHOLDS, MEMBERS, PLACEMENTS, BUSINESSES)}
ENTITY_ORDER: tuple[str, ...] = ("households", "members", "placements", "businesses")
COMMON_COLUMNS: tuple[str, ...] = ("id", "deleted", "server_version", "created_at", "updated_at", "extra")


def entity(name: str) -> EntitySpec:
    """The spec of entity ``name``; ``KeyError`` for an unknown entity."""
    return ENTITIES[name]
