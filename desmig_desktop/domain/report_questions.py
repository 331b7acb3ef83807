"""Report breakdowns of the choice questions HQ published after version 1 (issue 16 §3).

A question added by a published version (kind ``choice`` or ``multi``, absent from version 1)
gets a breakdown in ``report --json``, on the desktop and at HQ alike: every row and the totals
carry ``"questions": {"<entity>.<key>": {"<value>": n, ...}}``, ``n`` being the live records of
that entity (with live ancestors, in the row's area) holding that answer — a multi answer counts
once for each value chosen. So HQ can count households by the answers of a question it added
last week. A report under version 1 (nothing published) has no ``questions`` key at all: its JSON
stays exactly what it was. The report's ``question_labels`` names each question in both
languages for the dashboard.

This module is the shape and the arithmetic, shared by both sides; each side counts in SQL
(``services.report_questions``, ``desmig_server.reports.questions``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from desmig_desktop.domain.questionnaire import Questionnaire, bundled
from desmig_desktop.domain.specs import FieldSpec, Kind

Counts = dict[str, dict[str, dict[str, int]]]  # code -> question key -> answer -> records


def new_choice_questions(q: Questionnaire) -> tuple[tuple[str, FieldSpec], ...]:
    """``(entity, field)`` of each choice question of ``q`` that version 1 does not have."""
    base = bundled()
    return tuple((e.name, f) for e in q.entity_specs for f in e.fields
                 if f.kind in (Kind.CHOICE, Kind.MULTI) and not base.entity(e.name).has(f.key))


def question_key(entity_name: str, key: str) -> str:
    return f"{entity_name}.{key}"


def add_answer(counts: Counts, code: str, entity_name: str, f: FieldSpec, value: Any, n: int) -> None:
    """Count ``n`` records of area ``code`` answering ``value`` (a multi answer: each of its values)."""
    if value is None or value == "":
        return
    values: Iterable[str] = str(value).split(",") if f.kind is Kind.MULTI else (str(value),)
    by_answer = counts.setdefault(code, {}).setdefault(question_key(entity_name, f.key), {})
    for v in values:
        by_answer[v] = by_answer.get(v, 0) + int(n)


def attach(report: dict[str, Any], counts: Counts, questions: tuple[tuple[str, FieldSpec], ...]) -> dict[str, Any]:
    """Put the breakdowns in ``report``'s rows and totals (the sum of the rows: areas never overlap)."""
    if not questions:
        return report
    keys = [question_key(e, f.key) for e, f in questions]
    totals: dict[str, dict[str, int]] = {k: {} for k in keys}
    for row in report["rows"]:
        mine = counts.get(row["code"], {})
        row["questions"] = {k: dict(sorted(mine.get(k, {}).items())) for k in keys}
        for k in keys:
            for answer, n in row["questions"][k].items():
                totals[k][answer] = totals[k].get(answer, 0) + n
    report["totals"]["questions"] = {k: dict(sorted(v.items())) for k, v in totals.items()}
    report["question_labels"] = {question_key(e, f.key): {"id": f.label_id, "en": f.label_en,
                                                          "choices": {c.value: {"id": c.label_id, "en": c.label_en}
                                                                      for c in f.choices}}
                                 for e, f in questions}
    return report
