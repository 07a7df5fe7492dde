"""The waiting list."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.extensions import db
from booking.patients.models import Patient
from booking.sites.models import Site
from booking.slots.models import Slot
from notifications.sqltypes import UtcDateTime, utcnow

WAITLIST_STATUSES = ("waiting", "offered", "booked", "expired", "cancelled")


class WaitlistEntry(db.Model):
    """A patient waiting for a slot of a profession over a range of days: at one site, or (shared) at any site
    within ``max_minutes`` of the drive from their commune (``origin_insee``), mornings only or not on a weekday
    if they say so."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint(f"status IN {WAITLIST_STATUSES!r}", name="status"),
        CheckConstraint("last_day >= first_day", name="days"),
        CheckConstraint("site_id IS NOT NULL OR (max_minutes IS NOT NULL AND origin_insee IS NOT NULL)",
                        name="where"),
        CheckConstraint("avoid_weekday IS NULL OR avoid_weekday BETWEEN 0 AND 6", name="weekday"),
        Index("ix_waitlist_entries_match", "site_id", "profession", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))  # None: any site within max_minutes
    origin_insee: Mapped[str | None] = mapped_column(ForeignKey("communes.insee"))
    max_minutes: Mapped[int | None]
    mornings_only: Mapped[bool] = mapped_column(default=False, server_default="0")
    avoid_weekday: Mapped[int | None]  # 0 Monday … 6 Sunday: « pas le mercredi »
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
    site: Mapped[Site | None] = relationship()
    offered_slot: Mapped[Slot | None] = relationship(foreign_keys=[offered_slot_id])
