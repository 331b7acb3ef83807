"""UMKM (MSME) class by PP 7/2021 Pasal 35.

Capital excludes land and buildings. Both criteria are evaluated when both figures are known;
the higher class wins and the criterion that decided it is recorded (capital on a tie), so an
enterprise with small capital but large sales is not under-classified.
"""

from __future__ import annotations

MILIAR = 1_000_000_000
# (class, capital upper bound inclusive, annual sales upper bound inclusive)
THRESHOLDS: tuple[tuple[str, int, int], ...] = (
    ("mikro", 1 * MILIAR, 2 * MILIAR),
    ("kecil", 5 * MILIAR, 15 * MILIAR),
    ("menengah", 10 * MILIAR, 50 * MILIAR),
)
ORDER = ("mikro", "kecil", "menengah", "besar")


def _class_for(amount: int, index: int) -> str:
    for name, *bounds in THRESHOLDS:
        if amount <= bounds[index]:
            return name
    return "besar"


def classify(capital: int | None, annual_sales: int | None) -> tuple[str | None, str | None]:
    """Return ``(umkm_class, basis)`` with basis ``"modal"`` or ``"omzet"``; ``(None, None)`` if unknown."""
    by_capital = _class_for(capital, 0) if capital is not None else None
    by_sales = _class_for(annual_sales, 1) if annual_sales is not None else None
    if by_capital is None and by_sales is None:
        return None, None
    if by_sales is None or (by_capital is not None and ORDER.index(by_capital) >= ORDER.index(by_sales)):
        return by_capital, "modal"
    return by_sales, "omzet"
