"""The outbox keys of the platform's messages: one function per kind of subject."""

from sqlalchemy import String, cast, literal


def appointment_group(appointment_id: int) -> str:
    """The group of every message about one appointment (withdrawn together when it is cancelled or moved)."""
    return f"appointment:{appointment_id}"


def appointment_message(appointment_id: int, kind: str) -> str:
    """The dedupe key of one message about an appointment: its confirmation, a reminder, its cancellation."""
    return f"{appointment_group(appointment_id)}:{kind}"


def appointment_message_sql(appointment_id_column, kind: str | None = None):
    """The same key built in SQL from an appointment id column (to join the outbox in one query)."""
    key = literal("appointment:") + cast(appointment_id_column, String)
    return key + literal(f":{kind}") if kind else key
