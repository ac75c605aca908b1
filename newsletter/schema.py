"""Whether the database's schema is the one this version's code was written for.

The long-running commands (the web server, the worker, beat, the bounce server) and those
of users and tokens check it before they start: on a database never upgraded every page
would fail with a 500 and every task with a traceback, where one line can say what to do.
"""

from __future__ import annotations

import click
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from newsletter.extensions import db


def mismatch() -> str | None:
    """None when the database is at this version's migration head; else what to do."""
    migrate = current_app.extensions["migrate"]
    scripts = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))
    head = scripts.get_current_head()
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current == head:
        return None
    if current is None:
        return "The database has no schema yet: run `newsletter db upgrade`."
    if any(script.revision == current for script in scripts.walk_revisions()):
        return (
            f"The database's schema ({current}) is older than this version's ({head}):"
            " run `newsletter db upgrade`."
        )
    return (
        f"The database's schema ({current}) is newer than this version knows ({head}):"
        " run the version that upgraded it."
    )


def require_current() -> None:
    """Stop a command, saying why, unless the schema is this version's."""
    try:
        problem = mismatch()
    except sa.exc.OperationalError as exc:  # 126 lines of traceback, for a server not up
        said = str(exc.orig or exc).strip().splitlines()[0][:300]
        raise click.ClickException(f"The database cannot be reached: {said}") from None
    finally:
        # The check's connection is closed, not kept in the pool: gunicorn's arbiter and
        # beat never use the database again, and each held a session open for its life
        # (and handed its socket to every process it forked). Who needs one connects anew.
        db.engine.dispose()
    if problem:
        raise click.ClickException(problem)
