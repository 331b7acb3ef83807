"""Desmig: offline-first field data entry for the Desmigratif programme."""
from __future__ import annotations

__version__ = "0.1.0"
