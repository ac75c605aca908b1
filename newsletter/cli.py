"""The `newsletter` command: database, users, tokens, keys, bounces, pruning, web, worker,
beat, dev."""

from __future__ import annotations

import functools
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext

from newsletter import accounts, retention, schema, signing
from newsletter.broker import control_queue
from newsletter.cli_options import HOST_HELP, PORT
from newsletter.errors import NewsletterError


def register_app_commands(app: Flask) -> None:
    from newsletter.bounces.cli import bounces

    for command in (users, tokens, dkim, backup, bounces, prune, serve, worker, beat, dev):
        app.cli.add_command(command)


def with_schema(command):
    """with_appcontext, and stop with what to do unless the schema is this version's: on a
    database never upgraded, `users create` was a traceback of "no such table: users"."""

    @functools.wraps(command)
    def checked(*args, **kwargs):
        schema.require_current()
        return command(*args, **kwargs)

    return with_appcontext(checked)


@click.group(help="Editors and admins.")
def users():
    pass


def _password_option(command):
    return click.option(
        "--password-stdin",
        "--stdin",
        "password_stdin",
        is_flag=True,
        help="Read the password from standard input (one line) instead of asking twice.",
    )(command)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(accounts.ROLES),
    default="editor",
    show_default=True,
    help="Admins also manage users; editors do the rest.",
)
@_password_option
@with_schema
def create_user(email: str, role: str, password_stdin: bool):
    """Create a user of the admin and the API (asks for the password, or reads it from
    standard input)."""
    try:
        user = accounts.create_user(email, _password(password_stdin), role)
    except accounts.UserExists as exc:
        raise click.ClickException(
            f"{exc}: `newsletter users set-password {email}` gives them a new password"
        ) from exc
    except NewsletterError as exc:  # AccountError, InvalidEmail
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {user.role} {user.email}")


@users.command("set-password")
@click.argument("email")
@_password_option
@with_schema
def set_password(email: str, password_stdin: bool):
    """Give the user EMAIL a new password (asks for it twice, or reads it from standard
    input); every session they have open ends, and any invitation link of theirs."""
    user = _user(email)
    try:
        accounts.set_password(user, _password(password_stdin))
    except NewsletterError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"New password set for {user.email}; their sessions have ended")


@click.command(help="Copy the SQLite database to PATH, consistent while the system runs.")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup(path: str):
    """SQLite's online backup. A copy of the file is not one: what was written lately waits in
    its write-ahead log (-wal) beside it, and a copy made while it ran held none of the
    subscribers. PostgreSQL has its own tool."""
    from newsletter.extensions import db

    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            f"On PostgreSQL, use its own tool: pg_dump --format=custom --file={path} "
            f"{url.set(password=None, drivername='postgresql').render_as_string()}"
        )
    if Path(path).exists():
        raise click.ClickException(f"{path} exists; backups are not overwritten.")
    try:
        with closing(db.engine.raw_connection()) as source, closing(sqlite3.connect(path)) as copy:
            source.driver_connection.backup(copy)
    except (OSError, sqlite3.Error) as exc:  # no such folder, no right to write there
        Path(path).unlink(missing_ok=True)
        raise click.ClickException(f"Cannot write {path}: {exc}") from exc
    click.echo(f"Backed up {url.database} to {path}")


# A port a socket can take: 99999 was a traceback from deep in the server.
LOGLEVEL_HELP = "DEBUG, INFO, WARNING or ERROR."


@click.group(help="API tokens.")
def tokens():
    pass


def _user(email: str):
    user = accounts.find_user(email)
    if user is None:
        raise click.ClickException(f"No user {email}; create one with `newsletter users create`.")
    return user


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for.")
@with_schema
def create_token(email: str, name: str):
    """Print a new API token for the user EMAIL (shown once, stored hashed)."""
    try:
        click.echo(accounts.create_token(_user(email), name))
    except NewsletterError as exc:
        raise click.ClickException(str(exc)) from exc


@tokens.command("list")
@click.argument("email", required=False)
@with_schema
def list_tokens(email: str | None):
    """Every API token (or EMAIL's): its number, whose, what for, made and last used."""
    for token in accounts.tokens_of(_user(email) if email else None):
        used = f"{token.last_used_at:%Y-%m-%d %H:%M} UTC" if token.last_used_at else "never"
        click.echo(
            f"{token.id}\t{token.user.email}\t{token.name or '-'}\t"
            f"made {token.created_at:%Y-%m-%d}\tlast used {used}"
        )


@tokens.command("revoke")
@click.argument("token_id", type=int)
@with_schema
def revoke_token(token_id: int):
    """Stop the API token numbered TOKEN_ID (see `tokens list`) from working, at once."""
    try:
        click.echo(f"Revoked {accounts.revoke_token(token_id)}")
    except NewsletterError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(help="DKIM signing keys.")
def dkim():
    pass


@dkim.command("key")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def dkim_key(path: str):
    """Write a new private key to PATH and print the DNS record that publishes it."""
    if Path(path).exists():
        raise click.ClickException(f"{path} exists; keys are not overwritten.")
    pem, record = signing.new_key()
    try:
        Path(path).touch(mode=0o600)
        Path(path).write_bytes(pem)
    except OSError as exc:  # no such folder, no right to write there
        raise click.ClickException(f"Cannot write {path}: {exc.strerror or exc}") from exc
    config = current_app.config
    click.echo(f"Set NEWSLETTER_DKIM_KEY_FILE={path}, then publish this TXT record:")
    click.echo(f'{config["DKIM_SELECTOR"]}._domainkey.{config["DKIM_DOMAIN"]}. IN TXT "{record}"')


@click.command(help="Delete what only grows, once nobody needs it (README: Backups and retention).")
@click.option(
    "--older-than",
    "days",
    # A century at most: past year 1, the cutoff was an OverflowError's traceback.
    type=click.IntRange(min=1, max=36500),
    required=True,
    metavar="DAYS",
    help="Only what is older than this many days.",
)
@click.option(
    "--deliveries",
    is_flag=True,
    help="Also the copies and link clicks of issues sent more than DAYS ago: their figures"
    " are kept on the issue, but their tracked links stop redirecting.",
)
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@with_appcontext
def prune(days: int, deliveries: bool, dry_run: bool):
    schema.require_current()
    done = retention.prune(timedelta(days=days), deliveries=deliveries, dry_run=dry_run)
    click.echo(f"{'Would delete' if dry_run else 'Deleted'}, older than {days} days:")
    for kind, count in done.items():
        click.echo(f"  {kind}: {count}")
    if not deliveries:
        click.echo("  deliveries and link clicks: kept (--deliveries deletes those too)")


@click.command(help="Run the web app on gunicorn.")
@click.option("--host", default="127.0.0.1", show_default=True, help=HOST_HELP)
@click.option("--port", default=8000, show_default=True, type=PORT, help="The port to listen on.")
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Gunicorn worker processes, each answering one request at a time.",
)
def serve(host: str, port: int, workers: int):
    from gunicorn.app.base import BaseApplication

    # The factory the command was started with: each gunicorn worker makes its own app.
    create_app = click.get_current_context().ensure_object(ScriptInfo).create_app
    with create_app().app_context():
        schema.require_current()
        if current_app.config["OUTBOX_DIR"]:
            # It runs on the embedded defaults (DESIGN.md's contract), but an operator who
            # forgot the setting should hear where the mail goes; its page answers loopback only.
            click.echo(
                "NEWSLETTER_SMTP_URL is not set: mail goes to the local outbox "
                f"(127.0.0.1:{current_app.config['OUTBOX_PORT']}, which `newsletter dev` runs). "
                "Set it to the server that sends your mail (smtp://user:password@host:port).",
                err=True,
            )

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")

        def load(self):
            return create_app()

    Server().run()


@click.command(help="Run a Celery worker.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Tasks run at once (default: one per CPU).",
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "threads", "solo"]),
    default="prefork",
    show_default=True,
    help="Processes, threads, or one task at a time in this process.",
)
@click.option("--name", default=None, help="Node name, for example sender1@%h.")
@click.option("--beat", "with_beat", is_flag=True, help="Run beat inside the worker too.")
@click.option("--loglevel", default="INFO", show_default=True, help=LOGLEVEL_HELP)
@with_appcontext
def worker(concurrency: int | None, pool: str, name: str | None, with_beat: bool, loglevel: str):
    schema.require_current()
    celery_app = current_app.extensions["celery"]
    queue = celery_app.conf.task_default_queue
    argv = ["worker", f"--loglevel={loglevel}", "-Q", f"{control_queue(queue)},{queue}"]
    argv.append(f"--pool={pool}")
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    if name:
        argv.append(f"--hostname={name}")
    if with_beat:
        argv += ["--beat", "--schedule", _beat_schedule_file()]
    celery_app.worker_main(argv)


@click.command(help="Run Celery beat: finds due issues, polls feeds.")
@click.option("--loglevel", default="INFO", show_default=True, help=LOGLEVEL_HELP)
@with_appcontext
def beat(loglevel: str):
    schema.require_current()
    celery_app = current_app.extensions["celery"]
    celery_app.start(["beat", f"--loglevel={loglevel}", "--schedule", _beat_schedule_file()])


def _beat_schedule_file() -> str:
    return str(Path(current_app.instance_path) / "celerybeat-schedule")


@click.command(help="Everything in one command on the embedded defaults.")
@click.option("--host", default="127.0.0.1", show_default=True, help=HOST_HELP)
@click.option("--port", default=5000, show_default=True, type=PORT, help="The web app's port.")
@with_appcontext
def dev(host: str, port: int):
    from flask_migrate import upgrade
    from werkzeug.serving import run_simple

    from newsletter import demo
    from newsletter.outbox.server import start_outbox

    app = current_app._get_current_object()
    env = dict(os.environ)
    if not env.get("NEWSLETTER_BASE_URL"):
        # Links in emails and the banner follow --port, the worker's too.
        env["NEWSLETTER_BASE_URL"] = app.config["BASE_URL"] = f"http://localhost:{port}"
    upgrade()
    outbox = None
    if app.config["OUTBOX_DIR"]:
        outbox_port = app.config["OUTBOX_PORT"]
        try:
            outbox = start_outbox(app.config["OUTBOX_DIR"], "127.0.0.1", outbox_port)
        except (OSError, RuntimeError) as exc:  # a traceback before: another dev runs
            raise click.ClickException(
                f"The outbox's port {outbox_port} is taken (another `newsletter dev`?): "
                "set NEWSLETTER_OUTBOX_PORT to another."
            ) from exc
    for line in demo.seed():
        click.echo(line)
    celery = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "worker", "--beat", "--concurrency", "2"], env=env
    )
    click.echo(f"\n  Web:     {app.config['BASE_URL']}/")
    click.echo(f"  Admin:   {app.config['BASE_URL']}/admin/")
    if outbox:
        click.echo(f"  Outbox:  {app.config['BASE_URL']}/outbox/  (every email sent lands here)")
    click.echo("  Stop with Ctrl+C.\n")
    # SIGTERM too goes through the finally below, or the worker would be left running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        # Not app.run(): Flask refuses it inside a CLI command.
        run_simple(host, port, app, use_reloader=False, threaded=True)
    finally:
        celery.terminate()
        celery.wait(timeout=30)
        if outbox:
            outbox.stop()
