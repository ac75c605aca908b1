"""Upgrading a database as an operator does (`newsletter db upgrade`): on SQLite, a run that
fails or is killed midway leaves the database at the revision it started from, with none of
its tables half made, and the next run finishes it; no upgrade starts while an issue is
sending, whose older workers would meet a changed schema mid-batch."""

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from newsletter import schema
from newsletter.extensions import db
from newsletter.models import Issue, MailingList


def revision() -> str:
    with db.engine.connect() as connection:
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


@pytest.mark.slow
def test_an_upgrade_that_fails_midway_leaves_the_database_as_it_was(make_app, tmp_path):
    """0014 makes issue_variants, 0015 changes deliveries, 0016 makes batch_claims: a table
    of that name already there (as a killed run left it) stops 0016. Each migration was
    committed on its own: the database said 0015, kept 0014's and 0015's work, and the next
    run failed again on what the last had left."""
    other = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}")
    with other.app_context():
        upgrade(revision="0013")
        with db.engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE batch_claims (token TEXT)")
        with pytest.raises(sa.exc.OperationalError, match="batch_claims already exists"):
            upgrade()
        assert revision() == "0013"
        assert "issue_variants" not in tables()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE batch_claims")
        upgrade()
        assert schema.mismatch() is None and {"issue_variants", "batch_claims"} <= tables()
        # Foreign keys enforced again once the run is over, whatever it did.
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.engine.dispose()


@pytest.mark.slow
def test_no_upgrade_starts_while_an_issue_is_sending(make_app, tmp_path, capsys):
    other = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}")
    with other.app_context():
        upgrade(revision="0021")
        # Rows as 0021 has them: the models have columns of later migrations.
        with db.engine.begin() as connection:
            weekly = sa.insert(MailingList.__table__).values(
                slug="weekly", name="Weekly", from_email="news@example.org"
            )
            list_id = connection.execute(weekly).inserted_primary_key[0]
            connection.execute(
                sa.insert(Issue.__table__).values(
                    list_id=list_id, number=1, subject="Weekly", status="sending"
                )
            )
        with pytest.raises(SystemExit) as refused:
            upgrade()
        assert "1 issue(s) sending: pause them" in str(refused.value)
        assert revision() == "0021"
        upgrade(x_arg=["sending=ok"])  # the operator's word
        assert schema.mismatch() is None
        db.engine.dispose()
