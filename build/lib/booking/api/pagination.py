"""Opaque cursors for the API's lists: ``{"items": [...], "next_cursor": null or "…"}``."""

import base64
import binascii
import json
from datetime import datetime

from booking.errors import DomainError


class BadCursor(DomainError):
    http_status = 400
    code = "bad_cursor"

    def __init__(self):
        super().__init__("Curseur de pagination invalide : reprenez la valeur « next_cursor » de la page précédente.")


def encode_cursor(position: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *keys: str) -> dict | None:
    """Return the position a cursor holds (with exactly these keys), or None for the first page."""
    if not cursor:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        position = None
    if not isinstance(position, dict) or set(position) != set(keys):
        raise BadCursor()
    return position


def offset_page(items: list, offset: int, limit: int, present) -> dict:
    """The page of ``items`` (the whole list from its first row) that starts at ``offset``, each item presented."""
    more = len(items) > offset + limit
    return {"items": [present(item) for item in items[offset:offset + limit]],
            "next_cursor": encode_cursor({"offset": offset + limit}) if more else None}


def offset_of(cursor: str | None) -> int:
    position = decode_cursor(cursor, "offset")
    offset = position["offset"] if position else 0
    if not isinstance(offset, int) or not 0 <= offset <= 100_000:
        raise BadCursor()
    return offset


def after_of(cursor: str | None) -> tuple[datetime, int] | None:
    """The (start, id) after which a slot list resumes."""
    position = decode_cursor(cursor, "start", "id")
    if position is None:
        return None
    try:
        start = datetime.fromisoformat(position["start"])
        if start.tzinfo is None or not isinstance(position["id"], int):
            raise ValueError
    except (TypeError, ValueError):
        raise BadCursor() from None
    return start, position["id"]
