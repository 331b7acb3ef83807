"""Desmig: offline-first field data entry for the Desmigratif programme."""

__version__ = "0.1.0"
