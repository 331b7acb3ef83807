"""Importing this module adds the sync part to every main window (``shell.WINDOW_EXTENSIONS``).

Done by the composition root (``app.run_gui``), like ``desmig_desktop.sync.cli`` does for the CLI;
idempotent. Tests call ``extension.extend_window`` on their own windows instead.
"""

from __future__ import annotations

from desmig_desktop.ui import shell, update_banner
from desmig_desktop.ui.sync.extension import extend_window

if extend_window not in shell.WINDOW_EXTENSIONS:
    shell.WINDOW_EXTENSIONS.append(extend_window)
if update_banner.extend_window not in shell.WINDOW_EXTENSIONS:  # after sync: it follows the sync cycles
    shell.WINDOW_EXTENSIONS.append(update_banner.extend_window)
