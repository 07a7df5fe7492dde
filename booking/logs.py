"""Logs hold no secret and no personal search: links' tokens and the desk's queries are masked."""

import logging
import re

# The links whose last part is a secret (cancel, waiting-list offer, invitation, calendar feed, password reset,
# feedback): the one list that every log filter and the no-store rule read.
SECRET_LINK_PREFIXES = ("/a/", "/attente/", "/invitation/", "/agenda/", "/mot-de-passe/", "/avis/")
_TOKEN_PATHS = re.compile("(" + "|".join(re.escape(prefix) for prefix in SECRET_LINK_PREFIXES) + r")[^\s?\"'/]+")
_PERSONAL_QUERIES = re.compile(r"(/(?:accueil|compte|api/v1/patients)[^\s?\"']*\?)[^\s\"']+")


def redact_url(text: str) -> str:
    """Mask the secret and personal parts of the URLs in a log line."""
    return _PERSONAL_QUERIES.sub(r"\1…", _TOKEN_PATHS.sub(r"\1…", text))


def _redact(value):
    return redact_url(value) if isinstance(value, str) else value


class RedactUrls(logging.Filter):
    """Rewrite access-log records (werkzeug's, gunicorn's) before any handler writes them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _redact(record.msg)
        if isinstance(record.args, dict):
            record.args = {key: _redact(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_redact(value) for value in record.args)
        return True


def init_logs() -> None:
    """Attach the redaction to the access logs of the development server and of gunicorn (once)."""
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactUrls) for existing in logger.filters):
            logger.addFilter(RedactUrls())
