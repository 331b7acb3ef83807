"""The officer's PySide6 desktop UI: the only package that imports Qt.

Widgets call ``services``/``store`` functions with the database object they are handed by the
composition root (``desmig_desktop.app``); they never open connections or import
``sqlite_utils``/``requests`` themselves. Background work goes through ``taskman.TaskManager``.
"""
