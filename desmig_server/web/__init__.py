"""The HQ web dashboard (issue 6): server-rendered pages for HQ and supervisor users at ``/``."""

from __future__ import annotations

from fastapi import FastAPI


def install_web(app: FastAPI) -> None:
    """Add the dashboard's routes (``/``, ``/duplikat``, ``/login``, ``/logout``, ``/download/...``,
    ``/static/...``)."""
    from desmig_server.web.duplicates import router as duplicates_router
    from desmig_server.web.views import router

    app.include_router(router)
    app.include_router(duplicates_router)  # /duplikat (issue 14 §4)
