"""Links: the absolute ones written in SMS and emails, and the relative ones a page may send a person back to."""

from urllib.parse import urlsplit

from flask import current_app


def public_url(path: str = "") -> str:
    """An absolute link to a page of the platform, as it is written in SMS and emails."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def safe_next(target: str | None) -> str | None:
    """Accept only a relative path on this site as the page to go back to."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
