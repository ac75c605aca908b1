"""`newsletter bounces serve` and `newsletter bounces fetch`."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from newsletter import logs, schema
from newsletter.bounces import oauth
from newsletter.bounces.mailbox import MailboxError, fetch
from newsletter.bounces.reports import classify, split_mbox
from newsletter.bounces.server import BounceServer
from newsletter.cli_options import HOST_HELP, PORT


@click.group(help="Bounces and complaints coming back.")
def bounces():
    pass


@bounces.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help=HOST_HELP)
@click.option("--port", default=2526, show_default=True, type=PORT, help="The port to listen on.")
@click.option("--lmtp", is_flag=True, help="Speak LMTP (for a local MTA) rather than SMTP.")
@with_appcontext
def serve_bounces(host: str, port: int, lmtp: bool):
    """Receive bounces and feedback reports for the bounce domain."""
    app = current_app._get_current_object()
    if not app.config["BOUNCE_DOMAIN"]:
        raise click.ClickException(
            "Set NEWSLETTER_BOUNCE_DOMAIN: the server takes mail for that domain only."
        )
    schema.require_current()
    logs.to_stderr()
    server = BounceServer(app, host, port, lmtp=lmtp)
    try:
        server.start()
    except OSError as exc:  # the port taken, or an address this machine does not have
        raise click.ClickException(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from exc
    except RuntimeError as exc:  # aiosmtpd's word for a server that did not come up
        raise click.ClickException(f"Cannot listen on {host}:{port}: {exc}") from exc
    protocol = "LMTP" if lmtp else "SMTP"
    click.echo(f"Taking bounces for {server.handler.domain} over {protocol} on {host}:{port}")
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    stop.wait()
    server.stop()


@bounces.command("fetch")
@click.argument("url", required=False)
@with_appcontext
def fetch_bounces(url: str | None):
    """Read and delete the bounces in a mailbox (URL, or NEWSLETTER_BOUNCE_MAILBOX)."""
    url = url or current_app.config["BOUNCE_MAILBOX"]
    if not url:
        raise click.ClickException("Give a mailbox URL or set NEWSLETTER_BOUNCE_MAILBOX.")
    try:
        count = fetch(url, oauth=oauth.client(current_app.config))
    except MailboxError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{count} message{'' if count == 1 else 's'} read")


@bounces.command("classify")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON object a message.")
def classify_files(files: tuple[str, ...], as_json: bool):
    """Say what returned messages mean, changing nothing. An mbox is read message by message."""
    failed = False
    for name in files:
        try:
            raw = Path(name).read_bytes()
        except OSError as exc:
            click.echo(f"{name}: {exc.strerror or exc}", err=True)
            failed = True
            continue
        for message in split_mbox(raw):
            verdict = classify(message)
            if as_json:
                click.echo(json.dumps(verdict.as_json(name), ensure_ascii=False))
                continue
            click.echo(f"{name}: {verdict.kind} ({verdict.reason})")
            for failure in verdict.recipients:
                said = f"{failure.kind} ({failure.reason}) {failure.status}"
                click.echo(f"  {failure.address}: {said}")
    sys.exit(1 if failed else 0)
