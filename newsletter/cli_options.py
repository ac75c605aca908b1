"""Options several commands share (newsletter/cli.py's and the bounce server's)."""

import click

PORT = click.IntRange(0, 65535)  # 0: any free port
HOST_HELP = "The address to listen on (0.0.0.0: every interface)."
