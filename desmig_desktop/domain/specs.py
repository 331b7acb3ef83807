"""The shapes of the questionnaire: kinds of answer, a question (``FieldSpec``), an entity.

What the questions *are* is a document (``resources/questionnaire/v1.json``, read by
``questionnaire``); ``fields`` exposes the bundled version under the names the rest of the code
imports. These classes are the one in-memory form of a question, whichever version it came from.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Kind(Enum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    INT = "int"
    MONEY = "money"  # non-negative rupiah, integer
    FLOAT = "float"
    DATE = "date"  # ISO YYYY-MM-DD
    DATETIME = "datetime"  # a UTC instant, ISO YYYY-MM-DDTHH:MM:SSZ (laptop clock: informational only)
    BOOL = "bool"
    CHOICE = "choice"
    MULTI = "multi"  # sorted, comma-joined choice values
    NIK = "nik"
    KK = "kk"
    REGION = "region"  # Kemendagri village code PP.KK.CC.DDDD
    COUNTRY = "country"  # ISO 3166-1 alpha-2
    PHONE = "phone"
    DIGITS = "digits"  # fixed-length digit string (KBLI code, NIB)
    REF = "ref"  # id of a parent/related record
    DERIVED = "derived"  # computed by the domain, never typed

    # ``Enum.__hash__`` is Python code (``hash(self._name_)``), and validation hashes a kind for
    # every field of every op (the kind-set and rule-table lookups: ~20 per op pushed, ~3 µs of
    # HQ CPU per op). Members equal only themselves (``Enum`` defines no ``__eq__``), so their
    # identity is as good a hash, computed in C.
    __hash__ = object.__hash__


@dataclass(frozen=True)
class Choice:
    value: str
    label_id: str
    label_en: str


@dataclass(frozen=True)
class Relevance:
    """The field is asked only when ``field`` (of the same record, or ``of_parent``) has one of ``values``."""

    field: str
    values: tuple[str | bool, ...]
    of_parent: bool = False


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label_id: str
    label_en: str
    kind: Kind
    required: bool = False
    choices: tuple[Choice, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    length: int | None = None  # exact length, for DIGITS
    zero_pad: int | None = None  # DIGITS stored left-padded with zeros to this width (RT "6" is "006")
    relevant: Relevance | None = None
    ref_entity: str | None = None
    list_column: int | None = None  # its place among the columns of a list of these records (1: first)
    # Recorded by the app, never typed (GPS accuracy, interview times): not a form input, but
    # stored, validated, synced and exported like any other field. HQ may also hide a question
    # it no longer asks (a compatible questionnaire change): its answers stay stored.
    hidden: bool = False
    # Guidance shown with the question (the XLSForm ``hint``); empty for most questions.
    help_id: str = ""
    help_en: str = ""
    # A DATE that plans ahead (a follow-up): it may lie after today, up to a horizon
    # (``field_rules``); every other date may not. Only a date field may be planned.
    planned: bool = False

    @functools.cached_property
    def choice_values(self) -> frozenset[str]:
        """The allowed stored values (computed once: validation asks for every field of every op)."""
        return frozenset(c.value for c in self.choices)

    def choice_label(self, value: str, lang: str = "id") -> str:
        for c in self.choices:
            if c.value == value:
                return c.label_en if lang == "en" else c.label_id
        return value


@dataclass(frozen=True)
class EntitySpec:
    name: str  # table name, also the sync entity name
    label_id: str
    label_en: str
    fields: tuple[FieldSpec, ...]
    # The field (a ``Kind.REF``) that points to the parent record; its ``ref_entity`` names the parent.
    parent_key: str | None = None
    relevant: Relevance | None = None  # whole entity relevance (placements)
    _by_key: dict[str, FieldSpec] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key.update({f.key: f for f in self.fields})
        if self.parent_key is not None:
            parent = self._by_key.get(self.parent_key)
            if parent is None or parent.kind is not Kind.REF or not parent.ref_entity:
                raise ValueError(f"{self.name}: parent_key {self.parent_key!r} is not a REF field naming its entity")

    @property
    def parent_entity(self) -> str | None:
        """The parent record's entity, read from the ``parent_key`` field (declared there once)."""
        return self._by_key[self.parent_key].ref_entity if self.parent_key else None

    def field(self, key: str) -> FieldSpec:
        return self._by_key[key]

    def has(self, key: str) -> bool:
        return key in self._by_key

    @functools.cached_property
    def keys(self) -> tuple[str, ...]:
        """The field keys in declaration order (computed once: the push applier asks per op)."""
        return tuple(f.key for f in self.fields)

    @functools.cached_property
    def derived_keys(self) -> frozenset[str]:
        """The keys of the fields the domain computes (never taken from a client)."""
        return frozenset(f.key for f in self.fields if f.kind is Kind.DERIVED)

    @functools.cached_property
    def input_fields(self) -> tuple[FieldSpec, ...]:
        """The fields validation reads (derived ones are computed by the record rules)."""
        return tuple(f for f in self.fields if f.kind is not Kind.DERIVED)

    def covers(self, record: Mapping[str, Any]) -> bool:
        """Whether every key of ``record`` is a field of this entity (one C-level set comparison:
        the push applier asks it per op, to keep fields of a newer questionnaire version)."""
        return self._by_key.keys() >= record.keys()


def list_columns(spec: EntitySpec) -> tuple[str, ...]:
    """The keys of ``spec``'s fields that lists of its records show, in column order (``list_column``)."""
    listed = sorted((f.list_column, f.key) for f in spec.fields if f.list_column is not None)
    return tuple(key for _place, key in listed)


COMMON_COLUMNS: tuple[str, ...] = ("id", "deleted", "server_version", "created_at", "updated_at", "extra")
