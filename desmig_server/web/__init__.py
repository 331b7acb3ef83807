"""The HQ web dashboard (issue 6): server-rendered pages for HQ and supervisor users at ``/``."""

from __future__ import annotations

from fastapi import FastAPI


def install_web(app: FastAPI) -> None:
    """Add the dashboard's routes (``/``, ``/login``, ``/logout``, ``/download/...``, ``/static/...``)."""
    from desmig_server.web.views import router

    app.include_router(router)
