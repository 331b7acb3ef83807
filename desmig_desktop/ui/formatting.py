"""How values look on screen: ``Rp 1.500.000``, dates ``dd/mm/yyyy``, choice labels (no Qt here)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from desmig_desktop.domain.fields import FieldSpec, Kind
from desmig_desktop.domain.i18n import _, country_name, get_language, pick
from desmig_desktop.domain.numbers import rupiah


def format_money(value: int | None) -> str:
    """``1500000`` → ``"Rp 1.500.000"``; ``None`` → ``""``."""
    return "" if value is None else rupiah(value)


def money_digits(text: str) -> str:
    """The digits of a typed amount (``"Rp 1.500.000"`` → ``"1500000"``)."""
    return "".join(ch for ch in text if ch.isascii() and ch.isdigit())


def format_date(value: Any) -> str:
    """ISO ``YYYY-MM-DD`` (or a ``date``) → ``dd/mm/yyyy``; other text is shown as typed."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    try:
        return dt.date.fromisoformat(text).strftime("%d/%m/%Y")
    except ValueError:
        return text


def normalise_typed_date(text: str) -> str:
    """Tidy what an officer typed: ``"1021990"``/``"01021990"``/``"1/2/1990"`` → ``"01/02/1990"``."""
    raw = text.strip()
    digits = raw.replace("/", "")
    if raw.isdigit() and len(raw) == 8:
        return f"{raw[:2]}/{raw[2:4]}/{raw[4:]}"
    parts = raw.split("/")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) == 4 and digits.isdigit():
        day, month, year = parts
        if 1 <= len(day) <= 2 and 1 <= len(month) <= 2:
            return f"{int(day):02d}/{int(month):02d}/{year}"
    return raw


def yes_no(value: Any) -> str:
    if value is None or value == "":
        return ""
    truthy = value is True or str(value).lower() in ("1", "true", "ya", "yes")
    return _("Ya") if truthy else _("Tidak")


def format_instant(at: str) -> str:
    """A stored UTC instant (``2026-06-01T02:03:04Z``) as ``01/06/2026 09:03`` in the laptop's time zone."""
    try:
        moment = dt.datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return str(at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone().strftime("%d/%m/%Y %H:%M")


def display_value(spec: FieldSpec, value: Any) -> str:
    """The text a table cell shows for ``value`` of field ``spec`` (raw form input or stored value)."""
    if value is None or value == "" or value == []:
        return ""
    kind = spec.kind
    if kind is Kind.MONEY:
        digits = money_digits(str(value))
        return format_money(int(digits)) if digits else str(value)
    if kind is Kind.DATE:
        return format_date(value)
    if kind is Kind.DATETIME:
        return format_instant(str(value))
    if kind is Kind.BOOL:
        return yes_no(value)
    if kind in (Kind.CHOICE, Kind.DERIVED) and spec.choices:
        return spec.choice_label(str(value), get_language())
    if kind is Kind.MULTI:
        items = value if isinstance(value, (list, tuple)) else str(value).split(",")
        return ", ".join(spec.choice_label(str(i).strip(), get_language()) for i in items if str(i).strip())
    if kind is Kind.COUNTRY:
        return country_name(str(value))
    return str(value)


def field_label(spec: FieldSpec) -> str:
    return pick(spec.label_id, spec.label_en)
