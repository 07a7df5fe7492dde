"""Personal data kept only as long as needed: erasure of a patient and the daily retention purge.

The durations and their reasons are written in docs/privacy.md; change both together.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from booking.appointments.models import Appointment, Patient, PhoneVerification, WaitlistEntry
from booking.auth.models import AuditEvent
from booking.slots.models import Slot
from notifications.models import InboundMessage, Notification
from notifications.sms import mask

FINAL_STATUSES = ("sent", "delivered", "undelivered", "failed", "cancelled")


@dataclass
class Retention:
    """How long each kind of personal data is kept, in days."""

    verification_codes: int = 1
    message_bodies: int = 30
    inbound_messages: int = 30
    closed_waitlist_entries: int = 365
    inactive_patients: int = 3 * 365
    audit_events: int = 5 * 365

    @classmethod
    def from_config(cls, config) -> "Retention":
        return cls(**{name: int(config.get(f"RETENTION_{name.upper()}_DAYS", default))
                      for name, default in cls().__dict__.items()})


def erase_identity(patient: Patient, now: datetime) -> None:
    """Remove who the patient is and how to reach them; keep what statistics count (birth date, commune).

    Appointments stay, without their reason, so that past figures do not change.
    """
    patient.first_name, patient.last_name, patient.search_last_name = "Patient", "effacé", ""
    patient.phone = patient.phone_kind = patient.phone_problem = patient.email = None
    patient.relationship_label = None
    patient.account_id = None
    patient.sms_consent = False
    patient.erased_at = now


def erase_patient(session: Session, patient_id: int, now: datetime) -> None:
    """Erase a patient's identity, contact details, reasons and message texts (right to erasure)."""
    patient = session.get(Patient, patient_id)
    if patient is None or patient.erased_at is not None:
        return
    phone, email = patient.phone, patient.email
    erase_identity(patient, now)
    session.execute(update(Appointment).where(Appointment.patient_id == patient_id).values(reason=None)
                    .execution_options(synchronize_session=False))
    for address in filter(None, (phone, email)):
        _blank_messages(session, Notification.recipient == address)
    session.commit()


def _blank_messages(session: Session, condition) -> int:
    rows = list(session.scalars(select(Notification).where(condition, Notification.status.in_(FINAL_STATUSES),
                                                           Notification.body.is_not(None))))
    for row in rows:
        row.body = row.html_body = row.attachments = None
        row.recipient = mask(row.recipient) if row.channel == "sms" else "•••@" + row.recipient.split("@")[-1]
    return len(rows)


@dataclass
class PurgeReport:
    counts: dict = field(default_factory=dict)


def purge(session: Session, now: datetime, retention: Retention) -> PurgeReport:
    """Delete or blank what has outlived its purpose; safe to run any number of times."""
    report = PurgeReport()

    def days(n: int) -> datetime:
        return now - timedelta(days=n)

    report.counts["verification_codes"] = session.execute(delete(PhoneVerification).where(
        PhoneVerification.sent_at < days(retention.verification_codes))).rowcount
    report.counts["message_bodies"] = _blank_messages(session, Notification.updated_at < days(retention.message_bodies))
    report.counts["inbound_messages"] = session.execute(delete(InboundMessage).where(
        InboundMessage.at < days(retention.inbound_messages))).rowcount
    report.counts["closed_waitlist_entries"] = session.execute(delete(WaitlistEntry).where(
        WaitlistEntry.status.in_(("booked", "expired", "cancelled")),
        WaitlistEntry.created_at < days(retention.closed_waitlist_entries))).rowcount
    report.counts["audit_events"] = session.execute(delete(AuditEvent).where(
        AuditEvent.at < days(retention.audit_events))).rowcount
    last_seen = (select(func.max(Slot.starts_at)).join(Appointment, Appointment.slot_id == Slot.id)
                 .where(Appointment.patient_id == Patient.id).scalar_subquery())
    inactive = list(session.scalars(select(Patient).where(
        Patient.erased_at.is_(None), Patient.created_at < days(retention.inactive_patients),
        or_(last_seen.is_(None), last_seen < days(retention.inactive_patients)))))
    for patient in inactive:
        erase_patient(session, patient.id, now)
    report.counts["inactive_patients"] = len(inactive)
    session.commit()
    return report
