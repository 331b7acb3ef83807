"""What a printed household record holds: the stored household, where it is, who prints it.

The printout is of the *saved* record (the form asks to save first), so the paper a family or
the village office keeps is what the laptop, and later HQ, holds. Laying it out is the UI's
(``ui.household_pdf``): text layout needs Qt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.specs import EntitySpec
from desmig_desktop.services.households import HouseholdGraph, load_household
from desmig_desktop.services.privacy import mask_nik
from desmig_desktop.services.questionnaire import entity_spec
from desmig_desktop.store import regions, settings

MASKED_KINDS_KEYS = ("nik", "kk_number")  # the identity numbers a printout masks unless asked not to
PRINTED_ENTITIES = ("households", "members", "placements", "businesses")  # what a household's record holds


@dataclass(frozen=True)
class PrintableHousehold:
    graph: HouseholdGraph
    village: str = ""
    district: str = ""
    regency: str = ""
    province: str = ""
    officer: str = ""
    printed_on: dt.date = field(default_factory=dt.date.today)
    # The questions printed, per entity: the database's active questionnaire version (a question
    # HQ published is printed with its answer); the bundled version 1 when none is given.
    specs: Mapping[str, EntitySpec] = field(default_factory=lambda: {name: ENTITIES[name] for name in PRINTED_ENTITIES})


def printable_household(db: Database, household_id: str, *, mask: bool = True) -> PrintableHousehold:
    """The saved household ready to print; NIK and No. KK masked (``3201********0001``) unless ``mask=False``.

    Raises:
        KnownError: the household does not exist (any more).
    """
    graph = load_household(db, household_id)
    if mask:
        for record in (graph.household, *graph.members):
            for key in MASKED_KINDS_KEYS:
                if record.get(key):
                    record[key] = mask_nik(str(record[key]))
    code = str(graph.household.get("village_code") or "")
    chain: dict[int, str] = {r.level: r.name for r in regions.lineage(db, code)} if code else {}
    officer: Any = settings.get(db, "officer_name", "") or ""
    return PrintableHousehold(graph, village=chain.get(4, code), district=chain.get(3, ""),
                              regency=chain.get(2, ""), province=chain.get(1, ""), officer=str(officer),
                              specs={name: entity_spec(db, name) for name in PRINTED_ENTITIES})
