"""Resident accounts: sign up, prove the phone with an SMS code, hold relatives."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

import notifications
from booking.accounts.models import PhoneVerification
from booking.appointments.messages import can_receive_email
from booking.auth.models import User
from booking.auth.services import create_user
from booking.errors import Conflict, InvalidInput
from booking.geo.models import Commune
from booking.outgoing import sms
from booking.patients.models import Patient
from booking.patients.services import PatientInput, create_patient
from booking.phones import format_phone, parse_phone

CODE_MINUTES = 10
CODE_TRIES = 5
RESEND_SECONDS = 60


class TooSoon(Conflict):
    code = "too_soon"


def _code_hash(user_id: int, code: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass
class SignupInput:
    first_name: str
    last_name: str
    birth_date: date | None
    commune_insee: str | None
    password: str
    email: str | None = None
    phone: str | None = None
    sms_consent: bool = True


def sign_up(session: Session, data: SignupInput, now: datetime) -> User:
    """Create a resident account and the patient record of its holder; send the phone code."""
    if not (data.email or "").strip() and not (data.phone or "").strip():
        raise InvalidInput("Indiquez une adresse e-mail ou un numéro de mobile.")
    user = create_user(session, role="resident", password=data.password, email=data.email, phone=data.phone,
                       display_name=f"{data.first_name} {data.last_name}".strip())
    if user.phone and parse_phone(user.phone).kind != "mobile":
        raise InvalidInput("Ce numéro n’est pas un mobile : il ne peut pas recevoir de SMS.", field="phone")
    create_patient(session, user, PatientInput(data.first_name, data.last_name, data.birth_date, data.commune_insee,
                                               phone=user.phone, email=user.email, sms_consent=data.sms_consent),
                   now, account=user)
    if user.phone:
        send_code(session, user, now)
    return user


def send_code(session: Session, user: User, now: datetime) -> None:
    """Send a 6-digit code to the account's phone (at most one a minute)."""
    if not user.phone:
        raise InvalidInput("Ce compte n’a pas de numéro de mobile.")
    last = session.scalar(select(PhoneVerification).where(PhoneVerification.user_id == user.id)
                          .order_by(PhoneVerification.sent_at.desc()).limit(1))
    if last is not None and now - last.sent_at < timedelta(seconds=RESEND_SECONDS):
        wait = RESEND_SECONDS - int((now - last.sent_at).total_seconds())
        raise TooSoon(f"Un code vient d’être envoyé. Patientez {wait} secondes avant d’en demander un autre.")
    code = f"{secrets.randbelow(10**6):06d}"
    verification = PhoneVerification(user_id=user.id, phone=user.phone, code_hash=_code_hash(user.id, code),
                                     sent_at=now, expires_at=now + timedelta(minutes=CODE_MINUTES))
    session.add(verification)
    session.flush()
    # Sent at any hour: the person is waiting for it.
    notifications.enqueue(session, channel="sms", recipient=user.phone, due_at=now,
                          body=sms.verification_code(code, CODE_MINUTES),
                          dedupe_key=f"verification:{verification.id}", group_key=f"user:{user.id}")
    session.flush()


def verify_code(session: Session, user: User, code: str, now: datetime) -> str | None:
    """Check the code typed by the resident (5 tries, 10 minutes); return why it was refused, None when verified.

    A wrong code is an answer, not an error: the try it cost must be saved with the caller's commit.
    """
    verification = session.scalar(select(PhoneVerification).where(
        PhoneVerification.user_id == user.id, PhoneVerification.verified_at.is_(None))
        .order_by(PhoneVerification.sent_at.desc()).limit(1))
    if verification is None or verification.expires_at <= now:
        return "Ce code a expiré. Demandez-en un nouveau."
    if verification.attempts >= CODE_TRIES:
        return "Trop d’essais. Demandez un nouveau code."
    verification.attempts += 1
    if not hmac.compare_digest(verification.code_hash, _code_hash(user.id, (code or "").strip())):
        session.flush()
        left = CODE_TRIES - verification.attempts
        return (f"Code incorrect. Il vous reste {left} essai{'s' if left > 1 else ''}." if left
                else "Code incorrect. Demandez un nouveau code.")
    verification.verified_at = now
    user.phone_verified_at = now
    session.flush()
    return None






def add_relative(session: Session, user: User, data: PatientInput, now: datetime) -> Patient:
    """Add a relative (child, parent…) to a resident account; their SMS go to the account's phone by default.

    A mobile of their own gets SMS only once it has answered OUI: the account holder may have typed
    anyone's number, and reminders must not reach a stranger.
    """
    holder_mobile = user.phone if user.phone and user.phone_verified_at else None
    if (data.phone or "").strip() and holder_mobile:
        commune = session.get(Commune, data.commune_insee) if data.commune_insee else None
        if parse_phone(data.phone, commune.departement_code if commune else None).kind != "mobile":
            # Said before anything is saved, so that nobody expects SMS on a landline.
            raise InvalidInput(f"Ce numéro est un fixe : il ne reçoit pas de SMS. Laissez ce champ vide et les "
                               f"rappels arriveront sur votre mobile ({format_phone(holder_mobile)}).", field="phone")
    if not (data.phone or "").strip() and holder_mobile:
        data.phone, data.sms_consent = holder_mobile, True
    wants_sms = data.sms_consent
    patient = create_patient(session, user, data, now, account=user)
    own_mobile = patient.phone_kind == "mobile" and not (patient.phone == user.phone and user.phone_verified_at)
    if wants_sms and own_mobile:
        patient.sms_consent = False
        patient.sms_confirmation_asked_at = now
        notifications.enqueue(session, channel="sms", recipient=patient.phone, due_at=now,
                              body=sms.relative_confirmation(user.display_name),
                              dedupe_key=f"patient:{patient.id}:confirm-phone", group_key=f"patient:{patient.id}")
        session.flush()
    return patient


def reminders_to(patient: Patient, holder: User, is_holder: bool = False) -> str:
    """Say plainly where a person's reminders go, as the account holder reads it (« vos » on their own line)."""
    if patient.sms_confirmation_asked_at and not patient.sms_consent:
        return "Ses rappels iront sur son mobile dès que la personne aura répondu OUI au SMS reçu."
    email = patient.email if can_receive_email(patient) else None
    by_sms = patient.phone and patient.phone_kind == "mobile" and patient.sms_consent
    if not by_sms:
        if email:
            return f"{'Vos' if is_holder else 'Ses'} rappels arrivent par e-mail ({email})."
        return "Aucun rappel par SMS ni par e-mail : notez bien la date."
    also = f", et aussi par e-mail ({email})" if email and patient.email_reminders else ""
    if is_holder:
        return f"Vos rappels arrivent par SMS sur votre mobile ({format_phone(patient.phone)}){also}."
    if patient.phone == holder.phone:
        return f"Ses rappels arrivent par SMS sur votre mobile ({format_phone(holder.phone)}){also}."
    return f"Ses rappels arrivent par SMS sur son mobile ({format_phone(patient.phone)}){also}."




def account_overview(session: Session, patient_ids: list[int], now: datetime):
    """Return the appointments ahead (booked or since cancelled) and open waiting-list entries of an account."""
    from booking.appointments.models import Appointment
    from booking.slots.models import Slot
    from booking.waitlist.models import WaitlistEntry

    if not patient_ids:
        return [], []
    appointments = list(session.scalars(
        select(Appointment).join(Slot).where(Appointment.patient_id.in_(patient_ids),
                                             Slot.starts_at > now).order_by(Slot.starts_at, Appointment.id)))
    waiting = list(session.scalars(select(WaitlistEntry).where(
        WaitlistEntry.patient_id.in_(patient_ids), WaitlistEntry.status.in_(("waiting", "offered")))))
    return appointments, waiting
