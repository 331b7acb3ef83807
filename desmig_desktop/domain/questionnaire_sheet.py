"""An XLSForm-style spreadsheet of changes → the next questionnaire document (issue 16 §2).

HQ staff write questions the way ODK/Kobo users do: a sheet ``survey`` (one row per question:
``entity``, ``type``, ``name``, ``label::Bahasa Indonesia``, ``label::English``, ``hint``,
``hint::English``, ``required``, ``relevant``, ``constraint``; and, beyond XLSForm, ``warning``
with ``warning_message::Bahasa Indonesia``/``::English`` for soft rules and ``hidden``) and a sheet
``choices`` (``list_name``, ``name``, ``label::Bahasa Indonesia``, ``label::English``).

The sheet holds *changes to the current version*, not the whole questionnaire: a row naming a
new ``name`` adds a question at the end of its entity; a row naming an existing one changes what
its non-empty cells say (labels, hint, relevance, bounds, warnings, hidden). Choices of a
``select_one LIST``/``select_multiple LIST`` come from ``LIST``; an existing choice question's list
is ``entity.name`` (``placements.job``), so adding a job type is one ``choices`` row. Choices are
added or relabelled, never removed here. Whether the result is publishable is
``questionnaire_compat.compare``'s verdict, not this module's.

The expression columns take a tiny language, never evaluated as code:

* ``relevant``: ``${field} = 'value'`` (or ``true()``/``false()``), several joined by ``or``;
* ``constraint`` (hard bounds of the question itself): ``. >= 0``, ``. <= 100``,
  ``string-length(.) <= 50``, ``string-length(.) = 5``, joined by ``and``;
* ``warning`` (soft rules): ``. OP value`` or ``. OP ${other}``, OP one of ``= != < <= > >=``,
  value a number, ``'text'`` (a date ``'2020-01-01'``) or ``true()``/``false()``, joined by ``and``.

``document_from_sheets(base, survey, choices)`` takes the rows already read (``(row number,
{lower-cased header: cell text})``; the server reads the .xlsx with openpyxl) and returns the new
document, or raises ``SheetError`` listing one problem per bad row — never a traceback.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from desmig_desktop.domain.questionnaire import DocumentError, Questionnaire, from_document, to_document
from desmig_desktop.domain.questionnaire_check import CHOICE_VALUE, NAME
from desmig_desktop.domain.specs import Kind

Row = tuple[int, dict[str, str]]

LABEL_ID, LABEL_EN = "label::bahasa indonesia", "label::english"
SURVEY_COLUMNS = frozenset({"entity", "type", "name", LABEL_ID, LABEL_EN, "label", "hint", "hint::bahasa indonesia",
                            "hint::english", "required", "relevant", "constraint", "warning",
                            "warning_message::bahasa indonesia", "warning_message::english", "hidden",
                            "planned"})
CHOICE_COLUMNS = frozenset({"list_name", "name", LABEL_ID, LABEL_EN, "label"})
TYPES = {"text": Kind.TEXT, "long_text": Kind.LONG_TEXT, "integer": Kind.INT, "int": Kind.INT,
         "decimal": Kind.FLOAT, "float": Kind.FLOAT, "money": Kind.MONEY, "date": Kind.DATE, "bool": Kind.BOOL,
         "boolean": Kind.BOOL, "phone": Kind.PHONE, "country": Kind.COUNTRY, "digits": Kind.DIGITS,
         **{k.value: k for k in Kind}}
DEFAULT_MAX_LENGTH = {Kind.TEXT: 300, Kind.LONG_TEXT: 2000}
DEFAULT_WARNING = ("Periksa lagi jawaban ini.", "Check this answer again.")
_YES, _NO = {"yes", "ya", "true", "1", "y"}, {"no", "tidak", "false", "0", "n"}

_SELECT = re.compile(r"^(select_one|select_multiple)\s+([A-Za-z0-9_.]{1,80})$")
_REL_TERM = re.compile(r"""^\$\{([a-z][a-z0-9_]*)\}\s*=\s*(?:'([^']*)'|"([^"]*)"|(true|false)\(\))$""")
_BOUND = re.compile(r"^\.\s*(>=|<=)\s*(-?[0-9]+(?:\.[0-9]+)?)$")
_LENGTH = re.compile(r"^string-length\(\s*\.\s*\)\s*(<=|=)\s*([0-9]{1,6})$")
_WARN = re.compile(r"""^\.\s*(!=|<=|>=|=|<|>)\s*(?:\$\{([a-z][a-z0-9_]*)\}|(-?[0-9]+(?:\.[0-9]+)?)|'([^']*)'|"([^"]*)"|"""
                   r"""(true|false)\(\))$""")


class SheetError(ValueError):
    """A spreadsheet that cannot become a document; ``problems``: one line per bad row or column."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""))
        self.problems = tuple(problems)


class _RowError(Exception):
    pass


def _flag(text: str) -> bool | None:
    t = text.strip().lower()
    if not t:
        return None
    if t in _YES:
        return True
    if t in _NO:
        return False
    raise _RowError(f"'{text}' bukan ya/tidak (not yes/no)")


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _relevance(text: str) -> dict[str, Any]:
    field, values = None, []
    for term in re.split(r"\s+or\s+", text.strip()):
        m = _REL_TERM.match(term.strip())
        if m is None or (field is not None and m[1] != field):
            raise _RowError("relevant harus ${pertanyaan} = 'nilai' [or …] tentang satu pertanyaan "
                            "(relevant must be ${question} = 'value' [or …] about one question)")
        field = m[1]
        values.append(m[4] == "true" if m[4] else m[2] if m[2] is not None else m[3])
    return {"field": field, "values": values}


def _constraint(text: str, out: dict[str, Any]) -> None:
    for term in re.split(r"\s+and\s+", text.strip()):
        term = term.strip()
        bound, length = _BOUND.match(term), _LENGTH.match(term)
        if bound is not None:
            out["minimum" if bound[1] == ">=" else "maximum"] = _number(bound[2])
        elif length is not None:
            out["max_length" if length[1] == "<=" else "length"] = int(length[2])
        else:
            raise _RowError(f"constraint tidak dikenal: '{term[:60]}' (unknown constraint; allowed: . >= n, . <= n, "
                            "string-length(.) <= n, string-length(.) = n; comparisons go into 'warning')")


def _warnings(text: str, entity: str, key: str, message: tuple[str, str]) -> list[dict[str, Any]]:
    rules = []
    for n, term in enumerate(re.split(r"\s+and\s+", text.strip()), 1):
        m = _WARN.match(term.strip())
        if m is None:
            raise _RowError(f"warning tidak dikenal: '{term[:60]}' (unknown warning; allowed: . OP value or "
                            ". OP ${{question}}, OP one of = != < <= > >=)")
        op = "==" if m[1] == "=" else m[1]
        rule: dict[str, Any] = {"id": f"{entity}.{key}.{n}", "entity": entity, "field": key, "op": op}
        if m[2]:
            rule["other"] = m[2]
        elif m[3]:
            rule["value"] = _number(m[3])
        elif m[6]:
            rule["value"] = m[6] == "true"
        else:
            rule["value"] = m[4] if m[4] is not None else m[5]
        rule["message"] = {"id": message[0], "en": message[1]}
        rules.append(rule)
    return rules


def _unknown_columns(sheet: str, rows: Sequence[Row], allowed: frozenset[str]) -> list[str]:
    seen = sorted({k for _n, row in rows for k in row if k not in allowed})
    return [f"{sheet}: kolom tidak dikenal '{k[:40]}' (unknown column)" for k in seen]


def _read_choices(rows: Sequence[Row], problems: list[str]) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    lists: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for number, row in rows:
        if not any(v.strip() for v in row.values()):
            continue
        name, value = row.get("list_name", "").strip(), row.get("name", "").strip()
        label_id = (row.get(LABEL_ID) or row.get("label") or "").strip()
        label_en = (row.get(LABEL_EN) or "").strip() or label_id
        if not name or not CHOICE_VALUE.match(value) or not label_id:
            problems.append(f"choices baris {number} (row {number}): butuh list_name, name (huruf, angka, _) dan "
                            "label (needs list_name, name of letters, digits, _ and a label)")
            continue
        entries = lists.setdefault(name, [])
        if any(e["value"] == value for _n, e in entries):
            problems.append(f"choices baris {number} (row {number}): pilihan '{value}' ganda di {name} (duplicate)")
            continue
        entries.append((number, {"value": value, "label": {"id": label_id, "en": label_en}}))
    return lists


def _merge_choices(field: dict[str, Any], entries: list[tuple[int, dict[str, Any]]]) -> None:
    current = field.setdefault("choices", [])
    by_value = {c["value"]: c for c in current}
    for _n, entry in entries:
        if entry["value"] in by_value:
            by_value[entry["value"]]["label"] = entry["label"]
        else:
            current.append(copy.deepcopy(entry))


def document_from_sheets(base: Questionnaire, survey: Sequence[Row], choices: Sequence[Row]) -> dict[str, Any]:
    """The document of version ``base.version + 1``: ``base`` with the sheets' changes applied."""
    doc = to_document(base)
    doc["version"] = base.version + 1
    entities = {e["name"]: e for e in doc["entities"]}
    problems = _unknown_columns("survey", survey, SURVEY_COLUMNS) + _unknown_columns("choices", choices,
                                                                                      CHOICE_COLUMNS)
    lists = _read_choices(choices, problems)
    used: set[str] = set()
    touched: set[tuple[str, str]] = set()
    for number, row in survey:
        if not any(v.strip() for v in row.values()):
            continue
        try:
            touched.add(_survey_row(row, entities, doc, lists, used, touched))
        except _RowError as exc:
            problems.append(f"survey baris {number} (row {number}): {exc}")
    for name, entries in lists.items():
        if name in used:
            continue
        entity, _dot, field_key = name.partition(".")
        target = next((f for f in entities[entity]["fields"] if f["key"] == field_key), None) \
            if entity in entities else None
        if target is None or "choices" not in target:
            problems.append(f"choices baris {entries[0][0]} (row {entries[0][0]}): daftar '{name}' tidak dipakai "
                            "pertanyaan mana pun (list used by no question; an existing question's list is "
                            "entity.name)")
        else:
            _merge_choices(target, entries)
    if problems:
        raise SheetError(problems)
    try:
        from_document(doc)
    except DocumentError as exc:
        raise SheetError([f"dokumen (document) {p}" for p in exc.problems]) from None
    return doc


def _survey_row(row: dict[str, str], entities: dict[str, Any], doc: dict[str, Any],
                lists: dict[str, list[tuple[int, dict[str, Any]]]], used: set[str],
                touched: set[tuple[str, str]]) -> tuple[str, str]:
    cell = {k: (v or "").strip() for k, v in row.items()}
    entity, key = cell.get("entity", ""), cell.get("name", "")
    if entity not in entities:
        raise _RowError(f"entitas '{entity[:40]}' tidak dikenal (unknown entity; a new entity needs an app release)")
    if not NAME.match(key):
        raise _RowError("name harus huruf kecil, angka dan _ , diawali huruf (name must be lower-case letters, "
                        "digits and _, starting with a letter)")
    if (entity, key) in touched:
        raise _RowError(f"pertanyaan {entity}.{key} muncul dua kali (question listed twice)")
    fields = entities[entity]["fields"]
    field = next((f for f in fields if f["key"] == key), None)
    is_new = field is None
    kind, list_name = None, None
    if cell.get("type"):
        select = _SELECT.match(cell["type"])
        if select is not None:
            kind, list_name = (Kind.CHOICE if select[1] == "select_one" else Kind.MULTI), select[2]
        elif cell["type"].lower() in TYPES:
            kind = TYPES[cell["type"].lower()]
        else:
            raise _RowError(f"type '{cell['type'][:40]}' tidak dikenal (unknown type)")
    label_id = cell.get(LABEL_ID) or cell.get("label", "")
    if is_new:
        if kind is None or not label_id:
            raise _RowError("pertanyaan baru butuh type dan label::Bahasa Indonesia (a new question needs a type "
                            "and a label)")
        field = {"key": key, "label": {"id": label_id, "en": cell.get(LABEL_EN) or label_id}, "kind": kind.value}
        if kind in DEFAULT_MAX_LENGTH:
            field["max_length"] = DEFAULT_MAX_LENGTH[kind]
        fields.append(field)
    else:
        assert field is not None
        if kind is not None and kind.value != field["kind"]:  # refused here: its bounds would not fit it
            raise _RowError(f"jenis jawaban pertanyaan yang sudah ada tidak boleh diubah ({field['kind']} → "
                            f"{kind.value}; the kind of an existing question may not change: needs an app release)")
        if label_id:
            field["label"]["id"] = label_id
        if cell.get(LABEL_EN):
            field["label"]["en"] = cell[LABEL_EN]
    assert field is not None
    hint_id, hint_en = cell.get("hint") or cell.get("hint::bahasa indonesia", ""), cell.get("hint::english", "")
    if hint_id or hint_en:
        old = field.get("help", {"id": "", "en": ""})
        field["help"] = {"id": hint_id or old["id"], "en": hint_en or hint_id or old["en"]}
    for column in ("required", "hidden", "planned"):
        flag = _flag(cell.get(column, ""))
        if flag and column == "planned" and field["kind"] != Kind.DATE.value:
            raise _RowError("planned hanya untuk pertanyaan tanggal (planned is only for a date question)")
        if flag:
            field[column] = True
        elif flag is not None:
            field.pop(column, None)  # the document leaves defaults out
    if cell.get("relevant"):
        field["relevant"] = _relevance(cell["relevant"])
    if cell.get("constraint"):
        _constraint(cell["constraint"], field)
    if cell.get("warning"):
        message = (cell.get("warning_message::bahasa indonesia") or DEFAULT_WARNING[0],
                   cell.get("warning_message::english") or cell.get("warning_message::bahasa indonesia")
                   or DEFAULT_WARNING[1])
        doc["rules"] = [r for r in doc["rules"] if not (r["entity"] == entity and r["field"] == key)]
        doc["rules"].extend(_warnings(cell["warning"], entity, key, message))
    if list_name is not None:
        if list_name not in lists:
            raise _RowError(f"daftar pilihan '{list_name}' tidak ada di sheet choices (choice list not found)")
        used.add(list_name)
        _merge_choices(field, lists[list_name])
    elif is_new and kind in (Kind.CHOICE, Kind.MULTI):
        raise _RowError("select butuh nama daftar pilihan (select needs a choice list name)")
    return entity, key
