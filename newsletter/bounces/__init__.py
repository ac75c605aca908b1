"""Bounces and complaints: VERP return paths, the server and mailbox poller that take them
back, reading them, and what each does to the subscriber."""
