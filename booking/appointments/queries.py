"""Read use cases on patients and appointments, each one scoped and audited."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.appointments.models import Appointment, Patient
from booking.auth.models import User
from booking.auth.permissions import Action, require
from booking.auth.services import record_audit
from booking.errors import NotFound
from booking.slots.models import Slot


def read_patient(session: Session, user: User, patient_id: int, now: datetime) -> tuple[Patient, list[Appointment]]:
    """Return a patient and their appointments for a staff member, writing the read to the audit log."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("Ce patient n’existe pas.")
    require(user, Action.VIEW, patient)
    appointments = list(session.scalars(
        select(Appointment).join(Slot).where(Appointment.patient_id == patient.id).order_by(Slot.starts_at.desc())
    ))
    record_audit(session, user=user, action="patient.read", object_type="patient", object_id=patient.id,
                 patient_id=patient.id, now=now)
    session.commit()
    return patient, appointments


def read_appointment(session: Session, user: User, appointment_id: int, now: datetime) -> Appointment:
    """Return one appointment for someone allowed to see it, writing the read to the audit log."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound("Ce rendez-vous n’existe pas.")
    require(user, Action.VIEW, appointment)
    if user.is_staff:
        record_audit(session, user=user, action="appointment.read", object_type="appointment",
                     object_id=appointment.id, patient_id=appointment.patient_id, now=now)
        session.commit()
    return appointment
