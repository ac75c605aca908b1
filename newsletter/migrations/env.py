import logging
from contextlib import contextmanager
from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context
from flask import current_app
from sqlalchemy import event

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# The ini file's logging (its INFO lines on stderr) where nobody has set up logging yet, as
# `newsletter db upgrade` runs it; a process that logs its own way (tests capturing it, an
# app upgrading itself) keeps its handlers rather than one on whatever stderr was then.
if not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")


def get_engine():
    try:
        # this works with Flask-SQLAlchemy<3 and Alchemical
        return current_app.extensions["migrate"].db.engine
    except (TypeError, AttributeError):
        # this works with Flask-SQLAlchemy>=3
        return current_app.extensions["migrate"].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
    except AttributeError:
        return str(get_engine().url).replace("%", "%%")


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connectable.connect() as connection, _foreign_keys_off(connection):
        _refuse_while_sending(connection)
        # Inside: the pragma is a no-op in a transaction, and this begins one for anything.
        with _one_transaction(connection):
            context.configure(
                connection=connection,
                target_metadata=get_metadata(),
                # SQLite's DDL is transactional; alembic assumes not, and commits each one.
                transactional_ddl=True,
                **conf_args,
            )

            with context.begin_transaction():
                context.run_migrations()
                _check_foreign_keys(connection)


@contextmanager
def _one_transaction(connection):
    """On SQLite, every migration of a run in one transaction, as on PostgreSQL. pysqlite
    begins none before a CREATE or ALTER, so each ran on its own: an upgrade killed midway
    left half a migration's tables behind its recorded revision, and a second run failed on
    them. With the driver's own handling off, alembic's transaction is one BEGIN."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    driver.isolation_level = None
    event.listen(connection, "begin", _begin)
    try:
        yield
    finally:
        event.remove(connection, "begin", _begin)
        driver.isolation_level = ""


def _begin(connection):
    connection.exec_driver_sql("BEGIN")


def _refuse_while_sending(connection):
    """A worker of the older version sending an issue meets a changed schema mid-batch and
    pauses it with an SQL error; resumed, it sent copies twice. `-x sending=ok` goes on."""
    if context.get_x_argument(as_dictionary=True).get("sending") == "ok":
        return
    try:
        sending = (
            "issues" in sa.inspect(connection).get_table_names()
            and (
                connection.exec_driver_sql("SELECT count(*) FROM issues WHERE status = 'sending'")
            ).scalar()
        )
    finally:
        # Alembic commits only a transaction it began: one left open here was never committed.
        connection.rollback()
    if sending:
        raise SystemExit(
            f"Error: {sending} issue(s) sending: pause them (or wait until they are sent) and "
            "stop the workers before upgrading; `newsletter db upgrade -x sending=ok` "
            "upgrades anyway."
        )


@contextmanager
def _foreign_keys_off(connection):
    """On SQLite, foreign keys unenforced while migrating. Batch mode changes a table by
    copying it and dropping the old one, and with them on, that drop deletes every row that
    points at the table (ON DELETE CASCADE) or blanks its pointer (SET NULL): an upgrade
    emptied a list's issues, subscriptions and posts. SQLite's own recipe for changing a
    table turns them off first; the pragma only takes outside a transaction, so here."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()  # ends the transaction the statement began, for alembic's own
    try:
        yield
    finally:
        if sqlite:
            connection.rollback()  # whatever a failed migration left open
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def _check_foreign_keys(connection):
    """What the migrations left must still hold together, as the unenforced keys would have
    made it: any row pointing at nothing stops the upgrade, rolled back."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration left rows that point at nothing: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
