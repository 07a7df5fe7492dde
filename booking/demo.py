"""`flask demo`: a believable world of fake people in the Pays de Salers (Cantal)."""

import random
from datetime import date, datetime, time, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from booking.appointments.messages import reminder_channel
from booking.appointments.models import Appointment
from booking.appointments.rules import new_reference
from booking.auth.models import User
from booking.auth.services import PASSWORD_METHOD
from booking.clock import parse_now
from booking.extensions import db
from booking.geo.models import Commune, Epci
from booking.geo.rules import search_key
from booking.patients.models import Patient
from booking.sites.models import OpeningHours, Practitioner, Room, Site, SitePractitioner
from booking.sites.rules import made_up_rpps
from booking.slots.models import AvailabilityRule, Slot
from booking.slots.services import materialize_rule

DEMO_PASSWORD = "demo-rendez-vous"
EPCI_SIREN = "241501139"  # CC du Pays de Salers
SAINT_BONNET, SALERS, PLEAUX, VALMEROUX, FONTANGES, ANGLARDS = (
    "15174", "15219", "15153", "15202", "15070", "15006")

FIRST_NAMES = ["Jeanne", "Marie", "Louise", "Paulette", "Odette", "Simone", "Germaine", "Yvette", "Colette",
               "Pierre", "Jean", "André", "Marcel", "Roger", "René", "Lucien", "Fernand", "Gérard", "Émile",
               "Léa", "Chloé", "Inès", "Zoé", "Camille", "Manon", "Lucas", "Hugo", "Théo", "Nathan", "Jules",
               "Éloïse", "Anaïs", "Noémie", "Maël", "Gaëtan", "Benoît", "Hélène", "Cécile", "Agnès", "Joël"]
LAST_NAMES = ["Besson", "Chassang", "Delpuech", "Fabre", "Laborie", "Lacombe", "Malbert", "Roux", "Teyssier",
              "Vermenouze", "Aymar", "Bouygues", "Cantuel", "Destaing", "Estival", "Fournier", "Gineste",
              "Lavergne", "Mazières", "Noygues", "Puech", "Rigal", "Serre", "Traverse", "Vidalenc", "Lefèvre",
              "d'Auzers", "N'Diaye", "Couderc", "Lescure"]


def _account(role, email, name, communes=(), **scope):
    return User(role=role, email=email, display_name=name, communes=list(communes), **scope,
                password_hash=generate_password_hash(DEMO_PASSWORD, method=PASSWORD_METHOD))


def _fake_patients(rng: random.Random, communes: list[Commune], count: int) -> list[Patient]:
    patients = []
    for index in range(count):
        last = rng.choice(LAST_NAMES)
        age = rng.choice([rng.randint(1, 17), rng.randint(18, 59), rng.randint(60, 74), rng.randint(75, 96)])
        phone_roll = rng.random()
        if phone_roll < 0.7:
            # 06 00 00 xx xx: a range kept for demos; the demo never runs with a real SMS provider.
            phone, kind = f"+336000{index:05d}", "mobile"
        elif phone_roll < 0.9:
            phone, kind = f"+334657{index:05d}", "landline"
        else:
            phone, kind = None, None
        patients.append(Patient(
            first_name=rng.choice(FIRST_NAMES), last_name=last, search_last_name=search_key(last),
            birth_date=date(2026 - age, rng.randint(1, 12), rng.randint(1, 28)),
            phone=phone, phone_kind=kind, sms_consent=kind == "mobile",
            commune_insee=rng.choice(communes).insee,
        ))
    return patients


def build_demo(now: datetime, seed: int = 7) -> dict:
    """Create the demo world; return the accounts created, by role."""
    session = db.session
    rng = random.Random(seed)
    needed = [SAINT_BONNET, SALERS, PLEAUX, VALMEROUX, FONTANGES, ANGLARDS]
    communes = {code: session.get(Commune, code) for code in needed}
    epci = session.get(Epci, EPCI_SIREN)
    if epci is None or None in communes.values():
        raise click.ClickException("Les communes du Cantal manquent : lancez d’abord "
                                   "« flask --app booking geo import » (ou avec tests/fixtures/geo).")

    cabin = Site(
        kind="teleconsultation", name="Cabine de téléconsultation de Saint-Bonnet", sms_label="Cabine de Saint-Bonnet",
        address="Mairie, 2 place de l’Église", postal_code="15140", commune_insee=SAINT_BONNET,
        operator_commune_insee=SAINT_BONNET, time_zone="Europe/Paris", phone="+33471000001",
        contact_email="mairie@saint-bonnet.example.com",
        schedule_mode="opening_hours",  # an assistant receives the patients: slots only when she is there
        hours=[OpeningHours(weekday=1, opens=time(9), closes=time(12)),
               OpeningHours(weekday=3, opens=time(9), closes=time(12))],
        instructions="Entrée par la porte de gauche de la mairie. Une assistante vous accueille et vous "
                     "installe dans la cabine ; elle reste à vos côtés si vous le souhaitez.",
        equipment=["tensiometre", "otoscope", "stethoscope", "oxymetre", "thermometre"],
        accessibility=["pmr", "parking", "boucle"],
        served_communes=[communes[SAINT_BONNET], communes[FONTANGES], communes[SALERS]],
        rooms=[Room(name="Cabine")],
    )
    centre = Site(
        kind="consultation_avancee", name="Consultations avancées du Pays de Salers",
        sms_label="Consultations Pays de Salers",
        address="Maison de santé, 4 avenue de la Gare", postal_code="15140", commune_insee=VALMEROUX,
        operator_epci_siren=EPCI_SIREN, time_zone="Europe/Paris", phone="+33471000002",
        contact_email="sante@pays-de-salers.example.com",
        opening_hours="Selon les jours de consultation des spécialistes",
        instructions="Salle d’attente au rez-de-chaussée. Apportez vos anciennes lunettes et ordonnances.",
        equipment=["retinographe", "ecg"], accessibility=["pmr", "parking"],
        served_communes=list(epci.members), rooms=[Room(name="Salle 1"), Room(name="Salle 2")],
    )
    permanence = Site(
        kind="permanence", name="Permanence sage-femme de Pleaux", sms_label="Permanence de Pleaux",
        address="Mairie, place Georges-Pompidou", postal_code="15700", commune_insee=PLEAUX,
        operator_commune_insee=PLEAUX, time_zone="Europe/Paris", phone="+33471000003",
        contact_email="mairie@pleaux.example.com",
        schedule_mode="opening_hours", hours=[OpeningHours(weekday=4, opens=time(9), closes=time(12))],
        instructions="Au premier étage de la mairie (ascenseur).",
        accessibility=["pmr", "ascenseur"], served_communes=[communes[PLEAUX]], rooms=[Room(name="Bureau")],
    )
    session.add_all([cabin, centre, permanence])

    people = [
        ("Hélène", "Vidal", "medecin_generaliste", None, True, "dr.vidal@demo.test",
         cabin, "FREQ=WEEKLY;BYDAY=TU,TH", time(9), time(12), 20, "remote"),
        ("Marc", "Delmas", "ophtalmologue", None, False, "dr.delmas@demo.test",
         centre, "FREQ=MONTHLY;BYDAY=1MO", time(9), time(17), 20, "on_site"),
        ("Nadia", "Benali", "cardiologue", None, False, "dr.benali@demo.test",
         centre, "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", time(14), time(17, 30), 30, "on_site"),
        ("Julie", "Roux", "sage_femme", None, False, "julie.roux@demo.test",
         permanence, "FREQ=WEEKLY;BYDAY=FR", time(9), time(12), 30, "on_site"),
    ]
    accounts = {
        "admin": [_account("admin", "admin@demo.test", "Administratrice plateforme")],
        "commune_admin": [_account("commune_admin", "referente@saint-bonnet.demo.test", "Référente santé",
                                   [communes[SAINT_BONNET]])],
        "agent": [_account("agent", "accueil@saint-bonnet.demo.test", "Accueil mairie de Saint-Bonnet",
                           [communes[SAINT_BONNET]]),
                  _account("agent", "accueil@pleaux.demo.test", "Accueil mairie de Pleaux", [communes[PLEAUX]])],
        "epci_admin": [_account("epci_admin", "intercommunalite@pays-de-salers.demo.test",
                                "Communauté de communes du Pays de Salers", epci_siren=EPCI_SIREN)],
        "departement_viewer": [_account("departement_viewer", "observatoire@cantal.demo.test",
                                        "Observatoire départemental du Cantal", departement_code="15")],
        "practitioner": [],
        "resident": [_account("resident", "usager@demo.test", "Usager de démonstration")],
    }
    start = (now - timedelta(days=60)).date()
    rules = []
    for number, (first, last, profession, specialty, remote, email, site, rrule, t0, t1, minutes, modality) in \
            enumerate(people, start=1):
        user = _account("practitioner", email, f"Dr {first} {last}" if profession != "sage_femme"
                        else f"{first} {last}")
        accounts["practitioner"].append(user)
        practitioner = Practitioner(first_name=first, last_name=last, profession=profession, specialty=specialty,
                                    consults_remotely=remote, email=email, user=user,
                                    rpps=made_up_rpps(number))  # the SAS finds practitioners by RPPS
        session.add(SitePractitioner(site=site, practitioner=practitioner, status="accepted", accepted_at=now))
        rule = AvailabilityRule(practitioner=practitioner, site=site, room=site.rooms[0], rrule=rrule,
                                start_date=start, start_time=t0, end_time=t1,
                                slot_minutes=minutes, modality=modality, opens_days_ahead=90,
                                video_url="https://visio.demo.test/dr-vidal" if modality == "remote" else None)
        rules.append(rule)
    # Cardiology has its own room so that it never competes with ophthalmology.
    rules[2].room = centre.rooms[1]
    # Dr Vidal keeps Thursday's first afternoon hour for unscheduled care: the SAS's regulators may take it until
    # two hours before, then it is everyone's.
    rules.append(AvailabilityRule(practitioner=rules[0].practitioner, site=cabin, room=cabin.rooms[0],
                                  rrule="FREQ=WEEKLY;BYDAY=TH", start_date=start, start_time=time(14),
                                  end_time=time(15), slot_minutes=20, modality="remote", opens_days_ahead=2,
                                  video_url="https://visio.demo.test/dr-vidal", visibility="snp",
                                  snp_release_hours=2))
    for group in accounts.values():
        session.add_all(group)
    session.add_all(rules)
    session.flush()
    for rule in rules:
        materialize_rule(session, rule, now, since=now - timedelta(days=60))

    patients = _fake_patients(rng, [communes[c] for c in needed] + list(epci.members)[:6], 140)
    resident = accounts["resident"][0]
    patients[0].account_id = resident.id
    patients[0].first_name, patients[0].last_name, patients[0].search_last_name = "Camille", "Delpuech", "delpuech"
    patients[1].account_id = resident.id
    patients[1].relationship_label = "père"
    session.add_all(patients)
    session.flush()

    agent = accounts["agent"][0]
    slots = session.scalars(select(Slot).order_by(Slot.starts_at)).all()
    for slot in slots:
        past = slot.starts_at < now
        if rng.random() > (0.75 if past else 0.3):
            continue
        patient = rng.choice(patients)
        booked_at = slot.starts_at - timedelta(days=rng.randint(1, 25), hours=rng.randint(0, 8))
        channel = rng.choices(["online", "reception", "phone"], weights=[5, 4, 1])[0]
        appointment = Appointment(
            reference=new_reference(), slot=slot, seat=1, patient=patient, channel=channel,
            booked_by_id=agent.id if channel != "online" else None, status="booked",
            created_at=min(booked_at, now - timedelta(minutes=5)),
            consent_recorded_at=booked_at if channel == "reception" else None,
            reminder_channel=reminder_channel(patient),
        )
        if past:
            roll = rng.random()
            if roll < 0.78:
                appointment.status, appointment.attendance_marked_at = "attended", slot.ends_at
            elif roll < 0.88:
                appointment.status, appointment.attendance_marked_at = "no_show", slot.ends_at
            elif roll < 0.95:
                appointment.status = "cancelled"
                appointment.cancelled_at = slot.starts_at - timedelta(hours=rng.choice([2, 12, 48, 96]))
                appointment.cancelled_late = slot.starts_at - appointment.cancelled_at < timedelta(hours=24)
                appointment.cancel_reason = "patient"
            # else: left unmarked, as happens; statistics count it as such.
        if appointment.status != "cancelled":
            slot.booked_count = 1
        session.add(appointment)
    session.commit()
    return accounts


@click.command("demo")
@click.option("--now", "now_text", help="Instant de référence (ISO 8601), pour les tests.")
@with_appcontext
def demo_command(now_text: str | None) -> None:
    """Fill an empty database with demo data and print the logins."""
    if current_app.config["SMS_BACKEND"] != "log":
        raise click.ClickException("Les données de démonstration ne se chargent qu’avec SMS_BACKEND=log.")
    if db.session.scalar(select(func.count()).select_from(Site)):
        click.echo("Des lieux de soins existent déjà : les données de démonstration ne sont pas rechargées.")
    else:
        build_demo(parse_now(now_text))
        click.echo("Données de démonstration chargées.")
    click.echo(f"Comptes de démonstration (mot de passe pour tous : {DEMO_PASSWORD}) :")
    for user in db.session.scalars(select(User).where(User.email.like("%demo.test")).order_by(User.id)):
        click.echo(f"  {user.role:<14} {user.email}")
