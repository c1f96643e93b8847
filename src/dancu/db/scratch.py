"""Throw-away databases for tests and benchmarks: a new database on a given server, or a new embedded server."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from dancu.db.embedded import embedded_server_url
from dancu.db.engine import libpq_url


@contextmanager
def scratch_database(server_url: str | None, prefix: str = "dancu_scratch") -> Iterator[str]:
    """Yield the SQLAlchemy URL of an empty database, dropped (or its embedded server deleted) afterwards.

    With ``server_url`` (any database on a PostgreSQL 15+ server), a uniquely named database is created
    on that server; without it, a private embedded server is started in a temporary folder.
    """
    if not server_url:
        folder = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
        try:
            yield embedded_server_url(folder, database=prefix)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    server = make_url(server_url).set(drivername="postgresql+psycopg")
    admin = libpq_url(server.render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
