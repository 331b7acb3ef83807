"""The HQ web dashboard: server-rendered pages for HQ and supervisor users at ``/``."""

from __future__ import annotations

from fastapi import FastAPI


def install_web(app: FastAPI) -> None:
    """Add the dashboard's routes (``/``, ``/duplikat``, ``/login``, ``/logout``, ``/download/...``,
    ``/static/...``) and the review desk's (``/konflik``, ``/mutu``, ``/rumah-tangga``, ``/pengguna``)."""
    from desmig_server.web.duplicates import router as duplicates_router
    from desmig_server.web.views import router

    app.include_router(router)
    app.include_router(duplicates_router)  # /duplikat
    from desmig_server.web.desk_conflicts import router as conflicts_router
    from desmig_server.web.desk_quality import router as quality_router
    from desmig_server.web.desk_users import router as users_router

    app.include_router(conflicts_router)  # the review desk: /konflik, /mutu, /rumah-tangga, /pengguna
    app.include_router(quality_router)
    app.include_router(users_router)
