"""The waiting list: a freed slot is offered by SMS to the first person waiting, held for 30 minutes."""

import hmac
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

import notifications
from booking.appointments.messages import can_receive_email, can_receive_sms, place_of, visit_at
from booking.appointments.services import book_slot
from booking.auth.models import User
from booking.auth.permissions import Action, fetch
from booking.auth.services import record_audit
from booking.database import unit_of_work
from booking.errors import InvalidInput, NotFound
from booking.extensions import db
from booking.geo.models import Commune
from booking.geo.travel import Position, position, trip
from booking.outgoing import mail, sms
from booking.patients.models import Patient
from booking.signing import sign
from booking.sites.models import Practitioner, Site
from booking.sites.professions import PROFESSIONS
from booking.slots.models import Slot, bookable
from booking.text import row_id
from booking.urls import public_url
from booking.waitlist.models import WaitlistEntry

OFFER_MINUTES = 30
SHARED_MINUTES = (15, 20, 30, 45, 60)  # « tout lieu à moins de 30 min de chez moi »
NEW_SLOTS_LOOKED_AT = 50  # of a site's new slots, the first that suits someone's mornings and weekdays


def _signature(entry_id: int, slot_id: int) -> str:
    return sign(current_app.config["SECRET_KEY"], f"offer:{entry_id}:{slot_id}")


def offer_token(entry: WaitlistEntry) -> str:
    """Return the token of the link that lets the patient take the offered slot."""
    return f"{entry.id}-{_signature(entry.id, entry.offered_slot_id)}"


def join_waitlist(session: Session, actor: User, patient_id: int, site_id: int | None, profession: str,
                  first_day: date, last_day: date, now: datetime, *, max_minutes: int | None = None,
                  mornings_only: bool = False, avoid_weekday: int | None = None) -> WaitlistEntry:
    """Put a patient on the waiting list of a profession over a range of days: of one site, or (``site_id``
    None) shared by every site within ``max_minutes`` of the drive from the patient's commune."""
    patient = fetch(session, Patient, patient_id, "Patient introuvable.", actor, Action.BOOK)
    site = fetch(session, Site, site_id, "Lieu de soins introuvable.") if site_id else None
    if profession not in PROFESSIONS:
        raise InvalidInput("Profession inconnue.")
    if site is None:
        if max_minutes not in SHARED_MINUTES:
            raise InvalidInput("Choisissez un temps de trajet : "
                               f"{', '.join(str(m) for m in SHARED_MINUTES)} minutes au plus.", field="max_minutes")
        commune = patient.commune
        if commune is None or commune.latitude is None:
            raise InvalidInput("La position de la commune de ce patient n’est pas connue : choisissez un lieu de "
                               "soins précis.", field="site_id")
    if avoid_weekday is not None and avoid_weekday not in range(7):
        raise InvalidInput("Jour à éviter inconnu.", field="avoid_weekday")
    if last_day < first_day or first_day < now.date() - timedelta(days=1) or (last_day - first_day).days > 180:
        raise InvalidInput("Choisissez une période à venir de six mois au plus.")
    if not (can_receive_sms(patient) or can_receive_email(patient)):
        raise InvalidInput("La liste d’attente prévient par SMS ou par e-mail : il faut un numéro de mobile (avec "
                           "l’accord du patient) ou une adresse e-mail.")
    entry = WaitlistEntry(patient_id=patient.id, site_id=site.id if site else None, profession=profession,
                          first_day=first_day, last_day=last_day, status="waiting", created_by_id=actor.id,
                          created_at=now, origin_insee=None if site else patient.commune_insee,
                          max_minutes=None if site else max_minutes, mornings_only=bool(mornings_only),
                          avoid_weekday=avoid_weekday)
    session.add(entry)
    session.flush()
    record_audit(session, user=actor, action="waitlist.join", object_type="waitlist", object_id=entry.id,
                 patient_id=patient.id, now=now)
    session.flush()
    return entry


def offer_freed_slot(session: Session, slot_id: int, now: datetime,
                     skip_entry_ids: tuple[int, ...] = ()) -> WaitlistEntry | None:
    """Offer a bookable slot to the first person waiting for it; hold it for them for 30 minutes."""
    slot = session.get(Slot, slot_id)
    if slot is None or not session.scalar(select(Slot.id).where(Slot.id == slot_id, bookable(now))):
        return None
    local_start = slot.starts_at.astimezone(ZoneInfo(slot.site.time_zone))
    local_day = local_start.date()
    profession = session.scalar(select(Practitioner.profession).where(Practitioner.id == slot.practitioner_id))
    # The site's own list and the shared one, longest waiting first: whoever is within reach and free then.
    candidates = session.execute(_waiting_for(
        slot.site_id, WaitlistEntry.profession == profession, WaitlistEntry.first_day <= local_day,
        WaitlistEntry.last_day >= local_day, WaitlistEntry.id.not_in(skip_entry_ids or (0,))))
    site_position = slot.site.position
    for entry, latitude, longitude in candidates:
        if not (within_reach(entry, position(latitude, longitude), site_position) and suits(entry, local_start)):
            continue
        by_sms, by_email = can_receive_sms(entry.patient), can_receive_email(entry.patient)
        if not (by_sms or by_email):
            continue
        expires = now + timedelta(minutes=OFFER_MINUTES)
        # The hold is taken with a conditional update: a booking that got in first wins.
        held = session.execute(
            update(Slot).where(Slot.id == slot.id, bookable(now))
            .values(held_until=expires, held_for_id=entry.id).execution_options(synchronize_session=False)
        ).rowcount
        if held != 1:
            return None
        entry.status, entry.offered_slot_id, entry.offer_expires_at = "offered", slot.id, expires
        session.flush()
        url = public_url(f"/attente/{offer_token(entry)}")
        key = f"waitlist:{entry.id}:offer:{slot.id}"
        if by_sms:
            notifications.enqueue(
                session, channel="sms", recipient=entry.patient.phone, due_at=now,
                body=sms.waitlist_offer(visit_at(slot), OFFER_MINUTES, url),
                dedupe_key=key, group_key=f"waitlist:{entry.id}")
        if by_email and (not by_sms or entry.patient.email_reminders):
            letter = mail.waitlist_offer(slot.starts_at, slot.site.time_zone, place_of(slot.site),
                                         entry.patient.first_name, OFFER_MINUTES, url)
            notifications.enqueue(
                session, channel="email", recipient=entry.patient.email, due_at=now, subject=letter.subject,
                body=mail.as_text(letter), html_body=mail.as_html(letter), dedupe_key=f"{key}:email",
                group_key=f"waitlist:{entry.id}")
        session.flush()
        return entry
    return None


def expire_offers(now: datetime) -> int:
    """End the offers nobody took in time, each in its own unit of work (the waiting-list job); return how many."""
    expired = list(db.session.scalars(select(WaitlistEntry.id).where(
        WaitlistEntry.status == "offered", WaitlistEntry.offer_expires_at <= now).order_by(WaitlistEntry.id)))
    for entry_id in expired:
        with unit_of_work():
            expire_offer(db.session, entry_id, now)
    return len(expired)


def expire_offer(session: Session, entry_id: int, now: datetime) -> None:
    """End an offer nobody took in time and pass its slot to the next person waiting."""
    entry = session.get(WaitlistEntry, entry_id)
    if entry is None or entry.status != "offered":
        return
    slot_id = entry.offered_slot_id
    entry.status = "expired"
    session.execute(update(Slot).where(Slot.id == slot_id, Slot.held_for_id == entry.id)
                    .values(held_until=None, held_for_id=None).execution_options(synchronize_session=False))
    offer_freed_slot(session, slot_id, now, skip_entry_ids=(entry.id,))


def entry_from_offer(session: Session, token: str, now: datetime) -> WaitlistEntry:
    """Return the entry behind an offer link while the offer stands."""
    head, _, signature = (token or "").partition("-")
    entry_id = row_id(head)
    entry = session.get(WaitlistEntry, entry_id) if entry_id else None
    if (entry is None or entry.status != "offered" or entry.offer_expires_at is None or entry.offer_expires_at <= now
            or not hmac.compare_digest(_signature(entry.id, entry.offered_slot_id), signature)):
        raise NotFound("Cette proposition n’est plus valable : le délai de 30 minutes est passé ou la place est prise.")
    return entry


def accept_offer(session: Session, token: str, now: datetime):
    """Book the held slot for the patient of the offer."""
    entry = entry_from_offer(session, token, now)
    appointment = book_slot(session, slot_id=entry.offered_slot_id, patient_id=entry.patient_id, channel="online",
                            now=now, hold_entry_id=entry.id, consent_recorded=True)
    entry.status, entry.appointment_id = "booked", appointment.id
    record_audit(session, user=None, action="waitlist.accept", object_type="appointment", object_id=appointment.id,
                 patient_id=entry.patient_id, now=now)
    session.flush()
    return appointment


def _waiting_for(site_id: int, *conditions):
    """The people waiting who may be offered a slot of a site (its own list, and the shared one: each with where
    they wait from), longest waiting first."""
    return (select(WaitlistEntry, Commune.latitude, Commune.longitude)
            .outerjoin(Commune, Commune.insee == WaitlistEntry.origin_insee)
            .where(or_(WaitlistEntry.site_id == site_id, WaitlistEntry.site_id.is_(None)),
                   WaitlistEntry.status == "waiting", *conditions)
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id))


def within_reach(entry: WaitlistEntry, origin: Position | None, site_position: Position | None) -> bool:
    """A site's own list reaches its site; the shared list, the sites within the person's drive."""
    if entry.site_id is not None:
        return True
    drive = trip(origin, site_position)
    return drive is not None and drive.minutes <= (entry.max_minutes or 0)


def suits(entry: WaitlistEntry, local_start: datetime) -> bool:
    """Whether a slot starting at ``local_start`` (the site's time) suits a waiting person: in the morning if they
    asked, not on the day they avoid."""
    if entry.mornings_only and local_start.hour >= 12:
        return False
    return entry.avoid_weekday is None or local_start.weekday() != entry.avoid_weekday


def offer_new_slots(session: Session, site_id: int, now: datetime) -> int:
    """Offer newly published slots of a site to the people waiting there or, on the shared list, within reach of
    it; return how many offers went out."""
    site = session.get(Site, site_id)
    zone, site_position = ZoneInfo(site.time_zone), site.position
    offers = 0
    rows = session.execute(_waiting_for(site_id)).all()
    for entry, latitude, longitude in rows:
        origin = position(latitude, longitude)
        if not within_reach(entry, origin, site_position):
            continue
        first = datetime.combine(entry.first_day, datetime.min.time(), tzinfo=zone)
        last = datetime.combine(entry.last_day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
        starts = session.execute(
            select(Slot.id, Slot.starts_at).join(Practitioner, Slot.practitioner_id == Practitioner.id)
            .where(Slot.site_id == site_id, Practitioner.profession == entry.profession, bookable(now),
                   Slot.starts_at >= first, Slot.starts_at < last).order_by(Slot.starts_at).limit(NEW_SLOTS_LOOKED_AT))
        slot_id = next((slot_id for slot_id, start in starts if suits(entry, start.astimezone(zone))), None)
        if slot_id is not None:
            offered = offer_freed_slot(session, slot_id, now)
            offers += offered is not None
    return offers
