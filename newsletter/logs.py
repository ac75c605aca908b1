"""Link tokens stay out of the logs: an access log line with /unsubscribe/<token> would let
whoever reads it leave, confirm or change someone's subscription. And a log for the commands
of ours no framework logs for."""

from __future__ import annotations

import logging
import re

# The pages whose path carries a signed token (links.py, analytics.py, admin invitations):
# the token is the segment after the page's name; /o/ tokens end in ".gif".
TOKEN_PATH = re.compile(
    r"(/(?:confirm|unsubscribe|preferences|data|erase|invitation|r|o)/)[^\s\"'?/]+?(?=\.gif\b|[\s\"'?/]|$)"
)
# The access loggers of gunicorn (`newsletter serve`) and of the development server.
ACCESS_LOGGERS = ("gunicorn.access", "werkzeug")


def redact(text: str) -> str:
    return TOKEN_PATH.sub(r"\1[token]", text)


class RedactTokens(logging.Filter):
    """Rewrites each record's message with the tokens replaced, in the path and the Referer."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def keep_tokens_out() -> None:
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


def to_stderr() -> None:
    """Info and worse, timed, on stderr, for a long-running command no framework logs for
    (`bounces serve`): it said nothing of the bounces it took, Python's default showing
    warnings alone. aiosmtpd's own line for every connection stays out."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    logging.getLogger("mail.log").setLevel(logging.WARNING)
