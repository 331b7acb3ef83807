"""The programme's own records (village profiles, the four pillars, the officer's activity log) in a
window of their own; see ``window``."""
from __future__ import annotations

from desmig_desktop.ui.programme.window import OPEN_KEY, ProgrammeWindow

__all__ = ["OPEN_KEY", "ProgrammeWindow"]
