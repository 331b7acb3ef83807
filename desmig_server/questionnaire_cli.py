"""``desmig-hq questionnaire publish FILE.xlsx|FILE.json``, ``show [--version N]``, ``history``.

``publish`` reads an XLSForm-style spreadsheet (sheets ``survey`` and ``choices``; see
``desmig_desktop.domain.questionnaire_sheet``) as changes to the current version, or a JSON file
as a whole document, and stores it as the next version only if every change is compatible
(``questionnaire_compat``). A refusal prints each refused change with its reason (Bahasa
Indonesia, then English) on stderr and exits 1; a malformed file prints one line per bad row.

``pyxform`` (ODK's XLSForm converter) was considered: it validates against the ODK question
types and refuses this app's kinds (``money``, ``digits``, …) and the ``entity`` column, and its
workbook reader is a thin openpyxl loop, so the reading here is that loop (``_read_xlsx``).
"""

from __future__ import annotations

import argparse
import getpass
import json
import zipfile
from pathlib import Path
from typing import Any, TextIO

from desmig_desktop.domain.questionnaire import from_document
from desmig_desktop.domain.questionnaire_sheet import SheetError, document_from_sheets
from desmig_server import questionnaires
from desmig_server.db.engine import Database

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 5000  # per sheet: a questionnaire change is tens of rows


class QuestionnaireCliError(Exception):
    """A failure with one line per problem (the CLI prints each, exit 1)."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(lines[0] if lines else "failed")
        self.lines = lines


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    q = sub.add_parser("questionnaire", help="questionnaire versions: publish, show, history")
    q_sub = q.add_subparsers(dest="questionnaire_command", required=True)
    publish = q_sub.add_parser("publish", parents=[common], help="publish the next version (compatible changes only)")
    publish.add_argument("file", help="FILE.xlsx (XLSForm sheets survey and choices) or FILE.json (whole document)")
    publish.add_argument("--by", default=None, help="who publishes (default: the login name)")
    publish.add_argument("--json", action="store_true")
    show = q_sub.add_parser("show", parents=[common], help="a version (default: current)")
    show.add_argument("--version", type=int, default=None)
    show.add_argument("--json", action="store_true", help="the whole document")
    history = q_sub.add_parser("history", parents=[common], help="every version, oldest first")
    history.add_argument("--json", action="store_true")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())[:10]
    return str(value)


def _read_xlsx(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, dict[str, str]]]]:
    """The ``survey`` and ``choices`` rows, headers lower-cased; a missing ``choices`` sheet is empty."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise QuestionnaireCliError([(f"{path.name}: bukan file .xlsx yang bisa dibaca (not a readable .xlsx: "
                                     f"{type(exc).__name__})")]) from None
    try:
        names = {name.strip().lower(): name for name in book.sheetnames}
        if "survey" not in names:
            raise QuestionnaireCliError([f"{path.name}: tidak ada sheet 'survey' (no 'survey' sheet)"])
        sheets = []
        for wanted in ("survey", "choices"):
            rows: list[tuple[int, dict[str, str]]] = []
            if wanted in names:
                header: list[str] = []
                for number, values in enumerate(book[names[wanted]].iter_rows(values_only=True), 1):
                    if number > MAX_ROWS + 1:
                        raise QuestionnaireCliError([(f"{wanted}: lebih dari {MAX_ROWS} baris (more than {MAX_ROWS}"
                                                     " rows)")])
                    cells = [_cell(v).strip() for v in values]
                    if number == 1:
                        header = [c.lower() for c in cells]
                        continue
                    row = {h: c for h, c in zip(header, cells, strict=False) if h}
                    extra = [c for h, c in zip(header, cells, strict=False) if not h and c]
                    if extra or (len(cells) > len(header) and any(cells[len(header):])):
                        row["(no header)"] = "x"
                    rows.append((number, row))
            sheets.append(rows)
        return sheets[0], sheets[1]
    finally:
        book.close()


def _load(db: Database, path: Path) -> Any:
    if not path.is_file():
        raise QuestionnaireCliError([f"no such file: {path}"])
    if path.stat().st_size > MAX_FILE_BYTES:
        raise QuestionnaireCliError([f"{path.name}: larger than {MAX_FILE_BYTES} bytes"])
    if path.suffix.lower() == ".json":
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise QuestionnaireCliError([f"{path.name}: bukan JSON yang sah (not valid JSON: {exc})"]) from None
    if path.suffix.lower() != ".xlsx":
        raise QuestionnaireCliError([f"{path.name}: harus .xlsx atau .json (must be .xlsx or .json)"])
    survey, choices = _read_xlsx(path)
    with db.read() as conn:
        current = questionnaires.QuestionnaireSet(conn).current()
    try:
        return document_from_sheets(current, survey, choices)
    except SheetError as exc:
        raise QuestionnaireCliError(list(exc.problems)) from None


def run(db: Database, args: argparse.Namespace, out: TextIO) -> None:
    """Run one ``questionnaire`` subcommand; ``QuestionnaireCliError`` carries the lines to print."""
    if args.questionnaire_command == "publish":
        doc = _load(db, Path(args.file))
        try:
            done, changes = questionnaires.publish(db, doc, by=args.by or getpass.getuser())
        except questionnaires.PublishError as exc:
            raise QuestionnaireCliError(list(exc.problems)) from None
        except questionnaires.PublishRefused as exc:
            raise QuestionnaireCliError(
                [(f"ditolak (refused): {len(exc.changes)} perubahan butuh rilis aplikasi baru (change(s) need a new"
                 " app release)")] + [f"  {c.describe('id')} / {c.message_en}" for c in exc.changes]) from None
        if args.json:
            out.write(json.dumps(done.as_json(), ensure_ascii=False) + "\n")
        else:
            out.write(f"questionnaire version {done.version} published: "
                      + "; ".join(c.describe("en") for c in changes) + "\n")
    elif args.questionnaire_command == "show":
        with db.read() as conn:
            found = questionnaires.document(conn, args.version)
        if found is None:
            raise QuestionnaireCliError([f"no questionnaire version {args.version}"])
        number, digest, doc = found
        if args.json:
            out.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
            return
        q = from_document(doc)
        out.write(f"questionnaire version {number} (sha256 {digest[:16]}): {len(q.entities)} entities, "
                  f"{sum(len(e.fields) for e in q.entity_specs)} questions, {len(q.rules)} warning rules\n")
        for e in q.entity_specs:
            out.write(f"  {e.name}: {', '.join(e.keys)}\n")
    else:
        versions = questionnaires.history(db)
        if args.json:
            out.write(json.dumps([v.as_json() for v in versions], ensure_ascii=False) + "\n")
            return
        for v in versions:
            codes: dict[str, int] = {}
            for c in v.changes:
                codes[c["code"]] = codes.get(c["code"], 0) + 1
            out.write(f"{v.version} {v.published_at or '(bundled)'} {v.published_by} "
                      + " ".join(f"{k}={n}" for k, n in codes.items()) + "\n")
