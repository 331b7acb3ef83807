"""The HQ half of ``desmig_desktop.domain.report_questions``: breakdowns of the choice questions
of the current published version that version 1 lacks, counted in SQL over ``records`` (SQLite and
PostgreSQL), with the same areas and the same live-ancestor rule as the rest of the report, so a
device on the same version reports the same figures."""

from __future__ import annotations

from typing import Any

from sqlalchemy import FromClause, and_, false, func, select

from desmig_desktop.domain import report_questions as rq
from desmig_desktop.domain import report_spec as spec
from desmig_server.auth.principal import Principal
from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.db.json_sql import json_text
from desmig_server.questionnaires import QuestionnaireSet


def add_breakdowns(db: Database, report: dict[str, Any], *, level: str, prefix: str = "",
                   actor: Principal | None = None) -> dict[str, Any]:
    """``report`` with the breakdowns of the new questions (unchanged when there are none)."""
    with db.read() as conn:
        questions = rq.new_choice_questions(QuestionnaireSet(conn).current())
        if not questions:
            return report
        length = spec.LEVELS[level]
        counts: rq.Counts = {}
        for entity_name, f in questions:
            e = t.records.alias("e")
            joined: FromClause = e
            child = e
            for depth, (_key, parent) in enumerate(spec.ancestors(entity_name)):
                alias = t.records.alias(f"a{depth}")
                joined = joined.join(alias, and_(alias.c.entity == parent, alias.c.id == child.c.parent_id,
                                                 alias.c.deleted == false()))
                child = alias
            scope = child.c.scope
            conditions = [e.c.entity == entity_name, e.c.deleted == false()]
            if prefix:
                conditions.append((scope == prefix) | scope.startswith(prefix + ".", autoescape=True))
            restricted = actor.scope_condition(scope) if actor is not None else None
            if restricted is not None:
                conditions.append(restricted)
            value = json_text(db.dialect, e.c.data, f.key).label("k")
            inner = select(func.substr(scope, 1, length).label("code"), value).select_from(joined).where(
                *conditions).subquery("s")
            stmt = (select(inner.c.code, inner.c.k, func.count()).where(inner.c.k.is_not(None))
                    .group_by(inner.c.code, inner.c.k))
            for code, answer, n in conn.execute(stmt):
                rq.add_answer(counts, code, entity_name, f, answer, n)
    return rq.attach(report, counts, questions)

