"""Keep personal identifiers out of logs and shared exports (rules in ``domain.privacy``)."""

from __future__ import annotations

from desmig_desktop.domain.privacy import MaskingFormatter, mask_identifiers

__all__ = ["MaskingFormatter", "mask_identifiers", "mask_nik"]


def mask_nik(nik: str | None) -> str | None:
    return nik if not nik else mask_identifiers(nik)
