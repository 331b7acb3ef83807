"""What a validation says and what it may ask: shared by the rule modules and their callers.

``Issue`` is one finding on one field (hard: refused; soft: the officer confirms), ``Validation``
gathers them with the normalised values of one record, and ``Lookup`` is what a rule may ask
beyond the record (the local database on the desktop, the HQ database on the server). They sit
below ``field_rules``, ``record_rules`` and ``validation`` so those import them without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class Lookup(Protocol):
    """What validation needs to know beyond the record itself (the local DB or the HQ DB)."""

    def village_exists(self, code: str) -> bool: ...

    def village_assigned(self, code: str) -> bool:
        """Whether the user may record households in village ``code``: on the desktop, one of the
        officer's villages (``store.queries.assigned_villages``). The HQ checks each op against
        the caller's scopes itself (a per-op rejection), so its lookup says yes."""
        ...

    def district_exists(self, code: str) -> bool: ...

    def nik_holder(self, nik: str, exclude_member_id: str | None) -> tuple[str, str] | None:
        """``(member_id, household_id)`` of another live member holding ``nik``, if any."""
        ...


@dataclass(frozen=True)
class Issue:
    field: str
    code: str
    message: str
    hard: bool
    ref: str | None = None  # e.g. the household id holding a duplicate NIK


@dataclass
class Validation:
    """The normalised ``values`` of one record and the ``issues`` found in them.

    ``wants_soft`` False: the caller reads only the hard errors and the values (the HQ applying a
    push throws soft warnings away), so a rule skips the work whose only product is a soft warning
    (``validate(..., soft=False)``). Hard errors and values never depend on it: a rule guards its
    soft part with it, never a hard check (the property in ``tests/unit/test_hard_only.py``).
    """

    values: dict[str, Any]
    issues: list[Issue] = field(default_factory=list)
    wants_soft: bool = True

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.hard]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if not i.hard]

    @property
    def ok(self) -> bool:
        return not self.errors

    def hard(self, key: str, code: str, message: str) -> None:
        self.issues.append(Issue(key, code, message, True))

    def soft(self, key: str, code: str, message: str, ref: str | None = None) -> None:
        self.issues.append(Issue(key, code, message, False, ref))
