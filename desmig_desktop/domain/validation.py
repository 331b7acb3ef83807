"""Validation of one record against the questionnaire: hard errors refuse, soft warnings ask.

A message names the rule, never the value checked (SECURITY.md): the HQ returns these messages
to the pushing client and stores them, so a value in one would reflect client text; the form
shows the value next to its message anyway.

Used identically by the desktop (forms, import, demo) and by the HQ server (push). Input values
may be raw (strings from a form or a CSV cell); the result carries the normalised values.

This module is the order of the steps, per field: coerce the raw value (``coercion``), drop an
answer whose question no longer applies, require what is required, check the value by its kind
(``field_rules``); then the rules across the record's fields (``record_rules``), then the soft
rules HQ published with the questionnaire (``questionnaire.check_rules``). The result and what
the rules may ask are in ``issues``.

``questionnaire``: the version to validate against (the HQ server: the version the op was
validated under on the laptop); None is the bundled version 1 (``fields.ENTITIES``).

``soft``: False for a caller that reads only the hard errors and the values (the HQ applying a
push: it stores the values or rejects the op, and throws soft warnings away). The rules then skip
the work whose only product is a soft warning (NIK against sex and birth date, education and
marital status for age, the No. KK's structure, the location, a phone outside its country's
ranges, HQ's published soft rules, the lookups some of them make), and the result has the same
values and the same hard errors, in the same order, and no soft warning. The desktop's forms,
import and review keep the default: they show the warnings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from desmig_desktop.domain.coercion import CoerceError, coerce
from desmig_desktop.domain.field_rules import check_field
from desmig_desktop.domain.fields import FieldSpec, entity
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.issues import Lookup, Validation
from desmig_desktop.domain.questionnaire import Questionnaire, check_rules
from desmig_desktop.domain.record_rules import RECORD_RULES


def _relevant(spec: FieldSpec, values: Mapping[str, Any]) -> bool:
    rel = spec.relevant
    return rel is None or rel.of_parent or values.get(rel.field) in rel.values




def validate(
    entity_name: str,
    raw: Mapping[str, Any],
    *,
    record_id: str | None = None,
    lookup: Lookup | None = None,
    parent: Mapping[str, Any] | None = None,
    today: dt.date | None = None,
    questionnaire: Questionnaire | None = None,
    soft: bool = True,
) -> Validation:
    """Validate a whole record (all its fields); unknown keys are hard errors. ``soft=False``:
    hard errors and values only (see the module's docstring)."""
    spec = entity(entity_name) if questionnaire is None else questionnaire.entity(entity_name)
    today = today or dt.date.today()
    values: dict[str, Any] = {}
    v = Validation(values=values, wants_soft=soft)
    if not spec.covers(raw):  # (one set operation for the usual all-known case)
        for key in raw:
            if not spec.has(key):
                v.hard(key, "unknown_field", _("Isian tidak dikenal: {field}", field=key))
    for fs in spec.input_fields:  # derived ones are computed by the record rules
        try:
            value = coerce(fs, raw.get(fs.key))
        except CoerceError as exc:
            v.hard(fs.key, "format", str(exc))
            continue
        rel = fs.relevant
        if value is not None and rel is not None and not rel.of_parent:
            # the question's condition, read from the values so far, else from the raw input
            answer = values[rel.field] if rel.field in values else raw.get(rel.field)
            if answer not in rel.values:
                value = None  # an answer to a question that no longer applies is dropped
        values[fs.key] = value
        if value is None:
            if fs.required and _relevant(fs, values):
                v.hard(fs.key, "required", _("Wajib diisi."))
            continue
        check_field(v, fs, value, today, lookup)
    rule = RECORD_RULES.get(entity_name)
    if rule is not None:
        rule(v, spec, record_id, lookup, parent, today)
    if questionnaire is not None:
        check_rules(v, questionnaire.rules_for(entity_name))
    return v
