"""The questionnaire this app ships (version 1), under the names the rest of the code imports.

The questions are declared once, in the document ``resources/questionnaire/v1.json`` (read by
``questionnaire``; the shapes are in ``specs``). The same specs drive the local database
columns, validation (desktop and HQ server), form widgets, list columns and export headers.
Everything here is derived from that document: ``ENTITIES``, ``ENTITY_ORDER``, the entity
constants and the choice tuples code relies on.

A new question is not an edit here: HQ publishes a new questionnaire version
(``desmig-hq questionnaire publish``; ``questionnaire_compat`` says which changes need no new
app). Version 1 itself is frozen (``tests/unit/test_questionnaire_v1.py``). Code that must see a
later version's questions takes a ``Questionnaire`` instead of these v1 names.

The store's migration steps are literal and frozen (``store/schema.py``): they never read these
specs. A question that needs a new app (a new entity, a changed kind) ships as a new bundled
version of the document plus a new literal step at the end of ``store/schema.py`` that adds its column; the drift
test (``tests/store/test_schema_drift.py``) fails until the step exists and names the statement.
A published version's new questions get their columns when the laptop applies it
(``store/questionnaire_store.py``), not from a step.
"""

from __future__ import annotations

from desmig_desktop.domain.questionnaire import bundled
from desmig_desktop.domain.specs import (
    COMMON_COLUMNS,
    Choice,
    EntitySpec,
    FieldSpec,
    Kind,
    Relevance,
    list_columns,
)

__all__ = ["COMMON_COLUMNS", "Choice", "EntitySpec", "FieldSpec", "Kind", "Relevance", "list_columns"]

QUESTIONNAIRE = bundled()

ENTITIES: dict[str, EntitySpec] = dict(QUESTIONNAIRE.entities)
# Parents before children, and every record after the records its references point to.
ENTITY_ORDER: tuple[str, ...] = tuple(ENTITIES)


def entity(name: str) -> EntitySpec:
    """The spec of entity ``name``; ``KeyError`` for an unknown entity."""
    return ENTITIES[name]


def _choices(entity_name: str, key: str) -> tuple[Choice, ...]:
    return ENTITIES[entity_name].field(key).choices


HOUSEHOLDS = ENTITIES["households"]
MEMBERS = ENTITIES["members"]
PLACEMENTS = ENTITIES["placements"]
BUSINESSES = ENTITIES["businesses"]
# --- The programme's four pillars and the officer's own work (village-level records) ---------
# A record below either has a ``village_code`` (the village it belongs to: its sync scope) or a
# parent that has one. References to members and businesses that are not the parent (the person
# served, an attendee, a cooperative's member) are plain ``REF`` fields checked against the scope.
VILLAGE_PROFILES = ENTITIES["village_profiles"]
SERVICES = ENTITIES["services"]
BUSINESS_SUPPORTS = ENTITIES["business_supports"]
PARENTING_ACTIVITIES = ENTITIES["parenting_activities"]
PARENTING_ATTENDANCE = ENTITIES["parenting_attendance"]
COOPERATIVES = ENTITIES["cooperatives"]
COOPERATIVE_MEMBERS = ENTITIES["cooperative_members"]
COOPERATIVE_BUSINESSES = ENTITIES["cooperative_businesses"]
OFFICER_ACTIVITIES = ENTITIES["officer_activities"]
PROGRAMME_ENTITIES: tuple[EntitySpec, ...] = (
    VILLAGE_PROFILES, SERVICES, BUSINESS_SUPPORTS, PARENTING_ACTIVITIES, PARENTING_ATTENDANCE,
    COOPERATIVES, COOPERATIVE_MEMBERS, COOPERATIVE_BUSINESSES, OFFICER_ACTIVITIES,
)

MIGRATION_STATUS = _choices("members", "migration_status")
# A member with one of these statuses has placements (the placements entity's relevance).
PLACEMENT_STATUSES: tuple[str | bool, ...] = PLACEMENTS.relevant.values if PLACEMENTS.relevant else ()
RELATIONSHIP = _choices("members", "relationship")
EDUCATION = _choices("members", "education")
MARITAL = _choices("members", "marital_status")
SEX = _choices("members", "sex")
JOB = _choices("placements", "job")
SECTOR = _choices("placements", "sector")
SCHEME = _choices("placements", "scheme")
REMITTANCE_USE = _choices("placements", "remittance_use")
PROBLEM_KIND = _choices("placements", "problem_kind")
KBLI_CATEGORY = _choices("businesses", "kbli_category")
UMKM_CLASS = _choices("businesses", "umkm_class")
UMKM_BASIS = _choices("businesses", "umkm_basis")
CAPITAL_SOURCE = _choices("businesses", "capital_source")
BUSINESS_STATUS = _choices("businesses", "status")
VILLAGE_STATUS = _choices("village_profiles", "status")
WEEKDAYS = _choices("village_profiles", "centre_days")
AGE_BAND = _choices("services", "walk_in_age_band")
SERVICE_TYPE = _choices("services", "service_type")
DOCUMENT_KIND = _choices("services", "document_kind")
CASE_KIND = _choices("services", "case_kind")
REFERRAL = _choices("services", "referral")
CASE_STATUS = _choices("services", "status")
# The statuses of a case still open (a notion of the code, not of the document; a test holds
# them to ``CASE_STATUS``'s values).
OPEN_CASE_STATUSES: tuple[str, ...] = ("terbuka", "ditindaklanjuti")
SUPPORT_TYPE = _choices("business_supports", "support_type")
SUPPORT_SOURCE = _choices("business_supports", "source")
PARENTING_TYPE = _choices("parenting_activities", "activity_type")
ATTENDEE_ROLE = _choices("parenting_attendance", "role")
GROUP_KIND = _choices("cooperatives", "group_kind")
LEGAL_STATUS = _choices("cooperatives", "legal_status")
GROUP_STATUS = _choices("cooperatives", "status")
GROUP_ROLE = _choices("cooperative_members", "role")
ACTIVITY_KIND = _choices("officer_activities", "activity_kind")
PARTNERS = _choices("officer_activities", "partners")
