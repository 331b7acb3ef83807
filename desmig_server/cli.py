"""``desmig-hq``: serve, user add|passwd|disable|enable, report, aggregates rebuild|verify, conflicts, duplicates,
prune, release, questionnaire publish|show|history (DESIGN §6).

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

from desmig_desktop.domain.cli_output import run_with_closable_stdout
from desmig_desktop.domain.privacy import MaskingFilter
from desmig_desktop.domain.report_period import PeriodError, parse_period
from desmig_desktop.domain.report_spec import LEVELS, TEXT_TABLE_KEYS
from desmig_server import questionnaire_cli
from desmig_server.auth.users import UserError, add_user, set_disabled, set_password
from desmig_server.context import HqContext
from desmig_server.db.migrations import migrate
from desmig_server.errors import ApiError
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

    passwd = user_sub.add_parser("passwd", parents=[common], help="change or reset a user's password")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", required=True,
                        help="read the new password from the first line of stdin")
    passwd.add_argument("--revoke-devices", action="store_true",
                        help="also revoke every device of the user (after a suspected compromise)")
    for name, what in (("disable", "refuse the user's devices and dashboard sessions from their next request"),
                       ("enable", "let a disabled user (and its devices) in again")):
        toggle = user_sub.add_parser(name, parents=[common], help=what)
        toggle.add_argument("name")

    prune = sub.add_parser("prune", parents=[common],
                           help="delete bookkeeping rows past their retention (applied_ops, lockout, sessions)")
    prune.add_argument("--json", action="store_true")

    report = sub.add_parser("report", parents=[common], help="counts per region")
    report.add_argument("--level", default="province", choices=list(LEVELS))
    report.add_argument("--prefix", default="", help="restrict to this region code")
    report.add_argument("--json", action="store_true")
    report.add_argument("--from", dest="period_from", metavar="YYYY-MM-DD",
                        help="first day the programme's activities count")
    report.add_argument("--to", dest="period_to", metavar="YYYY-MM-DD",
                        help="last day they count; open cases and children of PMI are taken at it")
    report.add_argument("--month", metavar="YYYY-MM", help="one month (instead of --from/--to)")

    aggregates = sub.add_parser("aggregates", parents=[common],
                                help="the report aggregates: rebuild from the records, or verify against them")
    aggregates.add_argument("action", choices=["rebuild", "verify"])
    aggregates.add_argument("--json", action="store_true")

    conflicts = sub.add_parser("conflicts", parents=[common], help="list conflicts")
    conflicts.add_argument("--status", default="open", choices=["open", "resolved", "all"])
    conflicts.add_argument("--json", action="store_true")

    release = sub.add_parser("release", help="signed app releases")
    release_sub = release.add_subparsers(dest="release_command", required=True)
    keygen = release_sub.add_parser("keygen", help="make the release signing key (once; keep it off the server)")
    keygen.add_argument("--out", required=True, metavar="DIR",
                        help="folder for the private key (written 0600) and the public key")
    publish = release_sub.add_parser("publish", parents=[common], help="sign and store an app package")
    publish.add_argument("package", metavar="BUNDLE.zip")
    publish.add_argument("--version", required=True, metavar="X.Y.Z")
    publish.add_argument("--min-version", required=True, metavar="X.Y.Z",
                         help="older apps stop syncing (they keep working offline and can still update)")
    publish.add_argument("--key", required=True, metavar="PEM", help="the private key from `release keygen`")
    publish.add_argument("--notes-file", metavar="FILE", help="release notes shown to officers (UTF-8 text)")
    listing = release_sub.add_parser("list", parents=[common], help="published releases, newest first")
    listing.add_argument("--json", action="store_true")

    duplicates = sub.add_parser("duplicates", parents=[common], help="NIKs held in more than one household")
    duplicates.add_argument("--regency", default=None, metavar="PP.KK",
                            help="only what this regency's supervisor sees (default: everything, as HQ)")
    duplicates.add_argument("--limit", type=_positive, default=1000, help="entries per page (default 1000)")
    duplicates.add_argument("--offset", type=_non_negative, default=0)
    duplicates.add_argument("--full-nik", action="store_true", help="show whole NIKs (masked by default)")
    duplicates.add_argument("--json", action="store_true")
    questionnaire_cli.add_parser(sub, common)
    return parser


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {value}")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if not 1 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"must be 1-100000: {value}")
    return value


def _open(db_url: str) -> HqContext:
    ctx = HqContext.open(db_url)
    migrate(ctx.db)
    return ctx


def _serve(args: argparse.Namespace) -> None:
    # Imported here so `user add`, `report` and `conflicts` do not load the web stack.
    import uvicorn

    from desmig_server.app import DB_URL_ENV, create_app, tune_gc_for_serving
    from desmig_server.settings import PUSH_PROCESSES_ENV, default_push_processes
    from desmig_server.sync.retention import prune

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter())
    log_config = _masked_uvicorn_logging()
    if args.workers > 1:
        # Each worker process builds its own app from the environment; migrate once up front.
        ctx = _open(args.db)
        prune(ctx.db, ctx.settings)
        ctx.db.dispose()
        os.environ[DB_URL_ENV] = args.db
        # The cores are shared by the serving processes: their push workers too (an explicit
        # DESMIG_HQ_PUSH_PROCESSES is kept).
        os.environ.setdefault(PUSH_PROCESSES_ENV, str(default_push_processes(args.workers)))
        uvicorn.run("desmig_server.app:serving_app_from_env", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level=args.log_level, log_config=log_config)
        return
    app = create_app(args.db, follow_aggregates=True)
    prune(app.state.hq.db, app.state.hq.settings)  # also daily from cron: see desmig_server/README.md
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
    password = _read_password(stdin)
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


def _read_password(stdin: TextIO) -> str:
    return stdin.readline().rstrip("\r\n")


def _user_admin(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> None:
    """``user passwd|disable|enable``: effective on the next request of every device of the user."""
    password = _read_password(stdin) if args.user_command == "passwd" else ""
    ctx = _open(args.db)
    try:
        with ctx.db.write() as conn:
            if args.user_command == "passwd":
                revoked = set_password(conn, ctx.passwords, ctx.settings, username=args.name, password=password,
                                       revoke_devices=args.revoke_devices)
                done = f"password of {args.name} changed" + (f"; {revoked} device(s) revoked" if args.revoke_devices
                                                              else "; its devices stay logged in")
            else:
                set_disabled(conn, username=args.name, disabled=args.user_command == "disable")
                done = f"user {args.name} {args.user_command}d"
    except UserError as exc:
        raise CliError(str(exc)) from exc
    finally:
        ctx.db.dispose()
    out.write(done + "\n")


def _prune(args: argparse.Namespace, out: TextIO) -> None:
    from desmig_server.sync.retention import prune

    ctx = _open(args.db)
    try:
        done = prune(ctx.db, ctx.settings)
    finally:
        ctx.db.dispose()
    counts = {"applied_ops": done.applied_ops, "login_attempts": done.login_attempts,
              "web_sessions": done.web_sessions}
    out.write(json.dumps(counts) + "\n" if args.json else
              " ".join(f"{k}={v}" for k, v in counts.items()) + " pruned\n")


def _fmt_table(report: dict[str, Any]) -> str:
    cols = TEXT_TABLE_KEYS
    head = ["code", "name", *cols]
    lines = [head] + [[r["code"], r["name"], *(str(r[c]) for c in cols)] for r in report["rows"]]
    lines.append(["TOTAL", "", *(str(report["totals"][c]) for c in cols)])
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(line, widths)).rstrip() for line in lines) + "\n"


def _report(args: argparse.Namespace, out: TextIO) -> None:
    try:
        period = parse_period(args.period_from, args.period_to, args.month)
    except PeriodError as exc:
        raise CliError(str(exc)) from exc
    ctx = _open(args.db)
    try:
        report = build_report(ctx.db, level=args.level, prefix=args.prefix, period=period)
    except ApiError as exc:
        raise CliError(f"{exc.code}: {exc.detail}") from exc
    finally:
        ctx.db.dispose()
    out.write(json.dumps(report, ensure_ascii=False) + "\n" if args.json else _fmt_table(report))


def _aggregates(args: argparse.Namespace, out: TextIO) -> None:
    """``rebuild`` recomputes every area; ``verify`` names each area and figure that differs from a
    recomputation (codes and figure keys only: no record value) and then fails."""
    from desmig_server.aggregates.maintain import rebuild
    from desmig_server.aggregates.verify import Busy, verify

    ctx = _open(args.db)
    try:
        if args.action == "rebuild":
            villages = rebuild(ctx.db)
            out.write(json.dumps({"villages": villages}) + "\n" if args.json else f"rebuilt: {villages} villages\n")
            return
        try:
            mismatches = verify(ctx.db)
        except Busy as exc:
            raise CliError(str(exc)) from exc
    finally:
        ctx.db.dispose()
    if args.json:
        out.write(json.dumps({"mismatches": [{"code": m.code, "figure": m.figure} for m in mismatches]}) + "\n")
    else:
        out.writelines(f"differs: {m.describe()}\n" for m in mismatches)
    if mismatches:
        raise CliError(f"{len(mismatches)} figure(s) differ from a recomputation; "
                       "run `desmig-hq aggregates rebuild` and report this")
    if not args.json:
        out.write("aggregates equal a recomputation\n")


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


def _duplicates(args: argparse.Namespace, out: TextIO) -> None:
    from desmig_server.auth.principal import Principal
    from desmig_server.checks.duplicates import find_duplicates
    from desmig_server.db import tables as t

    ctx = _open(args.db)
    try:
        actor = Principal(username="desmig-hq", role="hq", device_id="cli")
        if args.regency is not None:
            with ctx.db.read() as conn:
                known = conn.execute(t.regions.select().where(t.regions.c.code == args.regency,
                                                              t.regions.c.level == 2)).first()
            if known is None:
                raise CliError(f"unknown regency code: {args.regency[:20]!r} (expected a Kemendagri code PP.KK)")
            actor = Principal(username="desmig-hq", role="supervisor", device_id="cli", regency=args.regency)
        page = find_duplicates(ctx.db, actor, limit=args.limit, offset=args.offset, full_nik=args.full_nik)
    finally:
        ctx.db.dispose()
    if args.json:
        out.write(json.dumps(page.as_json(), ensure_ascii=False) + "\n")
        return
    for entry in page.entries:
        flags = [f for f, on in (("villages differ", entry["villages_differ"]),
                                 ("officers differ", entry["officers_differ"])) if on]
        out.write(f"{entry['nik']} households={entry['households']} {' '.join(flags)}\n")
        for h in entry["holders"]:
            out.write("  (outside the regency)\n" if h["outside_scope"] else
                      f"  {h['village_code']} {h['village_name'] or ''} household={h['household_id']} "
                      f"member={h['member_id']} officer={h['officer'] or '-'}\n")
    out.write(f"{len(page.entries)} of {page.total} duplicated NIK(s)\n")


def _release(args: argparse.Namespace, out: TextIO) -> None:
    from pathlib import Path

    from desmig_server import releases

    try:
        if args.release_command == "keygen":
            public = releases.keygen(Path(args.out))
            out.write(f"private key: {Path(args.out) / releases.PRIVATE_KEY_FILE} (keep it off the server)\n"
                      f"public key (build it into the app, desmig_desktop/services/update_key.py): {public}\n")
            return
        ctx = _open(args.db)
        try:
            if args.release_command == "list":
                rows = [{"version": r.version, "min_version": r.min_version, "size": r.size, "sha256": r.sha256,
                         "published_at": r.published_at} for r in releases.list_releases(ctx.db)]
                out.write(json.dumps(rows) + "\n" if args.json else "".join(
                    f"{r['version']} min={r['min_version']} size={r['size']} {r['published_at']}\n" for r in rows))
                return
            notes = Path(args.notes_file).read_text(encoding="utf-8").strip() if args.notes_file else ""
            package = Path(args.package)
            if not package.is_file():
                raise CliError(f"no such file: {package}")
            done = releases.publish(ctx.db, package, version=args.version, min_version=args.min_version,
                                    key=releases.load_private_key(Path(args.key)), notes=notes)
        finally:
            ctx.db.dispose()
    except releases.ReleaseError as exc:
        raise CliError(str(exc)) from exc
    out.write(f"release {done.version} published (min {done.min_version}, {done.size} bytes, sha256 {done.sha256})\n")


def _questionnaire(args: argparse.Namespace, out: TextIO) -> None:
    ctx = _open(args.db)
    try:
        questionnaire_cli.run(ctx.db, args, out)
    except questionnaire_cli.QuestionnaireCliError as exc:  # a line per refused change or bad row
        raise CliError("\n".join(exc.lines)) from None
    finally:
        ctx.db.dispose()


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run one subcommand; return the exit code (argparse exits with 2 on bad usage).

    A stdout closed by its reader (``desmig-hq report --json | head``) ends it quietly.
    """
    return run_with_closable_stdout(lambda: _run(argv, stdin, stdout))


def _run(argv: Sequence[str] | None, stdin: TextIO | None, stdout: TextIO | None) -> int:
    args = _parser().parse_args(argv)
    out = stdout or sys.stdout
    try:
        if args.command == "serve":
            _serve(args)
        elif args.command == "user" and args.user_command == "add":
            _user_add(args, stdin or sys.stdin, out)
        elif args.command == "user":
            _user_admin(args, stdin or sys.stdin, out)
        elif args.command == "prune":
            _prune(args, out)
        elif args.command == "report":
            _report(args, out)
        elif args.command == "aggregates":
            _aggregates(args, out)
        elif args.command == "conflicts":
            _conflicts(args, out)
        elif args.command == "duplicates":
            _duplicates(args, out)
        elif args.command == "release":
            _release(args, out)
        elif args.command == "questionnaire":
            _questionnaire(args, out)
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
