"""Implausible households: checks over a household and its members, and a member's age.

``validate`` checks one record at a time; ``household_issues`` reads a household together with
its members and so runs where a whole household is at hand: the form's save and the import
(both through ``services``). Everything here is a soft warning: the officer confirms it,
nothing is refused. The HQ server validates one op at a time and does not run
``household_issues`` (it ignores soft warnings anyway).

Education and marital status for age (``education_issue``, ``marital_issue``) need only the
member's own record and run inside ``validate`` too, so every path that validates a member
sees them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desmig_desktop.domain.fields import EDUCATION, MARITAL
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


# Marriage: UU 16/2019 raised the minimum age to 19 for both sexes (before, 16 for women), but
# courts grant tens of thousands of dispensations a year, so a married 16–18-year-old is a real
# case to record, not a slip. Below 16 is flagged: most likely a wrong birth date or status.
MARRIED_MIN_AGE = 16
NEVER_MARRIED = "belum_kawin"
_MARITAL_VALUES = frozenset(c.value for c in MARITAL)
# A head of household younger than this is flagged (a child-headed household is possible but
# rare; far more often the head's birth date, or who is marked head, is mistyped).
HEAD_MIN_AGE = 15


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


def marital_issue(marital_status: str | None, birth_date: str | None, today: dt.date) -> tuple[str, str] | None:
    """``(code, message)`` when a member born on ``birth_date`` (ISO) is too young to have ever married."""
    if not marital_status or marital_status == NEVER_MARRIED or not birth_date or marital_status not in _MARITAL_VALUES:
        return None
    age = age_on(dt.date.fromisoformat(birth_date), today)
    if age >= MARRIED_MIN_AGE:
        return None
    label = next(pick(c.label_id, c.label_en) for c in MARITAL if c.value == marital_status)
    return "marital_age", _(
        "Status perkawinan {status} tidak masuk akal untuk usia {age} tahun (batas usia perkawinan 19 tahun, "
        "UU 16/2019); periksa tanggal lahir dan status perkawinan.", status=label, age=max(age, 0))


def _birth(member: Mapping[str, Any]) -> dt.date | None:
    raw = member.get("birth_date")
    try:
        return dt.date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None  # a malformed date is the member's own hard error


def household_issues(household_id: str, members: Sequence[Mapping[str, Any]],
                     today: dt.date | None = None) -> list[GraphIssue]:
    """Soft warnings about a household as a whole, given its live members (each with an ``id``).

    A household should list at least one member (a household of nobody is a half-entered form,
    or its members were put in another household); exactly one member should be the head
    (``relationship`` = kepala), and the head should be at least ``HEAD_MIN_AGE``.
    """
    if not members:
        return [GraphIssue("households", household_id, "head_name", "no_members", _(
            "Rumah tangga ini belum punya anggota; tambahkan paling sedikit kepala keluarga sebagai anggota."))]
    today = today or dt.date.today()
    heads = [m for m in members if m.get("relationship") == HEAD]
    if not heads:
        return [GraphIssue("households", household_id, "head_name", "no_head", _(
            "Tidak ada anggota yang tercatat sebagai kepala keluarga; tandai satu anggota sebagai kepala."))]
    if len(heads) > 1:
        message = _("Ada {count} anggota yang tercatat sebagai kepala keluarga; seharusnya tepat satu.",
                    count=len(heads))
        return [GraphIssue("members", str(m["id"]), "relationship", "several_heads", message) for m in heads]
    birth = _birth(heads[0])
    if birth is not None and birth <= today and (age := age_on(birth, today)) < HEAD_MIN_AGE:
        return [GraphIssue("members", str(heads[0]["id"]), "birth_date", "young_head", _(
            "Kepala keluarga berusia {age} tahun, di bawah {minimum} tahun; periksa tanggal lahir dan siapa "
            "kepala keluarganya.", age=age, minimum=HEAD_MIN_AGE))]
    return []
