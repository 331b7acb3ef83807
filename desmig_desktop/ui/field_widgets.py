"""One editor per field kind: an adapter between a ``FieldSpec`` and its Qt widget.

Editors hold no rules: they return what was typed (``value()``), show a value (``set_value()``)
and report changes. Validation, coercion and messages live in ``domain.validation`` and the modules it names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import QRegularExpression, Qt
from PySide6.QtGui import QFontDatabase, QRegularExpressionValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QLabel, QLineEdit, QPlainTextEdit, QWidget

from desmig_desktop.domain.fields import FieldSpec, Kind
from desmig_desktop.domain.i18n import _, get_language
from desmig_desktop.domain.phone import allowed_formats
from desmig_desktop.domain.reference import load_countries
from desmig_desktop.services import villages
from desmig_desktop.services.handle import Database
from desmig_desktop.ui.formatting import format_date, format_money, money_digits, normalise_typed_date
from desmig_desktop.ui.region_picker import RegionPicker

# Main PMI destinations first in the country list (BP2MI placement statistics), then A–Z.
COMMON_COUNTRIES = ("MY", "TW", "HK", "SA", "SG", "KR", "JP", "BN", "AE", "QA", "KW")


class FieldEditor:
    """Base adapter: ``widget`` goes into the layout, ``focus_widget`` receives keyboard focus."""

    def __init__(self, spec: FieldSpec, widget: QWidget, focus_widget: QWidget | None = None) -> None:
        self.spec = spec
        self.widget = widget
        self.focus_widget = focus_widget or widget
        self.widget.setObjectName(f"field_{spec.key}")

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def connect_changed(self, slot: Callable[[], None]) -> None:
        raise NotImplementedError


def _validator(pattern: str, parent: QWidget) -> QRegularExpressionValidator:
    return QRegularExpressionValidator(QRegularExpression(pattern), parent)


class LineEditor(FieldEditor):
    _PATTERNS: ClassVar[dict[Kind, str]] = {Kind.NIK: r"\d{0,16}", Kind.KK: r"\d{0,16}", Kind.INT: r"-?\d{0,9}",
                                            Kind.FLOAT: r"-?\d{0,3}([.,]\d{0,8})?", Kind.PHONE: r"[+\d \-()]{0,20}"}

    def __init__(self, spec: FieldSpec) -> None:
        edit = QLineEdit()
        super().__init__(spec, edit)
        self.edit = edit
        pattern = self._PATTERNS.get(spec.kind)
        if spec.kind is Kind.DIGITS:
            pattern = rf"\d{{0,{spec.length or spec.max_length or 20}}}"
        if pattern:
            edit.setValidator(_validator(pattern, edit))
        if spec.max_length:
            edit.setMaxLength(spec.max_length)
        if spec.kind in (Kind.NIK, Kind.KK):
            edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
            edit.setPlaceholderText(_("16 digit"))
        if spec.kind is Kind.PHONE:  # a PMI abroad has a foreign number
            edit.setPlaceholderText(_("0812… atau +60 12…"))
            edit.setToolTip(allowed_formats())

    def value(self) -> Any:
        text = self.edit.text().strip()
        return text or None

    def set_value(self, value: Any) -> None:
        text = "" if value is None else str(value)
        if self.spec.max_length:  # a longer answer a later questionnaire version allows is shown whole, never cut
            self.edit.setMaxLength(max(self.spec.max_length, len(text)))
        self.edit.setText(text)

    def connect_changed(self, slot: Callable[[], None]) -> None:
        self.edit.textEdited.connect(lambda _text: slot())


def later_choice_label(value: Any) -> str:
    """How a stored choice this questionnaire version does not list is shown: it came from a later
    version (another device's answer); the form keeps it as it is unless the officer changes it."""
    return _("{value} (pilihan kuesioner versi baru)", value=value)


class LongTextEditor(FieldEditor):
    def __init__(self, spec: FieldSpec) -> None:
        edit = QPlainTextEdit()
        edit.setTabChangesFocus(True)
        edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 3 + 12)
        super().__init__(spec, edit)
        self.edit = edit

    def value(self) -> Any:
        return self.edit.toPlainText().strip() or None

    def set_value(self, value: Any) -> None:
        self.edit.setPlainText("" if value is None else str(value))

    def connect_changed(self, slot: Callable[[], None]) -> None:
        self.edit.textChanged.connect(slot)


class MoneyEditor(LineEditor):
    """Digits typed become ``Rp 1.500.000`` as they are typed."""

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__(spec)
        self.edit.setValidator(_validator(r"(Rp)?[ \d.]{0,24}", self.edit))
        self.edit.setPlaceholderText("Rp 0")
        self.edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.edit.textEdited.connect(self._reformat)

    def _reformat(self, text: str) -> None:
        digits = money_digits(text).lstrip("0") or ("0" if money_digits(text) else "")
        self.edit.setText(format_money(int(digits)) if digits else "")

    def value(self) -> Any:
        digits = money_digits(self.edit.text())
        return int(digits) if digits else None

    def set_value(self, value: Any) -> None:
        digits = money_digits(str(value)) if value is not None else ""
        self.edit.setText(format_money(int(digits)) if digits else "")


class DateEditor(LineEditor):
    """``dd/mm/yyyy``; slashes are added while typing and ``01021990`` is tidied on leaving."""

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__(spec)
        self.edit.setValidator(_validator(r"[\d/]{0,10}", self.edit))
        self.edit.setPlaceholderText(_("hh/bb/tttt"))
        self.edit.setMaxLength(10)
        self._last = ""
        self.edit.textEdited.connect(self._add_slashes)
        self.edit.editingFinished.connect(lambda: self.edit.setText(normalise_typed_date(self.edit.text())))

    def _add_slashes(self, text: str) -> None:
        tidy = text.replace("//", "/")  # a slash typed right after an added one is not a second slash
        grew = len(tidy) > len(self._last)
        if grew and len(tidy) in (2, 5) and tidy.replace("/", "").isdigit() and tidy.count("/") == len(tidy) // 3:
            tidy += "/"
        if tidy != text:
            self.edit.setText(tidy)
        self._last = tidy

    def value(self) -> Any:
        return normalise_typed_date(self.edit.text()) or None

    def set_value(self, value: Any) -> None:
        self.edit.setText(format_date(value))
        self._last = self.edit.text()


class ComboEditor(FieldEditor):
    """A choice list with an empty first entry; typing the first letters selects."""

    def __init__(self, spec: FieldSpec, options: list[tuple[Any, str]]) -> None:
        combo = QComboBox()
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(12)
        super().__init__(spec, combo)
        self.combo = combo
        self._later: Any = None  # a stored choice of a later questionnaire version, listed last while shown
        self.set_options(options)

    def set_options(self, options: list[tuple[Any, str]]) -> None:
        current = self.value() if self.combo.count() else None
        self.combo.blockSignals(True)
        self.combo.clear()
        self._later = None
        self.combo.addItem("", None)
        for value, label in options:
            self.combo.addItem(label, value)
        self.combo.blockSignals(False)
        self.set_value(current)

    def value(self) -> Any:
        return self.combo.currentData()

    def set_value(self, value: Any) -> None:
        self.combo.blockSignals(True)
        if self._later is not None and value != self._later:
            self.combo.removeItem(self.combo.findData(self._later))
            self._later = None
        index = self.combo.findData(value) if value is not None else 0
        if index < 0 and self.spec.kind is Kind.CHOICE:  # kept, not blanked: see ``later_choice_label``
            self.combo.addItem(later_choice_label(value), value)
            self._later, index = value, self.combo.count() - 1
        self.combo.blockSignals(False)
        self.combo.setCurrentIndex(max(index, 0))

    def connect_changed(self, slot: Callable[[], None]) -> None:
        self.combo.currentIndexChanged.connect(lambda _i: slot())


class BoolEditor(ComboEditor):
    def __init__(self, spec: FieldSpec) -> None:
        super().__init__(spec, [(True, _("Ya")), (False, _("Tidak"))])

    def set_value(self, value: Any) -> None:
        if isinstance(value, str):
            value = {"1": True, "0": False, "true": True, "false": False}.get(value.lower())
        super().set_value(None if value is None else bool(value))


class MultiEditor(FieldEditor):
    def __init__(self, spec: FieldSpec) -> None:
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        self.checks: dict[str, QCheckBox] = {}
        for n, choice in enumerate(spec.choices):
            check = QCheckBox(choice.label_en if get_language() == "en" else choice.label_id, box)
            check.setObjectName(f"field_{spec.key}_{choice.value}")
            grid.addWidget(check, n // 3, n % 3)
            self.checks[choice.value] = check
        grid.setColumnStretch(3, 1)  # keep the boxes together on the left
        # stored choices of a later questionnaire version: kept in the answer, named under the boxes
        self.later: list[str] = []
        self.later_label = QLabel(box)
        self.later_label.setObjectName(f"field_{spec.key}_later")
        self.later_label.hide()
        grid.addWidget(self.later_label, (len(self.checks) + 2) // 3, 0, 1, 3)
        super().__init__(spec, box, next(iter(self.checks.values())))

    def value(self) -> Any:
        chosen = [v for v, c in self.checks.items() if c.isChecked()] + self.later
        return chosen or None

    def set_value(self, value: Any) -> None:
        items = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
        wanted = {str(i).strip() for i in items} - {""}
        for v, check in self.checks.items():
            check.setChecked(v in wanted)
        self.later = sorted(wanted - self.checks.keys())
        self.later_label.setText(", ".join(later_choice_label(v) for v in self.later))
        self.later_label.setVisible(bool(self.later))

    def connect_changed(self, slot: Callable[[], None]) -> None:
        for check in self.checks.values():
            check.toggled.connect(lambda _on: slot())


class RegionEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, db: Database) -> None:
        # only the officer's villages are offered (validation refuses a save elsewhere anyway)
        self.picker = RegionPicker(db, columns=4, allowed=villages.assigned_villages(db))
        super().__init__(spec, self.picker, self.picker.levels[0])

    def value(self) -> Any:
        return self.picker.code()

    def set_value(self, value: Any) -> None:
        self.picker.set_code(value or None)

    def connect_changed(self, slot: Callable[[], None]) -> None:
        self.picker.changed.connect(slot)


class DerivedEditor(FieldEditor):
    """A computed value (UMKM class), shown but never typed."""

    def __init__(self, spec: FieldSpec) -> None:
        label = QLabel("—")
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        super().__init__(spec, label)
        self.label = label
        self._value: Any = None

    def value(self) -> Any:
        return self._value

    def set_value(self, value: Any) -> None:
        self._value = value
        self.label.setText(self.spec.choice_label(str(value), get_language()) if value else "—")

    def set_text(self, text: str) -> None:
        self.label.setText(text or "—")

    def connect_changed(self, slot: Callable[[], None]) -> None:
        pass


def _choice_options(spec: FieldSpec) -> list[tuple[Any, str]]:
    en = get_language() == "en"
    return [(c.value, c.label_en if en else c.label_id) for c in spec.choices]


def _country_options() -> list[tuple[Any, str]]:
    en = get_language() == "en"
    by_code = {c.code: (c.name_en if en else c.name_id) for c in load_countries()}
    common = [(code, by_code[code]) for code in COMMON_COUNTRIES if code in by_code]
    rest = sorted(((code, name) for code, name in by_code.items() if code not in COMMON_COUNTRIES),
                  key=lambda item: item[1])
    return common + rest


def make_editor(spec: FieldSpec, db: Database) -> FieldEditor:
    """The editor for ``spec``'s kind (``REF`` fields get an empty list to fill with records)."""
    kind = spec.kind
    if kind is Kind.LONG_TEXT:
        return LongTextEditor(spec)
    if kind is Kind.MONEY:
        return MoneyEditor(spec)
    if kind is Kind.DATE:
        return DateEditor(spec)
    if kind is Kind.BOOL:
        return BoolEditor(spec)
    if kind is Kind.CHOICE:
        return ComboEditor(spec, _choice_options(spec))
    if kind is Kind.COUNTRY:
        return ComboEditor(spec, _country_options())
    if kind is Kind.REF:
        return ComboEditor(spec, [])
    if kind is Kind.MULTI:
        return MultiEditor(spec)
    if kind is Kind.REGION:
        return RegionEditor(spec, db)
    if kind is Kind.DERIVED:
        return DerivedEditor(spec)
    return LineEditor(spec)
