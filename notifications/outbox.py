"""Add and withdraw messages in the caller's transaction."""

import base64
from datetime import datetime
from functools import cache

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notifications.models import CHANNELS, Notification
from notifications.sqltypes import dialect_insert, utcnow


def enqueue(
    session: Session,
    *,
    channel: str,
    recipient: str,
    body: str,
    due_at: datetime,
    dedupe_key: str,
    group_key: str | None = None,
    subject: str | None = None,
    html_body: str | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
    expires_at: datetime | None = None,
) -> Notification:
    """Add a message to the outbox, or return the one already there with that dedupe key."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    existing = session.scalar(select(Notification).where(Notification.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    message = Notification(
        channel=channel,
        recipient=recipient,
        body=body,
        subject=subject,
        html_body=html_body,
        attachments=[{"filename": name, "content_type": kind, "data": base64.b64encode(data).decode()}
                     for name, kind, data in attachments] if attachments else None,
        due_at=due_at,
        expires_at=expires_at,
        dedupe_key=dedupe_key,
        group_key=group_key,
        status="pending",
    )
    session.add(message)
    session.flush()
    return message


def attachment(filename: str, content_type: str, data: bytes, **params: str) -> dict:
    """An e-mail attachment as the outbox stores it; ``params`` go to its Content-Type (``method="REQUEST"``)."""
    stored = {"filename": filename, "content_type": content_type, "data": base64.b64encode(data).decode()}
    return {**stored, "params": params} if params else stored


def enqueue_many(session: Session, messages: list[dict]) -> None:
    """Add several messages in one statement; a dedupe key already in the outbox keeps its message.

    Each message is a dict of ``enqueue``'s arguments (``channel``, ``recipient``, ``body``, ``due_at``,
    ``dedupe_key``, and optionally ``group_key``, ``expires_at``; for e-mail ``subject``, ``html_body``,
    ``headers`` and ``attachments`` made by ``attachment``). The rows are not loaded into the session.
    """
    if not messages:
        return
    for message in messages:
        if message["channel"] not in CHANNELS:
            raise ValueError(f"unknown channel {message['channel']!r}")
    now = utcnow()
    rows = [{"group_key": None, "expires_at": None, "subject": None, "html_body": None, "attachments": None,
             "headers": None, **message, "status": "pending", "attempts": 0,
             "created_at": now, "updated_at": now} for message in messages]
    # One statement built once per database. With RETURNING, SQLAlchemy sends the rows as one INSERT of several
    # VALUES (one round trip, and cheaper for psycopg than an executemany's pipeline); what it returns is unused.
    session.execute(_insert_statement(session.get_bind().dialect.name), rows).close()


@cache
def _insert_statement(dialect: str):
    return (dialect_insert(dialect)(Notification.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(Notification.__table__.c.id))


def cancel_group(session: Session, group_key: str, channel: str | None = None, reason: str | None = None) -> int:
    """Cancel every pending message of a group (of one channel, if given, saying why); return how many."""
    conditions = [Notification.group_key == group_key, Notification.status == "pending"]
    if channel is not None:
        conditions.append(Notification.channel == channel)
    values = {"status": "cancelled", "updated_at": utcnow(), **({"last_error": reason} if reason else {})}
    return session.execute(update(Notification).where(*conditions).values(**values)).rowcount
