"""The outbox: one row per message to send, whatever the channel."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Index, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from notifications.sqltypes import UtcDateTime, utcnow

CHANNELS = ("sms", "email", "voice", "fhir")  # fhir: a document PUT to a partner system
STATUSES = ("pending", "sending", "sent", "delivered", "undelivered", "failed", "cancelled")

# Own metadata: this package is independent of the application that uses it.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class NotificationBase(DeclarativeBase):
    metadata = metadata


class Notification(NotificationBase):
    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(f"channel IN {CHANNELS!r}", name="channel"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_notifications_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    # Email attachments: [{"filename", "content_type", "data" (base64)}].
    attachments: Mapped[list | None] = mapped_column(JSON)
    # Extra e-mail headers, e.g. List-Unsubscribe for reminders.
    headers: Mapped[dict | None] = mapped_column(JSON)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    # Unique: the same message (e.g. one reminder of one appointment) can exist only once.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    # Lets the caller find its messages again (e.g. "appointment:42") to cancel or re-plan them.
    group_key: Mapped[str | None] = mapped_column(String(120), index=True)
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    error_code: Mapped[str | None] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(String(500))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Not sent at all after this instant (a call must not ring at night because the dispatcher was late).
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # What the person did with a call: answered, confirmed, cancelled, no_answer, busy, failed.
    outcome: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class SmsOptOut(NotificationBase):
    """A number that answered STOP: it gets no SMS any more."""

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class InboundMessage(NotificationBase):
    """An SMS received through the provider, kept by its id so that a retried webhook is answered once."""

    __tablename__ = "inbound_messages"

    provider_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    keyword: Mapped[str] = mapped_column(String(20))
    reply: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
