"""The `newsletter` command: the app's commands, with the app made when one needs it."""

import click
from flask.cli import FlaskGroup

from newsletter import create_app


def _app():
    """The app; a setting that cannot work is one line saying which and why (a bad number,
    no secret key on a shared database), where it was a traceback of dozens of lines."""
    try:
        return create_app()
    except (ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from exc


def main() -> None:
    cli = FlaskGroup(
        create_app=_app, help="Self-hosted weekly-digest newsletter.", add_version_option=False
    )
    # Its own version: Flask's option printed Flask's and Python's.
    click.version_option(package_name="newsletter", prog_name="newsletter")(cli)
    cli.main(prog_name="newsletter")


if __name__ == "__main__":
    main()
