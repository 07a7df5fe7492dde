"""Who sees which appointment and which patient: the appointments package's part of the permission rules.

A patient is reached through appointments (a patient booked at one of our sites, seen by their practitioner),
so the patient's predicate lives here, above both.
"""

from sqlalchemy import exists, false, select, true
from sqlalchemy.orm import object_session

from booking.appointments.models import Appointment
from booking.auth.models import User
from booking.auth.permissions import Kind, register, sees_who_is_booked, staff_communes
from booking.patients.models import Patient
from booking.sites.access import desk_sites_of_epci, practitioner_of_user, site_ids_run_by
from booking.sites.models import Practitioner
from booking.slots.models import Slot


def visible_appointments(user: User):
    """SQL condition on Appointment: the appointments this user's role lets them see.

    Staff see the appointments at the sites their communes run; a practitioner sees their own
    patients, even at a site shared with others; a resident, those of their account's patients; an
    EPCI's administrator, only those of the sites whose desk the EPCI runs itself.
    """
    if user.role == "admin":
        return true()
    slots_seen = None
    if user.role in ("agent", "commune_admin"):
        slots_seen = select(Slot.id).where(Slot.site_id.in_(site_ids_run_by(staff_communes(user))))
    elif user.role == "epci_admin":
        slots_seen = select(Slot.id).where(Slot.site_id.in_(desk_sites_of_epci(user)))
    elif user.role == "practitioner":
        slots_seen = select(Slot.id).join(Practitioner, Slot.practitioner_id == Practitioner.id).where(
            Practitioner.user_id == user.id)
    elif user.role == "resident":
        return Appointment.patient_id.in_(select(Patient.id).where(Patient.account_id == user.id))
    return Appointment.slot_id.in_(slots_seen) if slots_seen is not None else false()


def _booked_where(patient: Patient, *conditions) -> bool:
    return bool(object_session(patient).scalar(select(exists().where(
        Appointment.patient_id == patient.id, Appointment.slot_id == Slot.id, *conditions))))


def _patient_within_reach(user: User, patient: Patient) -> bool:
    if user.role == "resident":
        return patient.account_id == user.id
    if user.role in ("agent", "commune_admin"):
        communes = staff_communes(user)
        # Ours: a resident of our communes, a patient we registered, or one booked at our sites (from elsewhere,
        # ours to receive).
        return (patient.commune_insee in communes or patient.created_by_id == user.id
                or (bool(communes) and _booked_where(patient, Slot.site_id.in_(site_ids_run_by(communes)))))
    if user.role == "practitioner":
        practitioner = practitioner_of_user(user)
        return practitioner is not None and _booked_where(patient, Slot.practitioner_id == practitioner.id)
    if user.role == "epci_admin":
        return bool(user.epci_siren) and _booked_where(patient, Slot.site_id.in_(desk_sites_of_epci(user)))
    return False


def _appointment_within_reach(user: User, appointment: Appointment) -> bool:
    if user.role == "resident":
        return appointment.patient.account_id == user.id
    if user.role in ("agent", "commune_admin", "epci_admin"):
        return sees_who_is_booked(user, appointment.slot.site)
    if user.role == "practitioner":
        practitioner = practitioner_of_user(user)
        return practitioner is not None and appointment.slot.practitioner_id == practitioner.id
    return False


register(Patient, Kind("patient", _patient_within_reach))
register(Appointment, Kind("appointment", _appointment_within_reach))
