"""Add and withdraw messages in the caller's transaction."""

import base64
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notifications.models import CHANNELS, Notification
from notifications.sqltypes import utcnow


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


def cancel_group(session: Session, group_key: str) -> int:
    """Cancel every pending message of a group; return how many were cancelled."""
    result = session.execute(
        update(Notification)
        .where(Notification.group_key == group_key, Notification.status == "pending")
        .values(status="cancelled", updated_at=utcnow())
    )
    return result.rowcount
