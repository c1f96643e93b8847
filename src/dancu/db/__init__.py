"""Storage: one PostgreSQL, embedded by default, reached through SQLAlchemy 2 and psycopg 3."""

from dancu.db.engine import Database, get_database, resolve_database_url
from dancu.db.session import UnitOfWork

__all__ = ["Database", "UnitOfWork", "get_database", "resolve_database_url"]
