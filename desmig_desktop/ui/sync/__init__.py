"""The sync part of the officer's window: status indicator, "Sync now", login, conflicts inbox.

Built on ``services.sync_service`` (no HTTP or storage here). ``extension.install_sync`` adds it to
a main window; the composition root (``app.window_parts``) calls it for every main window.
"""
