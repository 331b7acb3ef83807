"""``desmig-hq``: serve, user add, report, conflicts (DESIGN §6).

Exit codes: 0 success; 1 failure, with a one-line reason on stderr; 2 bad usage (argparse).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from sqlalchemy.exc import SQLAlchemyError

from desmig_desktop.domain.privacy import MaskingFilter
from desmig_server.auth.users import UserError, add_user
from desmig_server.context import HqContext
from desmig_server.db.migrations import migrate
from desmig_server.errors import ApiError
from desmig_server.reports.definition import LEVELS
from desmig_server.reports.queries import build_report
from desmig_server.sync.conflicts import list_conflicts

DEFAULT_DB = "sqlite:///hq.db"
log = logging.getLogger(__name__)


class CliError(Exception):
    """A failure reported as one line on stderr with exit code 1."""


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=DEFAULT_DB, metavar="URL",
                        help=f"database URL (default {DEFAULT_DB}; or postgresql+psycopg://...)")
    parser = argparse.ArgumentParser(prog="desmig-hq", description="Desmig HQ server")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", parents=[common], help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (stateless)")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])

    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", parents=[common], help="create a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["officer", "supervisor", "hq"])
    add.add_argument("--villages", default="", help="comma-separated village codes (officers)")
    add.add_argument("--regency", default=None, help="regency code PP.KK (supervisors)")
    add.add_argument("--password-stdin", action="store_true", required=True,
                     help="read the password from the first line of stdin")

    report = sub.add_parser("report", parents=[common], help="counts per region")
    report.add_argument("--level", default="province", choices=list(LEVELS))
    report.add_argument("--prefix", default="", help="restrict to this region code")
    report.add_argument("--json", action="store_true")

    conflicts = sub.add_parser("conflicts", parents=[common], help="list conflicts")
    conflicts.add_argument("--status", default="open", choices=["open", "resolved", "all"])
    conflicts.add_argument("--json", action="store_true")
    return parser


def _open(db_url: str) -> HqContext:
    ctx = HqContext.open(db_url)
    migrate(ctx.db)
    return ctx


def _serve(args: argparse.Namespace) -> None:
    # Imported here so `user add`, `report` and `conflicts` do not load the web stack.
    import uvicorn

    from desmig_server.app import DB_URL_ENV, create_app, tune_gc_for_serving

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter())
    log_config = _masked_uvicorn_logging()
    if args.workers > 1:
        # Each worker process builds its own app from the environment; migrate once up front.
        _open(args.db).db.dispose()
        os.environ[DB_URL_ENV] = args.db
        uvicorn.run("desmig_server.app:serving_app_from_env", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level=args.log_level, log_config=log_config)
        return
    app = create_app(args.db)
    tune_gc_for_serving()
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, log_config=log_config)


def _masked_uvicorn_logging() -> dict[str, Any]:
    """uvicorn's own logging setup, with NIK/KK/phone masking on every handler (a second line of defence)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["mask"] = {"()": "desmig_desktop.domain.privacy.MaskingFilter"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("mask")
    return config


def _user_add(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> None:
    password = stdin.readline().rstrip("\r\n")
    villages = [v.strip() for v in args.villages.split(",") if v.strip()]
    ctx = _open(args.db)
    try:
        with ctx.db.write() as conn:
            add_user(conn, ctx.passwords, ctx.settings, username=args.name, role=args.role, password=password,
                     villages=villages, regency=args.regency)
    except UserError as exc:
        raise CliError(str(exc)) from exc
    finally:
        ctx.db.dispose()
    out.write(f"user {args.name} added ({args.role})\n")


def _fmt_table(report: dict[str, Any]) -> str:
    cols = ["households", "members", "pmi_active", "pmi_returned", "pmi_prospective",
            "households_with_business", "businesses", "businesses_closed", "export_ready", "villages"]
    head = ["code", "name", *cols]
    lines = [head] + [[r["code"], r["name"], *(str(r[c]) for c in cols)] for r in report["rows"]]
    lines.append(["TOTAL", "", *(str(report["totals"][c]) for c in cols)])
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(line, widths)).rstrip() for line in lines) + "\n"


def _report(args: argparse.Namespace, out: TextIO) -> None:
    ctx = _open(args.db)
    try:
        report = build_report(ctx.db, level=args.level, prefix=args.prefix)
    except ApiError as exc:
        raise CliError(f"{exc.code}: {exc.detail}") from exc
    finally:
        ctx.db.dispose()
    out.write(json.dumps(report, ensure_ascii=False) + "\n" if args.json else _fmt_table(report))


def _conflicts(args: argparse.Namespace, out: TextIO) -> None:
    ctx = _open(args.db)
    try:
        result = list_conflicts(ctx.db, None, status=args.status, limit=1_000_000)
    finally:
        ctx.db.dispose()
    if args.json:
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        return
    for c in result["conflicts"]:
        out.write(f"#{c['id']} {c['status']} {c['kind']} {c['entity']}/{c['record_id']} field={c['field']} "
                  f"scope={c['scope']} winner={c['winner']['username']} loser={c['loser']['username']}\n")
    out.write(f"{len(result['conflicts'])} conflict(s)\n")


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run one subcommand; return the exit code (argparse exits with 2 on bad usage)."""
    args = _parser().parse_args(argv)
    out = stdout or sys.stdout
    try:
        if args.command == "serve":
            _serve(args)
        elif args.command == "user":
            _user_add(args, stdin or sys.stdin, out)
        elif args.command == "report":
            _report(args, out)
        elif args.command == "conflicts":
            _conflicts(args, out)
    except CliError as exc:
        sys.stderr.write(f"desmig-hq: {exc}\n")
        return 1
    except (SQLAlchemyError, ValueError, OSError) as exc:
        log.debug("command failed", exc_info=True)
        sys.stderr.write(f"desmig-hq: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
