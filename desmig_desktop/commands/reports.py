"""``desmig report``'s period options and ``desmig monthly-report``: parsers and handlers.

``desmig_desktop.cli`` puts them into its command table; importing this module registers nothing.
Arguments are checked before the database is opened (no passphrase asked for a typo): a bad
month, date or file name is bad usage (exit 2, the reason on stderr), a file that cannot be
written a failure (exit 1).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from desmig_desktop.commands.base import open_store
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.report_period import Period, PeriodError, parse_period
from desmig_desktop.errors import KnownError
from desmig_desktop.services.paths import Paths

USAGE = 2


def add_period_options(parser: argparse.ArgumentParser) -> None:
    """``--from``/``--to`` (either may be left open) or ``--month`` on a report command."""
    parser.add_argument("--from", dest="period_from", metavar="YYYY-MM-DD",
                        help=_("hitung kegiatan mulai tanggal ini"))
    parser.add_argument("--to", dest="period_to", metavar="YYYY-MM-DD",
                        help=_("hitung kegiatan sampai tanggal ini; kasus dan anak PMI per tanggal ini"))
    parser.add_argument("--month", metavar="YYYY-MM", help=_("satu bulan (pengganti --from/--to)"))


def period_of(args: argparse.Namespace) -> Period:
    """The period the options name.

    Raises:
        PeriodError: a malformed date or month, or options that contradict each other.
    """
    return parse_period(args.period_from, args.period_to, args.month)


def _usage(message: str) -> int:
    print(f"desmig: {message}", file=sys.stderr)
    return USAGE


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    monthly = sub.add_parser("monthly-report", help=_("laporan bulanan petugas (PDF atau XLSX)"))
    monthly.add_argument("--month", required=True, metavar="YYYY-MM", help=_("bulan laporan, mis. 2026-11"))
    monthly.add_argument("--out", required=True, metavar="FILE.pdf|FILE.xlsx", help=_("berkas yang ditulis"))


def cmd_monthly_report(args: argparse.Namespace, paths: Paths) -> int:
    from desmig_desktop.services.monthly_report import monthly_report, output_format, write_xlsx

    try:
        parse_period(month=args.month)
    except PeriodError as exc:
        return _usage(str(exc))
    out = Path(args.out)
    try:
        kind = output_format(out)
    except KnownError as exc:
        return _usage(f"--out: {exc}")
    if not out.parent.is_dir():
        raise KnownError(_("Folder {path} tidak ada.", path=out.parent))
    report = monthly_report(open_store(paths), args.month)
    if kind == ".xlsx":
        write_xlsx(report, out)
    else:
        from desmig_desktop.ui.monthly_pdf import write_pdf_anywhere

        write_pdf_anywhere(report, out)
    print(_("Laporan bulanan {month} ditulis ke {path}: {villages} desa, {activities} kegiatan, {cases} kasus "
            "terbuka.", month=args.month, path=out, villages=len(report.villages),
            activities=len(report.activities), cases=len(report.cases)))
    return 0
