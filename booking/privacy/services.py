"""Personal data kept only as long as needed: erasure of a patient and the daily retention purge.

The durations and their reasons are written in docs/privacy.md; change both together.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from booking.accounts.models import PhoneVerification
from booking.appointments.models import Appointment
from booking.auth.models import AuditEvent, PasswordReset
from booking.auth.services import record_audit
from booking.patients.models import Patient
from booking.slots.models import Slot
from booking.waitlist.models import WaitlistEntry
from notifications.models import InboundMessage, Notification
from notifications.sms import mask

FINAL_STATUSES = ("sent", "delivered", "undelivered", "failed", "cancelled")


@dataclass
class Retention:
    """How long each kind of personal data is kept, in days."""

    verification_codes: int = 1
    password_resets: int = 1
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
    patient.street = patient.street_complement = patient.postal_code = None
    patient.caregiver_name = patient.caregiver_phone = patient.caregiver_consent_at = None
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
    # The erasure itself is kept (no identity in it): after restoring a backup, the log says what to erase again.
    record_audit(session, user=None, action="patient.erase", object_type="patient", object_id=patient_id,
                 patient_id=patient_id, now=now)
    session.flush()


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
    report.counts["password_resets"] = session.execute(delete(PasswordReset).where(
        PasswordReset.created_at < days(retention.password_resets))).rowcount
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
    session.flush()
    return report


def export_patient(session: Session, patient_id: int) -> dict:
    """Everything the platform holds about a patient, as JSON-ready data (right of access)."""
    patient = session.get(Patient, patient_id)
    appointments = session.scalars(select(Appointment).where(Appointment.patient_id == patient_id)
                                   .order_by(Appointment.created_at))
    reads = session.scalars(select(AuditEvent).where(AuditEvent.patient_id == patient_id).order_by(AuditEvent.at))
    return {
        "patient": {"first_name": patient.first_name, "last_name": patient.last_name,
                    "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
                    "phone": patient.phone, "email": patient.email, "commune_insee": patient.commune_insee,
                    "postal_address": {"street": patient.street, "complement": patient.street_complement,
                                       "postal_code": patient.postal_code},
                    "caregiver": {"name": patient.caregiver_name, "phone": patient.caregiver_phone},
                    "sms_consent": patient.sms_consent, "email_reminders": patient.email_reminders,
                    "email_problem": patient.email_problem,
                    "email_reminders_stopped_at": patient.email_unsubscribed_at.isoformat()
                    if patient.email_unsubscribed_at else None,
                    "created_at": patient.created_at.isoformat()},
        "appointments": [{"reference": a.reference, "start": a.slot.starts_at.isoformat(), "site": a.slot.site.name,
                          "practitioner": a.slot.practitioner.full_name, "status": a.status, "channel": a.channel,
                          "reason": a.reason, "booked_at": a.created_at.isoformat(),
                          "cancelled_at": a.cancelled_at.isoformat() if a.cancelled_at else None}
                         for a in appointments],
        "access_log": [{"at": e.at.isoformat(), "action": e.action, "role": e.role,
                        "by": e.user.display_name if e.user else None} for e in reads],
    }


def record_readers(session: Session, patient_ids: list[int], limit: int = 50) -> list[AuditEvent]:
    """Return the staff reads and changes of these patients' records, newest first."""
    if not patient_ids:
        return []
    return list(session.scalars(select(AuditEvent).where(
        AuditEvent.patient_id.in_(patient_ids),
        AuditEvent.role.in_(("agent", "practitioner", "commune_admin", "admin")))
        .order_by(AuditEvent.at.desc()).limit(limit)))


def audit_log(session: Session, *, patient_id: int | None = None, user_id: int | None = None,
              day: date | None = None, limit: int = 200) -> list[AuditEvent]:
    """Filter the audit log for platform admins."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc()).limit(limit)
    if patient_id:
        query = query.where(AuditEvent.patient_id == patient_id)
    if user_id:
        query = query.where(AuditEvent.user_id == user_id)
    if day:
        start = datetime.combine(day, datetime.min.time()).replace(tzinfo=UTC)
        query = query.where(AuditEvent.at >= start, AuditEvent.at < start + timedelta(days=1))
    return list(session.scalars(query))
