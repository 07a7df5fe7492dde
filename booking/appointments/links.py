"""Signed links that let a patient act on an appointment without an account."""

import hmac

from booking.signing import sign
from booking.text import row_id


def _signature(secret: str, appointment_id: int, reference: str) -> str:
    return sign(secret, f"cancel:{appointment_id}:{reference}")


def cancel_token(secret: str, appointment_id: int, reference: str) -> str:
    """Return the short token of an appointment's cancel link (it fits in an SMS)."""
    return f"{appointment_id}-{_signature(secret, appointment_id, reference)}"


def _signed_id(token: str, expected_signature) -> int | None:
    """The row id a « <id>-<signature> » token names when ``expected_signature(id)`` (None: no such row) matches."""
    head, _, signature = (token or "").partition("-")
    row = row_id(head)
    if row is None or not signature:
        return None
    expected = expected_signature(row)
    return row if expected is not None and hmac.compare_digest(expected, signature) else None


def read_cancel_token(secret: str, token: str, reference_of) -> int | None:
    """Return the appointment id a token names when its signature holds, else None.

    ``reference_of(appointment_id)`` returns the appointment's reference, or None.
    """
    def expected(appointment_id: int) -> str | None:
        reference = reference_of(appointment_id)
        return _signature(secret, appointment_id, reference) if reference is not None else None

    return _signed_id(token, expected)


def _reminders_signature(secret: str, patient_id: int, email: str) -> str:
    return sign(secret, f"email-reminders:{patient_id}:{email}")


def reminders_token(secret: str, patient_id: int, email: str) -> str:
    """The token of a person's one-click « no more reminders by e-mail » link (bound to the address it went to)."""
    return f"{patient_id}-{_reminders_signature(secret, patient_id, email)}"


def read_reminders_token(secret: str, token: str, email_of) -> int | None:
    """Return the patient id a token names when its signature holds for their current address, else None."""
    def expected(patient_id: int) -> str | None:
        email = email_of(patient_id)
        return _reminders_signature(secret, patient_id, email) if email else None

    return _signed_id(token, expected)
