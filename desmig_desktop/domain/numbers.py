"""Numbers the Indonesian way, for every screen, page, PDF and download: ``1.234.567``,
``Rp 1.500.000``, and large rupiah amounts abbreviated as Indonesian reports do (``Rp 5,30 jt``).

One definition for the desktop app and the HQ web pages. Stdlib only.
"""

from __future__ import annotations

from typing import Any

MISSING = "–"  # a figure without a value (the median of nothing)
# Abbreviations of large rupiah amounts, largest first: triliun, miliar, juta.
_UNITS: tuple[tuple[int, str], ...] = ((10**12, "T"), (10**9, "M"), (10**6, "jt"))


def grouped(value: int) -> str:
    """``1234567`` → ``"1.234.567"`` (dots group the thousands; a minus sign stays in front)."""
    return f"{value:,}".replace(",", ".")


def rupiah(value: int) -> str:
    """``1500000`` → ``"Rp 1.500.000"``."""
    return "Rp " + grouped(value)


def figure(value: Any, money: bool = False) -> str:
    """A report figure: ``1.234`` (a fraction is cut off), ``Rp 1.500.000`` for money, ``–`` for no value."""
    if value is None:
        return MISSING
    return rupiah(int(value)) if money else grouped(int(value))


def figure_short(value: Any, money: bool = False) -> str:
    """As ``figure``, but a rupiah amount of a million or more in three significant digits with its
    unit: ``Rp 5,30 jt`` (juta), ``Rp 1,79 M`` (miliar), ``Rp 2,10 T`` (triliun). Trailing zeros
    stay, so a column lines up; an amount that rounds up to the next unit is written in it
    (``Rp 1,00 M``, not ``Rp 1000 jt``)."""
    if value is None or not money or int(value) < _UNITS[-1][0]:
        return figure(value, money)
    amount = int(value)
    index = next(i for i, (size, _unit) in enumerate(_UNITS) if amount >= size)
    text = _three_digits(amount / _UNITS[index][0])
    if float(text) >= 1000 and index > 0:
        index -= 1
        text = _three_digits(amount / _UNITS[index][0])
    return f"Rp {text.replace('.', ',')} {_UNITS[index][1]}"


def _three_digits(scaled: float) -> str:
    """``5.3`` → ``"5.30"``, ``25.04`` → ``"25.0"``, ``250.4`` → ``"250"``, decided after rounding
    (``9.999`` → ``"10.0"``)."""
    for decimals, below in ((2, 10.0), (1, 100.0)):
        text = f"{scaled:.{decimals}f}"
        if float(text) < below:
            return text
    return f"{scaled:.0f}"
