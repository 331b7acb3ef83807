"""The questionnaire as the base commit (8965411) declared it in Python, frozen.

Kept only as the reference ``test_questionnaire_v1.py`` compares ``resources/questionnaire/v1.json``
with: version 1 must be exactly these declarations. Never edit (a new question goes into a new
published version, or into the bundled document with a new app release and a new test).

One change since, made while version 1 was not yet released (2026-12-05): the two follow-up dates
(``services.follow_up_on``, ``officer_activities.follow_up_on``) became planned dates
(``planned=True``: they may lie after today), in v1.json and here together.
"""

from __future__ import annotations

from desmig_desktop.domain.specs import Choice, EntitySpec, FieldSpec, Kind, Relevance


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

# --- The programme's four pillars and the officer's own work (village-level records) ---------
# A record below either has a ``village_code`` (the village it belongs to: its sync scope) or a
# parent that has one. References to members and businesses that are not the parent (the person
# served, an attendee, a cooperative's member) are plain ``REF`` fields checked against the scope.

VILLAGE_STATUS = _choices(("aktif", "Aktif", "Active"), ("lulus", "Lulus/mandiri", "Graduated"))
WEEKDAYS = _choices(
    ("1_senin", "Senin", "Monday"), ("2_selasa", "Selasa", "Tuesday"), ("3_rabu", "Rabu", "Wednesday"),
    ("4_kamis", "Kamis", "Thursday"), ("5_jumat", "Jumat", "Friday"), ("6_sabtu", "Sabtu", "Saturday"),
    ("7_minggu", "Minggu", "Sunday"),
)
AGE_BAND = _choices(
    ("lt18", "Di bawah 18 tahun", "Under 18"), ("18_24", "18–24 tahun", "18–24"),
    ("25_34", "25–34 tahun", "25–34"), ("35_44", "35–44 tahun", "35–44"),
    ("45_54", "45–54 tahun", "45–54"), ("55plus", "55 tahun ke atas", "55 and over"),
)
SERVICE_TYPE = _choices(
    ("informasi", "Informasi migrasi aman dan lowongan kerja", "Safe migration and job information"),
    ("dokumen", "Bantuan dokumen", "Help with documents"),
    ("orientasi", "Orientasi pra-pemberangkatan", "Pre-departure orientation"),
    ("pengaduan", "Pengaduan/kasus", "Complaint or case"),
    ("reintegrasi", "Bantuan kepulangan dan reintegrasi", "Return and reintegration help"),
)
DOCUMENT_KIND = _choices(
    ("ktp_kk", "KTP/KK", "ID card/family card"), ("paspor", "Paspor", "Passport"),
    ("sertifikat", "Sertifikat/ijazah", "Certificates"), ("lainnya", "Lainnya", "Other"),
)
CASE_KIND = _choices(
    ("gaji", "Gaji tidak dibayar", "Unpaid wages"), ("kekerasan", "Kekerasan/pelecehan", "Abuse"),
    ("hilang", "PMI hilang/tidak ada kabar", "Missing worker"),
    ("non_prosedural", "Keberangkatan non-prosedural", "Undocumented departure"),
    ("lainnya", "Lainnya", "Other"),
)
REFERRAL = _choices(
    ("tidak", "Tidak dirujuk", "Not referred"), ("dinaker", "Dinas Ketenagakerjaan", "Regency manpower office"),
    ("bp2mi", "BP2MI/UPT", "BP2MI/UPT"), ("polisi", "Kepolisian", "Police"), ("lainnya", "Lainnya", "Other"),
)
CASE_STATUS = _choices(
    ("terbuka", "Terbuka", "Open"), ("ditindaklanjuti", "Sedang ditindaklanjuti", "In follow-up"),
    ("selesai", "Selesai", "Closed"),
)
OPEN_CASE_STATUSES: tuple[str, ...] = ("terbuka", "ditindaklanjuti")
SUPPORT_TYPE = _choices(
    ("pelatihan", "Pelatihan", "Training"), ("pendampingan", "Pendampingan", "Mentoring"),
    ("akses_pasar", "Akses pasar", "Market access"), ("modal", "Bantuan modal", "Capital support"),
)
SUPPORT_SOURCE = _choices(
    ("kemnaker", "Kemnaker/Dinaker", "Ministry/manpower office"), ("pemda", "Pemerintah daerah/desa", "Local government"),
    ("kur", "KUR/bank", "KUR/bank loan"), ("koperasi", "Koperasi", "Cooperative"),
    ("swasta", "Swasta/CSR", "Private/CSR"), ("lsm", "LSM", "NGO"), ("lainnya", "Lainnya", "Other"),
)
PARENTING_TYPE = _choices(
    ("kelompok_belajar", "Kelompok belajar", "Study group"),
    ("kelas_pengasuhan", "Kelas pengasuhan bagi pengasuh", "Parenting class for caregivers"),
    ("bermain_kreatif", "Bermain/kreativitas", "Play/creative session"), ("lainnya", "Lainnya", "Other"),
)
ATTENDEE_ROLE = _choices(("anak", "Anak", "Child"), ("pengasuh", "Pengasuh", "Caregiver"))
GROUP_KIND = _choices(("koperasi", "Koperasi", "Cooperative"), ("kelompok", "Kelompok usaha", "Business group"))
LEGAL_STATUS = _choices(("berbadan_hukum", "Berbadan hukum", "Registered"), ("belum", "Belum berbadan hukum", "Not registered"))
GROUP_STATUS = _choices(("aktif", "Aktif", "Active"), ("tidak_aktif", "Tidak aktif", "Inactive"))
GROUP_ROLE = _choices(
    ("ketua", "Ketua", "Chair"), ("sekretaris", "Sekretaris", "Secretary"),
    ("bendahara", "Bendahara", "Treasurer"), ("anggota", "Anggota", "Member"),
)
ACTIVITY_KIND = _choices(
    ("rapat_koordinasi", "Rapat koordinasi", "Coordination meeting"), ("sosialisasi", "Sosialisasi", "Socialisation event"),
    ("kunjungan", "Kunjungan/pendampingan", "Visit"), ("lainnya", "Lainnya", "Other"),
)
PARTNERS = _choices(
    ("pemdes", "Pemerintah desa", "Village government"), ("tokoh", "Tokoh masyarakat", "Community leaders"),
    ("dinaker", "Dinas Ketenagakerjaan", "Regency manpower office"), ("bp2mi", "BP2MI/UPT", "BP2MI/UPT"),
    ("lsm", "LSM", "NGO"), ("lainnya", "Lainnya", "Other"),
)

VILLAGE_PROFILES = EntitySpec(
    "village_profiles", "Profil desa Desmigratif", "Desmigratif village profile",
    (
        F("village_code", "Desa/kelurahan", "Village", K.REGION, required=True, list_column=1),
        F("joined_year", "Tahun bergabung", "Year joined", K.INT, required=True, minimum=2016, list_column=2),
        F("facilitators", "Pendamping desa", "Facilitators", K.TEXT, max_length=300),
        F("centre_address", "Alamat pusat layanan migrasi", "Service centre address", K.TEXT, max_length=300),
        F("centre_days", "Hari buka pusat layanan", "Service centre opening days", K.MULTI, choices=WEEKDAYS),
        F("head_name", "Nama kepala desa", "Village head", K.TEXT, max_length=150),
        F("head_phone", "No. HP kepala desa", "Village head's phone", K.PHONE),
        F("status", "Status desa", "Status", K.CHOICE, required=True, choices=VILLAGE_STATUS, list_column=3),
        F("notes", "Catatan", "Notes", K.LONG_TEXT, max_length=2000),
    ),
)

SERVICES = EntitySpec(
    "services", "Layanan migrasi", "Migration service",
    (
        F("village_code", "Desa/kelurahan", "Village", K.REGION, required=True),
        F("served_on", "Tanggal layanan", "Date", K.DATE, required=True, list_column=1),
        # The person served: a member of a recorded household, or a walk-in described below.
        F("member_id", "Anggota rumah tangga", "Household member", K.REF, ref_entity="members"),
        F("walk_in_name", "Nama (bukan anggota terdata)", "Name (walk-in)", K.TEXT, max_length=150, list_column=2),
        F("walk_in_sex", "Jenis kelamin (bukan anggota terdata)", "Sex (walk-in)", K.CHOICE, choices=SEX),
        F("walk_in_age_band", "Kelompok umur (bukan anggota terdata)", "Age band (walk-in)", K.CHOICE, choices=AGE_BAND),
        F("walk_in_nik", "NIK (bukan anggota terdata)", "NIK (walk-in)", K.NIK),
        F("service_type", "Jenis layanan", "Service type", K.CHOICE, required=True, choices=SERVICE_TYPE,
          list_column=3),
        F("document_kind", "Dokumen yang dibantu", "Documents", K.MULTI, choices=DOCUMENT_KIND,
          relevant=Relevance("service_type", ("dokumen",))),
        F("case_kind", "Jenis kasus", "Kind of case", K.CHOICE, choices=CASE_KIND,
          relevant=Relevance("service_type", ("pengaduan",))),
        F("destination_country", "Negara tujuan", "Destination country", K.COUNTRY),
        F("referral", "Rujukan", "Referral", K.CHOICE, choices=REFERRAL),
        F("status", "Status", "Status", K.CHOICE, required=True, choices=CASE_STATUS, list_column=4),
        F("follow_up_on", "Tanggal tindak lanjut", "Follow-up date", K.DATE, planned=True),
        F("notes", "Catatan", "Notes", K.LONG_TEXT, max_length=2000),
    ),
)

BUSINESS_SUPPORTS = EntitySpec(
    "business_supports", "Pelatihan dan dukungan usaha", "Business training and support",
    (
        F("business_id", "Unit usaha", "Business", K.REF, required=True, ref_entity="businesses"),
        F("support_type", "Jenis dukungan", "Kind of support", K.CHOICE, required=True, choices=SUPPORT_TYPE,
          list_column=1),
        F("received_on", "Tanggal", "Date", K.DATE, required=True, list_column=2),
        F("provider", "Penyelenggara/pemberi", "Provider", K.TEXT, max_length=150, list_column=3),
        F("topic", "Topik", "Topic", K.TEXT, max_length=300),
        F("source", "Sumber dukungan", "Source", K.CHOICE, choices=SUPPORT_SOURCE),
        F("amount", "Nilai bantuan (Rp)", "Amount (Rp)", K.MONEY, maximum=10**12, list_column=4),
    ),
    parent_key="business_id",
)

PARENTING_ACTIVITIES = EntitySpec(
    "parenting_activities", "Kegiatan pengasuhan bersama", "Community parenting activity",
    (
        F("village_code", "Desa/kelurahan", "Village", K.REGION, required=True),
        F("held_on", "Tanggal kegiatan", "Date", K.DATE, required=True, list_column=1),
        F("activity_type", "Jenis kegiatan", "Kind of activity", K.CHOICE, required=True, choices=PARENTING_TYPE,
          list_column=2),
        F("facilitator", "Fasilitator", "Facilitator", K.TEXT, max_length=150),
        F("topic", "Topik", "Topic", K.TEXT, max_length=300, list_column=3),
        # People who came but are not recorded members (counted, not named).
        F("walk_in_children", "Anak lain yang hadir", "Other children present", K.INT, minimum=0, maximum=10_000),
        F("walk_in_caregivers", "Pengasuh lain yang hadir", "Other caregivers present", K.INT, minimum=0,
          maximum=10_000),
        F("notes", "Catatan", "Notes", K.LONG_TEXT, max_length=2000),
    ),
)

PARENTING_ATTENDANCE = EntitySpec(
    "parenting_attendance", "Kehadiran kegiatan pengasuhan", "Parenting activity attendance",
    (
        F("activity_id", "Kegiatan", "Activity", K.REF, required=True, ref_entity="parenting_activities"),
        F("member_id", "Anggota rumah tangga", "Household member", K.REF, required=True, ref_entity="members",
          list_column=1),
        F("role", "Hadir sebagai", "Attended as", K.CHOICE, required=True, choices=ATTENDEE_ROLE, list_column=2),
    ),
    parent_key="activity_id",
)

COOPERATIVES = EntitySpec(
    "cooperatives", "Koperasi/kelompok usaha", "Cooperative/business group",
    (
        F("village_code", "Desa/kelurahan", "Village", K.REGION, required=True),
        F("name", "Nama", "Name", K.TEXT, required=True, max_length=150, list_column=1),
        F("group_kind", "Bentuk", "Kind", K.CHOICE, required=True, choices=GROUP_KIND, list_column=2),
        F("legal_status", "Status badan hukum", "Legal status", K.CHOICE, required=True, choices=LEGAL_STATUS),
        F("legal_number", "Nomor badan hukum", "Registration number", K.TEXT, max_length=100,
          relevant=Relevance("legal_status", ("berbadan_hukum",))),
        F("founded_on", "Tanggal berdiri", "Founded", K.DATE),
        F("capital", "Modal (Rp)", "Capital (Rp)", K.MONEY, maximum=10**15),
        F("status", "Status", "Status", K.CHOICE, required=True, choices=GROUP_STATUS, list_column=3),
        F("notes", "Catatan", "Notes", K.LONG_TEXT, max_length=2000),
    ),
)

COOPERATIVE_MEMBERS = EntitySpec(
    "cooperative_members", "Anggota koperasi/kelompok", "Cooperative member",
    (
        F("cooperative_id", "Koperasi/kelompok", "Cooperative", K.REF, required=True, ref_entity="cooperatives"),
        F("member_id", "Anggota rumah tangga", "Household member", K.REF, required=True, ref_entity="members",
          list_column=1),
        F("role", "Jabatan", "Role", K.CHOICE, required=True, choices=GROUP_ROLE, list_column=2),
        F("joined_on", "Tanggal bergabung", "Joined", K.DATE, list_column=3),
    ),
    parent_key="cooperative_id",
)

COOPERATIVE_BUSINESSES = EntitySpec(
    "cooperative_businesses", "Usaha yang didukung koperasi", "Business supported by the cooperative",
    (
        F("cooperative_id", "Koperasi/kelompok", "Cooperative", K.REF, required=True, ref_entity="cooperatives"),
        F("business_id", "Unit usaha", "Business", K.REF, required=True, ref_entity="businesses", list_column=1),
        F("support", "Bentuk dukungan", "Support given", K.TEXT, max_length=300, list_column=2),
    ),
    parent_key="cooperative_id",
)

OFFICER_ACTIVITIES = EntitySpec(
    "officer_activities", "Kegiatan petugas", "Officer's activity",
    (
        F("village_code", "Desa/kelurahan", "Village", K.REGION, required=True),
        F("held_on", "Tanggal", "Date", K.DATE, required=True, list_column=1),
        F("activity_kind", "Jenis kegiatan", "Kind of activity", K.CHOICE, required=True, choices=ACTIVITY_KIND,
          list_column=2),
        F("partners", "Bersama", "With", K.MULTI, required=True, choices=PARTNERS),
        F("topic", "Topik", "Topic", K.TEXT, required=True, max_length=300, list_column=3),
        F("attendance", "Jumlah peserta", "Attendance", K.INT, minimum=0, maximum=100_000, list_column=4),
        F("follow_up", "Tindak lanjut", "Follow-up", K.LONG_TEXT, max_length=2000),
        F("follow_up_on", "Tanggal tindak lanjut", "Follow-up date", K.DATE, planned=True),
    ),
)

PROGRAMME_ENTITIES: tuple[EntitySpec, ...] = (
    VILLAGE_PROFILES, SERVICES, BUSINESS_SUPPORTS, PARENTING_ACTIVITIES, PARENTING_ATTENDANCE,
    COOPERATIVES, COOPERATIVE_MEMBERS, COOPERATIVE_BUSINESSES, OFFICER_ACTIVITIES,
)

ENTITIES: dict[str, EntitySpec] = {
    e.name: e for e in (HOUSEHOLDS, MEMBERS, PLACEMENTS, BUSINESSES, *PROGRAMME_ENTITIES)
}
# Parents before children, and every record after the records its references point to.
ENTITY_ORDER: tuple[str, ...] = (
    "households", "members", "placements", "businesses", *(e.name for e in PROGRAMME_ENTITIES)
)
