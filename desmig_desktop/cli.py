"""The ``desmig`` command. Without a subcommand it opens the GUI.

Exit codes: 0 success, 1 failure with a one-line reason on stderr, 2 bad usage.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from desmig_desktop.commands import reports as report_commands
from desmig_desktop.commands import sync as sync_commands
from desmig_desktop.commands.base import Handler, open_store
from desmig_desktop.domain.cli_output import OutputClosed, run_with_closable_stdout
from desmig_desktop.domain.i18n import _, set_language
from desmig_desktop.domain.report_period import PeriodError
from desmig_desktop.errors import KnownError
from desmig_desktop.services.paths import Paths, data_home, setup_logging

log = logging.getLogger(__name__)


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def _villages(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def cmd_gui(args: argparse.Namespace, paths: Paths) -> int:
    try:
        from desmig_desktop.app import run_gui
    except ImportError as exc:
        raise KnownError(_("Antarmuka grafis belum terpasang (pip install 'desmig[desktop]'): {reason}",
                           reason=exc)) from exc
    from desmig_desktop.services.profiles import ProfileHome

    # With --data-dir the app opens exactly that folder (no profiles); otherwise the home's profiles,
    # with a chooser at start unless --profile named one.
    home = None if args.data_dir else ProfileHome(data_home())
    # --smoke-exit: the bundle's smoke test (tests/bundle) — start, paint the list, say so, quit.
    painted = _print_list_painted if getattr(args, "smoke_exit", False) else None
    return run_gui(paths, list(getattr(args, "qt_args", []) or []), profiles=home, chosen=args.profile is not None,
                   on_list_painted=painted, training=bool(getattr(args, "training", False)),
                   updates=args.updates)


def _print_list_painted(rows: int) -> None:
    print(f"list painted: {rows} rows", flush=True)


def cmd_profiles(args: argparse.Namespace, paths: Paths) -> int:
    from desmig_desktop.services.profiles import ProfileHome

    found = ProfileHome(paths.root).profiles()
    if args.json:
        _print_json({"home": str(paths.root), "profiles": [p.as_json() for p in found]})
        return 0
    for p in found:
        villages = ", ".join(v.name for v in p.villages) or "-"
        print("\t".join((p.name, p.officer_name or "-", villages, p.last_sync_at or _("belum pernah sinkron"))))
    return 0


def cmd_profile(args: argparse.Namespace, paths: Paths) -> int:
    from desmig_desktop.services.profiles import ProfileHome, remember
    from desmig_desktop.store import settings

    home = ProfileHome(paths.root)
    created = home.create(args.name)
    try:
        db = open_store(created)  # the new profile's own database and passphrase
        if args.officer and args.officer.strip():
            settings.put(db, "officer_name", args.officer.strip()[:150])
        remember(created, db)
        db.close()
    except BaseException:
        home.discard_unfinished(created)  # no half-made profile left behind
        raise
    print(_("Profil {name} dibuat di {path}. Pakai dengan: desmig --profile {name} …",
            name=created.root.name, path=created.root))
    return 0


def cmd_update(args: argparse.Namespace, paths: Paths) -> int:
    """Show the update HQ announced at the last sync; with ``--download`` fetch, verify and stage it."""
    from desmig_desktop.services import updates

    config = args.updates
    if config is None:
        raise KnownError(_("Pembaruan tidak tersedia untuk aplikasi ini."))
    db = open_store(paths)
    found = updates.offer(db, config)
    if args.json and not args.download:
        _print_json({"installed": config.version, "update": None if found is None else {
            "version": found.version, "notes": found.notes, "size": found.size, "staged": found.staged,
            "required": found.required}})
        return 0
    if found is None:
        print(_("Tidak ada pembaruan. Versi terpasang: {version}.", version=config.version))
        return 0
    if not args.download:
        print(_("Pembaruan tersedia: versi {version}.", version=found.version))
        if found.notes:
            print(found.notes)
        return 0
    if not found.staged:
        updates.download_and_stage(updates.plan_download(db, config), config)
    print(_("Pembaruan {version} sudah diperiksa dan siap; dipasang saat Desmig dibuka lagi.", version=found.version))
    return 0


def cmd_demo(args: argparse.Namespace, paths: Paths) -> int:
    from desmig_desktop.services.demo import generate_demo

    db = open_store(paths)
    done = generate_demo(db, args.households, villages=_villages(args.villages), seed=args.seed)
    print(_("{count} rumah tangga contoh dibuat.", count=done))
    return 0


def cmd_status(args: argparse.Namespace, paths: Paths) -> int:
    from desmig_desktop.services.status import status

    result = status(open_store(paths))
    if args.json:
        _print_json(result)
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def cmd_report(args: argparse.Namespace, paths: Paths) -> int:
    from desmig_desktop.domain.report_spec import TEXT_TABLE_KEYS
    from desmig_desktop.services.reports import build_report

    try:
        period = report_commands.period_of(args)
    except PeriodError as exc:
        print(f"desmig: {exc}", file=sys.stderr)
        return report_commands.USAGE
    result = build_report(open_store(paths), args.level, args.prefix or "", period)
    if args.json:
        _print_json(result)
        return 0
    keys = ("code", "name", *TEXT_TABLE_KEYS)
    print("\t".join(keys))
    for row in [*result["rows"], {"code": "", "name": _("Jumlah"), **result["totals"]}]:
        print("\t".join(str(row[k]) for k in keys))
    return 0


def cmd_export(args: argparse.Namespace, paths: Paths) -> int:
    from desmig_desktop.services.exchange import export

    count = export(open_store(paths), args.format, Path(args.out), mask=not args.full_nik)
    print(_("{count} data diekspor ke {path}.", count=count, path=args.out))
    return 0


def cmd_import(args: argparse.Namespace, paths: Paths) -> int:
    from desmig_desktop.services.exchange import default_report_path, import_file

    path = Path(args.path)
    if not path.exists():  # checked before the store is created, so nothing is written
        raise KnownError(_("Berkas tidak ditemukan: {path}", path=path))
    report: Path | None = Path(args.report) if args.report else default_report_path(path)
    if not args.report and not os.access(default_report_path(path).parent, os.W_OK):
        report = None  # a read-only folder (a CD, a share): the first errors still go to stderr
    result = import_file(open_store(paths), path, valid_only=args.valid_only, report=report)
    print(_("{count} data diimpor ({invalid} baris tidak valid dilewati).",
            count=result["imported"], invalid=result["invalid"]))
    if result["warnings"]:
        print(_("{count} peringatan (data tetap diimpor; periksa datanya).", count=result["warnings"]))
    if result["report"]:
        print(_("Daftar lengkap {count} kesalahan dan {warnings} peringatan (baris, kolom, pesan): {path}",
                count=result["errors"], warnings=result["warnings"], path=result["report"]))
    elif result["warnings"]:
        print(_("{count} peringatan (misalnya NIK yang sudah dipakai rumah tangga lain); tulis daftarnya dengan "
                "--report.", count=result["warnings"]))
    return 0


def cmd_backup(args: argparse.Namespace, paths: Paths) -> int:
    from desmig_desktop.services.backup import create_backup, default_name

    db = open_store(paths)
    out = Path(args.out).expanduser()
    if out.is_dir():
        out = out / default_name(db)
    info = create_backup(db, out)
    print(_("Cadangan tersimpan dan sudah diperiksa: {path} ({households} rumah tangga, {pending} perubahan belum"
            " terkirim).", path=info.path, households=info.households, pending=info.pending_ops))
    return 0


def cmd_restore(args: argparse.Namespace, paths: Paths) -> int:
    from desmig_desktop.services.backup import inspect_backup, restore_backup
    from desmig_desktop.services.database import PASSPHRASE_ENV

    path = Path(args.path).expanduser()
    if not path.is_file():  # checked before anything is created
        raise KnownError(_("Berkas tidak ditemukan: {path}", path=path))
    passphrase = os.environ.get(PASSPHRASE_ENV) or None
    if passphrase is None and sys.stdin.isatty():
        from desmig_desktop.store.db import is_encrypted

        if is_encrypted(path):
            passphrase = getpass.getpass(_("Kata sandi cadangan: "))
    info = inspect_backup(path, passphrase)  # refused here leaves everything as it was
    restore_backup(paths, path, passphrase)
    open_store(paths).conn.close()  # opens (and migrates) the restored database: it works
    print(_("Data dipulihkan dari {path}: {households} rumah tangga, {pending} perubahan belum terkirim. Data"
            " sebelumnya disimpan sebagai {before}. Sinkronkan untuk menyamakan dengan HQ.", path=path.name,
            households=info.households, pending=info.pending_ops, before=paths.database.name + ".before-restore"))
    return 0


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("harus bilangan bulat")) from None
    if value < 0:
        raise argparse.ArgumentTypeError(_("tidak boleh negatif"))
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="desmig", description=_("Pendataan Desmigratif (luring)."))
    parser.add_argument("--data-dir", help=_("folder data (bawaan: DESMIG_HOME atau folder pengguna)"))
    parser.add_argument("--profile", metavar="NAME",
                        help=_("profil petugas di laptop ini (lihat: desmig profiles); diabaikan bila --data-dir "
                               "diberikan"))
    parser.add_argument("--lang", choices=("id", "en"), help=_("bahasa pesan"))
    parser.add_argument("-v", "--verbose", action="store_true", help=_("log rinci (DEBUG)"))
    sub = parser.add_subparsers(dest="command")
    gui = sub.add_parser("gui", help=_("buka aplikasi (bawaan)"))
    # Hidden, for the bundle's smoke test: close the window once the household list has painted.
    gui.add_argument("--smoke-exit", action="store_true", help=argparse.SUPPRESS)
    gui.add_argument("--training", action="store_true",
                     help=_("mode latihan: menu data contoh tanpa konfirmasi ketik (jangan di laptop lapangan)"))
    demo = sub.add_parser("demo", help=_("buat data contoh sintetis"))
    demo.add_argument("--households", type=_non_negative, required=True)
    demo.add_argument("--villages", help=_("kode desa Kemendagri, dipisah koma"))
    demo.add_argument("--seed", type=int, default=1)
    st = sub.add_parser("status", help=_("jumlah data dan antrean sinkronisasi"))
    st.add_argument("--json", action="store_true")
    rep = sub.add_parser("report", help=_("rekap per wilayah"))
    rep.add_argument("--level", choices=("province", "regency", "district", "village"), default="province")
    rep.add_argument("--prefix", help=_("batasi pada kode wilayah ini"))
    rep.add_argument("--json", action="store_true")
    report_commands.add_period_options(rep)
    exp = sub.add_parser("export", help=_("ekspor data"))
    exp.add_argument("--format", choices=("csv", "xlsx", "jsonl"), required=True)
    exp.add_argument("--out", required=True)
    exp.add_argument("--full-nik", action="store_true",
                     help=_("sertakan NIK dan No. KK lengkap (bawaan: disamarkan); perlu untuk impor ulang"))
    imp = sub.add_parser("import", help=_("impor JSONL/CSV/XLSX (semua atau tidak sama sekali)"))
    imp.add_argument("path")
    imp.add_argument("--valid-only", action="store_true", help=_("impor baris yang valid saja"))
    imp.add_argument("--report", metavar="PATH",
                     help=_("tulis daftar kesalahan per baris ke berkas ini (.csv atau .xlsx; bawaan: "
                            "<nama berkas>-kesalahan.csv di sebelah berkas impor)"))
    profiles = sub.add_parser("profiles", help=_("daftar profil petugas di laptop ini"))
    profiles.add_argument("--json", action="store_true")
    profile = sub.add_parser("profile", help=_("kelola profil petugas"))
    actions = profile.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help=_("buat profil baru dengan basis data dan kata sandinya sendiri"))
    add.add_argument("name", help=_("nama profil: huruf a–z, angka, - dan _ (paling banyak 32)"))
    add.add_argument("--officer", help=_("nama petugas yang ditampilkan"))
    upd = sub.add_parser("update", help=_("pembaruan dari HQ (diumumkan saat sinkronisasi)"))
    upd.add_argument("--download", action="store_true", help=_("unduh, periksa, dan siapkan pembaruan"))
    upd.add_argument("--json", action="store_true")
    bak = sub.add_parser("backup", help=_("cadangkan semua data laptop ke satu berkas terenkripsi"))
    bak.add_argument("--out", required=True, help=_("berkas (atau folder) tujuan, mis. di flashdisk"))
    res = sub.add_parser("restore", help=_("pulihkan data dari berkas cadangan"))
    res.add_argument("path")
    sync_commands.add_parsers(sub)
    report_commands.add_parsers(sub)
    return parser


def command_table() -> dict[str, Handler]:
    """Each subcommand's handler. Built here, explicitly: importing a module registers nothing."""
    return {"gui": cmd_gui, "profiles": cmd_profiles, "profile": cmd_profile, "update": cmd_update,
            "demo": cmd_demo, "status": cmd_status, "report": cmd_report, "export": cmd_export,
            "import": cmd_import, "backup": cmd_backup, "restore": cmd_restore,
            "login": sync_commands.cmd_login, "sync": sync_commands.cmd_sync,
            "monthly-report": report_commands.cmd_monthly_report}


def main(argv: Sequence[str] | None = None, *, updates: Any = None) -> int:
    """Run one command (the GUI without one); a stdout closed by its reader ends it quietly.

    First the start-up step of updates (``services.update_install.launch``): it may switch to a
    staged version, or back from one that failed, and run the command there. ``updates`` (an
    ``UpdateConfig``) replaces the app's own (``app.update_config``): tests bring their key and folder.
    """
    from desmig_desktop.app import update_config
    from desmig_desktop.services.update_install import launch

    config = updates if updates is not None else update_config()
    code = launch(config, list(sys.argv[1:] if argv is None else argv))
    if code is not None:
        return code
    return run_with_closable_stdout(lambda: _run(argv, config))


def _run(argv: Sequence[str] | None, updates: Any = None) -> int:
    from desmig_desktop.services.update_install import confirm_started

    parser = build_parser()
    args = parser.parse_args(argv)
    args.updates = updates  # the run's ``UpdateConfig``, for ``gui`` and ``update``
    if args.lang:
        set_language(args.lang)
    paths = Paths.resolve(args.data_dir)  # until the profile is known: where an early failure is logged
    try:
        paths = resolve_paths(args)
        paths.ensure()
        setup_logging(paths, logging.DEBUG if args.verbose else logging.INFO)
        if (args.command or "gui") != "gui":  # the GUI's update banner tells it
            _tell_rollback(updates)
        code = command_table()[args.command or "gui"](args, paths)
        # The command ran to its end: this version works (the GUI also confirms as soon as its
        # main window painted; ending here covers an officer who cancelled the passphrase prompt).
        confirm_started(updates)
        return code
    except KnownError as exc:
        confirm_started(updates)  # a handled error: this version works (module doc of update_install)
        print(f"desmig: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(_("desmig: dibatalkan."), file=sys.stderr)
        return 1
    except OutputClosed:
        raise  # not a failure of the command: handled quietly by run_with_closable_stdout
    except Exception:
        log.exception("unexpected error in command %s", args.command)
        print(_("desmig: kesalahan tak terduga; rinciannya ada di {path}", path=paths.logs / "desmig.log"),
              file=sys.stderr)
        return 1


HOME_COMMANDS = ("profiles", "profile")  # act on the data home itself, whatever --profile says


def resolve_paths(args: argparse.Namespace) -> Paths:
    """The data dir of this command: ``--data-dir`` exactly, else the ``--profile`` in the data home.

    Without either, the home itself (the "default" profile, where every earlier version kept its
    data). ``KnownError`` for a bad or unknown profile name.
    """
    from desmig_desktop.services.profiles import ProfileHome

    if args.data_dir:
        if args.profile is not None and args.command not in HOME_COMMANDS:
            print(_("desmig: --profile diabaikan karena --data-dir diberikan."), file=sys.stderr)
        return Paths.resolve(args.data_dir)
    if args.profile is not None and args.command not in HOME_COMMANDS:
        return ProfileHome(data_home()).select(args.profile)
    return Paths(data_home())


def _tell_rollback(updates: Any) -> None:
    from desmig_desktop.services.update_install import take_notice

    notice = take_notice(updates)
    if notice is not None:
        print(_("desmig: versi {failed} gagal dibuka; Desmig kembali ke versi {restored}.",
                failed=notice[0], restored=notice[1]), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
