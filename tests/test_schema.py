"""The models and the schema the migrations build say the same."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from newsletter.extensions import db


def test_the_migrated_schema_is_the_models(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps an older layout of deliveries' indexes (migration 0015)")
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, db.metadata)
    assert differences == []
