"""Builder functions: rows with sensible defaults, overridden where a test cares."""

import itertools
from datetime import datetime, time, timedelta
from types import SimpleNamespace

from werkzeug.security import generate_password_hash

from booking.appointments.models import Appointment
from booking.appointments.rules import new_reference
from booking.auth.models import User
from booking.geo.models import Commune
from booking.geo.rules import search_key
from booking.patients.models import Patient
from booking.sites.models import Practitioner, Room, Site, SitePractitioner
from booking.slots.models import AvailabilityRule, Slot

PASSWORD = "correct horse battery"
# Hashing is deliberately slow; one hash serves every builder-made account.
_PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt")
_sequence = itertools.count(1)

COMMUNE_A = "15174"  # Saint-Bonnet-de-Salers, CC du Pays de Salers
COMMUNE_B = "15120"  # Mauriac, CC du Pays de Mauriac
EPCI_A = "241501139"


def make_user(session, role="resident", communes=(), **overrides) -> User:
    number = next(_sequence)
    values = {"email": f"{role}{number}@example.test", "password_hash": _PASSWORD_HASH, "role": role,
              "display_name": f"{role} {number}"}
    values.update(overrides)
    user = User(**values, communes=[session.get(Commune, code) for code in communes])
    session.add(user)
    session.flush()
    return user


def make_site(session, commune=COMMUNE_A, **overrides) -> Site:
    values = {"kind": "teleconsultation", "name": f"Cabine {next(_sequence)}", "address": "Place de la mairie",
              "postal_code": "15140", "commune_insee": commune, "time_zone": "Europe/Paris"}
    if "operator_epci_siren" not in overrides:
        values["operator_commune_insee"] = commune
    values.update(overrides)
    site = Site(**values)
    if not site.rooms:
        site.rooms = [Room(name="Salle 1")]
    session.add(site)
    session.flush()
    return site


def make_practitioner(session, sites=(), user=None, **overrides) -> Practitioner:
    values = {"first_name": "Hélène", "last_name": f"Praticienne{next(_sequence)}",
              "profession": "medecin_generaliste", "user": user}
    values.update(overrides)
    practitioner = Practitioner(**values)
    session.add(practitioner)
    for site in sites:
        session.add(SitePractitioner(site=site, practitioner=practitioner, status="accepted"))
    session.flush()
    return practitioner


def make_rule(session, practitioner, site, **overrides) -> AvailabilityRule:
    values = {"rrule": "FREQ=WEEKLY;BYDAY=TU", "start_date": datetime(2027, 3, 2).date(),
              "start_time": time(9), "end_time": time(12), "slot_minutes": 20, "room": site.rooms[0]}
    values.update(overrides)
    rule = AvailabilityRule(practitioner=practitioner, site=site, **values)
    session.add(rule)
    session.flush()
    return rule


def make_slot(session, practitioner, site, starts_at, minutes=20, **overrides) -> Slot:
    values = {"starts_at": starts_at, "ends_at": starts_at + timedelta(minutes=minutes), "capacity": 1,
              "room": site.rooms[0] if site.rooms else None}
    values.update(overrides)
    slot = Slot(practitioner=practitioner, site=site, **values)
    session.add(slot)
    session.flush()
    return slot


def make_patient(session, commune=COMMUNE_A, **overrides) -> Patient:
    values = {"first_name": "Jeanne", "last_name": "Lefèvre", "birth_date": datetime(1944, 5, 2).date(),
              "phone": "+33600000001", "phone_kind": "mobile", "sms_consent": True, "commune_insee": commune}
    values.update(overrides)
    values.setdefault("search_last_name", search_key(values["last_name"]))
    patient = Patient(**values)
    session.add(patient)
    session.flush()
    return patient


def make_appointment(session, slot, patient, **overrides) -> Appointment:
    values = {"reference": new_reference(), "seat": slot.booked_count + 1, "channel": "online", "status": "booked"}
    values.update(overrides)
    appointment = Appointment(slot=slot, patient=patient, **values)
    if values["status"] != "cancelled":
        slot.booked_count += 1
    session.add(appointment)
    session.flush()
    return appointment


def make_world(session, now: datetime) -> SimpleNamespace:
    """Commune A and commune B (different EPCI), each with a site, staff, patients and an appointment."""
    w = SimpleNamespace()
    w.site_a = make_site(session, COMMUNE_A, name="Cabine de Saint-Bonnet")
    w.site_b = make_site(session, COMMUNE_B, name="Cabine de Mauriac", postal_code="15200")
    w.site_epci = make_site(session, "15202", operator_epci_siren=EPCI_A, name="Consultations avancées",
                            kind="consultation_avancee")
    w.admin = make_user(session, "admin")
    w.agent_a = make_user(session, "agent", [COMMUNE_A])
    w.agent_b = make_user(session, "agent", [COMMUNE_B])
    w.commune_admin_a = make_user(session, "commune_admin", [COMMUNE_A])
    w.commune_admin_b = make_user(session, "commune_admin", [COMMUNE_B])
    w.epci_admin_a = make_user(session, "epci_admin", epci_siren=EPCI_A)
    w.departement_viewer = make_user(session, "departement_viewer", departement_code="15")
    w.resident_a = make_user(session, "resident")
    w.resident_b = make_user(session, "resident")
    w.practitioner_user_a = make_user(session, "practitioner")
    w.practitioner_user_b = make_user(session, "practitioner")
    w.practitioner_a = make_practitioner(session, [w.site_a], user=w.practitioner_user_a)
    w.practitioner_b = make_practitioner(session, [w.site_b], user=w.practitioner_user_b)
    w.patient_a = make_patient(session, COMMUNE_A, account_id=w.resident_a.id)
    w.patient_b = make_patient(session, COMMUNE_B, first_name="Ève", last_name="d'Arcy", account_id=w.resident_b.id)
    w.slot_a = make_slot(session, w.practitioner_a, w.site_a, now + timedelta(days=2))
    w.slot_b = make_slot(session, w.practitioner_b, w.site_b, now + timedelta(days=2))
    w.appointment_a = make_appointment(session, w.slot_a, w.patient_a)
    w.appointment_b = make_appointment(session, w.slot_b, w.patient_b)
    session.commit()
    return w


def book_then_wait(session, world, now: datetime, slot=None):
    """A slot of the world's site booked by someone without a phone, and patient A waiting for that day."""
    from booking.appointments.services import book_slot
    from booking.database import unit_of_work
    from booking.waitlist.services import join_waitlist

    slot = slot or make_slot(session, world.practitioner_a, world.site_a, now + timedelta(days=3))
    taker = make_patient(session, first_name="Paul", phone=None, phone_kind=None)
    session.commit()
    with unit_of_work(session):
        booked = book_slot(session, slot_id=slot.id, patient_id=taker.id, channel="reception", now=now)
    day = slot.starts_at.date()
    with unit_of_work(session):
        entry = join_waitlist(session, world.resident_a, world.patient_a.id, world.site_a.id, "medecin_generaliste",
                              day, day, now)
    return slot, taker, booked, entry


def add_rare_cases(session, w: SimpleNamespace, now: datetime) -> SimpleNamespace:
    """What the plain world lacks and privacy must hold through: closures and a public holiday with bookings,
    a patient whose phone does not work, failed messages, at a commune's site and at the EPCI's site."""
    from booking.outgoing.keys import appointment_group, appointment_message
    from booking.sites.models import SiteClosure
    from notifications.models import Notification

    w.practitioner_epci = make_practitioner(session, [w.site_epci], last_name="Sabatier")
    w.patient_b.phone = "+33600000002"  # the plain world gives both patients the builder's number
    w.rare = []
    # 2027-03-09 closed for an election at the EPCI's site, 2027-03-10 at commune A's; 29 March is Easter Monday.
    session.add(SiteClosure(site=w.site_epci, first_day=datetime(2027, 3, 9).date(),
                            last_day=datetime(2027, 3, 9).date(), reason="elections"))
    session.add(SiteClosure(site=w.site_a, first_day=datetime(2027, 3, 10).date(),
                            last_day=datetime(2027, 3, 10).date(), reason="works"))
    for number, (site, practitioner, starts_at, last_name) in enumerate([
        (w.site_epci, w.practitioner_epci, datetime(2027, 3, 9, 9, 0, tzinfo=now.tzinfo), "d'Escalmels"),
        (w.site_epci, w.practitioner_epci, datetime(2027, 3, 29, 8, 0, tzinfo=now.tzinfo), "Teyssedou"),
        (w.site_a, w.practitioner_a, datetime(2027, 3, 10, 9, 0, tzinfo=now.tzinfo), "Couderc"),
        (w.site_a, w.practitioner_a, datetime(2027, 3, 29, 8, 0, tzinfo=now.tzinfo), "Vialard"),
    ], start=21):
        patient = make_patient(session, site.commune_insee, first_name="Cécile", last_name=last_name,
                               phone=f"+336000000{number}", phone_problem="Numéro inexistant (21211)")
        slot = make_slot(session, practitioner, site, starts_at)
        appointment = make_appointment(session, slot, patient, channel="reception")
        session.add(Notification(channel="sms", recipient=patient.phone, body="Rappel", due_at=now, status="failed",
                                 dedupe_key=appointment_message(appointment.id, "reminder"),
                                 group_key=appointment_group(appointment.id), attempts=3, error_code="21211",
                                 last_error="Numéro inexistant"))
        w.rare.append(appointment)
    session.commit()
    return w
