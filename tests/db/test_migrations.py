from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from dancu.db import Database
from dancu.db import migrate as migrations
from dancu.db.models import Base


def test_one_head(database: Database) -> None:
    assert migrations.head_revisions(database.url) == (migrations.current_revision(database.engine),)


def test_models_match_migrations(database: Database) -> None:
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
