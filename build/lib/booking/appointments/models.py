"""Patients and their appointments."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.auth.models import User
from booking.extensions import db
from booking.geo.models import Commune
from booking.slots.models import Slot
from notifications.sqltypes import UtcDateTime, utcnow

CHANNELS = ("online", "reception", "phone")
APPOINTMENT_STATUSES = ("booked", "cancelled", "attended", "no_show")
ACTIVE_STATUSES = ("booked", "attended", "no_show")
PHONE_KINDS = ("mobile", "landline")


class Patient(db.Model):
    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(f"phone_kind IN {PHONE_KINDS!r}", name="phone_kind"),
        Index("ix_patients_search", "search_last_name", "birth_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # Accent-free lower-case last name: the desk finds "Lefèvre" when typing "lefevre".
    search_last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None]
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    phone_kind: Mapped[str | None] = mapped_column(String(10))
    # Set when the SMS provider says the number cannot receive: the desk fixes it.
    phone_problem: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    commune_insee: Mapped[str | None] = mapped_column(ForeignKey("communes.insee"), index=True)
    sms_consent: Mapped[bool] = mapped_column(default=False)
    sms_opted_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A relative's own mobile, typed by someone else: no SMS until that phone answers OUI.
    sms_confirmation_asked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The resident account that manages this patient (the holder or a relative of theirs).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    relationship_label: Mapped[str | None] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    commune: Mapped[Commune | None] = relationship()
    account: Mapped[User | None] = relationship(foreign_keys=[account_id])

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Appointment(db.Model):
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

    slot: Mapped[Slot] = relationship()
    patient: Mapped[Patient] = relationship()
    booked_by: Mapped[User | None] = relationship(foreign_keys=[booked_by_id])


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


class PhoneVerification(db.Model):
    """A 6-digit code sent by SMS to prove a resident's phone."""

    __tablename__ = "phone_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UnmetDemand(db.Model):
    """A search that found no free slot within 30 days: anonymous by construction."""

    __tablename__ = "unmet_demands"

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_insee: Mapped[str] = mapped_column(ForeignKey("communes.insee"), index=True)
    profession: Mapped[str | None] = mapped_column(String(40))
    site_kind: Mapped[str | None] = mapped_column(String(30))
    searched_on: Mapped[date] = mapped_column(index=True)
