"""The `newsletter` command: users, tokens, and the database."""

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import urllib.request
from contextlib import closing

import click
import pytest
import sqlalchemy as sa
from conftest import free_port, wait_until
from flask_migrate import upgrade

from newsletter import accounts
from newsletter.extensions import db
from newsletter.models import ApiToken, Subscriber, User


@pytest.mark.slow
def test_users_create_reads_the_password_from_stdin_and_stores_a_hash(runner):
    result = runner.invoke(
        args=["users", "create", "Editor@Example.org", "--role", "admin", "--password-stdin"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = User.query.one()
    assert user.email == "editor@example.org" and user.role == "admin"
    assert "a long enough password" not in user.password_hash
    assert accounts.check_password(user, "a long enough password")


def test_users_create_refuses_short_passwords_and_bad_roles(runner):
    short = runner.invoke(
        args=["users", "create", "a@example.org", "--password-stdin"], input="short\n"
    )
    assert short.exit_code != 0 and "at least" in short.output
    role = runner.invoke(
        args=["users", "create", "a@example.org", "--role", "root", "--password-stdin"],
        input="a long enough password\n",
    )
    assert role.exit_code != 0
    assert User.query.count() == 0


@pytest.mark.slow
def test_tokens_create_prints_a_token_that_is_stored_only_as_a_hash(runner, client):
    runner.invoke(
        args=["users", "create", "a@example.org", "--password-stdin"],
        input="a long enough password\n",
    )
    result = runner.invoke(args=["tokens", "create", "a@example.org"])
    token = result.output.strip()
    assert token.startswith("nl_")
    stored = ApiToken.query.one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/openapi.json", headers=headers).status_code == 200


def test_tokens_create_for_an_unknown_user_fails_clearly(runner):
    result = runner.invoke(args=["tokens", "create", "nobody@example.org"])
    assert result.exit_code != 0 and "No user" in result.output


def test_a_token_is_listed_without_its_value_and_revoked_at_once(runner, client):
    """A leaked token worked for good: nothing listed or revoked them."""
    from builders import user

    user("writer@example.org")
    token = runner.invoke(args=["tokens", "create", "writer@example.org", "--name", "CMS ۱"])
    value = token.output.strip()
    headers = {"Authorization": f"Bearer {value}"}
    assert client.get("/api/v1/lists", headers=headers).status_code == 200
    listed = runner.invoke(args=["tokens", "list"])
    assert listed.exit_code == 0 and "writer@example.org\tCMS ۱" in listed.output
    assert value not in listed.output and "last used 20" in listed.output
    number = listed.output.split("\t")[0]
    revoked = runner.invoke(args=["tokens", "revoke", number])
    assert revoked.exit_code == 0, revoked.output
    assert f"Revoked token {number} (CMS ۱) of writer@example.org" in revoked.output
    assert client.get("/api/v1/lists", headers=headers).status_code == 401
    again = runner.invoke(args=["tokens", "revoke", number])
    assert again.exit_code == 1 and f"there is no token {number}" in again.output
    assert "Traceback" not in again.output


def test_a_token_s_name_past_its_column_is_a_clear_error(runner):
    """On PostgreSQL a 150-character name was a traceback (its column holds 100)."""
    from builders import user

    user("writer@example.org")
    result = runner.invoke(args=["tokens", "create", "writer@example.org", "--name", "x" * 150])
    assert result.exit_code == 1 and "at most 100 characters" in result.output
    assert ApiToken.query.count() == 0


def test_api_calls_without_or_with_a_bad_token_are_401(client):
    for headers in ({}, {"Authorization": "Bearer nl_wrong"}, {"Authorization": "Basic x"}):
        answer = client.get("/api/v1/lists", headers=headers)
        assert answer.status_code == 401
        assert answer.json["error"]["code"] == "unauthorized"
        assert set(answer.json["error"]) == {"code", "message", "fields"}


def test_health_check_answers(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_every_page_names_its_icon_and_favicon_ico_leads_to_it(client, weekly):
    """Browsers asked for /favicon.ico on every page and logged its 404."""
    for path in ("/", "/subscribe/weekly", "/admin/login"):
        assert 'rel="icon" href="/static/favicon.svg"' in client.get(path).text, path
    moved = client.get("/favicon.ico")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/static/favicon.svg")
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.data.startswith(b"<svg")


@pytest.mark.slow
def test_dev_seeds_an_admin_a_token_and_a_list_once(app):
    from newsletter.demo import seed
    from newsletter.models import MailingList, User

    lines = seed()
    assert any("Admin:" in line for line in lines) and any("List:" in line for line in lines)
    weekly = MailingList.query.one()
    # Made by the list service, so it follows the same rules as the admin's and the API's.
    assert (weekly.slug, weekly.opt_in, weekly.postal_address.startswith("Example")) == (
        "weekly",
        "double",
        True,
    )
    assert User.query.count() == 1
    assert seed() == []  # the second run finds everything there


@pytest.mark.slow
@pytest.mark.parametrize(
    "command", [["worker"], ["beat"], ["serve", "--port", "0"], ["bounces", "serve"]]
)
def test_a_long_running_command_on_a_database_never_upgraded_says_what_to_do(tmp_path, command):
    done = _newsletter(tmp_path, *command)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "The database has no schema yet: run `newsletter db upgrade`." in done.stderr
    assert "Traceback" not in done.stderr


def _newsletter(tmp_path, *command: str, **settings: str) -> subprocess.CompletedProcess:
    """`newsletter COMMAND` as its own process, on a new SQLite database in tmp_path."""
    env = {
        **os.environ,
        "NEWSLETTER_INSTANCE_PATH": str(tmp_path / "instance"),
        "NEWSLETTER_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}",
        "NEWSLETTER_BOUNCE_DOMAIN": "bounces.example.org",
        **{f"NEWSLETTER_{name}": value for name, value in settings.items()},
    }
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "setting, value, words",
    [
        ("BEAT_INTERVAL", "abc", "NEWSLETTER_BEAT_INTERVAL must be a number, not 'abc'"),
        ("SMTP_TIMEOUT", "30s", "NEWSLETTER_SMTP_TIMEOUT must be a number, not '30s'"),
        ("BATCH_SIZE", "abc", "NEWSLETTER_BATCH_SIZE must be a whole number"),
        ("BOUNCES_BY_ADDRESS", "maybe", "NEWSLETTER_BOUNCES_BY_ADDRESS must be yes or no"),
        (
            "SECRET_KEY_FALLBACKS",
            "an old key,",
            "NEWSLETTER_SECRET_KEY_FALLBACKS has an empty key: separate the older keys with"
            " single commas",
        ),
        (
            "BOUNCE_MAILBOX_OAUTH_TOKEN_URL",
            "http://login.example.org/token",
            "NEWSLETTER_BOUNCE_MAILBOX_OAUTH_TOKEN_URL must be an https:// URL",
        ),
    ],
)
def test_a_setting_that_cannot_work_is_one_line_not_a_traceback(tmp_path, setting, value, words):
    """Each was a traceback of 24 to 153 lines; "could not convert string to float" named
    no setting at all."""
    done = _newsletter(tmp_path, "db", "upgrade", **{setting: value})
    assert done.returncode == 1
    assert f"Error: {words}" in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_the_schema_check_tells_an_old_database_from_a_new_one(tmp_path, monkeypatch):
    from flask_migrate import upgrade

    from newsletter import create_app, schema
    from newsletter.extensions import db

    monkeypatch.setenv("NEWSLETTER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", f"sqlite:///{tmp_path / 'old.db'}")
    with create_app().app_context():
        assert "no schema yet" in schema.mismatch()
        upgrade(revision="0015")
        assert "(0015) is older than this version's" in schema.mismatch()
        upgrade()
        assert schema.mismatch() is None
        with db.engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
        assert "(9999) is newer than this version knows" in schema.mismatch()
        db.engine.dispose()


@pytest.mark.slow  # a server that cannot listen is given up on after aiosmtpd's wait
def test_commands_given_what_cannot_work_say_why_in_a_line(app, runner, tmp_path):
    """Each was a traceback: a port past 65535, a port taken, an address this machine does
    not have, a key file in a folder that does not exist."""
    import socket

    app.config["BOUNCE_DOMAIN"] = "bounces.example.org"
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        cases = [
            (["bounces", "serve", "--port", "99999"], 2, "99999 is not in the range"),
            (["bounces", "serve", "--port", str(port)], 1, f"Cannot listen on 127.0.0.1:{port}"),
            (["bounces", "serve", "--host", "192.0.2.1", "--port", str(port)], 1, "Cannot listen"),
            (["dkim", "key", str(tmp_path / "no" / "such" / "key.pem")], 1, "Cannot write"),
            (["serve", "--port", "99999"], 2, "99999 is not in the range"),
            (["serve", "--workers", "0"], 2, "0 is not in the range"),
        ]
        for args, code, words in cases:
            result = runner.invoke(args=args)
            assert result.exit_code == code and words in result.output, (args, result.output)
            assert "Traceback" not in result.output
    finally:
        taken.close()


@pytest.mark.slow  # starts `newsletter serve` (gunicorn) as its own process
def test_serve_on_the_embedded_defaults_runs_and_says_where_mail_goes(app, tmp_path):
    """DESIGN.md: unset, each setting has an embedded default that runs on a fresh machine.
    Without NEWSLETTER_SMTP_URL `serve` refused to start for a while; it runs, and says the
    mail goes to the local outbox (whose page answers this machine only)."""
    assert _newsletter(tmp_path, "db", "upgrade").returncode == 0
    port = free_port()
    env = {**os.environ, "NEWSLETTER_INSTANCE_PATH": str(tmp_path / "instance"),
           "NEWSLETTER_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}  # fmt: skip
    env.pop("NEWSLETTER_SMTP_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: _answers(port), timeout=30, message="serve answers")
    finally:
        server.terminate()
        said = server.communicate(timeout=20)[1]
    assert "NEWSLETTER_SMTP_URL is not set: mail goes to the local outbox" in said


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


@pytest.mark.parametrize(
    "settings, down",
    [
        ({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"}, "database"),
        ({"BROKER_URL": "redis://127.0.0.1:1/0"}, "broker"),
    ],
)
def test_the_health_check_says_which_part_is_down(make_app, settings, down):
    """A database gone was a 500 page in HTML; a broker gone was "ok"."""
    answer = make_app(**settings).test_client().get("/healthz")
    assert answer.status_code == 503
    assert answer.json["status"] == "unavailable" and down in answer.json
    assert "127.0.0.1:1" not in answer.text and "nobody" not in answer.text


@pytest.mark.slow  # waits its CHECK_SECONDS on purpose
@pytest.mark.parametrize("down", ["database", "broker"])
def test_a_server_that_never_answers_is_down_within_seconds(make_app, down):
    """It takes the connection and says nothing: the check waited 30 s, and gunicorn killed
    its worker, which answered a 500 page rather than a 503."""
    import socket
    import time

    silent = socket.create_server(("127.0.0.1", 0))  # accepts (the kernel does), never speaks
    port = silent.getsockname()[1]
    settings = {
        "database": {"SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://x@127.0.0.1:{port}/x"},
        "broker": {"BROKER_URL": f"redis://127.0.0.1:{port}/0"},
    }[down]
    client = make_app(**settings).test_client()
    try:
        started = time.monotonic()
        answer = client.get("/healthz")
        assert time.monotonic() - started < 6
        assert answer.status_code == 503 and answer.json[down] == "no answer in time"
    finally:
        silent.close()


@pytest.mark.slow  # a server that cannot listen is given up on after aiosmtpd's wait
def test_a_second_dev_beside_the_first_is_told_how(app, runner, tmp_path, monkeypatch):
    """Its outbox's port, hard-coded, was taken: a traceback. Now a setting, and a line."""
    import socket

    from newsletter import config

    monkeypatch.setenv("NEWSLETTER_OUTBOX_PORT", "2626")
    loaded = config.load(tmp_path)
    assert (loaded["OUTBOX_PORT"], loaded["SMTP_URL"]) == (2626, "smtp://127.0.0.1:2626")
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    app.config.update(OUTBOX_DIR=str(tmp_path / "outbox"), OUTBOX_PORT=taken.getsockname()[1])
    try:
        result = runner.invoke(args=["dev", "--port", "0"])
    finally:
        taken.close()
    assert result.exit_code == 1 and "set NEWSLETTER_OUTBOX_PORT" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_the_version_is_the_newsletter_s(tmp_path):
    """`newsletter --version` printed Flask's and Python's."""
    done = _newsletter(tmp_path, "--version")
    assert done.returncode == 0 and done.stdout.startswith("newsletter, version ")
    assert "Flask" not in done.stdout


@pytest.mark.slow
def test_a_backup_of_a_running_sqlite_database_holds_what_its_log_holds(make_app, tmp_path):
    """A copy of the file misses what waits in its write-ahead log: a copy made while the
    system ran held none of the subscribers."""
    live = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'live.sqlite'}")
    with live.app_context():
        upgrade()
        db.engine.dispose()  # the last connection closed folds the log into the file
        writer = db.engine.connect()  # open, as the web app's are: the log is not folded in
        writer.execute(sa.insert(Subscriber).values(email="ana@example.org", name="آنا"))
        writer.commit()
        assert (tmp_path / "live.sqlite-wal").stat().st_size > 0
        shutil.copy(tmp_path / "live.sqlite", tmp_path / "copied.sqlite")
        answer = live.test_cli_runner().invoke(args=["backup", str(tmp_path / "backup.sqlite")])
        assert answer.exit_code == 0, answer.output
        again = live.test_cli_runner().invoke(args=["backup", str(tmp_path / "backup.sqlite")])
        assert again.exit_code == 1 and "not overwritten" in again.output
        writer.close()
        db.engine.dispose()

    def names(path) -> list:
        with closing(sqlite3.connect(path)) as copy:
            return copy.execute("SELECT name FROM subscribers").fetchall()

    assert names(tmp_path / "backup.sqlite") == [("آنا",)]
    assert names(tmp_path / "copied.sqlite") == []  # what README once said to do


def test_a_backup_on_postgresql_names_its_own_tool(app, runner, tmp_path):
    answer = runner.invoke(args=["backup", str(tmp_path / "copy.dump")])
    if db.engine.dialect.name == "sqlite":
        assert answer.exit_code == 0 and (tmp_path / "copy.dump").stat().st_size > 0
    else:
        assert answer.exit_code == 1 and "pg_dump --format=custom" in answer.output
        assert db.engine.url.database in answer.output


@pytest.mark.parametrize(
    "setting, value, words",
    [
        ("BEAT_INTERVAL", "0", "NEWSLETTER_BEAT_INTERVAL must be a number of seconds above 0"),
        ("BEAT_INTERVAL", "-5", "NEWSLETTER_BEAT_INTERVAL must be a number of at least 0"),
        ("CLAIM_LEASE", "nan", "NEWSLETTER_CLAIM_LEASE must be a number of at least 0, not nan"),
        ("FEED_TIMEOUT", "inf", "NEWSLETTER_FEED_TIMEOUT must be a number of at least 0"),
        ("BASE_URL", "news.example.org", "NEWSLETTER_BASE_URL must be an http:// or https://"),
        ("BASE_URL", "ftp://news.example.org", "NEWSLETTER_BASE_URL must be an http://"),
        ("SMTP_URL", "garbage", "NEWSLETTER_SMTP_URL: SMTP URL must start with smtp://"),
        ("SMTP_URL", "smtp://relay.example.org?tls=yes", "NEWSLETTER_SMTP_URL: tls must be"),
        ("DATABASE_URL", "mysql://u:secret@db/news", "starting 'mysql'"),
        ("DATABASE_URL", "not-a-url", "must be a postgresql:// or sqlite:/// URL"),
    ],
)
def test_settings_that_cannot_work_are_refused_in_a_line(
    tmp_path, monkeypatch, setting, value, words
):
    """Each was taken: an interval of 0 made beat send 15,000 tasks in 12 seconds, "nan"
    killed it with a thousand lines, a base URL without its scheme made every link in every
    email relative; a database URL of another kind was 150 lines from deep in SQLAlchemy."""
    from newsletter import config

    monkeypatch.setenv(f"NEWSLETTER_{setting}", value)
    with pytest.raises(ValueError) as refused:
        config.load(tmp_path)
    assert words in str(refused.value) and "secret" not in str(refused.value)


def test_a_database_that_cannot_be_reached_is_one_line(tmp_path, monkeypatch):
    from newsletter import create_app, schema

    monkeypatch.setenv("NEWSLETTER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "x" * 32)
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    with create_app().app_context(), pytest.raises(click.ClickException) as refused:
        schema.require_current()
    said = refused.value.message
    assert said.startswith("The database cannot be reached: ") and "\n" not in said
