"""The sync part of the officer's window: status indicator, "Sync now", login, conflicts inbox.

Built on ``services.sync_service`` (no HTTP or storage here). ``extension.extend_window`` adds it to
a main window; importing ``desmig_desktop.ui.sync.register`` registers that with the shell.
"""
