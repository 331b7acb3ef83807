"""Inserting many rows in one statement by each driver's fastest path, inside the caller's transaction.

SQLAlchemy's ``conn.execute(insert(table), [dict, ...])`` processes every parameter of every row
in Python before the driver sees it; on a push that writes ~14 rows per op this cost more than
the database work. Here rows are plain tuples in ``columns`` order: ``COPY`` on PostgreSQL
(psycopg), the driver's own ``executemany`` on SQLite, and SQLAlchemy for anything else. Values
must already be what the column stores (``str``, ``int``, ``float``, ``bool``, ``None``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``."""
    if not rows:
        return
    for name in columns:
        table.c[name]  # only the table's own column names reach the SQL text
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        driver = conn.connection.driver_connection  # the psycopg connection, same transaction
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    elif conn.dialect.name == "sqlite":
        marks = ", ".join("?" * len(columns))
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", list(rows))
    else:
        conn.execute(insert(table), [dict(zip(columns, row)) for row in rows])
