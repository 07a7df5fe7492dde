"""The people of a resident's account: the holder's own record and their relatives."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.auth.models import User
from booking.patients.models import Patient


def account_patients(session: Session, user: User) -> list[Patient]:
    """Return the holder and the relatives of a resident account."""
    return list(session.scalars(select(Patient).where(Patient.account_id == user.id, Patient.erased_at.is_(None))
                                .order_by(Patient.relationship_label.is_not(None), Patient.first_name)))


def home_departement(session: Session, user) -> str | None:
    """The département a resident lives in (their own record's commune), to list its communes first."""
    if not getattr(user, "is_authenticated", False) or user.role != "resident":
        return None
    patients = account_patients(session, user)
    holder_id = holder_record_id(patients)
    holder = next((p for p in patients if p.id == holder_id), None)
    return holder.commune.departement_code if holder is not None and holder.commune is not None else None


def holder_record_id(patients: list[Patient]) -> int | None:
    """The account holder's own record: the one made at sign-up, before any relative could be added."""
    return min((patient.id for patient in patients), default=None)
