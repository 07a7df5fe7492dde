"""The statistics of a commune: one computation, in SQL aggregates, that every view renders.

Counts are by appointment date (the slot's start) within the period, in the
commune's local time. Only aggregates leave this module; small counts are
suppressed by ``rules.suppress_release``, the whole release at once, before anything is shown or sent.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, distinct, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from booking.appointments.models import Appointment
from booking.auth.models import User
from booking.auth.permissions import Action, fetch
from booking.errors import InvalidInput
from booking.feedback.models import ALTERNATIVES, FeedbackAnswer
from booking.formatting import SITE_KIND_LABELS, month_label
from booking.geo.models import Commune, Epci
from booking.geo.rules import time_zone_for_departement
from booking.outgoing.keys import appointment_message_sql
from booking.patients.models import Patient
from booking.search.models import UnmetDemand
from booking.sites.access import site_ids_run_by
from booking.sites.models import Practitioner, Site, site_served_communes
from booking.sites.professions import PROFESSIONS
from booking.slots.models import Slot
from booking.stats.access import access_tables
from booking.stats.models import DelaySample
from booking.stats.reference import density_table
from booking.stats.rules import (
    AGE_BANDS,
    SECRET,
    Cell,
    Relation,
    Table,
    age_band_limits,
    month_bounds,
    nearest_rank,
    previous_months,
    rate,
    suppress_release,
)
from booking.stats.summary import summary_sentences
from booking.text import french_order
from booking.waitlist.models import WaitlistEntry
from booking.walkins.services import count_visits
from notifications.models import Notification

ACTIVE = ("booked", "attended", "no_show")
CHANNEL_LABELS = {"online": "En ligne", "reception": "À l’accueil de la mairie", "phone": "Par téléphone",
                  "sas": "Par le SAS (le 15)"}


def of(name: str) -> str:
    """« de Salers », « d’Aurillac »: French elides before a vowel or a mute h."""
    return f"d’{name}" if name[:1].lower() in "aeiouyhâéèêîôû" else f"de {name}"


@dataclass
class Area:
    """Whom the figures speak for: a commune (its sites and its EPCIs' sites), or an EPCI (the sites it runs)."""

    insee: str                 # the commune's INSEE code, or the EPCI's SIREN
    name: str
    departement_code: str
    commune_codes: set[str]    # whose residents' unanswered searches count
    kind: str = "commune"

    @classmethod
    def of_commune(cls, commune: Commune) -> "Area":
        return cls(commune.insee, commune.name, commune.departement_code, {commune.insee})

    @classmethod
    def of_epci(cls, epci: Epci) -> "Area":
        members = sorted(epci.members, key=lambda c: -(c.population or 0))
        return cls(epci.siren, epci.name, members[0].departement_code if members else "",
                   {c.insee for c in members}, "epci")


@dataclass
class Statistics:
    commune: Area
    start: date
    end: date  # exclusive
    site_id: int | None
    profession: str | None
    headline: dict = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def summary(self) -> list[str]:
        """Three sentences for the élus, above the figures."""
        place = ("au lieu de soins choisi" if self.site_id
                 else f"par les habitants {of(self.commune.name)}" if self.commune.kind == "residents"
                 else f"dans les lieux de soins de {self.commune.name}")
        return summary_sentences(self.headline, place, self.start, self.end)

    def as_dict(self) -> dict:
        return {"commune": {"insee": self.commune.insee, "name": self.commune.name},
                "period": {"from": self.start.isoformat(), "to": (self.end - timedelta(days=1)).isoformat()},
                "site_id": self.site_id, "profession": self.profession, "headline": self.headline,
                "tables": [t.as_dict() for t in self.tables]}


def _minutes(session: Session, start, end):
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 60
    return (func.julianday(end) - func.julianday(start)) * 1440


def local_midnight(day: date, zone: str) -> datetime:
    """The first instant of a local day, in UTC."""
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))


@dataclass
class _Scope:
    """What every figure of one computation filters on: the commune's sites, the period, the profession."""

    session: Session
    commune: Area
    sites: list[int]
    start: date
    end: date
    first: datetime  # the period's first local midnight, aware
    last: datetime   # the local midnight after the period, aware
    zone: str
    profession: str | None
    now: datetime
    threshold: int
    residents_of: str | None = None  # only the appointments of this commune's residents

    def slots(self, query):
        """Keep the rows of ``query`` whose slot is at these sites, in the period, for the profession."""
        query = query.where(Slot.site_id.in_(self.sites), Slot.starts_at >= self.first, Slot.starts_at < self.last)
        if self.profession:
            query = query.where(Slot.practitioner_id.in_(select(Practitioner.id).where(
                Practitioner.profession == self.profession)))
        return query

    def appointments(self, *columns):
        """Select ``columns`` over the appointments of the scope's slots (of one commune's residents, if so)."""
        query = self.slots(select(*columns).select_from(Appointment).join(Slot, Slot.id == Appointment.slot_id))
        if self.residents_of:
            query = query.where(Appointment.patient_id.in_(
                select(Patient.id).where(Patient.commune_insee == self.residents_of)))
        return query

    def for_profession(self, column) -> list:
        return [column == self.profession] if self.profession else []


def _offer(scope: _Scope) -> tuple[Table, dict]:
    """Slots published, blocked, hours of care and seats offered, by profession and kind of site."""
    minutes = _minutes(scope.session, Slot.starts_at, Slot.ends_at)
    rows = scope.session.execute(scope.slots(
        select(Practitioner.profession, Site.kind,
               func.count(Slot.id), func.sum(case((Slot.status == "blocked", 1), else_=0)),
               func.coalesce(func.sum(case((Slot.status == "open", minutes), else_=0)), 0),
               func.coalesce(func.sum(case((Slot.status == "open", Slot.capacity), else_=0)), 0))
        .select_from(Slot).join(Practitioner, Practitioner.id == Slot.practitioner_id)
        .join(Site, Site.id == Slot.site_id).where(Slot.status.in_(("open", "blocked"))))
        .group_by(Practitioner.profession, Site.kind).order_by(Practitioner.profession, Site.kind)).all()
    figures = {"offered": sum(r[2] for r in rows), "blocked": sum(r[3] for r in rows),
               "seats": sum(int(r[5]) for r in rows), "hours": round(sum(float(r[4]) for r in rows) / 60, 1)}
    table = Table("offer", "Offre de soins",
                  ["Profession", "Type de lieu", "Créneaux publiés", "Dont bloqués", "Heures de soins"],
                  [[PROFESSIONS.get(profession, profession), SITE_KIND_LABELS.get(kind, kind), slots, blocked,
                    round(float(minutes) / 60, 1)] for profession, kind, slots, blocked, minutes, _ in rows],
                  sensitive=False)
    return table, figures


SERVED_DEFINITION = ("Habitants desservis : population municipale des communes desservies par au moins un lieu "
                     "où cette profession a publié des créneaux sur la période (chaque commune comptée une fois).")


def _density(scope: _Scope, offer: Table) -> Table:
    """Hours of care offered per 1,000 inhabitants of the communes served by the sites offering each profession."""
    offering = scope.slots(select(Practitioner.profession, site_served_communes.c.commune_insee)
                           .select_from(Slot).join(Practitioner, Practitioner.id == Slot.practitioner_id)
                           .join(site_served_communes, site_served_communes.c.site_id == Slot.site_id)
                           .where(Slot.status == "open")).distinct().subquery()
    population = dict(scope.session.execute(
        select(offering.c.profession, func.coalesce(func.sum(Commune.population), 0))
        .join(Commune, Commune.insee == offering.c.commune_insee).group_by(offering.c.profession)).all())
    hours: dict[str, float] = {}
    for row in offer.rows:
        hours[row[0]] = hours.get(row[0], 0.0) + float(row[4] or 0)
    served = {PROFESSIONS.get(code, code): int(people) for code, people in population.items()}
    return Table("density", "Offre de soins pour 1 000 habitants des communes desservies",
                 ["Profession", "Heures de soins", "Habitants desservis", "Heures pour 1 000 habitants"],
                 [[profession, round(total, 1), served.get(profession, 0),
                   round(1000 * total / served[profession], 2) if served.get(profession) else None]
                  for profession, total in sorted(hours.items(), key=lambda item: french_order(item[0]))],
                 sensitive=False, note=SERVED_DEFINITION)


def _demand(scope: _Scope, tally: "_Tally") -> tuple[Table, dict]:
    """Bookings by channel, searches that found nothing, the waiting list."""
    by_channel = tally.by_channel()
    bookings = sum(by_channel.values())
    unmet = scope.session.scalar(select(func.count(UnmetDemand.id)).where(
        UnmetDemand.commune_insee.in_(scope.commune.commune_codes), UnmetDemand.searched_on >= scope.start,
        UnmetDemand.searched_on < scope.end, *scope.for_profession(UnmetDemand.profession)))
    waiting, waited_then_booked = scope.session.execute(
        select(func.count(WaitlistEntry.id), func.sum(case((WaitlistEntry.status == "booked", 1), else_=0)))
        .where(WaitlistEntry.site_id.in_(scope.sites), WaitlistEntry.created_at >= scope.first,
               WaitlistEntry.created_at < scope.last, *scope.for_profession(WaitlistEntry.profession))).one()
    table = Table("demand", "Demande", ["Indicateur", "Nombre"], [
        *[[f"Réservations — {CHANNEL_LABELS[c]}", by_channel.get(c, 0)] for c in CHANNEL_LABELS],
        ["Réservations — total", bookings],
        ["Recherches sans créneau libre à 30 jours (demande non satisfaite)", unmet],
        ["Inscriptions en liste d’attente", waiting],
        ["… dont ont obtenu un rendez-vous", int(waited_then_booked or 0)],
        ["Visites sans rendez-vous (permanences)",
         count_visits(scope.session, scope.sites, scope.first, scope.last, scope.profession)],
    ])
    return table, {"bookings": bookings, "unmet": unmet}


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


@dataclass
class _Tally:
    """The scope's appointments counted in one pass, by booking channel and by reminder channel: the demand,
    the outcomes, the seats taken and the reminders' effect each read these sums (they were one scan each)."""

    rows: list

    def total(self, name: str) -> int:
        return sum(int(getattr(row, name) or 0) for row in self.rows)

    def by_channel(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.channel] = counts.get(row.channel, 0) + int(row.appointments or 0)
        return counts

    def by_reminder_channel(self) -> dict[str, tuple[int, int]]:
        """(came, absent) per way the patient was reminded."""
        counts: dict[str, tuple[int, int]] = {}
        for row in self.rows:
            if row.reminder_channel is not None:
                came, absent = counts.get(row.reminder_channel, (0, 0))
                counts[row.reminder_channel] = (came + int(row.attended or 0), absent + int(row.no_show or 0))
        return counts


def _tally(scope: _Scope, with_reminders: bool) -> _Tally:
    past = Slot.starts_at < scope.now
    by_patient, late = Appointment.cancel_reason == "patient", Appointment.cancelled_late
    cancelled, booked = Appointment.status == "cancelled", Appointment.status == "booked"
    attended, no_show = Appointment.status == "attended", Appointment.status == "no_show"
    columns = {
        "appointments": func.count(Appointment.id), "attended": _count(attended), "no_show": _count(no_show),
        "unrecorded": _count(and_(booked, past)), "upcoming": _count(and_(booked, ~past)),
        "patient_in_time": _count(and_(cancelled, by_patient, ~late)),
        "patient_late": _count(and_(cancelled, by_patient, late)),
        "site_in_time": _count(and_(cancelled, ~by_patient, ~late)),
        "site_late": _count(and_(cancelled, ~by_patient, late)),
        # Seats, not people: the occupancy of open slots.
        "seats_taken": _count(and_(Appointment.status.in_(ACTIVE), Slot.status == "open")),
    }
    if with_reminders:
        reminder_key = appointment_message_sql(Appointment.id, "reminder")
        delivered = exists().where(Notification.dedupe_key == reminder_key, Notification.status == "delivered")
        any_sent = exists().where(Notification.dedupe_key == reminder_key,
                                  Notification.status.in_(("sent", "delivered", "undelivered", "failed")))
        columns |= {"reminded_came": _count(and_(delivered, attended)),
                    "reminded_absent": _count(and_(delivered, no_show)),
                    "unreminded_came": _count(and_(~any_sent, attended)),
                    "unreminded_absent": _count(and_(~any_sent, no_show))}
    return _Tally(scope.session.execute(
        scope.appointments(Appointment.channel, Appointment.reminder_channel,
                           *[column.label(name) for name, column in columns.items()])
        .group_by(Appointment.channel, Appointment.reminder_channel)).all())


def _occupancy(tally: _Tally, seats_offered: int) -> float | None:
    """Seats taken on open slots ÷ seats offered, in % (seats, not people)."""
    return round(100 * tally.total("seats_taken") / seats_offered, 1) if seats_offered else None


def _outcome(scope: _Scope, tally: _Tally) -> tuple[Table, dict]:
    """What became of the appointments: came, absent, not recorded, to come, cancelled (by whom, how late)."""
    (attended, no_show, unrecorded, upcoming, patient_in_time, patient_late, site_in_time,
     site_late) = (tally.total(name) for name in ("attended", "no_show", "unrecorded", "upcoming", "patient_in_time",
                                                  "patient_late", "site_in_time", "site_late"))
    cancelled_total = patient_in_time + patient_late + site_in_time + site_late
    table = Table("outcome", "Issue des rendez-vous", [
        "", "Venus", "Absents", "Non renseignés", "À venir", "Annulés par le patient (à l’avance)",
        "Annulés par le patient (moins de 24 h avant)", "Annulés par le praticien ou le lieu (à l’avance)",
        "Annulés par le praticien ou le lieu (moins de 24 h avant)", "Total"],
        [["Nombre", attended, no_show, unrecorded, upcoming, patient_in_time, patient_late, site_in_time, site_late,
          attended + no_show + unrecorded + upcoming + cancelled_total]], additive=True)
    figures = {"attended": attended, "no_show": no_show, "unrecorded": unrecorded, "cancelled": cancelled_total,
               "no_show_rate": rate(no_show, attended + no_show, scope.threshold)}
    return table, figures


def _lead_times(scope: _Scope, by_profession: bool = False) -> dict:
    """Days from booking to appointment: median and 90th percentile (nearest rank, computed in SQL), and with
    ``by_profession`` each profession's median from the same pass."""
    lead = (_minutes(scope.session, Appointment.created_at, Slot.starts_at) / 60).label("lead")
    columns = [lead, func.row_number().over(order_by=lead).label("rank"), func.count().over().label("n")]
    if by_profession:
        columns += [Practitioner.profession,
                    func.row_number().over(partition_by=Practitioner.profession, order_by=lead).label("own_rank"),
                    func.count().over(partition_by=Practitioner.profession).label("own_n")]
    query = scope.appointments(*columns).where(Appointment.status != "cancelled")
    if by_profession:
        query = query.join(Practitioner, Practitioner.id == Slot.practitioner_id)
    ranked = query.subquery()
    wanted = [ranked.c.rank == (ranked.c.n * 50 + 99) // 100, ranked.c.rank == (ranked.c.n * 90 + 99) // 100]
    if by_profession:
        wanted.append(ranked.c.own_rank == (ranked.c.own_n * 50 + 99) // 100)
    rows = scope.session.execute(select(ranked).where(or_(*wanted))).all()
    n = rows[0].n if rows else 0
    hours_by_rank = {row.rank: float(row.lead) for row in rows}

    def days(hours: float, count: int) -> float | None:
        return round(hours / 24, 1) if count >= scope.threshold else None

    figures = {"lead_median_days": days(hours_by_rank.get(nearest_rank(n, 50), 0), n),
               "lead_p90_days": days(hours_by_rank.get(nearest_rank(n, 90), 0), n)}
    if by_profession:
        figures["lead_median_days_by_profession"] = {
            row.profession: days(float(row.lead), row.own_n) for row in rows
            if row.own_rank == nearest_rank(row.own_n, 50)}
    return figures


def _delays(scope: _Scope, lead_times: dict) -> Table:
    """Lead times beside the daily samples of the delay to the next free slot, by profession."""
    samples = scope.session.execute(
        select(DelaySample.profession, func.avg(DelaySample.days), func.count(DelaySample.id),
               func.sum(case((DelaySample.days.is_(None), 1), else_=0)))
        .where(DelaySample.site_id.in_(scope.sites), DelaySample.day >= scope.start, DelaySample.day < scope.end,
               *scope.for_profession(DelaySample.profession))
        .group_by(DelaySample.profession).order_by(DelaySample.profession)).all()
    by_profession = lead_times["lead_median_days_by_profession"]
    return Table("delays", "Délais", ["Indicateur", "Jours"], [
        ["Délai entre la réservation et le rendez-vous — médiane", lead_times["lead_median_days"]],
        *[[f"Délai entre la réservation et le rendez-vous — médiane — {PROFESSIONS.get(p, p)}", by_profession[p]]
          for p in sorted(by_profession)],
        ["Délai entre la réservation et le rendez-vous — 90 % des patients en moins de", lead_times["lead_p90_days"]],
        *[[f"Délai moyen jusqu’au prochain créneau libre — {PROFESSIONS.get(p, p)} ({count} relevés"
           f"{f', dont {none} sans créneau' if none else ''})", round(float(avg), 1) if avg is not None else None]
          for p, avg, count, none in samples],
    ])


def _reach(scope: _Scope) -> tuple[list[Table], dict]:
    """Who came: from which commune, how old, new or back, and how many per 1,000 inhabitants served."""
    session, threshold = scope.session, scope.threshold
    patients = scope.appointments(Appointment.patient_id).where(Appointment.status.in_(ACTIVE)).subquery()
    seen = Patient.id.in_(select(patients.c.patient_id))
    served = select(site_served_communes.c.commune_insee).where(site_served_communes.c.site_id.in_(scope.sites))
    per_commune = session.execute(
        scope.appointments(Commune.name, Commune.population, func.count(Appointment.id))
        .join(Patient, Patient.id == Appointment.patient_id).join(Commune, Commune.insee == Patient.commune_insee)
        .where(Appointment.status.in_(ACTIVE), Commune.insee.in_(served))
        .group_by(Commune.name, Commune.population).order_by(Commune.name)).all()
    limits = age_band_limits(scope.start)
    band = case((Patient.birth_date.is_(None), 4), (Patient.birth_date > limits[0], 0),
                (Patient.birth_date > limits[1], 1), (Patient.birth_date > limits[2], 2), else_=3)
    # A patient is back when they had come to these sites before the period: one indexed probe per patient
    # seen, which stops at the first earlier visit (a minimum over all their visits read every one).
    earlier_slot = aliased(Slot)
    came_before = (select(Appointment.id).join(earlier_slot, earlier_slot.id == Appointment.slot_id)
                   .where(Appointment.patient_id == Patient.id, Appointment.status.in_(ACTIVE),
                          earlier_slot.site_id.in_(scope.sites), earlier_slot.starts_at < scope.first).exists())
    # Each patient seen once, with their commune, age band and whether they came back, counted in one pass by
    # (commune, band, back): the residence, age and loyalty tables are sums of these few rows.
    seen_patients = select(Patient.commune_insee, band.label("band"),
                           case((came_before, 1), else_=0).label("back")).where(seen).subquery()
    groups = session.execute(
        select(Commune.name, Commune.population, seen_patients.c.band, seen_patients.c.back, func.count())
        .select_from(seen_patients).join(Commune, Commune.insee == seen_patients.c.commune_insee, isouter=True)
        .group_by(Commune.name, Commune.population, seen_patients.c.band, seen_patients.c.back)).all()
    by_residence: dict[tuple, int] = {}
    by_band: dict[int, int] = {}
    back = 0
    for name, population, age_band, came_back, count in groups:
        by_residence[name, population] = by_residence.get((name, population), 0) + count
        by_band[age_band] = by_band.get(age_band, 0) + count
        back += count if came_back else 0
    residence = sorted(((name, count) for (name, _), count in by_residence.items()),
                       key=lambda item: (-item[1], item[0] is None, item[0] or ""))
    new = sum(by_band.values()) - back
    tables = [
        Table("residence", "Patients par commune de résidence", ["Commune", "Patients"],
              [[name or "Commune non renseignée", count] for name, count in residence]),
        Table("age", "Patients par âge", ["", *AGE_BANDS, "Total"],
              [["Patients", *[int(by_band.get(i, 0)) for i in range(5)], int(sum(by_band.values()))]],
              additive=True),
        Table("loyalty", "Nouveaux patients et patients revenus", ["", "Nouveaux", "Revenus", "Total"],
              [["Patients", new, back, new + back]], additive=True),
        Table("reach", "Rendez-vous pour 1 000 habitants des communes desservies",
              ["Commune", "Rendez-vous", "Pour 1 000 habitants"],
              [[name, count, round(1000 * count / population, 1) if population and count >= threshold else None]
               for name, population, count in per_commune], derived=(2,)),
    ]
    return tables, {"patients": new + back}


def _reminders(scope: _Scope, tally: _Tally) -> Table:
    """No-show rate with a delivered SMS reminder, and without any reminder sent."""
    reminded_came, reminded_absent, unreminded_came, unreminded_absent = (tally.total(name) for name in (
        "reminded_came", "reminded_absent", "unreminded_came", "unreminded_absent"))
    threshold = scope.threshold
    return Table("reminders", "Effet des rappels par SMS", ["", "Venus", "Absents", "Taux d’absence (%)"], [
        ["Rappel reçu", reminded_came, reminded_absent,
         rate(reminded_absent, reminded_came + reminded_absent, threshold)],
        ["Sans rappel", unreminded_came, unreminded_absent,
         rate(unreminded_absent, unreminded_came + unreminded_absent, threshold)],
    ], derived=(3,))


REMINDER_CHANNELS = {"sms": "SMS au patient", "voice": "Appel automatique sur le fixe",
                     "caregiver": "SMS à l’aidant(e)", "email": "E-mail", "desk": "Appel de l’accueil de la mairie",
                     "none": "Aucun rappel"}


def _reminder_channels(scope: _Scope, tally: _Tally) -> Table:
    """No-show rate by how the patient was reminded: do calls to landlines and caregivers pay?"""
    rows = tally.by_reminder_channel()
    table_rows = []
    for channel, label in REMINDER_CHANNELS.items():
        came, absent = rows.get(channel, (0, 0))
        table_rows.append([label, came, absent, rate(absent, came + absent, scope.threshold)])
    return Table("reminder_channels", "Absences selon le moyen de rappel",
                 ["Moyen de rappel", "Venus", "Absents", "Taux d’absence (%)"], table_rows, derived=(3,))


def _unscheduled_care(scope: _Scope) -> Table:
    """Unscheduled care for the SAS: SNP slots offered, appointments the SAS made (on any slot), those residents
    took on SNP slots once released, and the no-shows on SNP slots."""
    snp = Slot.visibility == "snp"
    offered = scope.session.scalar(scope.slots(select(func.count(Slot.id)).where(snp, Slot.status == "open")))
    by_sas, by_residents, absent = scope.session.execute(scope.appointments(
        _count(Appointment.channel == "sas"),
        _count(and_(snp, Appointment.channel != "sas")),
        _count(and_(snp, Appointment.status == "no_show")))
        .where(Appointment.status != "cancelled")).one()
    return Table("unscheduled_care", "Soins non programmés (SAS)",
                 ["", "Créneaux réservés au SAS proposés", "Rendez-vous pris par le SAS",
                  "Pris par les habitants après ouverture", "Absences sur ces créneaux"],
                 [["Soins non programmés", offered or 0, int(by_sas or 0), int(by_residents or 0), int(absent or 0)]],
                 note="Créneaux « soins non programmés » : réservés aux régulateurs du SAS (le 15) jusqu’à quelques "
                      "heures avant, puis ouverts à tous. Les rendez-vous pris par le SAS comptent aussi ceux pris "
                      "sur des créneaux ouverts à tous.")


def _feedback(scope: _Scope) -> list[Table]:
    """What residents answered after attended consultations: usefulness, and what they would have done."""
    query = select(FeedbackAnswer.useful, FeedbackAnswer.alternative).where(
        FeedbackAnswer.site_id.in_(scope.sites), FeedbackAnswer.consulted_on >= scope.start,
        FeedbackAnswer.consulted_on < scope.end, *scope.for_profession(FeedbackAnswer.profession))
    answers = scope.session.execute(query).all()
    count = len(answers)
    mean = round(sum(useful for useful, _ in answers) / count, 1) if count >= scope.threshold else None
    # One additive row: a hidden count can never be recovered from the total and the others.
    return [Table("feedback", "Avis des patients après la consultation", ["Indicateur", "Valeur"],
                  [["Réponses", count], ["Utilité moyenne (sur 5)", mean]]),
            Table("feedback_alternatives", "Sans cette consultation, les patients auraient…",
                  ["", *ALTERNATIVES.values(), "Total"],
                  [["Réponses", *[sum(1 for _, a in answers if a == key) for key in ALTERNATIVES], count]],
                  additive=True)]


def compute(session: Session, commune_insee: str, start: date, end: date, now: datetime, *,
            site_id: int | None = None, profession: str | None = None, threshold: int = 5,
            headline_only: bool = False, epci_siren: str | None = None) -> Statistics:
    """Compute every figure of a commune's sites for [start, end) (local days).

    ``headline_only`` stops once the key figures are known (the monthly report's comparisons need no more).
    """
    if epci_siren:
        epci = fetch(session, Epci, epci_siren, "Intercommunalité inconnue.")
        area = Area.of_epci(epci)
        run_by = select(Site.id).where(Site.operator_epci_siren == epci.siren)
    else:
        commune = fetch(session, Commune, commune_insee, "Commune inconnue.")
        area = Area.of_commune(commune)
        run_by = site_ids_run_by({commune.insee})
        if not session.scalar(select(func.count()).select_from(run_by.subquery())):
            # A commune without a site of its own: its residents' visits to the sites that serve it.
            area.kind = "residents"
            run_by = select(site_served_communes.c.site_id).where(
                site_served_communes.c.commune_insee == commune.insee)
    if end <= start or (end - start).days > 3 * 366:
        raise InvalidInput("Choisissez une période de trois ans au plus, dont la fin suit le début.")
    if profession and profession not in PROFESSIONS:
        raise InvalidInput("Profession inconnue.")
    zone = time_zone_for_departement(area.departement_code)
    # The handful of site ids, resolved first: every query below then filters on known values.
    sites = list(session.scalars(run_by))
    if site_id is not None:
        sites = [site_id] if site_id in sites else []
    scope = _Scope(session, area, sites, start, end, local_midnight(start, zone), local_midnight(end, zone), zone,
                   profession, now, threshold, area.insee if area.kind == "residents" else None)
    stats = Statistics(area, start, end, site_id, profession)

    offer, figures = _offer(scope)
    tally = _tally(scope, with_reminders=not headline_only)
    demand, demand_figures = _demand(scope, tally)
    outcome, outcome_figures = _outcome(scope, tally)
    if headline_only:
        stats.tables += [offer, demand, outcome]
    else:
        reference = density_table(session, area.commune_codes)
        stats.tables += [offer, _density(scope, offer), *([reference] if reference else []), demand, outcome]
    figures |= demand_figures | outcome_figures | _lead_times(scope, by_profession=not headline_only)
    figures["occupancy"] = _occupancy(tally, figures["seats"])
    if headline_only:
        return _finish(stats, figures, threshold)
    reach, reach_figures = _reach(scope)
    figures |= reach_figures
    stats.tables += [_delays(scope, figures), *reach, _reminders(scope, tally),
                     _reminder_channels(scope, tally), _unscheduled_care(scope), *_feedback(scope),
                     *access_tables(session, area.commune_codes, profession, now, scope.first, scope.last),
                     _trend(session, sites, profession, end, zone, scope.residents_of),
                     _delay_trend(session, sites, profession, end)]
    return _compared(session, _finish(stats, figures, threshold), threshold)


def _compared(session: Session, stats: Statistics, threshold: int) -> Statistics:
    """Add, for a commune and a whole month, its figures beside the medians of comparable communes."""
    from booking.stats.comparisons import comparison_table

    if stats.commune.kind == "commune" and stats.site_id is None and stats.profession is None:
        table = comparison_table(session, session.get(Commune, stats.commune.insee), stats.start, stats.end,
                                 stats.headline, threshold)
        if table is not None:
            stats.tables.insert(0, table)
    return stats


def _finish(stats: Statistics, raw: dict, threshold: int) -> Statistics:
    """Set the key figures, then suppress small counts across the whole release (key figures included)."""
    headline = {
        "Rendez-vous pris": raw["bookings"], "Taux d’occupation (%)": raw["occupancy"],
        "Taux d’absence (%)": raw["no_show_rate"], "Délai médian (jours)": raw["lead_median_days"],
        "Demandes non satisfaites": raw["unmet"],
    }
    key_figures = Table("headline", "Chiffres clés", ["", *headline], [["", *headline.values()]])
    *tables, key_figures = suppress_release([*stats.tables, key_figures], release_relations(stats, key_figures),
                                            threshold)
    stats.tables = tables
    stats.headline = dict(zip(headline, key_figures.rows[0][1:], strict=True))
    outcome = next((table for table in tables if table.key == "outcome"), None)
    if outcome is not None and any(isinstance(value, str) for value in outcome.rows[0][1:3]):
        stats.headline["Taux d’absence (%)"] = SECRET  # the rate and those who came would give back the absent
    return stats


def release_relations(stats: Statistics, key_figures: Table) -> list[Relation]:
    """What a reader of the release knows that ties its figures together, beyond each additive row.

    The same total is shown in several tables (bookings: the key figures, the demand, the outcome; patients:
    residence, age, loyalty); the demand's channels add up to its total; the reminders' channels add up to those
    who came and those who were absent; the twelve-month trend repeats the period's months; feedback answers are
    counted twice; a month's appointments are often exactly those who came and those who did not; the reminded
    and the unreminded often add up to the outcome. ``suppress_release`` keeps those that hold on the figures.
    """
    tables = {table.key: table for table in [*stats.tables, key_figures]}

    def cell(key: str, row, column) -> Cell | None:
        table = tables.get(key)
        if table is None:
            return None
        r = row if isinstance(row, int) else next((i for i, cells in enumerate(table.rows)
                                                  if str(cells[0]) == row), None)
        c = column if isinstance(column, int) else (table.columns.index(column) if column in table.columns
                                                   else None)
        return Cell(key, r, c) if r is not None and c is not None and r < len(table.rows) else None

    def equal(left: list, right: list) -> Relation | None:
        """Σ left = Σ right, when every cell is there."""
        if not left or not right or None in left or None in right:
            return None
        relation: Relation = {}
        for one in left:
            relation[one] = relation.get(one, 0) + 1
        for one in right:
            relation[one] = relation.get(one, 0) - 1
        return relation

    bookings = cell("demand", "Réservations — total", 1)
    outcome = {name: cell("outcome", 0, name) for name in ("Venus", "Absents", "Non renseignés", "À venir", "Total")}
    patients = [cell("age", 0, "Total"), cell("loyalty", 0, "Total")]
    residence = [cell("residence", r, 1) for r in range(len(tables["residence"].rows))] if "residence" in tables \
        else []
    channels = tables.get("reminder_channels")
    reminded = [[cell("reminder_channels", r, column) for r in range(len(channels.rows))] if channels else []
                for column in ("Venus", "Absents")]
    months = _months_of(stats.start, stats.end)
    trend = [r for r, row in enumerate(tables["trend"].rows) if row[0] in months] if "trend" in tables else []
    relations = [
        equal([cell("demand", f"Réservations — {label}", 1) for label in CHANNEL_LABELS.values()], [bookings]),
        equal([cell("headline", 0, "Rendez-vous pris")], [bookings]),
        equal([cell("unscheduled_care", 0, "Rendez-vous pris par le SAS")],
              [cell("demand", f"Réservations — {CHANNEL_LABELS['sas']}", 1)]),
        equal([cell("headline", 0, "Demandes non satisfaites")],
              [cell("demand", "Recherches sans créneau libre à 30 jours (demande non satisfaite)", 1)]),
        equal([outcome["Total"]], [bookings]),
        equal([patients[0]], [patients[1]]),
        equal(residence, [patients[0]]),
        equal(reminded[0], [outcome["Venus"]]),
        equal(reminded[1], [outcome["Absents"]]),
        equal([cell("feedback", "Réponses", 1)], [cell("feedback_alternatives", 0, "Total")]),
        *[equal([cell("reminders", r, column) for r in range(2)], [outcome[column]]) if "reminders" in tables
          else None for column in ("Venus", "Absents")],
        *[equal([cell("trend", r, "Rendez-vous")], [cell("trend", r, "Venus"), cell("trend", r, "Absents")])
          for r in range(len(tables["trend"].rows) if "trend" in tables else 0)],
        equal([cell("trend", r, "Venus") for r in trend], [outcome["Venus"]]),
        equal([cell("trend", r, "Absents") for r in trend], [outcome["Absents"]]),
        equal([cell("trend", r, "Rendez-vous") for r in trend],
              [outcome[name] for name in ("Venus", "Absents", "Non renseignés", "À venir")]),
    ]
    return [relation for relation in relations if relation]


def _months_of(start: date, end: date) -> set[str]:
    last = end - timedelta(days=1)
    count = (last.year - start.year) * 12 + last.month - start.month + 1
    return {month_label(year, month) for year, month in previous_months(last.year, last.month, count)}


def _delay_trend(session: Session, sites, profession: str | None, end: date) -> Table:
    """The average delay to the next free slot, month by month over a year (from the daily samples)."""
    last = end - timedelta(days=1)
    months = previous_months(last.year, last.month, 12)
    first = date(*months[0], 1)
    query = (select(DelaySample.day, DelaySample.days)
             .where(DelaySample.site_id.in_(sites), DelaySample.day >= first, DelaySample.day < end))
    if profession:
        query = query.where(DelaySample.profession == profession)
    by_month: dict[tuple[int, int], list[float]] = {}
    for day, days in session.execute(query):
        if days is not None:
            by_month.setdefault((day.year, day.month), []).append(float(days))
    return Table("delay_trend", "Délai jusqu’au prochain créneau libre sur douze mois",
                 ["Mois", "Délai moyen (jours)", "Relevés"],
                 [[month_label(y, m), round(sum(v) / len(v), 1) if (v := by_month.get((y, m))) else None,
                   len(by_month.get((y, m), []))] for y, m in months], sensitive=False)


def _trend(session: Session, sites, profession: str | None, end: date, zone: str,
           residents_of: str | None = None) -> Table:
    last = end - timedelta(days=1)
    months = previous_months(last.year, last.month, 12)
    bounds = [month_bounds(y, m, zone) for y, m in months]
    bucket = case(*[(and_(Slot.starts_at >= a, Slot.starts_at < b), i) for i, (a, b) in enumerate(bounds)], else_=-1)
    query = (select(bucket, func.count(distinct(Slot.id)),
                    func.count(distinct(case((Appointment.status.in_(ACTIVE), Appointment.id)))),
                    func.count(distinct(case((Appointment.status == "attended", Appointment.id)))),
                    func.count(distinct(case((Appointment.status == "no_show", Appointment.id)))))
             .select_from(Slot).join(Appointment, and_(
                 Appointment.slot_id == Slot.id,
                 *([Appointment.patient_id.in_(select(Patient.id).where(Patient.commune_insee == residents_of))]
                   if residents_of else [])), isouter=True)
             .where(Slot.site_id.in_(sites), Slot.status.in_(("open", "blocked")), Slot.starts_at >= bounds[0][0],
                    Slot.starts_at < bounds[-1][1]).group_by(bucket))
    if profession:
        query = query.where(Slot.practitioner_id.in_(
            select(Practitioner.id).where(Practitioner.profession == profession)))
    by_month = {row[0]: row[1:] for row in session.execute(query)}
    return Table("trend", "Évolution sur douze mois", ["Mois", "Créneaux publiés", "Rendez-vous", "Venus", "Absents"],
                 [[month_label(y, m), *[int(v) for v in by_month.get(i, (0, 0, 0, 0))]]
                  for i, (y, m) in enumerate(months)])


def statistics_for(session: Session, user: User, commune_insee: str, start: date, end: date, now: datetime,
                   **filters) -> Statistics:
    """Check that the user may read the commune's (or, with ``epci_siren``, the EPCI's) figures, then compute them."""
    if filters.get("epci_siren"):
        fetch(session, Epci, filters["epci_siren"], "Intercommunalité inconnue.", user, Action.READ_STATS)
        return compute(session, None, start, end, now, **filters)
    commune = fetch(session, Commune, (commune_insee or "").upper(), "Commune inconnue.", user, Action.READ_STATS)
    return compute(session, commune.insee, start, end, now, **filters)


def sample_next_slot_delays(session: Session, now: datetime) -> int:
    """Record, for every site and profession, how many days until the next free slot (the daily series)."""
    from booking.slots.models import bookable

    today = now.date()
    pairs = session.execute(select(Slot.site_id, Practitioner.profession).join(
        Practitioner, Practitioner.id == Slot.practitioner_id).where(Slot.starts_at > now - timedelta(days=90))
        .distinct()).all()
    recorded = 0
    for site_id, profession in pairs:
        if session.scalar(select(DelaySample.id).where(DelaySample.day == today, DelaySample.site_id == site_id,
                                                       DelaySample.profession == profession)):
            continue
        first = session.scalar(select(func.min(Slot.starts_at)).join(
            Practitioner, Practitioner.id == Slot.practitioner_id)
            .where(Slot.site_id == site_id, Practitioner.profession == profession, bookable(now)))
        days = round((first - now).total_seconds() / 86400, 1) if first else None
        session.add(DelaySample(day=today, site_id=site_id, profession=profession, days=days))
        recorded += 1
    session.flush()
    return recorded
