"""The SAS platform hears of every change of the appointments its regulators made, as the guide's « Mise à jour
de rendez-vous » says: the whole FrAppointmentSAS PUT to ``[base]/Appointment?identifier=<authority>|<our id>``
(cancelled by the person, the practitioner or a closure; fulfilled; no-show; such a mark taken back).

The request goes through the outbox (retried, never lost with the change that caused it): only the latest state
of an appointment waits to go, an older one still pending is withdrawn.
"""

import json
from datetime import datetime
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy.orm import Session

import notifications
from booking.appointments.models import Appointment
from booking.sas import fhir
from booking.urls import public_url


def authority() -> str:
    """Who assigns our appointment identifiers (the guide asks for an OID or a URL of the publisher's own)."""
    return public_url("/fhir/sas/Appointment")


def group(appointment_id: int) -> str:
    return f"sas-appointment:{appointment_id}"


def tell_the_sas(session: Session, appointment_id: int, now: datetime) -> None:
    """Queue the appointment's new state for the SAS platform, if the SAS made it and a platform is configured."""
    base = current_app.config.get("SAS_PLATFORM_URL")
    appointment = session.get(Appointment, appointment_id) if base else None
    if appointment is None or appointment.sas_id is None:
        return
    document = fhir.appointment(appointment, authority(), appointment.slot.site.time_zone)
    notifications.cancel_group(session, group(appointment_id), channel="fhir", reason="Remplacé par un état récent")
    notifications.enqueue(
        session, channel="fhir", due_at=now, group_key=group(appointment_id),
        recipient=f"{base.rstrip('/')}/Appointment?{urlencode({'identifier': f'{authority()}|{appointment.sas_id}'})}",
        body=json.dumps(document, ensure_ascii=False),
        dedupe_key=f"{group(appointment_id)}:{document['status']}:{now.isoformat()}")
