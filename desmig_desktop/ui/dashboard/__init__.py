"""The officer's dashboard tab: figures by region, charts, exports, village PDF."""
from __future__ import annotations

from desmig_desktop.ui.dashboard.page import DashboardPage

__all__ = ["DashboardPage"]
