"""What an operator reads is what runs: README's settings table against config.py, its
command lines against the `newsletter` command, docker-compose.yml against both, the API's
spec against its routes, and the quick start `./scripts/dev` prints. The README is parsed,
so a setting, option or path renamed on one side only fails here."""

import os
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import click
import pytest
import yaml
from builders import confirmed_subscriber, csrf, draft, post_import
from flask.cli import ScriptInfo
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from newsletter import config

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTING = re.compile(r"NEWSLETTER_[A-Z0-9_]+")

# --- Settings ---------------------------------------------------------------------------------

# Defaults the table gives in words: they come from another setting or from the machine.
IN_WORDS = {
    "NEWSLETTER_SECRET_KEY": "random, kept in `instance/secret_key`",
    "NEWSLETTER_INSTANCE_PATH": "`instance/` beside the source",
    "NEWSLETTER_MAIL_DOMAIN": "host of the base URL",
    "NEWSLETTER_DKIM_DOMAIN": "the mail domain",
}
# The unit each kind of number is in, as its meaning must say.
UNITS = {
    "seconds": re.compile(r"INTERVAL|TIMEOUT|REFUSALS_WINDOW|_HOLD|LEASE|DEADLINE|WAIT|RETRY_BASE"
                          r"|MAX_AGE|_AFTER$"),
    "days": re.compile(r"HALF_LIFE"),
    "hours": re.compile(r"_HOURS$"),
}  # fmt: skip


def _settings_table() -> dict[str, tuple[str, str]]:
    """README's Configuration table: each name → (its default, its meaning)."""
    section = README.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `NEWSLETTER_")]
    table = {}
    for row in rows:
        cells = [cell.strip() for cell in row.strip().strip("|").split(" | ")]
        assert len(cells) == 3, row
        for name in re.findall(r"`(NEWSLETTER_[A-Z0-9_]+)`", cells[0]):
            table[name] = (cells[1], cells[2])
    return table


def _settings_read(monkeypatch) -> tuple[set[str], dict]:
    """Every setting the code reads, found by reading them all with none set, and what it
    takes for each: its default."""
    for name in list(os.environ):
        if name.startswith(config.ENV_PREFIX):
            monkeypatch.delenv(name)
    read = set()
    env = config._env

    def reading(name, default=None):
        read.add(config.ENV_PREFIX + name)
        return env(name, default)

    monkeypatch.setattr(config, "_env", reading)
    config.instance_path()
    return read, config.load(Path("instance"))


def _named(text: str) -> set[str]:
    """The settings a text names; `NEWSLETTER_BOUNCE_MAILBOX_OAUTH_` names a family."""
    return set(SETTING.findall(text))


def _same(documented: str, value) -> bool:
    if value in (None, "", []):
        return documented.startswith("unset")
    if isinstance(value, bool):
        return documented == ("yes" if value else "no")
    if isinstance(value, int | float):
        return re.fullmatch(r"[0-9.]+", documented) is not None and float(documented) == value
    return documented == value


def test_every_setting_the_code_reads_is_in_the_readme_table(monkeypatch):
    read, _ = _settings_read(monkeypatch)
    assert read - set(_settings_table()) == set()


def test_every_setting_the_readme_table_gives_is_read(monkeypatch):
    read, _ = _settings_read(monkeypatch)
    assert set(_settings_table()) - read == set()


def test_every_setting_named_anywhere_an_operator_reads_is_real(monkeypatch):
    """README's prose, ARCHITECTURE.md, the stack and the image, and what the product itself
    says (its error messages, the admin's pages): a setting renamed in one place only."""
    read, _ = _settings_read(monkeypatch)
    texts = [ROOT / name for name in ("README.md", "ARCHITECTURE.md", "docker-compose.yml")]
    texts += [ROOT / "Dockerfile", *ROOT.glob("scripts/*")]
    texts += [*ROOT.glob("newsletter/**/*.py"), *ROOT.glob("newsletter/**/*.html")]
    texts += [*ROOT.glob("worker/**/*.py")]
    for path in texts:
        for name in _named(path.read_text()):
            if name.endswith("_"):  # a family: `…_OAUTH_TOKEN_URL` and its kin
                assert any(setting.startswith(name) for setting in read), (path.name, name)
            else:
                assert name in read, (path.name, name)


def test_each_default_in_the_readme_table_is_the_code_s(monkeypatch):
    _, settings = _settings_read(monkeypatch)
    wrong = {}
    for name, (default, _meaning) in _settings_table().items():
        if name in IN_WORDS:
            assert IN_WORDS[name] in default, name
            continue
        key = "SQLALCHEMY_DATABASE_URI" if name.endswith("DATABASE_URL") else name[11:]
        documented = re.match(r"`([^`]*)`|(.*)", default)
        documented = documented[1] if documented[1] is not None else documented[2]
        if not _same(documented, settings[key]):
            wrong[name] = (default, settings[key])
    assert wrong == {}
    # What the words say.
    assert settings["MAIL_DOMAIN"] == urlsplit(settings["BASE_URL"]).hostname
    assert settings["DKIM_DOMAIN"] == settings["MAIL_DOMAIN"]
    assert settings["SECRET_KEY"] is None  # made and kept in the instance folder


def test_each_number_s_meaning_names_its_unit():
    missing = [
        name
        for name, (_default, meaning) in _settings_table().items()
        for unit, names in UNITS.items()
        if names.search(name) and unit not in meaning.lower()
    ]
    assert missing == [], missing


# --- The command line -------------------------------------------------------------------------

# What an operator types for each placeholder the README's command lines show.
TYPED = {
    "EMAIL": "you@example.org",
    "FILE": "backup.sqlite",
    "FILE...": "returned.eml",
    "PATH": "private.pem",
    "DAYS": "90",
    "NUMBER": "1",
    "N": "2",
    "NAME": "sender1@%h",
    "H": "0.0.0.0",
    "WHAT": "CMS",
    "URL": "imaps://bounces:secret@mail.example.org/INBOX",
}


def _readme_command_lines() -> list[str]:
    """Every `newsletter …` the README shows: in its code blocks, and inline in backticks."""
    lines = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", README, re.S):
        for line in block.splitlines():
            for part in re.split(r" && | \| |; |'", line.split("  #")[0]):
                lines += re.findall(r"(?:^|[\s/])newsletter ([a-z].*)", part)
    for inline in re.findall(r"`newsletter ([a-z][^`]*)`", README):
        lines.append(" ".join(inline.split()))
    return [line.strip() for line in lines]


def _as_typed(line: str) -> list[str]:
    """`users create EMAIL --role admin|editor` as typed: placeholders filled, the first of
    the choices, optional parts given."""
    words = []
    for word in shlex.split(re.sub(r"\$\([^)]*\)", "2026-12-07", line)):
        word = word.strip("[]").split("|")[0]
        words.append(TYPED.get(word, word))
    return words


def _parse(app, words: list[str]) -> click.Command:
    """The command the words name, its options and arguments parsed as click would (a usage
    error raised), without running it."""
    command = app.cli
    parent = click.Context(command, info_name="newsletter", obj=ScriptInfo(create_app=lambda: app))
    words = list(words)
    while isinstance(command, click.Group) and words:
        name = words.pop(0)
        found = command.get_command(parent, name)
        assert found is not None, f"no command {name!r} in {words}"
        if isinstance(found, click.Group):
            parent = click.Context(found, info_name=name, parent=parent)
        command = found
    if not isinstance(command, click.Group):
        command.make_context(command.name, words, parent=parent)
    return command


def _own_commands(app):
    """(words, command) for every command of ours, groups and all, not Flask's own."""
    parent = click.Context(app.cli, info_name="newsletter")
    todo = [((name,), app.cli.get_command(parent, name)) for name in app.cli.list_commands(parent)]
    while todo:
        words, command = todo.pop()
        module = getattr(command.callback, "__module__", "") or ""
        if module.startswith(("newsletter", "worker")):
            yield words, command
        if isinstance(command, click.Group) and module.startswith("newsletter"):
            todo += [((*words, name), command.commands[name]) for name in command.commands]


def test_the_readme_shows_commands_and_finds_them_all():
    lines = _readme_command_lines()
    for shown in ("users create", "tokens revoke", "bounces classify", "prune --older-than"):
        assert any(line.startswith(shown) for line in lines), shown


def test_every_command_line_the_readme_shows_parses_as_shown(app):
    for line in _readme_command_lines():
        try:
            _parse(app, _as_typed(line))
        except click.UsageError as exc:
            pytest.fail(f"`newsletter {line}`: {exc.format_message()}")


def test_the_command_line_block_shows_every_command_and_option_of_ours(app):
    """The README's Command line block is the reference: a command or option missing from it
    is one an operator cannot find (`serve --workers`, which the stack uses)."""
    block = README.split("\n## Command line\n", 1)[1].split("```", 2)[1]
    missing = []
    for words, command in _own_commands(app):
        shown = [line for line in block.splitlines() if f"newsletter {' '.join(words)}" in line]
        if not shown and not isinstance(command, click.Group):
            missing.append(" ".join(words))
        for option in command.params:
            long = [opt for opt in option.opts if opt.startswith("--")]
            if isinstance(option, click.Option) and long:
                if not any(opt in line for line in shown for opt in option.opts):
                    missing.append(f"{' '.join(words)} {long[0]}")
    assert missing == [], missing


def test_each_command_and_option_of_ours_says_what_it_does(app):
    silent = []
    for words, command in _own_commands(app):
        if not (command.help or command.short_help):
            silent.append(" ".join(words))
        for option in command.params:
            if isinstance(option, click.Option) and not option.help:
                silent.append(f"{' '.join(words)} {option.opts[0]}")
    assert silent == [], silent


@pytest.mark.parametrize(
    "words",
    [
        ["users"],
        ["users", "create"],
        ["users", "set-password"],
        ["tokens", "create"],
        ["tokens", "list"],
        ["tokens", "revoke"],
        ["dkim", "key"],
        ["backup"],
        ["prune"],
        ["serve"],
        ["worker"],
        ["beat"],
        ["dev"],
        ["bounces", "serve"],
        ["bounces", "fetch"],
        ["bounces", "classify"],
        ["db", "upgrade"],
    ],
)
def test_each_command_s_help_says_what_it_does(app, runner, words):
    result = runner.invoke(args=[*words, "--help"])
    assert result.exit_code == 0, result.output
    usage, _, rest = result.output.partition("\n\n")
    assert usage.startswith("Usage: "), result.output
    assert rest.strip() and not rest.startswith("Options:"), result.output


@pytest.mark.parametrize(
    "words, said",
    [
        (["--bogus"], "No such option '--bogus'"),
        (["nosuch"], "No such command 'nosuch'"),
        (["serve", "--port", "99999"], "'--port'"),
        (["users", "create", "a@example.org", "--role", "root"], "'--role'"),
        (["tokens", "revoke", "first"], "'TOKEN_ID'"),
        (["prune"], "Missing option '--older-than'"),
        (["prune", "--older-than", "0"], "'--older-than'"),
        # Past what a date can hold: OverflowError, 40 lines of traceback.
        (["prune", "--older-than", "800000"], "'--older-than'"),
        (["prune", "--older-than", "99999999999"], "'--older-than'"),
        (["bounces", "classify"], "Missing argument"),
        (["worker", "--pool", "gevent"], "'--pool'"),
    ],
)
def test_a_wrong_option_is_one_line_saying_so(app, runner, words, said):
    result = runner.invoke(args=words)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and said in errors[0], result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    "words",
    [
        ["users", "create", "you@example.org", "--password-stdin"],
        ["users", "set-password", "you@example.org", "--stdin"],
        ["tokens", "create", "you@example.org"],
        ["tokens", "list"],
        ["tokens", "revoke", "1"],
    ],
)
def test_a_user_or_token_command_before_db_upgrade_says_to_run_it(make_app, tmp_path, words):
    """Each was a traceback of SQLAlchemy's "no such table: users", where the long-running
    commands say what to do."""
    fresh = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    with fresh.app_context():
        result = fresh.test_cli_runner().invoke(args=words, input="a long enough password\n")
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "The database has no schema yet: run `newsletter db upgrade`." in result.output


@pytest.mark.slow
def test_newsletter_help_says_what_it_is_and_lists_the_readme_s_commands(tmp_path):
    """The real entry point (`newsletter`, not the test app's group), as its own process."""
    env = {
        **os.environ,
        "NEWSLETTER_INSTANCE_PATH": str(tmp_path / "instance"),
        "NEWSLETTER_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "newsletter", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "Self-hosted weekly-digest newsletter." in done.stdout
    listed = re.findall(r"^  ([a-z]+)  +(\S.*)$", done.stdout, re.M)
    commands = {line.split()[0] for line in _readme_command_lines()}
    assert commands - {name for name, _help in listed} == set()


@pytest.mark.slow
def test_the_readme_s_first_steps_run_as_shown(app, runner, tmp_path):
    """The production steps and the Command line block, in order, as an operator types
    them: each does what its comment says."""
    password = "a long enough password\n"
    made = runner.invoke(
        args=_as_typed("users create EMAIL --role admin --password-stdin"), input=password
    )
    assert made.exit_code == 0 and "Created admin you@example.org" in made.output, made.output
    token = runner.invoke(args=_as_typed("tokens create EMAIL --name WHAT")).output.strip()
    assert token.startswith("nl_")
    listed = runner.invoke(args=_as_typed("tokens list EMAIL"))
    assert listed.exit_code == 0 and "you@example.org\tCMS" in listed.output
    number = listed.output.split("\t")[0]
    assert runner.invoke(args=["tokens", "revoke", number]).exit_code == 0
    again = runner.invoke(args=_as_typed("users set-password EMAIL --stdin"), input=password)
    assert again.exit_code == 0 and "New password set" in again.output, again.output
    key = runner.invoke(args=["dkim", "key", str(tmp_path / "private.pem")])
    assert key.exit_code == 0 and "_domainkey." in key.output and "v=DKIM1" in key.output
    for line in ("prune --older-than 90", "prune --older-than 400 --deliveries --dry-run"):
        pruned = runner.invoke(args=line.split())
        assert pruned.exit_code == 0 and "older than" in pruned.output, pruned.output
    backup = runner.invoke(args=["backup", str(tmp_path / "backup.sqlite")])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert backup.exit_code == 0 and (tmp_path / "backup.sqlite").exists()
    else:  # the README: "On PostgreSQL, pg_dump --format=custom (the command says so)"
        assert backup.exit_code == 1 and "pg_dump --format=custom" in backup.output


# --- docker-compose.yml -----------------------------------------------------------------------


def _app_services() -> dict[str, dict]:
    return {name: s for name, s in COMPOSE["services"].items() if "build" in s}


def test_every_service_s_command_is_a_real_command(app):
    dockerfile = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M)[1]
    commands = {"Dockerfile": yaml.safe_load(dockerfile)}
    commands.update({name: s["command"] for name, s in _app_services().items()})
    assert set(commands) >= {"Dockerfile", "migrate", "web", "worker", "beat", "bounces"}
    for name, command in commands.items():
        assert command[0] == "newsletter", name
        try:
            _parse(app, command[1:])
        except click.UsageError as exc:
            pytest.fail(f"{name}: {exc.format_message()}")


def test_every_setting_the_stack_sets_is_real(monkeypatch):
    read, _ = _settings_read(monkeypatch)
    for name, service in _app_services().items():
        assert set(service["environment"]) - read == set(), name


def test_the_web_healthcheck_asks_a_real_endpoint_on_the_port_served(client):
    web = COMPOSE["services"]["web"]
    url = re.search(r"https?://[^'\"]+", " ".join(web["healthcheck"]["test"]))[0]
    command = web["command"]
    assert urlsplit(url).port == int(command[command.index("--port") + 1])
    assert client.get(urlsplit(url).path).status_code == 200


# --- The API's spec ---------------------------------------------------------------------------


def _spec_paths(client) -> dict[str, set[str]]:
    spec = client.get("/api/v1/openapi.json").json
    return {path: set(operations) for path, operations in spec["paths"].items()}


def _documented(spec: dict[str, set[str]], method: str, path: str) -> bool:
    """Whether the spec has this method on a path like this one (ids in any form)."""
    for template, methods in spec.items():
        pattern = re.sub(r"\{[a-z_]+\}", "[^/]+", template)
        if re.fullmatch(pattern, path) and method.lower() in methods:
            return True
    return False


def test_the_api_spec_is_where_the_readme_says(client):
    assert "`GET /api/v1/openapi.json`" in README
    assert client.get("/api/v1/openapi.json").status_code == 200


def _readme_calls() -> list[tuple[str, str]]:
    """(method, path) for each call the README names ("GET /archive/<list>", "POST
    /api/v1/issues/<id>/test"), and the quick start's curls (-d or -X POST posts)."""
    calls = re.findall(r"\b(GET|POST|PATCH|PUT|DELETE|HEAD) (/[a-z][\w/<>.{}*-]*)", README)
    for line in re.findall(r"^curl .*$", README.replace("\\\n", " "), re.M):
        path = re.search(r"localhost:5000(/api/v1\S+)", line)[1]
        calls.append(("POST" if re.search(r" -d |-X POST", line) else "GET", path))
    return calls


def test_every_call_the_readme_names_is_a_route_with_that_method(app):
    """Its paths as written (`<id>`, `<token>`, `*`) with a value in each place; an API
    path written without /api/v1 ("PATCH /subscribers/<id>") is the API's."""
    urls = app.url_map.bind("localhost")
    calls = _readme_calls()
    assert len(calls) > 25
    missing = []
    for method, path in calls:
        path = re.sub(r"<[^>]+>|\*", "1", path)
        if path.startswith(("/lists", "/subscribers", "/feeds", "/posts", "/issues")):
            path = "/api/v1" + path
        try:
            urls.match(path, method=method)
        except RequestRedirect:  # "/outbox" to "/outbox/": there all the same
            pass
        except HTTPException:
            missing.append(f"{method} {path}")
    assert missing == [], missing


def test_every_api_call_the_readme_names_is_in_the_spec(client):
    spec = _spec_paths(client)
    missing = [
        f"{method} {path}"
        for method, path in _readme_calls()
        if path.startswith("/api/v1/")
        and path != "/api/v1/openapi.json"  # the spec itself
        and not _documented(spec, method, path)
    ]
    assert missing == [], missing


@pytest.mark.slow
def test_every_path_the_spec_gives_answers_for_its_method(client, api_headers, weekly):
    """With real ids, a 404 or 405 is a route that is not there."""
    feed = client.post(
        "/api/v1/feeds",
        json={"url": "https://example.org/feed/", "list": "weekly"},
        headers=api_headers,
    ).json["id"]
    ids = {
        "list_id": weekly.id,
        "feed_id": feed,
        "issue_id": draft(weekly).id,
        "subscriber_id": confirmed_subscriber(weekly, "reader@example.org").id,
        "import_id": post_import(client, api_headers, b"email\nnew@example.org\n"),
    }
    calls = [(method, path) for path, methods in _spec_paths(client).items() for method in methods]
    calls.sort(key=lambda call: call[0] == "delete")  # deleting last, so the rows are there
    wrong = []
    for method, template in calls:
        path = re.sub(r"\{([a-z_]+)\}", lambda m: str(ids[m[1]]), template)
        body = {} if method in ("post", "patch", "put") else None
        answer = client.open(path, method=method.upper(), json=body, headers=api_headers)
        if answer.status_code in (404, 405):
            wrong.append((method, path, answer.status_code))
    assert wrong == []


# --- The quick start --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _lines_until(process: subprocess.Popen, last: str, timeout: float) -> list[str]:
    """What the process prints, up to the line holding `last`, with a bound."""
    deadline, lines = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if last in line:
                return lines
    raise AssertionError(f"{last!r} not printed within {timeout}s: {lines}")


def _answer(opener, url: str, data: dict | None = None):
    try:
        return opener.open(url, urlencode(data).encode() if data else None, timeout=10)
    except urllib.error.HTTPError as exc:
        return exc


@pytest.mark.slow
def test_dev_prints_what_the_quick_start_says_and_each_of_it_is_true(tmp_path):
    """`./scripts/dev` is `newsletter dev`: the list `weekly`, an admin with a password that
    signs in at /admin/, an API token that works, and /subscribe/weekly and /outbox/."""
    port = _free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("NEWSLETTER_")}
    env.update(
        NEWSLETTER_INSTANCE_PATH=str(tmp_path / "instance"),
        NEWSLETTER_OUTBOX_PORT=str(_free_port()),
    )
    dev = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "dev", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = _lines_until(dev, "Stop with Ctrl+C.", timeout=60)
        base = f"http://localhost:{port}"
        assert f"  Web:     {base}/" in lines
        assert f"  Admin:   {base}/admin/" in lines
        assert f"  Outbox:  {base}/outbox/  (every email sent lands here)" in lines
        assert "  List:    'weekly' created; subscribe at /subscribe/weekly" in lines
        admin = next(line for line in lines if line.startswith("  Admin:   admin@"))
        email, password = admin.split()[1], admin.split()[3]
        token = next(line for line in lines if "Bearer nl_" in line).split()[-1]
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        deadline = time.monotonic() + 20
        while True:  # the banner comes just before the web server listens
            try:
                opener.open(base + "/healthz", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "the web app never answered"
                time.sleep(0.1)
        assert _answer(opener, base + "/subscribe/weekly").status == 200
        assert _answer(opener, base + "/outbox/").status == 200
        signin = _answer(opener, base + "/admin/")
        assert signin.status == 200 and "/admin/login" in signin.url
        form = {"email": email, "password": password, "csrf_token": csrf(signin.read().decode())}
        dashboard = _answer(opener, base + "/admin/login", form)
        assert dashboard.status == 200 and urlsplit(dashboard.url).path == "/admin/"
        api = urllib.request.Request(
            base + "/api/v1/lists", headers={"Authorization": f"Bearer {token}"}
        )
        assert b'"weekly"' in _answer(opener, api).read()
    finally:
        dev.send_signal(signal.SIGTERM)
        dev.wait(timeout=40)
