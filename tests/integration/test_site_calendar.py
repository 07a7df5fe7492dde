"""A site's calendar binds its slots: public holidays, closures, opening hours."""

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import select

from booking.appointments.models import Appointment
from booking.appointments.queries import booked_on_closed_days
from booking.closures.services import cancel_for_closure, close_site, open_on_holiday, reopen
from booking.database import unit_of_work
from booking.errors import Forbidden, InvalidInput, NotFound
from booking.sites.calendar import public_holidays, set_opening_hours
from booking.slots.models import Slot
from booking.slots.services import RuleInput, extend_horizon, publish_rule
from notifications.models import Notification
from tests import builders

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # a Tuesday; Christmas is a Friday


def _friday_rule(**changes) -> dict:
    return {"rrule": "FREQ=WEEKLY;BYDAY=FR", "start_date": date(2026, 12, 4), "start_time": time(9),
            "end_time": time(10), "slot_minutes": 30, **changes}


def _publish(session, world, actor=None, **changes):
    with unit_of_work(session):
        return publish_rule(session, actor or world.practitioner_user_a, world.practitioner_a.id,
                            RuleInput(site_id=world.site_a.id, **_friday_rule(**changes)), NOW)


def _local_days(session, site) -> set[date]:
    from zoneinfo import ZoneInfo

    return {s.starts_at.astimezone(ZoneInfo("Europe/Paris")).date()
            for s in session.scalars(select(Slot).where(Slot.site_id == site.id, Slot.status == "open"))}


def test_the_holidays_of_each_departement_come_from_the_maintained_list():
    winter = (date(2026, 12, 20), date(2027, 1, 1))
    assert set(public_holidays("15", *winter)) == {date(2026, 12, 25), date(2027, 1, 1)}
    assert date(2026, 12, 26) in public_holidays("67", *winter)  # Saint-Étienne in Alsace
    assert date(2026, 12, 26) in public_holidays("57", *winter)  # and in Moselle
    assert date(2026, 12, 20) in public_holidays("974", *winter)  # abolition of slavery, La Réunion
    assert date(2027, 5, 27) in public_holidays("971", date(2027, 5, 1), date(2027, 5, 31))  # Guadeloupe
    assert public_holidays("15", *winter)[date(2026, 12, 25)] == "Noël"


def test_no_slot_is_published_on_a_public_holiday_unless_the_site_opens_that_day(session, world):
    _publish(session, world)
    days = _local_days(session, world.site_a)
    assert date(2026, 12, 18) in days and date(2026, 12, 25) not in days and date(2027, 1, 1) not in days
    with unit_of_work(session):
        created = open_on_holiday(session, world.commune_admin_a, world.site_a.id, date(2026, 12, 25), NOW)
    assert created == 2 and date(2026, 12, 25) in _local_days(session, world.site_a)


def test_the_nightly_job_withdraws_free_slots_of_a_newly_known_holiday_and_lists_booked_ones(session, world):
    christmas = datetime(2026, 12, 25, 9, 0, tzinfo=UTC)
    free = builders.make_slot(session, world.practitioner_a, world.site_a, christmas)
    taken = builders.make_slot(session, world.practitioner_a, world.site_a, christmas + timedelta(hours=1))
    booked = builders.make_appointment(session, taken, world.patient_a)
    session.commit()
    extend_horizon(session, NOW)
    assert session.get(Slot, free.id) is None  # withdrawn (no history points at it)
    assert session.get(Slot, taken.id).status == "open"  # never cancelled silently…
    assert [a.id for a in booked_on_closed_days(session, [world.site_a], NOW)] == [booked.id]  # …but listed


def test_opening_hours_bind_the_rules_of_a_staffed_site(session, world):
    with unit_of_work(session):
        set_opening_hours(session, world.commune_admin_a, world.site_a.id, "opening_hours", False,
                          {1: [(time(9), time(12))], 3: [(time(9), time(12)), (time(14), time(17))]})
    with pytest.raises(InvalidInput) as refused:
        _publish(session, world, rrule="FREQ=WEEKLY;BYDAY=SA,SU", start_date=date(2026, 12, 5),
                 start_time=time(20), end_time=time(22))
    assert "fermé le samedi" in refused.value.message and refused.value.field == "start_time"
    with pytest.raises(InvalidInput) as refused:
        _publish(session, world, rrule="FREQ=WEEKLY;BYDAY=TH", start_date=date(2026, 12, 3),
                 start_time=time(11), end_time=time(15))
    assert "jeudi que de 9 h à 12 h et de 14 h à 17 h" in refused.value.message
    session.rollback()
    result = _publish(session, world, rrule="FREQ=WEEKLY;BYDAY=TH", start_date=date(2026, 12, 3),
                      start_time=time(14), end_time=time(16))
    assert result.created > 0
    with unit_of_work(session):  # a room with its own key: practitioners publish when they like
        set_opening_hours(session, world.commune_admin_a, world.site_a.id, "any_time", False, {})
    assert _publish(session, world, rrule="FREQ=WEEKLY;BYDAY=SA", start_date=date(2026, 12, 5),
                    start_time=time(20), end_time=time(21)).created > 0


def test_a_closure_withdraws_free_slots_then_cancels_bookings_only_when_confirmed(session, world):
    _publish(session, world)
    slots = list(session.scalars(select(Slot).where(Slot.site_id == world.site_a.id,
                                                    Slot.starts_at >= datetime(2026, 12, 11, tzinfo=UTC),
                                                    Slot.starts_at < datetime(2026, 12, 12, tzinfo=UTC))
                                 .order_by(Slot.starts_at)))
    by_sms = builders.make_appointment(session, slots[0], world.patient_a)
    landline = builders.make_patient(session, first_name="Odette", phone="+33471401234", phone_kind="landline",
                                     sms_consent=False)
    by_phone = builders.make_appointment(session, slots[1], landline)
    session.commit()
    with unit_of_work(session):
        result = close_site(session, world.commune_admin_a, world.site_a.id, date(2026, 12, 11), date(2026, 12, 11),
                            "elections", NOW)
    assert {a.id for a in result.booked} == {by_sms.id, by_phone.id}
    assert session.get(Appointment, by_sms.id).status == "booked"  # nothing cancelled yet
    assert date(2026, 12, 18) in _local_days(session, world.site_a)  # other Fridays untouched
    with unit_of_work(session):
        done = cancel_for_closure(session, world.commune_admin_a, result.closure.id, NOW)
    assert [a.id for a in done.told_in_writing] == [by_sms.id] and [a.id for a in done.to_call] == [by_phone.id]
    assert session.get(Appointment, by_phone.id).status == "cancelled"
    told = session.scalar(select(Notification).where(Notification.dedupe_key.like(f"appointment:{by_sms.id}:cancel%")))
    assert told is not None and "annulé par le lieu" in told.body
    with unit_of_work(session):
        assert reopen(session, world.commune_admin_a, result.closure.id, NOW) == 0  # the two seats stay blocked


def test_who_may_close_a_site(session, world):
    with pytest.raises(Forbidden):
        close_site(session, world.agent_a, world.site_a.id, date(2026, 12, 11), date(2026, 12, 11), "works", NOW)
    session.rollback()
    world.site_a.agents_may_close = True
    session.commit()
    with unit_of_work(session):
        close_site(session, world.agent_a, world.site_a.id, date(2026, 12, 11), date(2026, 12, 11), "works", NOW)
    with pytest.raises(NotFound):  # another commune's referent does not even see the site
        close_site(session, world.commune_admin_b, world.site_a.id, date(2026, 12, 12), date(2026, 12, 12),
                   "works", NOW)


def test_the_calendar_pages_as_the_referent_and_the_public_see_them(client, auth, session, world):
    _publish(session, world)
    with time_machine.travel(NOW, tick=False):
        auth.login(world.commune_admin_a.email)
        saved = client.post(f"/gestion/sites/{world.site_a.id}/horaires", data={
            "schedule_mode": "opening_hours", "friday": "9h-12h", "tuesday": "de 9 h à 12 h et de 14 h à 17 h"})
        assert saved.status_code == 302
        refused = client.post(f"/gestion/sites/{world.site_a.id}/horaires", data={
            "schedule_mode": "opening_hours", "monday": "matin"})
        assert refused.status_code == 422 and 'id="monday-error"' in refused.get_data(as_text=True)
        closed = client.post(f"/gestion/sites/{world.site_a.id}/fermetures", data={
            "first_day": "11/12/2026", "last_day": "11/12/2026", "reason": "elections", "room_id": ""})
        assert closed.status_code == 302
        closure_page = client.get(closed.headers["Location"]).get_data(as_text=True)
        assert "Aucun rendez-vous" in closure_page
        calendar = client.get(f"/gestion/sites/{world.site_a.id}/calendrier").get_data(as_text=True)
        assert "Noël" in calendar and "élections" in calendar
        public = client.get(f"/lieux/{world.site_a.id}").get_data(as_text=True).replace("\u202f", " ")
    assert "Vendredi de 9 h à 12 h" in public and "Mardi de 9 h à 12 h et de 14 h à 17 h" in public
    assert "vendredi 11 décembre 2026 (élections)" in public
    assert "vendredi 25 décembre 2026 (jour férié" in public


def test_the_desk_counts_walk_in_visits_of_a_permanence_without_a_name(client, auth, session, world):
    from booking.stats.services import compute
    from booking.walkins.models import WalkInVisit

    world.site_a.drop_in_only = True
    session.commit()
    at_desk = NOW + timedelta(hours=2)  # 11:00 in Saint-Bonnet
    with time_machine.travel(at_desk, tick=False):
        auth.login(world.agent_a.email)
        sheet = client.get(f"/gestion/sites/{world.site_a.id}/journee").get_data(as_text=True)
        assert "Visites sans rendez-vous (0)" in sheet and 'value="11:00"' in sheet
        for at, commune in (("09:15", "Salers"), ("09:40", "")):
            client.post(f"/gestion/sites/{world.site_a.id}/visites",
                        data={"at": at, "profession": "sage_femme", "commune": commune})
        later = client.post(f"/gestion/sites/{world.site_a.id}/visites",
                            data={"at": "11:30", "profession": "sage_femme", "commune": ""}, follow_redirects=True)
        assert "l’heure est à venir" in later.get_data(as_text=True)
        sheet = client.get(f"/gestion/sites/{world.site_a.id}/journee").get_data(as_text=True)
    assert "Visites sans rendez-vous (2)" in sheet
    visits = list(session.scalars(select(WalkInVisit).order_by(WalkInVisit.visited_at)))
    assert [v.commune_insee for v in visits] == ["15219", None]
    assert {column.name for column in WalkInVisit.__table__.columns}.isdisjoint({"name", "last_name", "birth_date"})
    with time_machine.travel(at_desk, tick=False):
        stats = compute(session, builders.COMMUNE_A, date(2026, 12, 1), date(2027, 1, 1), at_desk)
    assert ["Visites sans rendez-vous (permanences)", "< 5"] in stats.table("demand").rows
    with time_machine.travel(at_desk, tick=False):
        stats = compute(session, builders.COMMUNE_A, date(2026, 12, 1), date(2027, 1, 1), at_desk, threshold=1)
    assert ["Visites sans rendez-vous (permanences)", 2] in stats.table("demand").rows


def test_the_mairie_runs_a_practitioners_days_only_while_the_practitioner_allows_it(client, auth, session, world):
    from booking.auth.models import AuditEvent
    from booking.slots.models import AvailabilityRule

    other_site = builders.make_site(session, builders.COMMUNE_B, name="Cabine voisine", postal_code="15200")
    builders.make_slot(session, world.practitioner_a, other_site, datetime(2026, 12, 18, 14, 0, tzinfo=UTC))
    from booking.sites.models import SitePractitioner

    session.add(SitePractitioner(site=other_site, practitioner=world.practitioner_a, status="accepted"))
    session.commit()
    page = f"/gestion/sites/{world.site_a.id}/praticiens/{world.practitioner_a.id}/disponibilites"
    form = {"site_id": str(world.site_a.id), "frequency": "weekly", "days": ["FR"], "start_date": "04/12/2026",
            "start_time": "09:00", "end_time": "10:00", "slot_minutes": "30", "buffer_minutes": "0", "capacity": "1",
            "modality": "on_site", "room_id": "0", "opens_days_ahead": "60", "closes_hours_before": "2",
            "position": "1"}
    with time_machine.travel(NOW, tick=False):
        auth.logout()
        auth.login(world.agent_a.email)
        assert client.get(page).status_code == 403  # not allowed yet
        auth.logout()
        auth.login(world.practitioner_user_a.email)
        client.post(f"/praticien/delegation/{world.site_a.id}", data={"accord": "1"})
        auth.logout()
        auth.login(world.agent_a.email)
        assert client.get(page).status_code == 200
        published = client.post(page, data=form)
        assert published.status_code == 302, re.findall(r"<li>(.*?)</li>", published.get_data(as_text=True))[:3]
        rule = session.scalar(select(AvailabilityRule).where(
            AvailabilityRule.practitioner_id == world.practitioner_a.id))
        assert rule.site_id == world.site_a.id and date(2026, 12, 11) in _local_days(session, world.site_a)
        blocked = client.post(f"/gestion/sites/{world.site_a.id}/praticiens/{world.practitioner_a.id}/indisponibilites",
                              data={"first_day": "18/12/2026", "last_day": "18/12/2026"})
        assert blocked.status_code == 302
        statuses = {s.site_id: s.status for s in session.scalars(select(Slot).where(
            Slot.starts_at >= datetime(2026, 12, 18, tzinfo=UTC),
            Slot.starts_at < datetime(2026, 12, 19, tzinfo=UTC)))}
        assert statuses == {world.site_a.id: "blocked", other_site.id: "open"}  # only this site's days
        auth.logout()
        auth.login(world.agent_b.email)  # another commune's desk sees nothing of it
        assert client.get(page).status_code == 404
        auth.logout()
        auth.login(world.practitioner_user_a.email)
        client.post(f"/praticien/delegation/{world.site_a.id}", data={"accord": "0"})
        auth.logout()
        auth.login(world.agent_a.email)
        assert client.get(page).status_code == 403
    audited = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.user_id == world.agent_a.id))]
    assert "rule.publish" in audited and "slots.block" in audited


def test_a_teleconsultation_needing_an_assistant_is_bookable_only_on_her_days(session, world):
    from booking.slots.models import bookable, why_not_bookable
    from booking.slots.rota import put_on_duty, take_off_duty

    world.site_a.requires_assistant = True
    session.commit()
    _publish(session, world, modality="remote", video_url="https://visio.example.test/a")
    free = select(Slot.starts_at).where(Slot.site_id == world.site_a.id, bookable(NOW))
    assert list(session.scalars(free)) == []  # published, but nobody to receive the patients yet
    waiting = session.scalars(select(Slot).where(Slot.site_id == world.site_a.id, Slot.modality == "remote")).first()
    assert "assistante" in why_not_bookable(waiting, NOW)
    with unit_of_work(session):
        assert put_on_duty(session, world.agent_a, world.site_a.id, date(2026, 12, 11), date(2026, 12, 11),
                           "Maryse", NOW) == 1
    days = {slot.date() for slot in session.scalars(free)}
    assert days == {date(2026, 12, 11)}
    with unit_of_work(session):
        take_off_duty(session, world.agent_a, world.site_a.id, date(2026, 12, 11), NOW)
    assert list(session.scalars(free)) == []
    with unit_of_work(session):  # a rule published on a day already staffed is bookable at once
        put_on_duty(session, world.agent_a, world.site_a.id, date(2026, 12, 14), date(2026, 12, 14), "Maryse", NOW)
        publish_rule(session, world.practitioner_user_a, world.practitioner_a.id, RuleInput(
            site_id=world.site_a.id, rrule="FREQ=WEEKLY;BYDAY=MO", start_date=date(2026, 12, 7),
            start_time=time(14), end_time=time(15), slot_minutes=30, modality="remote",
            video_url="https://visio.example.test/a"), NOW)
    assert {slot.date() for slot in session.scalars(free)} == {date(2026, 12, 14)}


def test_the_referent_sees_the_equipment_a_practitioner_needs_before_accepting(client, auth, session, world):
    from booking.errors import Conflict
    from booking.sites.models import SitePractitioner
    from booking.sites.services import link_practitioner

    newcomer = builders.make_practitioner(session, [], last_name="Fabre", needed_equipment=["otoscope", "ecg"])
    world.site_a.equipment = ["otoscope"]
    session.commit()
    with pytest.raises(Conflict) as refused:
        link_practitioner(session, world.commune_admin_a, world.site_a.id, newcomer.id, NOW)
    assert "Électrocardiographe (ECG)" in refused.value.message and "Otoscope" not in refused.value.message
    session.rollback()
    with time_machine.travel(NOW, tick=False):
        auth.login(world.commune_admin_a.email)
        page = client.get(f"/gestion/sites/{world.site_a.id}?praticien=Fabre").get_data(as_text=True)
        assert "Il manque à ce lieu" in page and "Accepter quand même" in page
        client.post(f"/gestion/sites/{world.site_a.id}/praticiens/{newcomer.id}/accepter",
                    data={"malgre_equipement": "1"})
    assert session.get(SitePractitioner, (world.site_a.id, newcomer.id)).status == "accepted"


def test_the_administrator_adds_a_profession_offered_at_once_everywhere(client, auth, session, world):
    from booking.sites.models import Profession

    try:
        auth.login(world.agent_a.email)
        assert client.get("/admin/professions").status_code == 403
        auth.logout()
        auth.login(world.admin.email)
        listed = client.get("/admin/professions").get_data(as_text=True)
        for label in ("Allergologue", "Orthoptiste", "pratique avancée", "Diététicien", "Psychologue",
                      "Orthophoniste"):
            assert label in listed
        refused = client.post("/admin/professions", data={"label": "Podologue", "code": "Pédicure podologue"})
        assert refused.status_code == 422 and 'id="code-error"' in refused.get_data(as_text=True)
        added = client.post("/admin/professions", data={"label": "Pédicure-podologue", "code": "podologue"})
        assert added.status_code == 302
        assert client.post("/admin/professions", data={"label": "Autre", "code": "podologue"}).status_code == 409
        search = client.get("/recherche").get_data(as_text=True)
        assert '<option value="podologue">Pédicure-podologue</option>' in search
        practitioner = builders.make_practitioner(session, [world.site_a], profession="podologue")
        session.commit()
        assert practitioner.profession == "podologue"
    finally:  # reference data outlives a test: leave the list as the migration made it
        session.rollback()
        from booking.sites.models import Practitioner

        session.execute(Practitioner.__table__.delete().where(Practitioner.profession == "podologue"))
        session.execute(Profession.__table__.delete().where(Profession.code == "podologue"))
        session.commit()


def test_an_unknown_profession_is_refused_by_the_database(session, world):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        builders.make_practitioner(session, [], profession="sorcier")
    session.rollback()


def test_every_list_of_appointments_says_one_cancelled_by_a_closure_is_cancelled(client, auth, session, world):
    from booking.appointments.services import cancel

    reference, day = world.appointment_a.reference, world.slot_a.starts_at.date().isoformat()
    still = builders.make_appointment(session, builders.make_slot(session, world.practitioner_a, world.site_a,
                                                                  NOW + timedelta(days=5)), world.patient_a)
    session.commit()
    cancelled_label = "annulé par le lieu (fermeture)"

    def line_of(page: str, ref: str) -> str:
        start = page.index(ref)
        return page[page.rfind("<li", 0, start) if "<li" in page[:start] else page.rfind("<tr", 0, start):
                    page.find("</li>" if "<li" in page[:start] else "</tr>", start)]

    with time_machine.travel(NOW, tick=False):
        with unit_of_work(session):
            cancel(session, world.appointment_a, world.agent_a, "site", NOW)
        auth.login(world.agent_a.email)
        pages = {"patient": client.get(f"/gestion/patients/{world.patient_a.id}").get_data(as_text=True),
                 "desk booking": client.get(f"/accueil/patients/{world.patient_a.id}/reserver").get_data(as_text=True),
                 "day sheet": client.get(f"/gestion/sites/{world.site_a.id}/journee?jour={day}").get_data(as_text=True)}
        auth.logout()
        auth.login(world.resident_a.email)
        pages["account"] = client.get("/compte").get_data(as_text=True)
    for name, page in pages.items():
        assert reference in page, name
        assert cancelled_label in line_of(page, reference) and "à venir" not in line_of(page, reference), name
        if name != "day sheet":
            assert "à venir" in line_of(page, still.reference), name
    assert "Ses rendez-vous à venir" in pages["desk booking"]
    # Nothing to do on a cancelled appointment: no cancel, move or calendar link, no attendance button.
    assert f"/compte/rendez-vous/{world.appointment_a.id}/annuler" not in pages["account"]
    assert f"/rendez-vous/{world.appointment_a.id}/presence" not in pages["day sheet"]


@pytest.mark.parametrize("insee, zone, postal_code, before, after", [
    # La Réunion (UTC+4): 20 December, abolition of slavery; 23:30 on the eve is still an ordinary day.
    ("97411", "Indian/Reunion", "97400", datetime(2027, 12, 19, 19, 30, tzinfo=UTC),
     datetime(2027, 12, 19, 20, 30, tzinfo=UTC)),
    # Guadeloupe (UTC−4): 27 May; 00:30 local is 04:30 UTC, and 23:30 on the 26th is already the 27th in UTC.
    ("97105", "America/Guadeloupe", "97100", datetime(2027, 5, 27, 3, 30, tzinfo=UTC),
     datetime(2027, 5, 27, 4, 30, tzinfo=UTC)),
])
def test_an_overseas_holiday_is_the_sites_own_local_day(session, world, insee, zone, postal_code, before, after):
    from booking.slots.services import slots_on_closed_days

    site = builders.make_site(session, insee, name="Cabine d’outre-mer", postal_code=postal_code, time_zone=zone)
    practitioner = builders.make_practitioner(session, [site])
    eve = builders.make_slot(session, practitioner, site, before)
    holiday = builders.make_slot(session, practitioner, site, after)
    session.commit()
    closed = slots_on_closed_days(session, site, before - timedelta(days=1), after + timedelta(days=1))
    assert [slot.id for slot in closed] == [holiday.id] and eve.id not in [slot.id for slot in closed]


def test_a_practitioner_in_guadeloupe_reads_days_on_guadeloupe_time(client, auth, session, world):
    """Sunday 7 March 2027, 22:00 in Guadeloupe, is already Monday 8 March (03:00) in Paris."""
    site = builders.make_site(session, "97105", name="Cabine de Basse-Terre", postal_code="97100",
                              time_zone="America/Guadeloupe")
    user = builders.make_user(session, "practitioner")
    practitioner = builders.make_practitioner(session, [site], user=user)
    saturday_night = builders.make_slot(session, practitioner, site, datetime(2027, 3, 7, 2, tzinfo=UTC))
    sunday_night = builders.make_slot(session, practitioner, site, datetime(2027, 3, 8, 2, tzinfo=UTC))
    session.commit()
    with time_machine.travel(NOW, tick=False):
        found = client.get(f"/api/v1/slots?practitioner_id={practitioner.id}&from=2027-03-07&to=2027-03-07")
    assert [item["id"] for item in found.get_json()["items"]] == [sunday_night.id]
    assert saturday_night.id not in [item["id"] for item in found.get_json()["items"]]
    with time_machine.travel(datetime(2027, 3, 8, 2, tzinfo=UTC), tick=False):
        auth.login(user.email)
        agenda = client.get("/praticien/agenda").get_data(as_text=True)
        new_rule = client.get("/praticien/disponibilites/nouvelle").get_data(as_text=True)
    assert "semaine du lundi 1er mars 2027" in agenda.replace("\u00a0", " ")
    assert 'value="07/03/2027"' in new_rule
