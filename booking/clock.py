"""The current instant, read at the edges (views, CLI) and passed to services."""

from datetime import UTC, datetime

# Where no site or commune says otherwise (a platform-wide page), days are Paris days.
DEFAULT_TIME_ZONE = "Europe/Paris"


def now() -> datetime:
    """Return the current instant as an aware UTC datetime."""
    return datetime.now(UTC)


def parse_now(value: str | None) -> datetime:
    """Read an ISO 8601 instant given on the command line (UTC when no offset), or now."""
    if not value:
        return now()
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
