"""When patients are told what about their appointments (the words are in booking.outgoing: sms, mail, voice)."""

import hashlib
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

import notifications
from booking.appointments.ical import invitation
from booking.appointments.links import cancel_token, reminders_token
from booking.appointments.models import Appointment
from booking.appointments.rules import call_window, morning_after, reminder_due, retry_window
from booking.outgoing import keys, mail, sms, voice
from booking.patients.models import Patient
from booking.urls import public_url


def can_receive_sms(patient: Patient) -> bool:
    """Tell whether the patient may get SMS: a mobile, consent, no STOP, no known fault."""
    return bool(patient.phone and patient.phone_kind == "mobile" and patient.sms_consent
                and patient.sms_opted_out_at is None and patient.erased_at is None)


def cancel_url(appointment: Appointment) -> str:
    """Return the signed cancel link of an appointment."""
    token = cancel_token(current_app.config["SECRET_KEY"], appointment.id, appointment.reference)
    return public_url(f"/a/{token}")


def visit_at(slot, reference: str = "") -> sms.Visit:
    """What an SMS may say of a slot: when and where (and the appointment's reference, once booked)."""
    return sms.Visit(slot.starts_at, slot.site.time_zone, slot.site.sms_label, slot.site.commune.name, reference)


def visit_of(appointment: Appointment) -> sms.Visit:
    """What an SMS may say of an appointment."""
    return visit_at(appointment.slot, appointment.reference)


def confirmation_text(appointment: Appointment) -> str:
    return sms.confirmation(visit_of(appointment), cancel_url(appointment))


def reminder_text(appointment: Appointment) -> str:
    return sms.reminder(visit_of(appointment), cancel_url(appointment))


def cancelled_by_patient_text(appointment: Appointment) -> str:
    return sms.cancelled_by_patient(visit_of(appointment))


def cancelled_by_site_text(appointment: Appointment) -> str:
    return sms.cancelled_by_site(visit_of(appointment), public_url(f"/lieux/{appointment.slot.site_id}"))


def caregiver_reachable(patient: Patient) -> bool:
    """A caregiver's mobile, with their consent recorded at the desk."""
    return bool(patient.caregiver_phone and patient.caregiver_consent_at and patient.erased_at is None)


def can_be_called(patient: Patient) -> bool:
    """A landline the patient has not asked us to leave alone."""
    return bool(patient.phone and patient.phone_kind == "landline" and not patient.calls_refused
                and patient.erased_at is None)


def can_receive_email(patient: Patient) -> bool:
    """An address the mail server has not refused for good."""
    return bool(patient.email and patient.email_problem is None and patient.erased_at is None)


def reminder_channel(patient: Patient) -> str:
    """How a patient is reminded: by SMS, by SMS to their caregiver, by e-mail, by a call to their landline, or
    not at all.

    E-mail comes before the call: a person who gave an address reads it, and the e-mail carries the link to
    cancel and the calendar invitation; the automatic call is for those nothing written reaches.
    """
    if can_receive_sms(patient):
        return "sms"
    if caregiver_reachable(patient):
        return "caregiver"
    if can_receive_email(patient):
        return "email"
    if can_be_called(patient):
        return "voice"
    return "none"


def gets_emails(patient: Patient, channel: str) -> bool:
    """Whether e-mails about an appointment go: the way to reach the person, or asked for as well as SMS."""
    return can_receive_email(patient) and (channel == "email" or patient.email_reminders)


def written_channel(patient: Patient) -> str | None:
    """How a cancellation reaches the person in writing, with the link to other slots: SMS, e-mail, or not."""
    if can_receive_sms(patient):
        return "sms"
    if can_receive_email(patient):
        return "email"
    return None


def promise(appointment: Appointment) -> str:
    """What the person who booked is told will reach them, as planned for this appointment."""
    patient, channel = appointment.patient, appointment.reminder_channel or "none"
    email = gets_emails(patient, channel)
    if channel == "sms":
        also = f" Vous recevrez aussi un e-mail ({patient.email}) avec l’invitation pour votre agenda." if email else ""
        return "Un SMS de confirmation puis un rappel vous seront envoyés." + also
    if channel == "email":
        return (f"Une confirmation, avec l’invitation pour votre agenda, puis un rappel la veille vous seront envoyés "
                f"par e-mail ({patient.email}).")
    if channel == "caregiver":
        return f"La confirmation et les rappels iront par SMS à {patient.caregiver_name or 'votre aidant'}."
    if channel == "voice":
        return "Un appel automatique sur votre téléphone fixe, la veille, vous rappellera ce rendez-vous."
    return "Aucun SMS ni e-mail ne sera envoyé : notez bien ce rendez-vous."


def place_of(site) -> mail.Place:
    return mail.Place(site.name, site.address, site.postal_code, site.commune.name, site.phone, site.instructions)


def reminders_url(patient: Patient) -> str:
    token = reminders_token(current_app.config["SECRET_KEY"], patient.id, patient.email)
    return public_url(f"/e/rappels/{token}")


def email_key(appointment_id: int, kind: str, address: str) -> str:
    """An e-mail's dedupe key names its address: a corrected address gets the messages the old one missed."""
    digest = hashlib.sha256(address.encode()).hexdigest()[:10]
    return f"{keys.appointment_message(appointment_id, f'email-{kind}')}:{digest}"


def _email(appointment: Appointment, kind: str, letter: mail.Letter, due_at: datetime, with_invitation: bool = False,
           headers: dict | None = None) -> dict:
    patient = appointment.patient
    message = {"channel": "email", "recipient": patient.email, "subject": letter.subject,
               "body": mail.as_text(letter), "html_body": mail.as_html(letter), "due_at": due_at,
               "headers": headers, "dedupe_key": email_key(appointment.id, kind, patient.email),
               "group_key": keys.appointment_group(appointment.id)}
    if with_invitation:
        sender = current_app.config["MAIL_SENDER"]
        lines = [f"Référence : {appointment.reference}", f"Pour annuler : {cancel_url(appointment)}"]
        ics = invitation(appointment, sender, patient.email, "\n".join(lines))
        method = "CANCEL" if appointment.status == "cancelled" else "REQUEST"
        message["attachments"] = [notifications.attachment("rendez-vous.ics", "text/calendar", ics, method=method,
                                                           charset="utf-8")]
    return message


def booking_emails(appointment: Appointment, now: datetime, moved_from: Appointment | None) -> list[dict]:
    patient, slot = appointment.patient, appointment.slot
    site = slot.site
    facts = (slot.starts_at, site.time_zone, place_of(site), appointment.reference, patient.first_name,
             cancel_url(appointment))
    if moved_from is not None:
        letter = mail.rescheduled(*facts, moved_from.slot.starts_at, moved_from.slot.site.time_zone)
    else:
        letter = mail.confirmation(*facts)
    emails = [_email(appointment, "confirmation", letter, now, with_invitation=True)]
    if patient.email_unsubscribed_at is None:
        url = reminders_url(patient)
        # RFC 8058: one click in the mail app stops the reminders, nothing else.
        headers = {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        emails += [_email(appointment, kind, mail.reminder(*facts, url), due, headers=headers)
                   for kind, due in _reminder_times(appointment, now) if kind == "reminder"]
    return emails


def _sms(appointment: Appointment, kind: str, body: str, due_at: datetime, recipient: str | None = None) -> dict:
    return {"channel": "sms", "recipient": recipient or appointment.patient.phone, "body": body, "due_at": due_at,
            "dedupe_key": keys.appointment_message(appointment.id, kind),
            "group_key": keys.appointment_group(appointment.id)}


def _reminder_times(appointment: Appointment, now: datetime):
    site = appointment.slot.site
    for kind, hours in (("reminder", site.reminder_hours_before), ("reminder-short", site.second_reminder_hours)):
        if hours is None or (kind == "reminder-short" and hours >= site.reminder_hours_before):
            continue
        due = reminder_due(appointment.slot.starts_at, hours, site.time_zone)
        # A reminder already due is pointless just after the confirmation.
        if due > now + timedelta(hours=1):
            yield kind, due


def call_text(appointment: Appointment, now: datetime) -> str:
    slot = appointment.slot
    site = slot.site
    return voice.reminder_call(slot.starts_at, site.time_zone, site.name, site.address, site.commune.name, now,
                               site.phone)


def _call(appointment: Appointment, now: datetime, kind: str) -> dict | None:
    slot = appointment.slot
    window = (call_window if kind == "call" else retry_window)(slot.starts_at, slot.site.time_zone, now)
    if window is None:
        return None
    due, until = window
    return {"channel": "voice", "recipient": appointment.patient.phone, "body": call_text(appointment, now),
            "due_at": due, "expires_at": until, "dedupe_key": keys.appointment_message(appointment.id, kind),
            "group_key": keys.appointment_group(appointment.id)}


def plan_call(session: Session, appointment: Appointment, now: datetime, kind: str = "call") -> bool:
    """Queue the reminder call of an appointment (or its one retry); False when no decent moment is left."""
    call = _call(appointment, now, kind)
    if call is not None:
        notifications.enqueue_many(session, [call])
    return call is not None


def planned_reminder_channel(patient: Patient, slot, now: datetime) -> str:
    """The reminder channel of an appointment booked now: a call too late to place decently is no call at all
    (the desk's call list shows the patient)."""
    channel = reminder_channel(patient)
    if channel == "voice" and call_window(slot.starts_at, slot.site.time_zone, now) is None:
        return "none"
    return channel


def plan_booking_messages(session: Session, appointment: Appointment, now: datetime,
                          moved_from: Appointment | None = None) -> bool:
    """Queue the confirmation and reminders of a new appointment (``moved_from``: the one it replaces), in one
    statement; return whether any SMS will go."""
    patient = appointment.patient
    channel = planned_reminder_channel(patient, appointment.slot, now)
    if appointment.reminder_channel != channel:  # a new appointment has it: no change for the unit of work to flush
        appointment.reminder_channel = channel
    site = appointment.slot.site
    messages = []
    if channel == "sms":
        messages.append(_sms(appointment, "confirmation", confirmation_text(appointment),
                             morning_after(now, site.time_zone)))
        text = reminder_text(appointment)
        messages += [_sms(appointment, kind, text, due) for kind, due in _reminder_times(appointment, now)]
    elif channel == "caregiver":
        visit, link = visit_of(appointment), cancel_url(appointment)
        messages.append(_sms(appointment, "confirmation", sms.for_caregiver(visit, patient.first_name, link, False),
                             morning_after(now, site.time_zone), patient.caregiver_phone))
        text = sms.for_caregiver(visit, patient.first_name, link, True)
        messages += [_sms(appointment, kind, text, due, patient.caregiver_phone)
                     for kind, due in _reminder_times(appointment, now)]
    elif channel == "voice":
        messages.append(_call(appointment, now, "call"))
    if gets_emails(patient, channel):
        messages += booking_emails(appointment, now, moved_from)
    notifications.enqueue_many(session, messages)
    return channel in ("sms", "caregiver")


def plan_cancellation_messages(session: Session, appointment: Appointment, by_patient: bool, now: datetime) -> None:
    """Withdraw an appointment's pending messages and tell the patient (or their caregiver) it is cancelled."""
    notifications.cancel_group(session, keys.appointment_group(appointment.id))
    if appointment.slot.starts_at <= now:
        return
    patient = appointment.patient
    body = cancelled_by_patient_text(appointment) if by_patient else cancelled_by_site_text(appointment)
    due = morning_after(now, appointment.slot.site.time_zone)
    if can_receive_sms(patient):
        notifications.enqueue_many(session, [_sms(appointment, "cancelled", body, due)])
    elif caregiver_reachable(patient) and appointment.reminder_channel == "caregiver":
        notifications.enqueue_many(session, [_sms(appointment, "cancelled", body, due, patient.caregiver_phone)])
    if gets_emails(patient, appointment.reminder_channel or "none"):
        notifications.enqueue_many(session, [_email(appointment, "cancelled", _cancellation_letter(
            appointment, by_patient), now, with_invitation=True)])


def _cancellation_letter(appointment: Appointment, by_patient: bool) -> mail.Letter:
    slot = appointment.slot
    site = slot.site
    facts = (slot.starts_at, site.time_zone, place_of(site), appointment.reference, appointment.patient.first_name)
    if by_patient:
        return mail.cancelled_by_patient(*facts)
    return mail.cancelled_by_site(*facts, public_url(f"/lieux/{site.id}"))
