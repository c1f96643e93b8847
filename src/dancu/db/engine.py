"""Engine and connection factory: SQLAlchemy for the application, raw psycopg for COPY paths."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

import psycopg
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from dancu.config import Settings, get_settings
from dancu.db.embedded import embedded_server_url


def resolve_database_url(settings: Settings) -> str:
    """The configured server, or the embedded one when no URL is set."""
    if settings.database_url:
        url = make_url(settings.database_url)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    return embedded_server_url(settings.data_dir)


def libpq_url(sqlalchemy_url: str) -> str:
    """The same URL in the form psycopg/libpq accept (no ``+driver``)."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@dataclass
class Database:
    url: str
    pool_size: int = 10
    engine: Engine = field(init=False)
    sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.engine = create_engine(
            self.url, pool_size=self.pool_size, max_overflow=self.pool_size, pool_pre_ping=True
        )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    @contextmanager
    def raw_connection(self, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        """A plain psycopg connection for COPY and other bulk paths."""
        with psycopg.connect(libpq_url(self.url), autocommit=autocommit) as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


@lru_cache
def get_database() -> Database:
    settings = get_settings()
    return Database(resolve_database_url(settings), pool_size=settings.db_pool_size)
