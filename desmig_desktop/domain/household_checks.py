"""Checks that need more than one record: the head of household, and a member's age.

``validate`` checks one record at a time; these read a household together with its members and
so run where a whole household is at hand: the form's save and the import (both through
``services``). They are soft warnings: the officer confirms them, nothing is refused. The HQ
server validates one op at a time and does not run them (it ignores soft warnings anyway).

Education for age (``education_issue``) needs only the member's own record and runs inside
``validate`` too, so every path that validates a member sees it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desmig_desktop.domain.fields import EDUCATION
from desmig_desktop.domain.i18n import _, pick

HEAD = "kepala"

# The youngest age (in whole years) at which someone can already be *in* each level — the usual
# entry age minus one year for early starters (SD from 6-7, PP 17/2010 Pasal 69; SMP after six
# years of SD; SMA/SMK after three of SMP; D1–D4 and S1 after three of SMA; S2 after a
# four-year S1). A member younger than this cannot have that education: a typing slip in the
# birth date or the education, shown as a soft warning.
EDUCATION_MIN_AGE: dict[str, int] = {
    "tidak_sekolah": 0,
    "sd": 5,
    "smp": 11,
    "sma": 14,
    "diploma": 17,
    "s1": 17,
    "s2_s3": 20,
}
assert set(EDUCATION_MIN_AGE) == {c.value for c in EDUCATION}, "every education level needs a minimum age"


@dataclass(frozen=True)
class GraphIssue:
    """A soft warning about one record of a household: ``entity`` + ``record_id``, on ``field``."""

    entity: str  # "households" or "members"
    record_id: str
    field: str
    code: str
    message: str


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years between ``birth`` and ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def education_issue(education: str | None, birth_date: str | None, today: dt.date) -> tuple[str, str] | None:
    """``(code, message)`` when a member born on ``birth_date`` (ISO) is too young for ``education``."""
    if not education or not birth_date or education not in EDUCATION_MIN_AGE:
        return None
    age = age_on(dt.date.fromisoformat(birth_date), today)
    minimum = EDUCATION_MIN_AGE[education]
    if age >= minimum:
        return None
    label = next(pick(c.label_id, c.label_en) for c in EDUCATION if c.value == education)
    message = _("Pendidikan {education} tidak mungkin untuk usia {age} tahun (paling muda {minimum} tahun).",
                education=label, age=max(age, 0), minimum=minimum)
    return "education_age", message


def household_issues(household_id: str, members: Sequence[Mapping[str, Any]]) -> list[GraphIssue]:
    """Soft warnings about a household as a whole, given its live members (each with an ``id``).

    Exactly one member should be the head (``relationship`` = kepala). A household whose member
    list is still empty gets no warning: the officer may save the household first and list the
    members later, and ``head_name`` (required) already names the head.
    """
    if not members:
        return []
    heads = [m for m in members if m.get("relationship") == HEAD]
    if not heads:
        return [GraphIssue("households", household_id, "head_name", "no_head", _(
            "Tidak ada anggota yang tercatat sebagai kepala keluarga; tandai satu anggota sebagai kepala."))]
    if len(heads) > 1:
        message = _("Ada {count} anggota yang tercatat sebagai kepala keluarga; seharusnya tepat satu.",
                    count=len(heads))
        return [GraphIssue("members", str(m["id"]), "relationship", "several_heads", message) for m in heads]
    return []
