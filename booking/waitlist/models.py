"""The waiting list."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.extensions import db
from booking.patients.models import Patient
from booking.slots.models import Slot
from notifications.sqltypes import UtcDateTime, utcnow

WAITLIST_STATUSES = ("waiting", "offered", "booked", "expired", "cancelled")


class WaitlistEntry(db.Model):
    """A patient waiting for a slot of a profession at a site over a range of days."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint(f"status IN {WAITLIST_STATUSES!r}", name="status"),
        CheckConstraint("last_day >= first_day", name="days"),
        Index("ix_waitlist_entries_match", "site_id", "profession", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    profession: Mapped[str] = mapped_column(String(40))
    first_day: Mapped[date]
    last_day: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    offered_slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id", ondelete="SET NULL"))
    offer_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    patient: Mapped[Patient] = relationship()
    offered_slot: Mapped[Slot | None] = relationship(foreign_keys=[offered_slot_id])
