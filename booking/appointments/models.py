"""Appointments: a patient on a slot."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.auth.models import User
from booking.extensions import db
from booking.patients.models import Patient
from booking.slots.models import Slot
from notifications.sqltypes import UtcDateTime, utcnow

CHANNELS = ("online", "reception", "phone", "sas")
APPOINTMENT_STATUSES = ("booked", "cancelled", "attended", "no_show")


class Appointment(db.Model):
    """A patient on a seat of a slot, booked online, at the desk or by phone."""

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint(f"channel IN {CHANNELS!r}", name="channel"),
        CheckConstraint(f"status IN {APPOINTMENT_STATUSES!r}", name="status"),
        CheckConstraint("seat >= 1", name="seat"),
        # The last guard against double booking: an active appointment holds one
        # seat of its slot, and a seat is held by at most one active appointment.
        Index(
            "uq_appointments_active_seat", "slot_id", "seat", unique=True,
            sqlite_where=text("status <> 'cancelled'"), postgresql_where=text("status <> 'cancelled'"),
        ),
        Index(
            "uq_appointments_active_patient", "slot_id", "patient_id", unique=True,
            sqlite_where=text("status <> 'cancelled'"), postgresql_where=text("status <> 'cancelled'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(8), unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), index=True)
    seat: Mapped[int] = mapped_column(default=1)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    consent_recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(10), default="booked")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    cancelled_late: Mapped[bool] = mapped_column(default=False)
    checked_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attendance_marked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attendance_marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # How the patient is reminded: sms, voice (a call to the landline), caregiver (SMS to their aidant),
    # desk (the mairie phoned), none. Set when booked; "desk" once the desk says it reached them.
    reminder_channel: Mapped[str | None] = mapped_column(String(12))
    desk_called_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    desk_call_outcome: Mapped[str | None] = mapped_column(String(12))  # reached, unreachable
    # The calendar event's identity: a rescheduled appointment carries its predecessor's UID with a higher
    # SEQUENCE (RFC 5546), so that the person's calendar app moves the event instead of adding a second one.
    calendar_uid: Mapped[str | None] = mapped_column(String(80))
    calendar_sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    # Booked by a regulator of the SAS (channel "sas"): our identifier of it for the SAS, and the regulator's.
    sas_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    sas_operator: Mapped[str | None] = mapped_column(String(100))

    slot: Mapped[Slot] = relationship()
    patient: Mapped[Patient] = relationship()
    booked_by: Mapped[User | None] = relationship(foreign_keys=[booked_by_id])

    @property
    def event_uid(self) -> str:
        return self.calendar_uid or f"appointment-{self.id}"

    @property
    def changed_at(self) -> datetime:
        """The event's last change, for calendars: its cancellation, else its booking."""
        return self.cancelled_at or self.created_at




