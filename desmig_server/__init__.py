"""Desmig HQ reference server: FastAPI + SQLAlchemy Core on SQLite or PostgreSQL.

May import ``desmig_desktop.domain`` (the one questionnaire) and nothing else of the desktop.
"""
