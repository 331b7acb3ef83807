"""Every fixed text of the dashboard pages, through ``_()`` (the templates hold no words)."""

from __future__ import annotations

from desmig_desktop.domain.i18n import _


def texts() -> dict[str, str]:
    return {
        "lang": _("id"),
        "app": _("Desmigratif"),
        "dashboard": _("Dasbor HQ"),
        "login_title": _("Masuk ke dasbor HQ"),
        "login_intro": _("Untuk pengguna HQ dan supervisor kabupaten/kota."),
        "username": _("Nama pengguna"),
        "password": _("Kata sandi"),
        "login": _("Masuk"),
        "logout": _("Keluar"),
        "breadcrumb": _("Lokasi"),
        "summary": _("Ringkasan"),
        "coverage": _("Wilayah yang memiliki sedikitnya satu rumah tangga tercatat."),
        "charts": _("Grafik"),
        "chart_sector": _("Unit usaha per sektor (KBLI)"),
        "chart_country": _("PMI per negara tujuan (10 teratas)"),
        "chart_status": _("Status migrasi anggota rumah tangga"),
        "table": _("Tabel rekap"),
        "total": _("Jumlah"),
        "download": _("Unduh tabel"),
        "download_csv": _("CSV"),
        "download_xlsx": _("Excel (XLSX)"),
        "no_data": _("Belum ada data untuk wilayah ini."),
        "back": _("Kembali ke dasbor"),
        "footer": _("Angka dihitung langsung dari data yang sudah tersinkron ke server HQ."),
        "nav": _("Menu"),
        "nav_report": _("Rekap"),
        "nav_duplicates": _("NIK ganda"),
    }
