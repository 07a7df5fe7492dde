"""What stood between real people and the service on day one (issue 14), tested through the pages."""

from datetime import UTC

import time_machine
from sqlalchemy import select

from booking.appointments.models import Appointment
from booking.patients.models import Patient
from tests import builders
from tests.conftest import NOW


def test_the_public_site_page_lets_a_resident_book_its_free_slots_online(client, session, world):
    from datetime import timedelta

    world.site_a.phone = "+33471400000"
    free = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=3))
    session.commit()
    with time_machine.travel(NOW, tick=False):
        page = client.get(f"/lieux/{world.site_a.id}").get_data(as_text=True)
    assert f'href="/reserver/{free.id}"' in page
    assert "l’agent réserve pour vous" in page and 'href="tel:+33471400000"' in page
    assert f'href="/lieux/{world.site_a.id}/creneaux"' in page


def test_a_resident_confirms_before_an_appointment_is_cancelled(client, auth, session, world):
    from datetime import timedelta

    slot = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=3))
    appointment = builders.make_appointment(session, slot, world.patient_a)
    session.commit()
    with time_machine.travel(NOW, tick=False):
        auth.login(world.resident_a.email)
        account = client.get("/compte").get_data(as_text=True)
        assert f'href="/compte/rendez-vous/{appointment.id}/annuler"' in account  # a link: nothing happens yet
        asked = client.get(f"/compte/rendez-vous/{appointment.id}/annuler")
        assert asked.status_code == 200 and "Annuler votre rendez-vous" in asked.get_data(as_text=True)
        assert session.scalar(select(Appointment.status).where(Appointment.id == appointment.id)) == "booked"
        done = client.post(f"/compte/rendez-vous/{appointment.id}/annuler")
    assert done.status_code == 302
    session.expire_all()
    assert session.get(Appointment, appointment.id).status == "cancelled"
    auth.logout()
    auth.login(world.resident_b.email)
    assert client.get(f"/compte/rendez-vous/{world.appointment_a.id}/annuler").status_code == 404


def test_check_in_only_on_the_day_and_attendance_corrected_for_30_days_audited(app, session, world):
    from datetime import datetime, timedelta

    from booking.auth.models import AuditEvent

    def desk():
        """A reception desk signed in at the current (travelled) time: staff sessions end when idle."""
        client = app.test_client()
        client.post("/connexion", data={"login": world.agent_a.email, "password": builders.PASSWORD})
        return client

    # world.appointment_a is two days after NOW, at 09:00 UTC (10:00 in Paris).
    appointment_id, site_id = world.appointment_a.id, world.site_a.id
    day = world.slot_a.starts_at.date()
    with time_machine.travel(NOW, tick=False):
        client = desk()
        early = client.post(f"/rendez-vous/{appointment_id}/arrivee")
        assert early.status_code == 409 and "le jour du rendez-vous" in early.get_data(as_text=True)
        sheet = client.get(f"/gestion/sites/{site_id}/journee?jour={day.isoformat()}").get_data(as_text=True)
        assert f"/rendez-vous/{appointment_id}/arrivee" not in sheet  # no button to press days before
    that_morning = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=8)
    with time_machine.travel(that_morning, tick=False):
        client = desk()
        assert client.post(f"/rendez-vous/{appointment_id}/arrivee").status_code == 302
        session.expire_all()
        assert session.get(Appointment, appointment_id).checked_in_at is not None
        sheet = client.get(f"/gestion/sites/{site_id}/journee").get_data(as_text=True)
        assert "Corriger (l’arrivée)" in sheet
        assert client.post(f"/rendez-vous/{appointment_id}/presence/corriger").status_code == 302
        session.expire_all()
        assert session.get(Appointment, appointment_id).checked_in_at is None
    after = that_morning + timedelta(hours=2)
    with time_machine.travel(after, tick=False):
        client = desk()
        client.post(f"/rendez-vous/{appointment_id}/presence", data={"status": "no_show"})
        assert client.post(f"/rendez-vous/{appointment_id}/presence/corriger").status_code == 302
        session.expire_all()
        assert session.get(Appointment, appointment_id).status == "booked"
    with time_machine.travel(after + timedelta(days=1), tick=False):
        client = desk()
        client.post(f"/rendez-vous/{appointment_id}/presence", data={"status": "attended"})
    # A misclick found on the « présences à noter » round, weeks later: corrected from the past day's sheet.
    with time_machine.travel(after + timedelta(days=30), tick=False):
        client = desk()
        sheet = client.get(f"/gestion/sites/{site_id}/journee?jour={day.isoformat()}").get_data(as_text=True)
        assert f"/rendez-vous/{appointment_id}/presence/corriger" in sheet and "Corriger (" in sheet
        assert client.post(f"/rendez-vous/{appointment_id}/presence/corriger").status_code == 302
        assert client.post(f"/rendez-vous/{appointment_id}/presence", data={"status": "no_show"}).status_code == 302
    with time_machine.travel(after + timedelta(days=31), tick=False):
        client = desk()
        sheet = client.get(f"/gestion/sites/{site_id}/journee?jour={day.isoformat()}").get_data(as_text=True)
        assert "absent" in sheet and "Corriger" not in sheet
        late = client.post(f"/rendez-vous/{appointment_id}/presence/corriger")
        assert late.status_code == 409 and "dans les 30 jours" in late.get_data(as_text=True)
    session.expire_all()
    assert session.get(Appointment, appointment_id).status == "no_show"
    undone = session.scalars(select(AuditEvent).where(AuditEvent.action == "appointment.undo")
                             .order_by(AuditEvent.id)).all()
    assert [event.details for event in undone] == [{"undone": "check_in"}, {"undone": "no_show"},
                                                   {"undone": "attended"}]
    assert {event.user_id for event in undone} == {world.agent_a.id}
    marks = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("appointment.%"),
                                                            AuditEvent.object_id == str(appointment_id))
                            .order_by(AuditEvent.id)).all()
    assert marks[-2:] == ["appointment.undo", "appointment.no_show"]  # who changed what, in order


def test_the_workspace_points_to_past_days_with_unmarked_attendance(client, auth, session, world):
    from datetime import timedelta

    past = builders.make_slot(session, world.practitioner_a, world.site_a, NOW - timedelta(days=3))
    builders.make_appointment(session, past, world.patient_a)
    session.commit()
    with time_machine.travel(NOW, tick=False):
        auth.login(world.agent_a.email)
        page = client.get("/espace").get_data(as_text=True)
    assert "Présences à noter" in page
    assert f"/gestion/sites/{world.site_a.id}/journee?jour={(NOW - timedelta(days=3)).date().isoformat()}" in page


def test_a_forgotten_password_is_replaced_through_a_single_use_link_without_telling_who_has_an_account(
        client, session, world):
    import re
    from datetime import timedelta

    from notifications.models import Notification

    def ask(login):
        response = client.post("/mot-de-passe-oublie", data={"login": login})
        _close_as_a_server_does(session, response)
        return response

    known, unknown = ask(world.resident_a.email.upper()), ask("personne@example.test")
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)  # nothing tells them apart
    (message,) = session.scalars(select(Notification).where(Notification.dedupe_key.like("password-reset:%"))).all()
    assert message.recipient == world.resident_a.email and message.channel == "email"
    link = re.search(r"http://localhost(/mot-de-passe/\S+)", message.body).group(1)
    assert client.get(link).status_code == 200
    weak = client.post(link, data={"password": "motdepasse123", "confirm": "motdepasse123"})
    assert weak.status_code == 422 and "trop courant" in weak.get_data(as_text=True)
    done = client.post(link, data={"password": "une phrase bien à moi", "confirm": "une phrase bien à moi"})
    assert done.status_code == 302
    assert client.post("/connexion", data={"login": world.resident_a.email,
                                           "password": "une phrase bien à moi"}).status_code == 302
    assert client.get(link).status_code == 404  # single use
    # A second link expires after 30 minutes; asking again replaces the pending one.
    ask(world.resident_a.email)
    ask(world.resident_a.email)
    bodies = session.scalars(select(Notification.body).where(Notification.dedupe_key.like("password-reset:%"))
                             .order_by(Notification.id)).all()
    older, newer = (re.search(r"http://localhost(/mot-de-passe/\S+)", body).group(1) for body in bodies[-2:])
    assert client.get(older).status_code == 404 and client.get(newer).status_code == 200
    with time_machine.travel(message.created_at + timedelta(hours=2) if message.created_at else NOW, tick=False):
        assert client.get(newer).status_code == 404


def _close_as_a_server_does(session, response):
    """End the request's transaction (a server's request ends before its answer is closed; the tests keep one
    application context, and so one session, across requests), then close the answer: the link is made then."""
    session.commit()
    response.close()


def test_a_reset_request_is_answered_before_the_account_is_looked_up(client, session, world):
    from booking.extensions import db
    from notifications.models import Notification
    from tests.conftest import statements_run

    def answered(login):
        session.commit()
        with statements_run(db.engine) as statements:
            response = client.post("/mot-de-passe-oublie", data={"login": login})
            body = response.get_data(as_text=True)
        _close_as_a_server_does(session, response)
        return body, statements

    known, known_statements = answered(world.resident_a.email)
    unknown, unknown_statements = answered("personne@example.test")
    # The same work before the answer, whether the account exists or not: nothing for a clock to tell apart.
    assert known == unknown and known_statements == unknown_statements
    sent = session.scalars(select(Notification.recipient).where(Notification.dedupe_key.like("password-reset:%")))
    assert list(sent) == [world.resident_a.email]


def test_reset_requests_are_rate_limited_per_account_however_written(database_url):
    from booking.extensions import db, limiter
    from tests.conftest import make_app

    app = make_app(database_url, RATELIMIT_ENABLED=True)
    with app.app_context():
        limiter.reset()
        try:
            client = app.test_client()
            statuses = [client.post("/mot-de-passe-oublie", data={"login": spelling},
                                    environ_base={"REMOTE_ADDR": f"10.2.0.{i}"}).status_code
                        for i, spelling in enumerate(["06 11 22 33 44", "+33611223344", "0611223344",
                                                      "0033611223344", "06.11.22.33.44", "0611223344"])]
            assert statuses == [200] * 5 + [429]
        finally:
            limiter.reset()
            db.session.remove()
            db.engine.dispose()


def test_a_verified_mobile_gets_its_reset_link_by_sms(client, session, world):
    from notifications.gsm import segments
    from notifications.models import Notification

    world.resident_a.phone, world.resident_a.phone_verified_at = "+33612345678", NOW
    session.commit()
    answer = client.post("/mot-de-passe-oublie", data={"login": "06 12 34 56 78"})
    assert answer.status_code == 200
    _close_as_a_server_does(session, answer)
    (message,) = session.scalars(select(Notification).where(Notification.dedupe_key.like("password-reset:%"))).all()
    assert message.channel == "sms" and message.recipient == "+33612345678" and segments(message.body) == 1


def test_staff_land_on_their_workspace_and_the_day_sheet_shows_phones(client, auth, session, world):
    assert auth.login(world.agent_a.email).headers["Location"] == "/espace"
    page = client.get(f"/gestion/sites/{world.site_a.id}/journee?jour={world.slot_a.starts_at.date().isoformat()}")
    assert 'href="tel:+33' in page.get_data(as_text=True)
    auth.logout()
    assert auth.login(world.resident_a.email).headers["Location"] == "/"


def test_time_zones_are_named_as_people_say_them(client, auth, world):
    auth.login(world.commune_admin_a.email)
    assert "heure de Paris" in client.get(f"/gestion/sites/{world.site_a.id}").get_data(as_text=True)
    assert "heure de la Guadeloupe" in client.get("/gestion/sites/nouveau").get_data(as_text=True)


def test_the_desk_is_told_what_is_wrong_with_a_date_or_an_email_beside_the_field(client, auth, world):
    import re

    auth.login(world.agent_a.email)
    form = client.get("/accueil/patients/nouveau").get_data(as_text=True)
    assert 'value="Saint-Bonnet-de-Salers (15140)"' in form  # the desk's commune by name, not its INSEE code
    page = client.post("/accueil/patients/nouveau", data={
        "last_name": "Aymar", "first_name": "Marguerite", "birth_date": "31/02/1944", "commune": "15174",
        "email": "marguerite@"}).get_data(as_text=True)
    errors = dict(re.findall(r'<p class="error" id="([a-z_]+)-error">([^<]+)</p>', page))
    assert "n’existe pas" in errors["birth_date"] and "31/02/1944" in errors["birth_date"]
    assert "incomplète" in errors["email"]


def test_the_desk_is_warned_before_registering_someone_who_already_exists(client, auth, session, world):
    from booking.patients.models import Patient

    auth.login(world.agent_a.email)
    data = {"last_name": world.patient_a.last_name.upper(), "first_name": world.patient_a.first_name,
            "birth_date": world.patient_a.birth_date.strftime("%d/%m/%Y"), "commune": "15174"}
    before = session.scalar(select(Patient.id).order_by(Patient.id.desc()).limit(1))
    warned = client.post("/accueil/patients/nouveau", data=data)
    page = warned.get_data(as_text=True)
    assert warned.status_code == 409 and "existe peut-être déjà" in page
    assert f"/accueil/patients/{world.patient_a.id}/reserver" in page
    assert session.scalar(select(Patient.id).order_by(Patient.id.desc()).limit(1)) == before  # nobody created
    created = client.post("/accueil/patients/nouveau", data={**data, "autre_personne": "1"})
    assert created.status_code == 302  # the desk said it is someone else
    assert session.scalar(select(Patient.id).order_by(Patient.id.desc()).limit(1)) != before


def test_homonyms_are_never_picked_silently_and_a_guess_is_not_counted_as_demand(client, session, world, restore_geo):
    from booking.geo.models import Commune
    from booking.search.models import UnmetDemand

    corsica = session.get(Commune, "2A004")
    session.add(Commune(insee="2A998", name="Salers", search_name="salers", departement_code="2A",
                        region_code=corsica.region_code, population=10))
    session.commit()
    page = client.get("/recherche", query_string={"commune": "Salers"}).get_data(as_text=True)
    assert "Quelle commune" in page and "Cantal (15)" in page and "Corse-du-Sud (2A)" in page
    before = session.scalar(select(UnmetDemand.id).order_by(UnmetDemand.id.desc()).limit(1))
    guessed = client.get("/recherche", query_string={"commune": "Saint-Bonnet-de-Sal", "profession": "cardiologue"})
    assert "Saint-Bonnet-de-Salers" in guessed.get_data(as_text=True)  # a single match: shown…
    assert session.scalar(select(UnmetDemand.id).order_by(UnmetDemand.id.desc()).limit(1)) == before  # …not counted
    client.get("/recherche", query_string={"commune": "Saint-Bonnet-de-Salers", "profession": "cardiologue"})
    assert session.scalar(select(UnmetDemand.id).order_by(UnmetDemand.id.desc()).limit(1)) != before


def test_a_name_that_longer_names_continue_lists_them_the_persons_departement_first(client, auth, session, world,
                                                                                    restore_geo):
    from booking.geo.models import Commune, PostalCode

    charente = session.get(Commune, "16015") or session.scalars(
        select(Commune).where(Commune.departement_code != "15")).first()
    session.add(Commune(insee="16999", name="Saint-Bonnet", search_name="saint bonnet", departement_code="16",
                        region_code=charente.region_code, population=300,
                        postal_codes=[PostalCode(code="16300")]))
    session.commit()
    with time_machine.travel(NOW, tick=False):
        page = client.get("/recherche", query_string={"commune": "Saint-Bonnet"}).get_data(as_text=True)
        assert "Quelle commune" in page and "Aucun lieu de soins pour Saint-Bonnet" not in page
        listed = page[page.index("Quelle commune"):page.index("</ul>", page.index("Quelle commune"))]
        for name in ("Saint-Bonnet (16300)", "Saint-Bonnet-de-Salers (15140)", "Saint-Bonnet-de-Condat"):
            assert name in listed
        assert listed.index("Saint-Bonnet (16300)") < listed.index("Saint-Bonnet-de-Salers")  # exact name first
        auth.login(world.resident_a.email)  # lives in the Cantal: the Cantal's communes first
        mine = client.get("/recherche", query_string={"commune": "Saint-Bonnet"}).get_data(as_text=True)
        listed = mine[mine.index("Quelle commune"):mine.index("</ul>", mine.index("Quelle commune"))]
        assert listed.index("Saint-Bonnet-de-Salers") < listed.index("Saint-Bonnet (16300)")
        form = client.post("/compte", data={"proche-first_name": "Marcel", "proche-last_name": "Delpuech",
                                            "proche-birth_date": "03/02/1941", "proche-commune": "Saint-Bonnet"})
        offered = form.get_data(as_text=True)
        assert form.status_code == 422 and "Saint-Bonnet (16300) — Charente" in offered
        assert offered.index("Saint-Bonnet-de-Salers (15140) — Cantal") < offered.index("Saint-Bonnet (16300)")
        salers = client.get("/recherche", query_string={"commune": "Salers"}).get_data(as_text=True)
        assert "Quelle commune" not in salers and "pour Salers" in salers  # one exact name goes through
        empty = client.get("/recherche", query_string={"commune": ""}).get_data(as_text=True)
        assert "Tapez le nom de votre commune ou son code postal" in empty


def test_a_postal_code_shared_by_several_communes_offers_them_to_pick_from(client, auth, session, world):
    with time_machine.travel(NOW, tick=False):
        auth.login(world.resident_a.email)
        relative = {"proche-first_name": "Marcel", "proche-last_name": "Delpuech", "proche-birth_date": "03/02/1941",
                    "proche-commune": "15140", "proche-relationship_label": "père"}
        asked = client.post("/compte", data=relative)
        page = asked.get_data(as_text=True)
        assert asked.status_code == 422 and "Le code postal 15140 est celui de plusieurs communes" in page
        assert 'name="proche-commune-choix" value="Saint-Bonnet-de-Salers (15140)"' in page
        assert "Saint-Bonnet-de-Salers (15140) — Cantal" in page
        picked = client.post("/compte", data={**relative, "proche-commune-choix": "Saint-Bonnet-de-Salers (15140)"})
        assert picked.status_code == 302
        auth.logout()
        auth.login(world.agent_a.email)
        desk = client.post("/accueil/patients/nouveau", data={
            "first_name": "Odette", "last_name": "Vernhes", "birth_date": "12/05/1936", "commune": "15140",
            "phone": "", "consent": "y"})
        assert desk.status_code == 422 and 'name="commune-choix"' in desk.get_data(as_text=True)
        desk = client.post("/accueil/patients/nouveau", data={
            "first_name": "Odette", "last_name": "Vernhes", "birth_date": "12/05/1936", "commune": "15140",
            "commune-choix": "Drugeac (15140)", "phone": "", "consent": "y"})
        assert desk.status_code == 302
    odette = session.scalar(select(Patient).where(Patient.last_name == "Vernhes"))
    assert odette.commune_insee == "15063"
    marcel = session.scalar(select(Patient).where(Patient.first_name == "Marcel"))
    assert marcel.commune_insee == "15174"


def test_a_typo_finds_the_commune_says_so_and_is_not_counted_as_demand(client, session, world):
    from booking.geo.services import _has_trigram_index
    from booking.search.models import UnmetDemand

    if session.get_bind().dialect.name == "postgresql":
        assert _has_trigram_index(session)  # the pg_trgm path is the one tested there
    before = session.scalar(select(UnmetDemand.id).order_by(UnmetDemand.id.desc()).limit(1))
    page = client.get("/recherche", query_string={"commune": "Slers", "profession": "cardiologue"}
                      ).get_data(as_text=True)
    choices = page[page.index("Vouliez-vous dire"):page.index("</ul>", page.index("Vouliez-vous dire"))]
    assert "ne s’écrit exactement" in choices and choices.index(">Salers (15140)<") < choices.index("Anglards")
    page = client.get("/recherche", query_string={"commune": "Saint-Bonet-de-Salrs", "profession": "cardiologue"}
                      ).get_data(as_text=True)
    assert "ne s’écrit exactement" in page and "lieux de soins pour Saint-Bonnet-de-Salers" in page
    assert session.scalar(select(UnmetDemand.id).order_by(UnmetDemand.id.desc()).limit(1)) == before


def test_dans_votre_commune_lists_only_the_sites_that_stand_there(client, session, world):
    import re
    from datetime import timedelta

    from booking.sites.models import site_served_communes

    # The Mauriac cabin also serves Saint-Bonnet-de-Salers: it is near, not in the commune.
    session.execute(site_served_communes.insert().values(site_id=world.site_b.id, commune_insee=builders.COMMUNE_A))
    builders.make_slot(session, world.practitioner_b, world.site_b, NOW + timedelta(days=3))
    builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=3))
    session.commit()
    with time_machine.travel(NOW, tick=False):
        page = client.get("/recherche", query_string={"commune": "Saint-Bonnet-de-Salers", "insee": "15174"}
                          ).get_data(as_text=True)
    # Placed communes: one list by the drive, each card saying where it stands.
    cards = dict(re.findall(r'<h4><a href="/lieux/\d+">([^<]+)</a></h4>\s*<p>[^<]*</p>\s*<p class="trip">([^<]+)</p>',
                            page.replace("\u00a0", " ").replace("\u202f", " ")))
    assert cards[world.site_a.name] == "Dans votre commune"
    assert cards[world.site_b.name] == "À 16 km, environ 20 min"  # Saint-Bonnet to Mauriac, counted in test_positions
    assert page.index(world.site_a.name) < page.index(world.site_b.name)


def test_every_error_is_listed_at_the_top_with_a_link_to_its_field(client, auth, world):
    import re

    auth.login(world.agent_a.email)
    page = client.post("/accueil/patients/nouveau", data={
        "last_name": "Aymar", "first_name": "", "birth_date": "31/02/1944", "commune": "15174",
        "email": "marguerite@"}).get_data(as_text=True)
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S).group(0)
    assert "3\u00a0points à corriger" in summary or "3 points à corriger" in summary
    assert [link for link in re.findall(r'href="#([a-z_]+)"', summary)] == ["first_name", "birth_date", "email"]
    for field in ("first_name", "birth_date", "email"):
        assert f'id="{field}-error"' in page  # and each error under its field


def test_the_desk_keeps_the_chosen_slot_on_an_error_and_pages_to_later_dates(client, auth, session, world):
    from datetime import timedelta

    slots = [builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=2, hours=i + 1))
             for i in range(8)]
    session.commit()
    url = f"/accueil/patients/{world.patient_a.id}/reserver"
    with time_machine.travel(NOW, tick=False):
        auth.login(world.agent_a.email)
        first = client.get(url).get_data(as_text=True)
        assert f'value="{slots[0].id}"' in first and f'value="{slots[7].id}"' not in first
        later = client.get(f"{url}?apres={slots[5].starts_at:%Y%m%dT%H%M}").get_data(as_text=True)
        assert "Plus tard" in first and f"apres={slots[5].starts_at:%Y%m%dT%H%M}" in first
        assert f'value="{slots[5].id}"' not in later and f'value="{slots[7].id}"' in later
        refused = client.post(url, data={"slot_id": str(slots[3].id), "reason": "Renouvellement",
                                         "channel": "phone"})
        page = refused.get_data(as_text=True)
        assert refused.status_code == 422
        assert f'value="{slots[3].id}" checked' in page and "Renouvellement" in page
        assert 'id="consent-error"' in page and "Un point à corriger" in page
        assert '<option selected value="phone">' in page
        booked = client.post(url, data={"slot_id": str(slots[3].id), "consent": "y", "channel": "phone"})
        assert booked.status_code == 302
        assert session.scalar(select(Appointment.channel).where(Appointment.slot_id == slots[3].id)) == "phone"
        # The next booking starts from the way the desk worked last.
        assert '<option selected value="phone">' in client.get(url).get_data(as_text=True)


def test_a_relative_is_added_by_commune_name_and_the_holder_is_told_where_reminders_go(client, auth, session, world):
    from booking.patients.models import Patient

    world.resident_a.phone, world.resident_a.phone_verified_at = "+33600001234", NOW
    session.commit()
    auth.login(world.resident_a.email)
    form = client.get("/compte/proches/nouveau?next=/reserver/1").get_data(as_text=True)
    assert "code INSEE" not in form and "votre mobile (06 00 00 12 34)" in form.replace("\xa0", " ")
    data = {"proche-first_name": "Émile", "proche-last_name": "Lefèvre", "proche-birth_date": "03/02/1941",
            "proche-commune": "Saint-Bonnet-de-Salers", "proche-phone": "04 71 00 00 00"}
    refused = client.post("/compte/proches/nouveau?next=/reserver/1", data=data)
    assert refused.status_code == 422 and 'id="proche-phone-error"' in refused.get_data(as_text=True)
    assert session.scalar(select(Patient).where(Patient.first_name == "Émile")) is None  # nothing half-saved
    added = client.post("/compte/proches/nouveau?next=/reserver/1", data={**data, "proche-phone": ""})
    relative = session.scalar(select(Patient).where(Patient.first_name == "Émile"))
    assert added.headers["Location"] == f"/reserver/1?pour={relative.id}"
    assert relative.commune_insee == "15174" and relative.phone == "+33600001234" and relative.sms_consent
    account = client.get("/compte").get_data(as_text=True)
    assert "Émile Lefèvre — Ses rappels arrivent par SMS sur votre mobile" in account


def test_the_practitioner_agenda_shows_own_patients_reasons_and_video_links(client, auth, session, world):
    from datetime import timedelta

    rule = builders.make_rule(session, world.practitioner_a, world.site_a, modality="remote",
                              video_url="https://visio.example.test/dr-a")
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=1),
                              modality="remote", rule=rule)
    other = builders.make_patient(session, builders.COMMUNE_A, first_name="Odette", last_name="Vermenouze")
    builders.make_appointment(session, slot, other, reason="Renouvellement d’ordonnance")
    world.appointment_a.reason = "Douleur au genou"
    session.commit()
    with time_machine.travel(NOW, tick=False):
        auth.login(world.practitioner_user_a.email)
        page = client.get("/praticien/agenda").get_data(as_text=True)
        sheet = client.get(f"/gestion/sites/{world.site_a.id}/journee?jour={(NOW + timedelta(days=1)).date()}"
                           ).get_data(as_text=True)
    assert "Odette Vermenouze" in page and "Renouvellement d’ordonnance" in page
    assert world.patient_a.full_name in page and "Douleur au genou" in page
    assert page.count("https://visio.example.test/dr-a") == 1  # on the remote consultation only
    assert world.patient_b.full_name not in page  # another practitioner's patient
    assert '<span class="no-print"> · <a href="https://visio.example.test/dr-a"' in sheet
    with time_machine.travel(NOW + timedelta(days=2), tick=False):  # the consultation is over
        auth.logout()  # two days idle: the staff session has ended
        auth.login(world.practitioner_user_a.email)
        later = client.get(f"/praticien/agenda?semaine={NOW.date().isoformat()}").get_data(as_text=True)
    assert "Odette Vermenouze" in later and "Ouvrir la visioconsultation" not in later


def test_every_page_links_to_the_legal_privacy_and_accessibility_pages(client, app):
    home = client.get("/").get_data(as_text=True)
    for path, title in (("/mentions-legales", "Mentions légales"),
                        ("/donnees-personnelles", "Vos données personnelles"),
                        ("/accessibilite", "Déclaration d’accessibilité")):
        assert f'href="{path}"' in home
        page = client.get(path)
        assert page.status_code == 200 and title in page.get_data(as_text=True)
    assert "non conforme</a>" in home  # no audit yet: the law's word, said plainly
    privacy = client.get("/donnees-personnelles").get_data(as_text=True)
    assert "<td>30 jours</td>" in privacy and "<td>5 ans</td>" in privacy and "3 ans après" in privacy
    app.config.update(ACCESSIBILITY_AUDIT_RATE="72.5", ACCESSIBILITY_AUDIT_DATE="15 janvier 2027")
    audited = client.get("/accessibilite").get_data(as_text=True)
    assert "partiellement conforme" in audited and "72,5" in audited and "15 janvier 2027" in audited
    # What the RGAA's model statement requires, and the LCEN of the mentions légales.
    assert "RGAA), version 4.1.2" in audited and "RGAA 4.1 " not in audited
    for section in ("Dérogations pour charge disproportionnée", "Contenus non soumis à l’obligation d’accessibilité",
                    "Cette déclaration a été établie le 5 décembre 2026", 'href="/accessibilite/plan"'):
        assert section in audited, section
    plan = client.get("/accessibilite/plan").get_data(as_text=True)
    assert "Schéma pluriannuel" in plan and 'id="plan-annuel"' in plan
    app.config.update(LEGAL_PUBLISHER_PHONE="04 71 40 00 00", LEGAL_HOST="Hébergeur HDS SAS",
                      LEGAL_HOST_ADDRESS="1 rue des Serveurs, 63000 Clermont-Ferrand",
                      LEGAL_HOST_PHONE="04 73 00 00 00")
    legal = client.get("/mentions-legales").get_data(as_text=True)
    for shown in ("04 71 40 00 00", "Hébergeur HDS SAS", "1 rue des Serveurs, 63000 Clermont-Ferrand",
                  "04 73 00 00 00"):
        assert shown in legal.replace("\u00a0", " ").replace("\u202f", " "), shown


def test_the_desk_finds_a_patient_by_phone_number_however_it_is_typed(client, auth, session, world):
    from booking.auth.models import AuditEvent

    world.patient_a.phone = "+33612345678"
    daughter_calls = builders.make_patient(session, first_name="Lucienne", last_name="Roche",
                                           phone=None, phone_kind=None, caregiver_phone="+33698765432")
    overseas = builders.make_patient(session, first_name="Maryse", last_name="Célestin", phone="+590690123456")
    world.patient_b.phone = "+33612345678"  # the same number in commune B: not this desk's patient
    session.commit()
    with time_machine.travel(NOW, tick=False):
        auth.login(world.agent_a.email)
        found = {typed: client.get("/accueil", query_string={"last_name": typed}).get_data(as_text=True)
                 for typed in ("06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "0033612345678",
                               "06.98.76.54.32", "0690 12 34 56")}
        bad = client.get("/accueil", query_string={"last_name": "06 12 34"}).get_data(as_text=True)
        nobody = client.get("/accueil", query_string={"last_name": "07 81 23 45 67"}).get_data(as_text=True)
    for typed in ("06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "0033612345678"):
        assert f"/accueil/patients/{world.patient_a.id}/reserver" in found[typed], typed
        assert f"/accueil/patients/{world.patient_b.id}/reserver" not in found[typed], typed
    assert f"/accueil/patients/{daughter_calls.id}/reserver" in found["06.98.76.54.32"]
    assert f"/accueil/patients/{overseas.id}/reserver" in found["0690 12 34 56"]
    assert "0 patient trouvé" in nobody and "telephone=07" in nobody  # « Nouveau patient » keeps the number
    assert "Indiquez le nom" not in bad  # too few digits: read as a name, as before
    hits = session.scalars(select(AuditEvent.patient_id).where(AuditEvent.action == "patient.search_hit")).all()
    assert world.patient_b.id not in hits and world.patient_a.id in hits


def test_a_postal_address_is_given_at_the_desk_or_on_the_account_and_kept_as_given(client, auth, session, world):
    with time_machine.travel(NOW, tick=False):
        auth.login(world.resident_a.email)
        account = client.get("/compte").get_data(as_text=True)
        assert f"/personnes/{world.patient_a.id}/adresse" in account and "Ajouter une adresse postale" in account
        bad = client.post(f"/personnes/{world.patient_a.id}/adresse", data={"street": "Le Bourg", "postal_code": "151"})
        assert bad.status_code == 422 and "5 chiffres" in bad.get_data(as_text=True)
        assert 'id="postal_code-error"' in bad.get_data(as_text=True)  # the message sits by its field
        assert client.post(f"/personnes/{world.patient_a.id}/adresse",
                           data={"street": "Le Bourg", "postal_code": "15140"}).status_code == 302
        assert client.get(f"/personnes/{world.patient_b.id}/adresse").status_code == 404
        auth.logout()
        auth.login(world.agent_a.email)
        created = client.post("/accueil/patients/nouveau", data={
            "first_name": "Odette", "last_name": "Vernhes", "birth_date": "12/05/1936",
            "commune": "Saint-Bonnet-de-Salers", "street": "2 chemin des Prés", "postal_code": "15140"})
        assert created.status_code == 302
        record = client.get(f"/gestion/patients/{world.patient_a.id}").get_data(as_text=True)
        assert "Le Bourg, 15140 SAINT-BONNET-DE-SALERS" in record
    session.expire_all()
    assert (world.patient_a.street, world.patient_a.street_complement, world.patient_a.postal_code) == (
        "Le Bourg", None, "15140")
    odette = session.scalar(select(Patient).where(Patient.last_name == "Vernhes"))
    assert odette.postal_address == ["Odette Vernhes", "2 chemin des Prés", "15140 SAINT-BONNET-DE-SALERS"]
