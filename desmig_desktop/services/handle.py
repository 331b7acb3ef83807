"""The typed store handle the ui passes around: one name for "the database of this thread".

The ui never imports ``sqlite_utils`` (the layering test checks it), yet its widgets hold the
GUI thread's connection and hand it to services. They type it as ``Database`` from here, so a
signature says what it takes instead of ``Any``; it is sqlite-utils' ``Database`` itself, so
mypy checks every call into a service against the same type the services declare.
"""

from __future__ import annotations

from sqlite_utils import Database

__all__ = ["Database"]
