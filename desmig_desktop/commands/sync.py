"""``desmig login`` and ``desmig sync``: their parsers (``add_parsers``) and handlers.

``desmig_desktop.cli`` puts them into its command table; importing this module registers nothing.
Exit codes follow the CLI: 0 success, 1 failure (one-line reason on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from desmig_desktop.commands.base import open_store
from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.services.paths import Paths


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
    elif sys.stdin.isatty():
        password = getpass.getpass(_("Kata sandi: "))
    else:
        raise KnownError(_("Kata sandi dibaca dari stdin hanya dengan --password-stdin."))
    if not password:
        raise KnownError(_("Kata sandi kosong."))
    return password


def cmd_login(args: argparse.Namespace, paths: Paths) -> int:
    from desmig_desktop.services.profiles import remember
    from desmig_desktop.services.sync_service import login

    password = _read_password(args)
    db = open_store(paths)
    result = login(db, args.server, args.username, password, args.device_name)
    remember(paths, db)  # the profile chooser shows the villages the server assigned
    print(_("Masuk sebagai {username} di {server}; perangkat {device} terdaftar. Desa: {villages}.",
            username=result.username, server=result.server_url, device=result.device_name,
            villages=", ".join(result.scopes) or "-"))
    return 0


def cmd_sync(args: argparse.Namespace, paths: Paths) -> int:
    from desmig_desktop.services.profiles import remember
    from desmig_desktop.services.sync_service import SyncError, pending_ops, run_cycle

    db = open_store(paths)
    try:
        report = run_cycle(db)
    except SyncError as exc:
        remember(paths, db)
        if args.json:
            partial: dict[str, Any] = exc.partial.as_json() if exc.partial else {}
            partial.update(error=exc.kind.value, message=str(exc))
            partial.setdefault("pending_ops", pending_ops(db))
            print(json.dumps(partial, ensure_ascii=False, indent=2))
        raise
    remember(paths, db)  # last sync time and villages, for the profile chooser
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        print(_("Terkirim {pushed}, diterima {pulled}, konflik {conflicts}, ditolak {rejected}, antrean {pending}.",
                pushed=report.pushed, pulled=report.pulled, conflicts=report.conflicts, rejected=report.rejected,
                pending=report.pending_ops))
    for warning in report.warnings:
        print(_("Peringatan: {text}", text=warning), file=sys.stderr)
    if report.attention is not None:
        print(report.attention.message(), file=sys.stderr)
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``login`` and ``sync`` subcommands' arguments, on the CLI's subparsers."""
    login = sub.add_parser("login", help=_("masuk ke server HQ dan daftarkan laptop ini"))
    login.add_argument("--server", required=True, help=_("alamat server, mis. https://hq.example"))
    login.add_argument("--username", required=True)
    login.add_argument("--password-stdin", action="store_true", help=_("baca kata sandi dari stdin"))
    login.add_argument("--device-name", help=_("nama laptop ini (bawaan: nama host)"))
    sync = sub.add_parser("sync", help=_("kirim dan terima data dengan server HQ"))
    sync.add_argument("--json", action="store_true")
