"""No participant token in any log line. A token is the participant's password and it sits in
their URLs (`/p/<token>/...`, `/api/participate/<token>/...`), which web servers log together
with the referring page. This filter rewrites every record before it is written; Django's
handlers (settings.LOGGING) and gunicorn's access and error logs (gunicorn.conf.py) use it.

Plain Python, no Django: gunicorn loads it before the application.
"""

from __future__ import annotations

import logging
import re

# The token is whatever follows the participant prefixes up to the next separator, so a
# malformed or truncated token is hidden too.
TOKEN_IN_PATH = re.compile(r"(/(?:api/participate|p)/)[^/\s?#\"'<>]+")
REDACTED = r"\1[token]"


def redact(text: str) -> str:
    return TOKEN_IN_PATH.sub(REDACTED, text)


class RedactTokens(logging.Filter):
    """Replace participant tokens in the message, its arguments and any traceback text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if getattr(record, "request", None) is not None:
            record.request = None  # Django attaches the request (its repr holds the path)
        return True


def install_in_gunicorn(logger) -> None:
    """Called from gunicorn.conf.py: filter gunicorn's access log (request line, referer) and error log."""
    for log in (logger.access_log, logger.error_log):
        log.addFilter(RedactTokens())
