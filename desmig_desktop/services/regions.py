"""Region lookups for the ui (region picker, village lists, labels in history and filters).

The queries themselves live in ``store.regions`` (each one bounded by an index, see there);
the ui reaches them through this module so it never imports the store.
"""

from __future__ import annotations

from desmig_desktop.store.regions import children, lineage, names, village_label

__all__ = ["children", "lineage", "names", "village_label"]
