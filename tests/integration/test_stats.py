"""A small world whose every figure was counted by hand; all views must show exactly those figures.

Commune A (Saint-Bonnet-de-Salers, 246 inhabitants), its cabin, March 2027, now = 18 March 12:00 UTC.
- 20 open slots of 20 min, 2–21 March at 09:00 UTC, and 2 blocked ones: 22 published, 2 blocked, 6.7 h of care.
- Appointments, one per slot (slot n on March n+1):
  1–8 attended (1–5 online, 6–8 at the desk), 9–13 no-show (desk), 14 past and unmarked (phone),
  15 cancelled by the patient 3 days before, 16 cancelled by the patient 2 hours before (late),
  17 cancelled by the practitioner 3 days before (desk), 18–19 booked, still to come (online).
  → bookings 19 (online 9, desk 9, phone 1); seats taken on open slots 16 of 20: occupancy 80.0 %;
    no-show rate 5 / 13 = 38.5 %.
- Lead times of the 16 non-cancelled appointments: 1, 2 … 16 days → median (8th) 8.0, 90th percentile (15th) 15.0.
- Patients of the 16: 10 live in Saint-Bonnet, 6 in Salers (310 inhabitants); born 2015 (2), 1980 (5),
  1960 (4), 1940 (5); 3 of them came in February (returning), 13 are new.
  → per 1,000 inhabitants: Saint-Bonnet 10/246 = 40.7, Salers 6/310 = 19.4.
- Reminders delivered to 1–8 (all came), none to 9–13 (none came): 0.0 % vs 100.0 %.
- Two searches from Saint-Bonnet found nothing in March (one from Salers, not counted).
- Delay samples: 2 and 4 days → 3.0.
"""

import base64
import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import func, select

from booking.api.services import create_token
from booking.appointments.models import Appointment
from booking.database import unit_of_work
from booking.geo.models import Commune
from booking.patients.models import Patient
from booking.search.models import UnmetDemand
from booking.stats.models import DelaySample
from booking.stats.rules import Table, format_cell, suppress_release
from booking.stats.services import compute
from notifications.models import Notification
from tests import builders

NOW = datetime(2027, 3, 18, 12, 0, tzinfo=UTC)
MARCH = (date(2027, 3, 1), date(2027, 4, 1))
GUADELOUPE = "97105"  # Basse-Terre


@pytest.fixture
def counted(session, world):
    site, practitioner = world.site_a, world.practitioner_a
    site.served_communes = [session.get(Commune, "15174"), session.get(Commune, "15219")]
    # The world fixture's own slot and appointment fall on 3 March: move them out of the way.
    world.slot_a.starts_at, world.slot_a.ends_at = NOW + timedelta(days=60), NOW + timedelta(days=60, minutes=20)
    births = [date(2015, 5, 5)] * 2 + [date(1980, 5, 5)] * 5 + [date(1960, 5, 5)] * 4 + [date(1940, 5, 5)] * 5
    slots = [builders.make_slot(session, practitioner, site, datetime(2027, 3, n + 1, 9, 0, tzinfo=UTC))
             for n in range(1, 21)]
    for day in (22, 23):
        builders.make_slot(session, practitioner, site, datetime(2027, 3, day, 9, 0, tzinfo=UTC),
                           status="blocked")
    plan = ([("attended", "online")] * 5 + [("attended", "reception")] * 3 + [("no_show", "reception")] * 5
            + [("booked", "phone")] + [("cancelled", "online")] * 2 + [("cancelled", "reception")]
            + [("booked", "online")] * 2)
    kept = 0
    for number, (status, channel) in enumerate(plan, start=1):
        slot = slots[number - 1]
        if status != "cancelled":
            kept += 1
            patient = builders.make_patient(session, first_name=f"P{number}", birth_date=births[kept - 1],
                                            commune_insee="15174" if kept <= 10 else "15219")
            created = slot.starts_at - timedelta(days=kept)
        else:
            patient = builders.make_patient(session, first_name=f"C{number}", commune_insee="15174")
            created = slot.starts_at - timedelta(days=10)
        appointment = builders.make_appointment(session, slot, patient, status=status, channel=channel,
                                                created_at=created)
        if status == "cancelled":
            hours = 2 if number == 16 else 72
            appointment.cancelled_at = slot.starts_at - timedelta(hours=hours)
            appointment.cancelled_late = number == 16
            appointment.cancel_reason = "practitioner" if number == 17 else "patient"
        if number <= 8:
            session.add(Notification(channel="sms", recipient="+33600000001", body="Rappel", due_at=created,
                                     status="delivered", dedupe_key=f"appointment:{appointment.id}:reminder"))
        if kept in (1, 2, 3) and status != "cancelled":
            earlier = builders.make_slot(session, practitioner, site,
                                         datetime(2027, 2, 10 + kept, 9, 0, tzinfo=UTC))
            builders.make_appointment(session, earlier, patient, status="attended")
    session.add_all([UnmetDemand(commune_insee="15174", profession="ophtalmologue", searched_on=date(2027, 3, 4)),
                     UnmetDemand(commune_insee="15174", profession=None, searched_on=date(2027, 3, 9)),
                     UnmetDemand(commune_insee="15219", profession=None, searched_on=date(2027, 3, 9)),
                     DelaySample(day=date(2027, 3, 5), site_id=site.id, profession="medecin_generaliste", days=2.0),
                     DelaySample(day=date(2027, 3, 6), site_id=site.id, profession="medecin_generaliste", days=4.0)])
    session.commit()
    return world


EXPECTED = {
    "headline": {"Rendez-vous pris": 19, "Taux d’occupation (%)": 80.0, "Taux d’absence (%)": 38.5,
                 "Délai médian (jours)": 8.0, "Demandes non satisfaites": "< 5"},
    "offer": [["Médecin généraliste", "Point de téléconsultation", 22, 2, 6.7]],
    # 1 by phone is hidden, and so is 9 online (« secret statistique »): 19 − 9 − 9 would give the 1 back.
    "demand": [["Réservations — En ligne", "secret statistique"], ["Réservations — À l’accueil de la mairie", 9],
               ["Réservations — Par téléphone", "< 5"], ["Réservations — Par le SAS (le 15)", 0],
               ["Réservations — total", 19],
               ["Recherches sans créneau libre à 30 jours (demande non satisfaite)", "< 5"],
               ["Inscriptions en liste d’attente", 0], ["… dont ont obtenu un rendez-vous", 0],
               ["Visites sans rendez-vous (permanences)", 0]],
    "outcome": [["Nombre", 8, 5, "< 5", "< 5", "< 5", "< 5", "< 5", 0, 19]],
    "age": [["Patients", "< 5", 5, "< 5", 5, 0, 16]],
    "loyalty": [["Patients", "secret statistique", "< 5", 16]],  # 13 new patients: hidden, but not « < 5 »
    "reach": [["Saint-Bonnet-de-Salers", 10, 40.7], ["Salers", 6, 19.4]],
    "reminders": [["Rappel reçu", 8, 0, 0.0], ["Sans rappel", 0, 5, 100.0]],
}


def _check(stats_headline: dict, tables: dict):
    assert stats_headline == EXPECTED["headline"]
    for key, rows in EXPECTED.items():
        if key != "headline":
            assert tables[key] == rows, key


def test_the_computation_gives_the_hand_counted_figures(session, counted):
    stats = compute(session, "15174", *MARCH, NOW)
    _check(stats.headline, {t.key: t.rows for t in stats.tables})
    delays = stats.table("delays").rows
    assert delays[0][1] == 8.0 and delays[2][1] == 15.0 and delays[3][1] == 3.0
    # Every counted appointment is a GP's: the median by profession is the median.
    assert delays[1] == ["Délai entre la réservation et le rendez-vous — médiane — Médecin généraliste", 8.0]
    delay_trend = {row[0]: row[1:] for row in stats.table("delay_trend").rows}
    assert delay_trend["mars 2027"] == [3.0, 2] and delay_trend["février 2027"] == [None, 0]
    assert stats.table("residence").rows == [["Saint-Bonnet-de-Salers", 10], ["Salers", 6]]
    trend = {row[0]: row[1:] for row in stats.table("trend").rows}
    assert trend["mars 2027"] == [22, 16, 8, 5] and trend["février 2027"] == ["< 5", "< 5", "< 5", 0]
    assert len(trend) == 12


def test_the_key_figures_alone_are_the_same_key_figures(session, counted):
    quick = compute(session, "15174", *MARCH, NOW, headline_only=True)
    assert quick.headline == EXPECTED["headline"] and quick.tables[0].key == "offer"
    assert "reach" not in {t.key for t in quick.tables}


def test_the_same_figures_in_the_api_csv_dashboard_and_pdf(app, client, auth, session, counted):
    expected_cells = [format_cell(v) for v in EXPECTED["headline"].values()]
    query = {"du": "2027-03-01", "au": "2027-03-31"}
    with time_machine.travel(NOW, tick=False):
        with unit_of_work(session):
            token = create_token(session, counted.commune_admin_a.email, "tableau", NOW)
        api = client.get("/api/v1/communes/15174/stats", query_string={"from": "2027-03-01", "to": "2027-03-31"},
                         headers={"Authorization": f"Bearer {token}"}).get_json()
        auth.login(counted.commune_admin_a.email)
        page = client.get("/gestion/communes/15174/statistiques", query_string=query).get_data(as_text=True)
        raw_csv = client.get("/gestion/communes/15174/statistiques.csv", query_string=query).data
        pdf_response = client.get("/gestion/communes/15174/rapport.pdf", query_string=query)
        assert pdf_response.status_code == 200, pdf_response.get_data(as_text=True)[-3000:]
        pdf = pdf_response.data
    assert [figure["key"] for figure in api["headline"]] == [
        "appointments_booked", "occupancy_rate", "no_show_rate", "median_lead_days", "unmet_searches"]
    _check({figure["label"]: figure["value"] for figure in api["headline"]},
           {t["key"]: [[row["label"], *[row["values"][c["key"]] for c in t["columns"]]] for row in t["rows"]]
            for t in api["tables"]})
    outcome = next(t for t in api["tables"] if t["key"] == "outcome")
    assert [c["key"] for c in outcome["columns"]][:3] == ["venus", "absents", "non_renseignes"]

    assert raw_csv.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw_csv.decode("utf-8-sig")), delimiter=";"))
    assert ["Taux d’absence (%)", "38,5"] in rows and ["Délai médian (jours)", "8,0"] in rows
    assert ["Nombre", "8", "5", "< 5", "< 5", "< 5", "< 5", "< 5", "0", "19"] in rows
    assert ["Saint-Bonnet-de-Salers", "10", "40,7"] in rows

    for cell in expected_cells:
        assert f">{cell}<" in page.replace("&lt;", "<")
    assert "<td>40,7</td>" in page and "<td>19,4</td>" in page and "En bref" in page
    summary = ("En mars 2027, 19 rendez-vous ont été pris dans les lieux de soins de Saint-Bonnet-de-Salers, "
               "qui ont occupé 80,0 % des créneaux publiés.")
    assert summary in page.replace("\u202f", " ").replace("\xa0", " ")

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Saint-Bonnet-de-Salers" in text
    for cell in expected_cells + ["40,7", "19,4", "100,0"]:
        assert cell in text, cell
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert f"Page 1 sur {len(pages)}" in pages[0].extract_text()
    assert f"Page {len(pages)} sur {len(pages)}" in pages[-1].extract_text()
    assert "Rapport généré le jeudi 18 mars 2027 à 13 h" in pages[0].extract_text().replace("\u202f", " ")
    flat = " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())
    assert "En bref" in flat and "Moins de 5 recherches d’habitants" in flat


def test_the_pdf_chart_names_months_in_full_and_never_draws_a_hidden_count(session, counted):
    from booking.stats.export import _trend_chart

    stats = compute(session, "15174", *MARCH, NOW)
    trend = stats.table("trend")
    trend.rows[-1][2] = "< 5"  # as if March had been suppressed
    chart = _trend_chart(stats).contents[0]
    assert chart.categoryAxis.categoryNames[-1] == "mars 2027"
    assert chart.data[0][-1] is None
    assert chart.data[0][:-1] == [cell if isinstance(cell, int) else None for cell in (r[2] for r in trend.rows[:-1])]
    assert 5 not in chart.data[0] or any(r[2] == 5 for r in trend.rows)


def test_no_name_birth_date_or_reason_in_any_export(app, client, auth, session, counted):
    appointment = session.scalar(select(Appointment).limit(1))
    appointment.reason = "douleur confidentielle"
    session.commit()
    with time_machine.travel(NOW, tick=False):
        auth.login(counted.commune_admin_a.email)
        outputs = [client.get(f"/gestion/communes/15174/{path}", query_string={"du": "2027-03-01",
                                                                            "au": "2027-03-31"}).data
                   for path in ("statistiques", "statistiques.csv", "rapport.pdf")]
    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(outputs[2])).pages)
    for text in (outputs[0].decode(), outputs[1].decode("utf-8-sig"), pdf_text):
        assert "douleur" not in text and "Lefèvre" not in text and "1940" not in text


def test_commune_a_admin_cannot_read_commune_b(app, client, auth, session, counted):
    with unit_of_work(session):
        token = create_token(session, counted.commune_admin_b.email, "b", NOW)
    response = client.get("/api/v1/communes/15174/stats", query_string={"from": "2027-03-01", "to": "2027-03-31"},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    auth.login(counted.commune_admin_b.email)
    for path in ("statistiques", "statistiques.csv", "rapport.pdf"):
        assert client.get(f"/gestion/communes/15174/{path}").status_code == 404
    auth.logout()
    auth.login(counted.agent_a.email)  # an agent of commune A: not the figures
    assert client.get("/gestion/communes/15174/statistiques").status_code == 403


def test_the_api_refuses_sessions_missing_and_revoked_tokens(app, client, auth, session, counted, runner):
    query = {"from": "2027-03-01", "to": "2027-03-31"}
    auth.login(counted.commune_admin_a.email)
    assert client.get("/api/v1/communes/15174/stats", query_string=query).status_code == 401
    result = runner.invoke(args=["tokens", "create", "--email", counted.commune_admin_a.email])
    token = result.output.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/communes/15174/stats", query_string=query, headers=headers).status_code == 200
    assert client.get("/api/v1/communes/15174/stats", query_string={"from": "mars"}, headers=headers).status_code == 422
    runner.invoke(args=["tokens", "revoke", "--email", counted.commune_admin_a.email])
    assert client.get("/api/v1/communes/15174/stats", query_string=query, headers=headers).status_code == 401


def test_small_count_suppression_hides_a_second_cell():
    table = Table("t", "T", ["", "a", "b", "c", "Total"], [["x", 3, 12, 20, 35], ["y", 0, 9, 6, 15],
                                                            ["z", 2, 3, 30, 35], ["w", 4, 0, 0, 4]], additive=True)
    (suppressed,) = suppress_release([table], [], 5)  # one table alone: its rows' sums are its only relations
    rows = suppressed.rows
    assert rows[0] == ["x", "< 5", "secret statistique", 20, 35]  # 12 hidden too, not « < 5 »: 35 − 20 − 12 = 3
    assert rows[1] == ["y", 0, 9, 6, 15]               # zeros and counts of 5 or more stay
    assert rows[2] == ["z", "< 5", "< 5", 30, 35]      # two hidden already: nothing to add
    assert rows[3] == ["w", "< 5", 0, 0, "< 5"]        # only zeros left: the total itself is hidden
    plain = Table("p", "P", ["", "n"], [["x", 3]], sensitive=False)
    assert suppress_release([plain], [], 5)[0].rows == [["x", 3]]


def test_the_report_email_arrives_once_with_its_pdf_and_csv(database_url, smtp_server, session, counted, runner):
    from booking.extensions import db
    from notifications.setup import run_dispatch
    from tests.conftest import make_app

    counted.site_a.contact_email = "mairie@saint-bonnet.example.com"
    session.commit()
    for _ in range(2):
        result = runner.invoke(args=["reports", "send", "--month", "2027-03", "--now", "2027-04-01T06:00:00Z"])
        assert result.exit_code == 0, result.output
    keys = {key for key in session.scalars(select(Notification.dedupe_key).where(Notification.channel == "email"))
            if key.startswith("report:15174:")}
    referent = counted.commune_admin_a.email.lower()
    assert keys == {"report:15174:2027-03:mairie@saint-bonnet.example.com", f"report:15174:2027-03:{referent}"}
    session.commit()  # end our transaction: on SQLite it holds the write lock
    mailer = make_app(database_url, MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    with mailer.app_context():
        run_dispatch(datetime(2027, 4, 1, 6, 1, tzinfo=UTC))
        run_dispatch(datetime(2027, 4, 1, 7, 1, tzinfo=UTC))
        db.session.remove()
        db.engine.dispose()
    # Once each, to the site's address and to the commune's referent (never twice, however often the job runs).
    ours = [m["To"] for m in smtp_server.messages if "Saint-Bonnet" in m["Subject"]]
    assert sorted(ours) == sorted(["mairie@saint-bonnet.example.com", referent])
    message = next(m for m in smtp_server.messages if m["To"] == "mairie@saint-bonnet.example.com")
    assert "mars 2027" in message["Subject"]
    parts = {part.get_filename(): part for part in message.walk() if part.get_filename()}
    assert set(parts) == {"consultations-15174-2027-03.pdf", "consultations-15174-2027-03.csv"}
    assert parts["consultations-15174-2027-03.pdf"].get_payload(decode=True).startswith(b"%PDF")
    assert "38,5" in parts["consultations-15174-2027-03.csv"].get_payload(decode=True).decode("utf-8-sig")
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "Mois précédent" in html and "Il y a un an" in html and "38,5" in html


def test_erasing_every_patient_leaves_the_figures_unchanged(session, counted):
    from booking.patients.models import Patient
    from booking.privacy.services import erase_patient

    before = compute(session, "15174", *MARCH, NOW).as_dict()
    for patient_id in session.scalars(select(Patient.id)).all():
        with unit_of_work(session):
            erase_patient(session, patient_id, NOW)
    after = compute(session, "15174", *MARCH, NOW).as_dict()
    assert after == before


def test_no_show_rate_by_reminder_channel_with_small_counts_hidden(app, client, auth, session, counted):
    from booking.patients.models import Patient

    channels = {**{f"P{n}": "sms" for n in range(1, 9)}, "P9": "voice", "P10": "voice", "P11": "desk",
                "P12": "none", "P13": "none"}
    for appointment in session.scalars(select(Appointment).join(Patient).where(Patient.first_name.in_(channels))):
        appointment.reminder_channel = channels[appointment.patient.first_name]
    session.commit()
    stats = compute(session, "15174", *MARCH, NOW)
    assert stats.table("reminder_channels").rows == [
        ["SMS au patient", 8, 0, 0.0],
        ["Appel automatique sur le fixe", 0, "< 5", None],
        ["SMS à l’aidant(e)", 0, 0, None],
        ["E-mail", 0, 0, None],
        ["Appel de l’accueil de la mairie", 0, "< 5", None],
        ["Aucun rappel", 0, "< 5", None],
    ]
    with time_machine.travel(NOW, tick=False):
        auth.login(counted.commune_admin_a.email)
        page = client.get("/gestion/communes/15174/statistiques", query_string={"du": "2027-03-01",
                                                                               "au": "2027-03-31"})
        csv_text = client.get("/gestion/communes/15174/statistiques.csv",
                              query_string={"du": "2027-03-01", "au": "2027-03-31"}).data.decode("utf-8-sig")
        pdf = client.get("/gestion/communes/15174/rapport.pdf", query_string={"du": "2027-03-01", "au": "2027-03-31"})
    assert "Absences selon le moyen de rappel" in page.get_data(as_text=True)
    assert "Appel automatique sur le fixe;0;< 5;" in csv_text
    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Absences selon le moyen de rappel" in pdf_text


def test_the_open_data_export_is_public_anonymous_and_keeps_suppression(client, session, counted):
    with time_machine.travel(datetime(2027, 4, 10, 8, 0, tzinfo=UTC), tick=False):
        as_json = client.get("/donnees-ouvertes/communes/15174/2027-03.json")
        as_csv = client.get("/donnees-ouvertes/communes/15174/2027-03.csv")
        assert client.get("/donnees-ouvertes/communes/15174/2027-04.json").status_code == 404  # not finished
        assert client.get("/donnees-ouvertes/communes/15174/mars.json").status_code == 400
        listing = client.get("/donnees-ouvertes").get_data(as_text=True)
    assert as_json.status_code == 200 and as_json.headers["Access-Control-Allow-Origin"] == "*"
    data = as_json.get_json()
    headline = {figure["key"]: figure["value"] for figure in data["headline"]}
    assert headline == {"appointments_booked": 19, "occupancy_rate": 80.0, "no_show_rate": 38.5,
                        "median_lead_days": 8.0, "unmet_searches": "< 5"}
    outcome = next(t for t in data["tables"] if t["key"] == "outcome")["rows"][0]["values"]
    assert outcome["venus"] == 8 and outcome["absents"] == 5 and outcome["non_renseignes"] == "< 5"
    lines = as_csv.get_data(as_text=True).splitlines()
    assert lines[0] == ("commune_insee,period_from,period_to,table_key,row_key,column_key,value,text,table_label,"
                        "row_label,column_label")
    assert "15174,2027-03-01,2027-03-31,headline,no_show_rate,value,38.5,,Chiffres clés,Taux d’absence (%),Valeur" \
        in lines
    assert ("15174,2027-03-01,2027-03-31,outcome,nombre,non_renseignes,< 5,,Issue des rendez-vous,Nombre,"
            "Non renseignés") in lines
    everything = as_json.get_data(as_text=True) + as_csv.get_data(as_text=True)
    for patient in session.scalars(select(Patient)):
        assert patient.last_name not in everything and patient.first_name not in everything.split(",")
    assert "2027-03.json" in listing


def test_hours_of_care_per_1000_inhabitants_of_the_served_communes(session, counted):
    population = session.get(Commune, "15174").population + session.get(Commune, "15219").population
    stats = compute(session, "15174", *MARCH, NOW)
    assert stats.table("density").rows == [
        ["Médecin généraliste", 6.7, population, round(1000 * 6.7 / population, 2)]]
    assert "Habitants desservis : population municipale des communes desservies" in stats.table("density").note


def test_inhabitants_served_are_counted_per_profession(session, counted, world):
    """A second site of the commune serves only Saint-Bonnet, with a cardiologist: its population alone."""
    saint_bonnet = session.get(Commune, "15174").population
    both = saint_bonnet + session.get(Commune, "15219").population
    small = builders.make_site(session, "15174", name="Consultations avancées", kind="consultation_avancee")
    small.served_communes = [session.get(Commune, "15174")]
    cardiologist = builders.make_practitioner(session, [small], profession="cardiologue")
    for day in (8, 15, 22):  # three one-hour consultations in March; a blocked one offers nobody anything
        builders.make_slot(session, cardiologist, small, datetime(2027, 3, day, 13, tzinfo=UTC), minutes=60)
    builders.make_slot(session, cardiologist, small, datetime(2027, 4, 5, 13, tzinfo=UTC), minutes=60)
    session.commit()
    rows = compute(session, "15174", *MARCH, NOW).table("density").rows
    assert rows == [["Cardiologue", 3.0, saint_bonnet, round(1000 * 3 / saint_bonnet, 2)],
                    ["Médecin généraliste", 6.7, both, round(1000 * 6.7 / both, 2)]]


def test_an_epci_running_a_site_gets_its_own_report(session, world):
    from booking.stats.report import report_targets, send_monthly_reports

    world.site_epci.contact_email = "sante@epci.example.com"
    session.commit()
    targets = {(t.kind, t.code): t.recipients for t in report_targets(session)}
    assert targets[("epci", builders.EPCI_A)] == ["sante@epci.example.com", world.epci_admin_a.email.lower()]
    assert world.commune_admin_a.email.lower() in targets[("commune", builders.COMMUNE_A)]
    done = send_monthly_reports(session, 2027, 2, NOW)
    assert any("sante@epci.example.com" in line and world.epci_admin_a.email.lower() in line for line in done)
    sent = session.scalar(select(Notification).where(
        Notification.dedupe_key == f"report:{builders.EPCI_A}:2027-02:sante@epci.example.com"))
    assert sent is not None and "Consultations" in sent.html_body
    assert send_monthly_reports(session, 2027, 2, NOW) == []  # never twice
    epci_stats = compute(session, None, date(2027, 2, 1), date(2027, 3, 1), NOW, epci_siren=builders.EPCI_A)
    assert epci_stats.commune.kind == "epci" and epci_stats.commune.insee == builders.EPCI_A


def test_a_commune_beside_the_medians_of_its_epci_its_departement_and_its_size(session, world, client, auth):
    from booking.geo.models import Commune, epci_members
    from booking.stats.comparisons import record_month
    from booking.stats.models import MonthlyFigures

    # Hand-made figures of March for eight communes: six of Saint-Bonnet's EPCI, two elsewhere in the Cantal.
    members = [builders.COMMUNE_A] + [code for code in session.scalars(select(epci_members.c.commune_insee).where(
        epci_members.c.epci_siren == builders.EPCI_A)) if code != builders.COMMUNE_A][:5]
    others = ["15120", "15014"]
    booked = {code: 10 * (n + 1) for n, code in enumerate(members + others)}
    for code, count in booked.items():
        session.add(MonthlyFigures(commune_insee=code, month="2027-03", appointments_booked=count,
                                   occupancy_rate=50.0 + count / 10, no_show_rate=10.0, median_lead_days=7.0))
    session.commit()
    stats = compute(session, builders.COMMUNE_A, *MARCH, NOW)
    table = stats.table("comparisons")
    rows = {row[0]: row[1:] for row in table.rows}
    epci_values = sorted(booked[code] for code in members)
    all_values = sorted(booked.values())
    from statistics import median

    from booking.stats.export import to_csv

    assert rows["Rendez-vous pris"][1] == round(median(epci_values), 1)
    assert rows["Rendez-vous pris"][2] == round(median(all_values), 1)
    band = [booked[c] for c in booked
            if _band(session.get(Commune, c).population) == _band(session.get(Commune, builders.COMMUNE_A).population)]
    assert rows["Rendez-vous pris"][3] == (round(median(band), 1) if len(band) >= 5 else None)
    assert rows["Taux d’absence (%)"][1:3] == [10.0, 10.0]
    csv_text = to_csv(stats).decode("utf-8-sig")
    assert "Comparaisons" in csv_text and "Rendez-vous pris;" in csv_text
    _same_comparisons_everywhere(session, client, auth, world, rows)
    # A month that is not whole has no comparison; a group under five communes shows nothing.
    assert all(t.key != "comparisons" for t in compute(session, builders.COMMUNE_A, date(2027, 3, 1),
                                                        date(2027, 3, 15), NOW).tables)
    session.execute(MonthlyFigures.__table__.delete().where(MonthlyFigures.commune_insee.in_(members[:4])))
    session.commit()
    rows = {row[0]: row[1:] for row in compute(session, builders.COMMUNE_A, *MARCH, NOW).table("comparisons").rows}
    assert rows["Rendez-vous pris"][1] is None  # two EPCI communes left: too few to show a median
    assert "Case vide : moins de 5 communes" in compute(session, builders.COMMUNE_A, *MARCH, NOW).table(
        "comparisons").note
    assert record_month(session, 2027, 3, NOW) >= 1  # the monthly job recomputes every commune that runs a site


def test_comparisons_say_when_they_will_come_and_a_backfill_brings_past_months(session, world, runner):
    from booking.stats.models import MonthlyFigures

    february = compute(session, builders.COMMUNE_A, date(2027, 2, 1), date(2027, 3, 1), NOW)
    assert "Pas encore de médianes pour février 2027" in february.table("comparisons").note
    result = runner.invoke(args=["stats", "backfill", "--months", "3", "--now", "2027-03-10T09:00:00Z"])
    assert result.exit_code == 0 and "2027-02, 2027-01, 2026-12" in result.output
    months = set(session.scalars(select(MonthlyFigures.month).where(
        MonthlyFigures.commune_insee == builders.COMMUNE_A)))
    assert months == {"2027-02", "2027-01", "2026-12"}
    assert "Pas encore" not in compute(session, builders.COMMUNE_A, date(2027, 2, 1), date(2027, 3, 1),
                                       NOW).table("comparisons").note
    again = runner.invoke(args=["stats", "backfill", "--months", "3", "--now", "2027-03-10T09:00:00Z"])
    assert "aucun" in again.output  # months already kept are not recomputed


def _band(population):
    from booking.stats.comparisons import size_band

    return size_band(population)[2]


def test_practitioners_per_10000_inhabitants_from_an_imported_reference_file(session, world, runner, tmp_path):
    from booking.stats.models import PractitionerCount

    bad = tmp_path / "bad.csv"
    bad.write_text("commune_insee;profession;year;count\n15174;sorcier;2026;1\n99999;medecin_generaliste;2026;2\n",
                   encoding="utf-8")
    refused = runner.invoke(args=["stats", "import-practitioners", str(bad)])
    assert refused.exit_code != 0 and "ligne 2" in refused.output and "ligne 3" in refused.output
    assert session.scalar(select(func.count()).select_from(PractitionerCount)) == 0  # all or nothing
    good = tmp_path / "ars.csv"
    good.write_text("commune_insee,profession,year,count\n15174,medecin_generaliste,2025,2\n"
                    "15174,medecin_generaliste,2026,1\n15174,infirmier,2026,3\n", encoding="utf-8")
    done = runner.invoke(args=["stats", "import-practitioners", str(good), "--source", "ARS, répertoire 2026"])
    assert done.exit_code == 0 and "3 lignes importées" in done.output
    population = session.get(Commune, "15174").population
    rows = compute(session, "15174", *MARCH, NOW).table("practitioners_per_10000").rows
    assert rows == [["Infirmier ou infirmière", 2026, 3, population, round(30000 / population, 2)],
                    ["Médecin généraliste", 2025, 2, population, round(20000 / population, 2)],
                    ["Médecin généraliste", 2026, 1, population, round(10000 / population, 2)]]


def _same_comparisons_everywhere(session, client, auth, world, rows):
    """The comparison table reads the same in the dashboard, CSV, PDF, API and open data."""
    from booking.stats.rules import format_cell

    cells = [format_cell(v) for v in rows["Rendez-vous pris"] if v is not None]
    query = {"du": "2027-03-01", "au": "2027-03-31"}
    with time_machine.travel(datetime(2027, 4, 10, 8, 0, tzinfo=UTC), tick=False):
        with unit_of_work(session):
            token = create_token(session, world.commune_admin_a.email, "comparaisons", NOW)
        api = client.get(f"/api/v1/communes/{builders.COMMUNE_A}/stats", query_string={"from": "2027-03-01",
                                                                                      "to": "2027-03-31"},
                         headers={"Authorization": f"Bearer {token}"}).get_json()
        opened = client.get(f"/donnees-ouvertes/communes/{builders.COMMUNE_A}/2027-03.json").get_json()
        auth.login(world.commune_admin_a.email)
        page = client.get(f"/gestion/communes/{builders.COMMUNE_A}/statistiques", query_string=query)
        csv_text = client.get(f"/gestion/communes/{builders.COMMUNE_A}/statistiques.csv",
                              query_string=query).data.decode("utf-8-sig")
        pdf = client.get(f"/gestion/communes/{builders.COMMUNE_A}/rapport.pdf", query_string=query).data
    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    html = page.get_data(as_text=True).replace("&lt;", "<")
    for data in (api, opened):
        table = next(t for t in data["tables"] if t["key"] == "comparisons")
        row = next(r for r in table["rows"] if r["key"] == "rendez_vous_pris")
        assert [row["values"][c["key"]] for c in table["columns"]] == rows["Rendez-vous pris"]
    for cell in cells:
        assert f"<td>{cell}</td>" in html and f";{cell}" in csv_text and cell in pdf_text


def test_a_commune_served_by_another_ones_site_gets_its_residents_figures(session, world):
    from booking.auth.models import User
    from booking.sites.models import site_served_communes
    from booking.stats.report import report_targets

    salers = "15014"  # Aurillac: no site of its own nor of its EPCI; say the Saint-Bonnet cabin serves it
    session.execute(site_served_communes.insert().values(site_id=world.site_a.id, commune_insee=salers))
    referent = builders.make_user(session, "commune_admin", [salers])
    for hour in range(6):
        slot = builders.make_slot(session, world.practitioner_a, world.site_a,
                                  datetime(2027, 3, 4, 8 + hour, 0, tzinfo=UTC))
        resident = builders.make_patient(session, commune_insee=salers if hour < 5 else builders.COMMUNE_A)
        builders.make_appointment(session, slot, resident, status="attended")
    session.commit()
    stats = compute(session, salers, *MARCH, NOW)
    assert stats.commune.kind == "residents"
    assert stats.headline["Rendez-vous pris"] == 5  # the five Salers residents, not the Saint-Bonnet one
    assert "par les habitants d’Aurillac" in stats.summary()[0]
    targets = {(t.kind, t.code): t.recipients for t in report_targets(session)}
    assert targets[("commune", salers)] == [referent.email.lower()]
    assert session.get(User, referent.id).role == "commune_admin"


def test_reports_shared_out_between_processes_are_those_of_one_process_each_sent_once(session, counted, world):
    from booking.stats.models import MonthlyFigures, ReportDelivery
    from booking.stats.report import report_targets, send_monthly_reports

    world.site_epci.contact_email = "sante@epci.example.com"
    world.site_b.contact_email = "mairie@mauriac.example.com"
    session.commit()
    targets = report_targets(session)
    assert len(targets) >= 3

    def outputs() -> dict:
        session.expire_all()
        return {n.dedupe_key: (n.subject, n.body, n.html_body, [(a["filename"], a["data"]) for a in n.attachments
                                                                 if a["filename"].endswith(".csv")])
                for n in session.scalars(select(Notification).where(Notification.dedupe_key.like("report:%")))}

    done = send_monthly_reports(session, 2027, 3, NOW, processes=2)
    assert len(done) == len(targets)
    shared = outputs()
    assert len(shared) == sum(len(t.recipients) for t in targets)
    assert session.scalar(select(func.count()).select_from(ReportDelivery)) == len(targets)
    recorded = session.scalar(select(func.count()).select_from(MonthlyFigures).where(MonthlyFigures.month == "2027-03"))
    assert recorded == 2  # Saint-Bonnet and Mauriac run a site; the EPCI's site is not a commune's
    assert send_monthly_reports(session, 2027, 3, NOW, processes=2) == []  # never twice

    with unit_of_work(session):
        session.execute(Notification.__table__.delete().where(Notification.dedupe_key.like("report:%")))
        session.execute(ReportDelivery.__table__.delete())
        session.execute(MonthlyFigures.__table__.delete())
    assert len(send_monthly_reports(session, 2027, 3, NOW, processes=1)) == len(targets)
    assert outputs() == shared
    (_, csv_data), = shared[f"report:{builders.COMMUNE_A}:2027-03:{world.commune_admin_a.email.lower()}"][3]
    assert "Venus;Absents" in base64.b64decode(csv_data).decode("utf-8-sig")


def test_a_month_is_over_when_it_is_over_for_the_commune(client, session, world):
    # 1 March 2027, 02:00 UTC: 03:00 in Saint-Bonnet (February is over), 22:00 on 28 February in Guadeloupe.
    with time_machine.travel(datetime(2027, 3, 1, 2, 0, tzinfo=UTC), tick=False):
        cantal = client.get("/donnees-ouvertes/communes/15174/2027-02.json")
        guadeloupe = client.get(f"/donnees-ouvertes/communes/{GUADELOUPE}/2027-02.json")
    assert cantal.status_code == 200 and guadeloupe.status_code == 404
    with time_machine.travel(datetime(2027, 3, 1, 4, 30, tzinfo=UTC), tick=False):  # 00:30 there
        assert client.get(f"/donnees-ouvertes/communes/{GUADELOUPE}/2027-02.json").status_code == 200


def test_every_open_data_export_is_valid_against_its_published_table_schema(client, session, counted, tmp_path):
    """frictionless reads the schema the server publishes and checks each CSV: types, patterns, required cells,
    « < 5 » as the documented missing value, text never in the value column."""
    import frictionless

    with time_machine.travel(datetime(2027, 4, 10, 8, 0, tzinfo=UTC), tick=False):
        schema = client.get("/donnees-ouvertes/schema.json")
        exports = {f"{insee}-{month}": client.get(f"/donnees-ouvertes/communes/{insee}/{month}.csv")
                   for insee in ("15174", "15219", "15120") for month in ("2027-02", "2027-03")}
    assert schema.status_code == 200 and schema.headers["Access-Control-Allow-Origin"] == "*"
    (tmp_path / "schema.json").write_bytes(schema.data)
    described = schema.get_json()
    assert described["missingValues"] == ["", "< 5"]
    assert all(field["title"] and field["description"] for field in described["fields"])
    checked = 0
    for name, export in exports.items():
        assert export.status_code == 200, name
        path = tmp_path / f"{name}.csv"
        path.write_bytes(export.data)
        resource = frictionless.Resource(path=path.name, basepath=str(tmp_path),
                                         schema=frictionless.Schema.from_descriptor(described))
        report = resource.validate()
        assert report.valid, (name, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5])
        rows = list(csv.DictReader(io.StringIO(export.data.decode())))
        checked += len(rows)
        for row in rows:
            assert not (row["value"] and row["text"]) and row["column_label"], row
    assert checked > 100
    kinds = [row for row in csv.DictReader(io.StringIO(exports["15174-2027-03"].data.decode()))
             if row["table_key"] == "offer" and row["text"]]
    assert kinds and all(row["value"] == "" for row in kinds)  # « Point de téléconsultation » is text


def test_unscheduled_care_for_the_sas_is_counted_by_hand(session, world):
    """March: six SNP slots at Saint-Bonnet; the SAS took three (one no-show), a resident took one after its release,
    and the SAS took one public slot too: 6 offered, 4 by the SAS, 1 by residents, 1 absent."""
    site, practitioner = world.site_a, world.practitioner_a
    world.slot_a.starts_at, world.slot_a.ends_at = NOW + timedelta(days=60), NOW + timedelta(days=60, minutes=20)
    snp = [builders.make_slot(session, practitioner, site, datetime(2027, 3, 8 + n, 8, 0, tzinfo=UTC),
                              visibility="snp", released_at=datetime(2027, 3, 8 + n, 6, 0, tzinfo=UTC))
           for n in range(6)]
    public = builders.make_slot(session, practitioner, site, datetime(2027, 3, 20, 8, 0, tzinfo=UTC))
    outcomes = [(snp[0], "sas", "attended"), (snp[1], "sas", "attended"), (snp[2], "sas", "no_show"),
                (snp[3], "online", "attended"), (public, "sas", "attended")]
    for number, (slot, channel, status) in enumerate(outcomes):
        patient = builders.make_patient(session, first_name=f"S{number}")
        builders.make_appointment(session, slot, patient, channel=channel, status=status)
        slot.booked_count = 1
    session.commit()
    stats = compute(session, "15174", *MARCH, NOW, threshold=1)
    assert stats.table("unscheduled_care").rows == [["Soins non programmés", 6, 4, 1, 1]]
    assert ["Réservations — Par le SAS (le 15)", 4] in stats.table("demand").rows
    hidden = compute(session, "15174", *MARCH, NOW)  # the usual threshold of 5: every count here is small
    assert hidden.table("unscheduled_care").rows[0][2:] == ["< 5", "< 5", "< 5"]
