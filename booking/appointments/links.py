"""Signed links that let a patient act on an appointment without an account."""

import hmac

from booking.signing import sign
from booking.text import row_id


def _signature(secret: str, appointment_id: int, reference: str) -> str:
    return sign(secret, f"cancel:{appointment_id}:{reference}")


def cancel_token(secret: str, appointment_id: int, reference: str) -> str:
    """Return the short token of an appointment's cancel link (it fits in an SMS)."""
    return f"{appointment_id}-{_signature(secret, appointment_id, reference)}"


def read_cancel_token(secret: str, token: str, reference_of) -> int | None:
    """Return the appointment id a token names when its signature holds, else None.

    ``reference_of(appointment_id)`` returns the appointment's reference, or None.
    """
    head, _, signature = (token or "").partition("-")
    appointment_id = row_id(head)
    if appointment_id is None or not signature:
        return None
    reference = reference_of(appointment_id)
    if reference is None:
        return None
    expected = _signature(secret, appointment_id, reference)
    return int(head) if hmac.compare_digest(expected, signature) else None


def _reminders_signature(secret: str, patient_id: int, email: str) -> str:
    return sign(secret, f"email-reminders:{patient_id}:{email}")


def reminders_token(secret: str, patient_id: int, email: str) -> str:
    """The token of a person's one-click « no more reminders by e-mail » link (bound to the address it went to)."""
    return f"{patient_id}-{_reminders_signature(secret, patient_id, email)}"


def read_reminders_token(secret: str, token: str, email_of) -> int | None:
    """Return the patient id a token names when its signature holds for their current address, else None."""
    head, _, signature = (token or "").partition("-")
    patient_id = row_id(head)
    email = email_of(patient_id) if patient_id is not None and signature else None
    if not email:
        return None
    return patient_id if hmac.compare_digest(_reminders_signature(secret, patient_id, email), signature) else None
