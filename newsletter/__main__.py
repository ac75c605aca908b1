"""The `newsletter` command: the app's commands, with the app made when one needs it."""

from flask.cli import FlaskGroup

from newsletter import create_app


def main() -> None:
    cli = FlaskGroup(create_app=create_app, help="Self-hosted weekly-digest newsletter.")
    cli.main(prog_name="newsletter")


if __name__ == "__main__":
    main()
