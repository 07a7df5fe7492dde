"""Patient use cases: record a patient, find one at the desk, read a record (audited)."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from booking.auth.models import User
from booking.auth.permissions import Action, acts_for_communes, can, fetch
from booking.auth.services import record_audit
from booking.errors import Forbidden, InvalidInput
from booking.geo.models import Commune
from booking.geo.rules import search_key
from booking.patients.models import Patient
from booking.phones import parse_phone, phone_candidates


@dataclass
class PatientInput:
    first_name: str
    last_name: str
    birth_date: date | None
    commune_insee: str | None = None
    phone: str | None = None
    email: str | None = None
    sms_consent: bool = False
    relationship_label: str | None = None
    calls_refused: bool = False
    caregiver_name: str | None = None
    caregiver_phone: str | None = None
    caregiver_consent: bool = False
    street: str | None = None
    street_complement: str | None = None
    postal_code: str | None = None


def _clean_name(value: str, label: str) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise InvalidInput(f"{label} : ce champ est obligatoire.")
    if len(value) > 100:
        raise InvalidInput(f"{label} : 100 caractères au plus.")
    return value


def create_patient(session: Session, actor: User | None, data: PatientInput, now: datetime,
                   account: User | None = None) -> Patient:
    """Record a patient with what the person has: name, birth date, commune, phone (mobile, landline or none).

    Without an ``actor``, a system recorded them (the SAS, for the caller its regulator booked for)."""
    commune = session.get(Commune, data.commune_insee) if data.commune_insee else None
    if data.commune_insee and commune is None:
        raise InvalidInput("Commune de résidence inconnue.")
    if actor is not None and acts_for_communes(actor) and not actor.commune_codes:
        raise Forbidden("Votre compte n’est rattaché à aucune commune.")
    if data.birth_date and not date(1900, 1, 1) <= data.birth_date <= now.date():
        raise InvalidInput("La date de naissance n’est pas plausible.")
    phone = parse_phone(data.phone,
                        commune.departement_code if commune else None) if (data.phone or "").strip() else None
    email = (data.email or "").strip().lower() or None
    if email and ("@" not in email or len(email) > 254):
        raise InvalidInput("Adresse e-mail invalide.")
    last_name = _clean_name(data.last_name, "Nom")
    patient = Patient(
        first_name=_clean_name(data.first_name, "Prénom"), last_name=last_name, search_last_name=search_key(last_name),
        birth_date=data.birth_date, commune_insee=commune.insee if commune else None,
        phone=phone.e164 if phone else None, phone_kind=phone.kind if phone else None, email=email,
        sms_consent=bool(data.sms_consent and phone and phone.kind == "mobile"),
        account_id=account.id if account else None, relationship_label=(data.relationship_label or "")[:40] or None,
        created_by_id=actor.id if actor else None, created_at=now,
    )
    apply_reminder_settings(patient, data.calls_refused, data.caregiver_name, data.caregiver_phone,
                            data.caregiver_consent, now, commune.departement_code if commune else None)
    patient.commune = commune
    apply_postal_address(patient, data.street, data.street_complement, data.postal_code)
    session.add(patient)
    session.flush()
    record_audit(session, user=actor, action="patient.create", object_type="patient", object_id=patient.id,
                 patient_id=patient.id, now=now)
    session.flush()
    return patient


def apply_reminder_settings(patient: Patient, calls_refused: bool, caregiver_name: str | None,
                            caregiver_phone: str | None, caregiver_consent: bool, now: datetime,
                            departement_code: str | None = None) -> None:
    """Set how a patient without a mobile is reminded: calls to their landline (unless refused), or a caregiver."""
    patient.calls_refused = bool(calls_refused)
    if not (caregiver_phone or "").strip():
        patient.caregiver_name = patient.caregiver_phone = patient.caregiver_consent_at = None
        return
    phone = parse_phone(caregiver_phone, departement_code)
    if phone.kind != "mobile":
        raise InvalidInput("Le numéro de l’aidant doit être un mobile : les rappels lui arrivent par SMS.",
                           field="caregiver_phone")
    if not caregiver_consent:
        raise InvalidInput("Recueillez l’accord de l’aidant avant de lui envoyer des SMS.", field="caregiver_consent")
    changed = phone.e164 != patient.caregiver_phone
    patient.caregiver_name = " ".join((caregiver_name or "").split())[:100] or None
    patient.caregiver_phone = phone.e164
    if changed or patient.caregiver_consent_at is None:
        patient.caregiver_consent_at = now


def apply_postal_address(patient: Patient, street: str | None, complement: str | None,
                         postal_code: str | None) -> None:
    """Keep the address as given (every part optional); a postal code must be one of the commune's."""
    code = "".join((postal_code or "").split())
    if code and not (len(code) == 5 and code.isdigit()):
        raise InvalidInput("Le code postal s’écrit avec 5 chiffres, par exemple 15140.", field="postal_code")
    known = {p.code for p in patient.commune.postal_codes} if patient.commune is not None else set()
    if code and known and code not in known:
        raise InvalidInput(f"Le code postal {code} n’est pas celui de {patient.commune.name} "
                           f"({', '.join(sorted(known))}) : vérifiez l’un ou l’autre.", field="postal_code")
    patient.street = " ".join((street or "").split())[:200] or None
    patient.street_complement = " ".join((complement or "").split())[:200] or None
    patient.postal_code = code or None


def set_postal_address(session: Session, actor: User, patient_id: int, street: str | None, complement: str | None,
                       postal_code: str | None, now: datetime) -> Patient:
    """Record where letters reach a patient (the desk, or the resident for their account's people); audited."""
    patient = fetch(session, Patient, patient_id, "Patient introuvable.", actor, Action.MANAGE)
    apply_postal_address(patient, street, complement, postal_code)
    record_audit(session, user=actor, action="patient.address", object_type="patient", object_id=patient.id,
                 patient_id=patient.id, now=now)
    session.flush()
    return patient




def _distance(a: str, b: str) -> int:
    """Levenshtein distance, enough for the short names typed at a desk."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@dataclass
class PatientMatches:
    exact: list[Patient]
    suggestions: list[Patient]  # close spellings on the same birth date


def find_patients(session: Session, actor: User, last_name: str, birth_date: date | None,
                  now: datetime) -> PatientMatches:
    """Find patients by last name and birth date (accents and case ignored), with close spellings suggested."""
    key = search_key(last_name or "")
    if not key:
        raise InvalidInput("Indiquez au moins le nom.")
    query = select(Patient).where(Patient.erased_at.is_(None))
    if birth_date:
        query = query.where(Patient.birth_date == birth_date)  # few per day: every spelling is compared
    else:
        query = query.where(Patient.search_last_name.like(key[:3] + "%"))
    candidates = [p for p in session.scalars(query.order_by(Patient.last_name, Patient.first_name).limit(2000))]
    visible = [p for p in candidates if can(actor, Action.VIEW, p)]
    exact = [p for p in visible if p.search_last_name == key or p.search_last_name.startswith(key + " ")]
    close = [p for p in visible if p not in exact and (
        _distance(p.search_last_name, key) <= max(1, len(key) // 4) or p.search_last_name.startswith(key))]
    if not birth_date:
        exact, close = exact[:20], close[:10]
    _record_hits(session, actor, exact, now)
    return PatientMatches(exact, close[:10])


def _record_hits(session: Session, actor: User, found: list[Patient], now: datetime) -> None:
    """A search that names people is a read of their records: one audit line each."""
    for patient in found:
        record_audit(session, user=actor, action="patient.search_hit", object_type="patient", object_id=patient.id,
                     patient_id=patient.id, now=now)
    session.flush()


def find_patients_by_phone(session: Session, actor: User, text: str, now: datetime) -> PatientMatches:
    """Find the patients whose own or caregiver's number is the one typed, however it is spelt."""
    numbers = phone_candidates(text)
    if not numbers:
        raise InvalidInput("Ce numéro de téléphone n’est pas valide : tapez-le comme il se dit, par exemple "
                           "06 12 34 56 78.")
    candidates = session.scalars(select(Patient).where(
        Patient.erased_at.is_(None), or_(Patient.phone.in_(numbers), Patient.caregiver_phone.in_(numbers)))
        .order_by(Patient.last_name, Patient.first_name).limit(50))
    visible = [patient for patient in candidates if can(actor, Action.VIEW, patient)]
    _record_hits(session, actor, visible, now)
    return PatientMatches(visible, [])

