"""Slot use cases: publish and edit rules, materialize slots, block days, read the agenda."""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from booking.auth.models import User
from booking.auth.permissions import Action, fetch, is_admin, is_resident, require
from booking.auth.services import record_audit
from booking.errors import Conflict, Forbidden, InvalidInput, NotFound
from booking.extensions import db
from booking.formatting import format_moment
from booking.reactions import SLOTS_PUBLISHED, announce
from booking.sites.calendar import outside_hours, site_calendar
from booking.sites.models import Practitioner, Site
from booking.sites.services import delegation, get_practitioner_for
from booking.slots import rules
from booking.slots.models import MODALITIES, VISIBILITIES, AvailabilityRule, Slot, bookable
from booking.slots.rota import awaits_assistant, duty_days

log = logging.getLogger(__name__)
DEFAULT_HORIZON_DAYS = 90
EXTEND_BATCH = 200
LIVE = ("open", "blocked")


class SlotConflict(Conflict):
    code = "slot_conflict"


@dataclass
class RuleInput:
    site_id: int
    rrule: str
    start_date: date
    start_time: time
    end_time: time
    slot_minutes: int = 20
    buffer_minutes: int = 0
    capacity: int = 1
    modality: str = "on_site"
    until: date | None = None
    count: int | None = None
    room_id: int | None = None
    video_url: str | None = None
    opens_days_ahead: int = 60
    closes_hours_before: int = 2
    visibility: str = "public"
    snp_release_hours: int | None = None


@dataclass
class RuleResult:
    rule: AvailabilityRule
    created: int = 0
    removed: int = 0
    # Booked slots that the new rule no longer covers: the practitioner decides.
    booked_outside: list[Slot] = field(default_factory=list)


def _validate(data: RuleInput, site: Site, now: datetime, published_start: date | None = None) -> str:
    rrule = rules.validate_rrule(data.rrule)
    # A rhythm that has run for more than a year may still be edited: its start is kept.
    rules.check_rule_dates(data.start_date, data.until, now.date(), start_kept=data.start_date == published_start)
    rules.day_slot_starts(data.start_time, data.end_time, data.slot_minutes, data.buffer_minutes)
    if data.modality not in MODALITIES:
        raise InvalidInput("Modalité inconnue : sur place ou à distance.")
    if not 5 <= data.slot_minutes <= 240:
        raise InvalidInput("Un créneau dure entre 5 et 240 minutes.")
    if not 0 <= data.buffer_minutes <= 120:
        raise InvalidInput("La pause entre deux créneaux dure au plus 120 minutes.")
    if not 1 <= data.capacity <= 20:
        raise InvalidInput("La capacité d’un créneau va de 1 à 20 personnes.")
    if data.until is not None and data.until < data.start_date:
        raise InvalidInput("La date de fin précède la date de début.")
    if data.count is not None and not 1 <= data.count <= 1000:
        raise InvalidInput("Le nombre d’occurrences va de 1 à 1 000.")
    if not 0 <= data.opens_days_ahead <= 365 or not 0 <= data.closes_hours_before <= 24 * 14:
        raise InvalidInput("La fenêtre de réservation est hors des bornes permises.")
    _check_audience_and_video(data)
    if site.drop_in_only:
        raise InvalidInput("Ce lieu reçoit sans rendez-vous : on n’y publie pas de créneaux.")
    if not site.rooms:
        raise InvalidInput("Ce lieu n’a pas de salle : le référent de la commune doit en déclarer une.")
    if data.room_id is not None and data.room_id not in {room.id for room in site.rooms}:
        raise InvalidInput("Cette salle n’appartient pas à ce lieu.")
    if site.schedule_mode == "opening_hours":
        for weekday in rules.rule_weekdays(rrule, data.start_date):
            refused = outside_hours(site.hours, weekday, data.start_time, data.end_time)
            if refused:
                raise InvalidInput(f"{refused} Publiez vos créneaux pendant les horaires d’ouverture, ou demandez "
                                   f"au référent de la commune de les changer.", field="start_time")
    return rrule


def _check_audience(visibility: str, release_hours: int | None) -> None:
    if visibility not in VISIBILITIES:
        raise InvalidInput("Choisissez qui peut réserver ces créneaux.", field="visibility")
    if visibility == "snp" and not (release_hours is not None and 0 <= release_hours <= 48):
        raise InvalidInput("Indiquez combien d’heures avant le créneau il s’ouvre à tous (de 0 à 48).",
                           field="snp_release_hours")


def _check_audience_and_video(data: RuleInput) -> None:
    _check_audience(data.visibility, data.snp_release_hours)
    if data.video_url and not data.video_url.startswith("https://"):
        raise InvalidInput("Le lien de visioconsultation doit commencer par https://.")
    if data.video_url and len(data.video_url) > 500:
        raise InvalidInput("Le lien de visioconsultation est trop long.")
    if data.modality == "remote" and not data.video_url:
        raise InvalidInput("Une consultation à distance demande le lien de votre outil de visioconsultation.")


def _check_publisher(session: Session, actor: User, practitioner: Practitioner, site: Site) -> None:
    if delegation(session, actor, practitioner, site) is not None:
        return  # the mairie runs this practitioner's days here, as the practitioner allowed
    require(actor, Action.PUBLISH, site)
    if not is_admin(actor) and practitioner.user_id != actor.id:
        raise Forbidden("Vous ne publiez que vos propres disponibilités.")
    from booking.sites.models import SitePractitioner

    link = session.get(SitePractitioner, (site.id, practitioner.id))
    if link is None or link.status != "accepted":
        raise Forbidden("Ce praticien n’est pas accepté sur ce lieu de soins.")


def _apply(rule: AvailabilityRule, data: RuleInput, rrule: str) -> None:
    rule.rrule, rule.start_date, rule.until, rule.count = rrule, data.start_date, data.until, data.count
    rule.start_time, rule.end_time = data.start_time, data.end_time
    rule.slot_minutes, rule.buffer_minutes, rule.capacity = data.slot_minutes, data.buffer_minutes, data.capacity
    rule.modality, rule.room_id = data.modality, data.room_id
    rule.video_url = data.video_url if data.modality == "remote" else None
    rule.opens_days_ahead, rule.closes_hours_before = data.opens_days_ahead, data.closes_hours_before
    rule.visibility = data.visibility
    rule.snp_release_hours = data.snp_release_hours if data.visibility == "snp" else None


def _day_keys(start: datetime, end: datetime) -> set[date]:
    return {start.date(), end.date()}


class _Occupancy:
    """Live slots around a time span, indexed by UTC day, to find overlaps quickly."""

    def __init__(self, slots: list[Slot]):
        self._by_day: dict[date, list[Slot]] = defaultdict(list)
        for slot in slots:
            self.add(slot)

    def add(self, slot: Slot) -> None:
        for day in _day_keys(slot.starts_at, slot.ends_at):
            self._by_day[day].append(slot)

    def overlapping(self, start: datetime, end: datetime):
        seen = set()
        for day in _day_keys(start, end):
            for slot in self._by_day.get(day, ()):
                if id(slot) not in seen and slot.starts_at < end and slot.ends_at > start:
                    seen.add(id(slot))
                    yield slot


def _describe(slot: Slot) -> str:
    return format_moment(slot.starts_at, slot.site.time_zone)


def _materialize(session: Session, rule: AvailabilityRule, times: list[rules.SlotTime], *,
                 skip_conflicts: bool) -> int:
    """Create the slots of ``times`` that do not exist yet, each in a free room; return how many."""
    if not times:
        return 0
    site = rule.site
    rooms = [room for room in site.rooms if rule.room_id in (None, room.id)]
    room_ids = [room.id for room in site.rooms]
    window_start, window_end = times[0].starts_at, times[-1].ends_at
    around = list(session.scalars(
        select(Slot).options(selectinload(Slot.site), selectinload(Slot.practitioner), selectinload(Slot.room))
        .where(Slot.status.in_(LIVE), Slot.starts_at < window_end, Slot.ends_at > window_start,
               or_(Slot.practitioner_id == rule.practitioner_id, Slot.room_id.in_(room_ids)))
    ))
    zone = ZoneInfo(site.time_zone)
    first_day, last_day = window_start.astimezone(zone).date(), window_end.astimezone(zone).date()
    calendar = site_calendar(session, site, first_day, last_day)
    on_duty = duty_days(session, site, first_day, last_day) if site.requires_assistant else set()
    own_starts = {slot.starts_at for slot in around if slot.practitioner_id == rule.practitioner_id}
    mine = _Occupancy([slot for slot in around if slot.practitioner_id == rule.practitioner_id])
    by_room = {room.id: _Occupancy([slot for slot in around if slot.room_id == room.id]) for room in rooms}
    created = 0
    for slot_time in times:
        if slot_time.starts_at in own_starts:
            continue  # already there: materializing twice changes nothing
        day = slot_time.starts_at.astimezone(zone).date()
        if calendar.why_closed(day):
            continue  # a public holiday or a closure: no slot that day
        clash = next(mine.overlapping(slot_time.starts_at, slot_time.ends_at), None)
        if clash is not None:
            if clash.rule_id == rule.id or skip_conflicts:
                continue  # a kept booking of this very rule, or a clash reported by the daily job
            raise SlotConflict(f"Conflit : vous consultez déjà à {clash.site.name} le {_describe(clash)}.")
        open_rooms = [room for room in rooms if not calendar.why_closed(day, room.id)]
        if not open_rooms:
            continue  # the rule's room is closed that day
        room = next((room for room in open_rooms if next(by_room[room.id].overlapping(
            slot_time.starts_at, slot_time.ends_at), None) is None), None)
        if room is None:
            if skip_conflicts:
                continue
            taken = next(by_room[rooms[0].id].overlapping(slot_time.starts_at, slot_time.ends_at))
            where = f"la salle « {rooms[0].name} » est" if len(rooms) == 1 else "toutes les salles sont"
            raise SlotConflict(f"Conflit : {where} déjà occupée{'s' if len(rooms) > 1 else ''} à {site.name} le "
                               f"{_describe(taken)} ({taken.practitioner.full_name}).")
        slot = Slot(rule_id=rule.id, practitioner_id=rule.practitioner_id, site_id=site.id, room_id=room.id,
                    starts_at=slot_time.starts_at, ends_at=slot_time.ends_at, modality=rule.modality,
                    capacity=rule.capacity, status="open", **booking_window(rule, slot_time.starts_at),
                    **audience(rule.visibility, rule.snp_release_hours, slot_time.starts_at),
                    awaiting_assistant=awaits_assistant(site, rule.modality, day, on_duty))
        slot.site, slot.room, slot.practitioner = site, room, rule.practitioner
        session.add(slot)
        mine.add(slot)
        by_room[room.id].add(slot)
        created += 1
    session.flush()
    return created


def booking_window(rule: AvailabilityRule, starts_at: datetime) -> dict:
    """Return when a slot of this rule opens for booking and when booking closes."""
    return {"opens_at": starts_at - timedelta(days=rule.opens_days_ahead),
            "closes_at": starts_at - timedelta(hours=rule.closes_hours_before)}


def audience(visibility: str, release_hours: int | None, starts_at: datetime) -> dict:
    """Who may take a slot, and when an SNP slot nobody from the SAS took goes public."""
    released = starts_at - timedelta(hours=release_hours or 0) if visibility == "snp" else None
    return {"visibility": visibility, "released_at": released}


def _times(rule: AvailabilityRule, start: datetime, end: datetime) -> list[rules.SlotTime]:
    return rules.expand(rule.rrule, rule.start_date, rule.start_time, rule.end_time, rule.slot_minutes,
                        rule.site.time_zone, buffer_minutes=rule.buffer_minutes, until=rule.until,
                        count=rule.count, window_start=start, window_end=end)


def _materialize_or_conflict(session: Session, rule: AvailabilityRule, times: list[rules.SlotTime]) -> int:
    try:
        return _materialize(session, rule, times, skip_conflicts=False)
    except IntegrityError:
        # PostgreSQL's exclusion constraints caught a concurrent publication.
        raise SlotConflict("Conflit : un autre créneau vient d’être publié sur ces horaires. "
                           "Rechargez l’agenda et réessayez.") from None


def publish_rule(session: Session, actor: User, practitioner_id: int, data: RuleInput, now: datetime,
                 horizon_days: int = DEFAULT_HORIZON_DAYS) -> RuleResult:
    """Publish an availability rule and create its slots up to the horizon."""
    practitioner = fetch(session, Practitioner, practitioner_id, "Praticien introuvable.")
    site = fetch(session, Site, data.site_id, "Lieu de soins introuvable.")
    if delegation(session, actor, practitioner, site) is None:
        require(actor, Action.PUBLISH, practitioner)
    _check_publisher(session, actor, practitioner, site)
    rrule = _validate(data, site, now)
    rule = AvailabilityRule(practitioner=practitioner, site=site, created_at=now, updated_at=now)
    _apply(rule, data, rrule)
    session.add(rule)
    session.flush()
    created = _materialize_or_conflict(session, rule, _times(rule, now, now + timedelta(days=horizon_days)))
    _audit_if_delegated(session, actor, practitioner, "rule.publish", rule.id, now, site_id=site.id)
    announce(session, SLOTS_PUBLISHED, site_id=site.id, now=now)  # new slots may serve people waiting
    return RuleResult(rule, created=created)


def _get_rule_for(session: Session, actor: User, rule_id: int) -> AvailabilityRule:
    rule = session.get(AvailabilityRule, rule_id)
    if rule is None or not rule.active:
        raise NotFound("Cette règle de disponibilité n’existe pas.")
    if delegation(session, actor, rule.practitioner, rule.site) is None:
        require(actor, Action.PUBLISH, rule.practitioner)
    return rule


def _audit_if_delegated(session: Session, actor: User, practitioner: Practitioner, action: str, object_id: int,
                        now: datetime, **details) -> None:
    """What the mairie does in a practitioner's name is written down, for the practitioner to read."""
    if actor.id != practitioner.user_id and not is_admin(actor):
        record_audit(session, user=actor, action=action, object_type="practitioner", object_id=practitioner.id,
                     details={"by_delegation": True, "id": object_id, **details}, now=now)


def _withdraw_free(session: Session, slots: list[Slot]) -> int:
    """Take free slots out of the offer: delete them, or keep them withdrawn when history points at them."""
    if not slots:
        return 0
    ids = [slot.id for slot in slots]
    # The appointments table, named rather than imported: appointments sit above slots.
    appointments = db.metadata.tables["appointments"]
    with_history = set(session.scalars(select(appointments.c.slot_id).where(appointments.c.slot_id.in_(ids))))
    for slot in slots:
        if slot.id in with_history:
            slot.status = "withdrawn"
        else:
            session.delete(slot)
    session.flush()
    return len(slots)


def update_rule(session: Session, actor: User, rule_id: int, data: RuleInput, now: datetime,
                horizon_days: int = DEFAULT_HORIZON_DAYS) -> RuleResult:
    """Change a rule: free slots follow it, booked slots stay and those it no longer covers are reported."""
    rule = _get_rule_for(session, actor, rule_id)
    if data.site_id != rule.site_id:
        raise InvalidInput("Une règle reste attachée à son lieu : supprimez-la et publiez-en une autre.")
    rrule = _validate(data, rule.site, now, published_start=rule.start_date)
    _apply(rule, data, rrule)
    rule.updated_at = now
    wanted = {(t.starts_at, t.ends_at) for t in _times(rule, now, now + timedelta(days=horizon_days))}
    future = list(session.scalars(select(Slot).where(Slot.rule_id == rule.id, Slot.starts_at > now,
                                                     Slot.status.in_(LIVE))))
    stale_free = [s for s in future if s.booked_count == 0 and (s.starts_at, s.ends_at) not in wanted]
    booked_outside = [s for s in future if s.booked_count > 0 and (s.starts_at, s.ends_at) not in wanted]
    for slot in future:
        if (slot.starts_at, slot.ends_at) in wanted:
            slot.capacity = max(rule.capacity, slot.booked_count)
            slot.modality = rule.modality
            slot.opens_at, slot.closes_at = booking_window(rule, slot.starts_at).values()
            if slot.booked_count == 0:  # a booked slot keeps the audience it was taken under
                slot.visibility, slot.released_at = audience(rule.visibility, rule.snp_release_hours,
                                                             slot.starts_at).values()
    removed = _withdraw_free(session, stale_free)
    created = _materialize_or_conflict(session, rule, sorted(_times(rule, now, now + timedelta(days=horizon_days)),
                                                             key=lambda t: t.starts_at))
    _audit_if_delegated(session, actor, rule.practitioner, "rule.update", rule.id, now, site_id=rule.site_id)
    return RuleResult(rule, created=created, removed=removed, booked_outside=booked_outside)


def delete_rule(session: Session, actor: User, rule_id: int, now: datetime) -> RuleResult:
    """Stop a rule: its free future slots go, its booked ones stay and are reported."""
    rule = _get_rule_for(session, actor, rule_id)
    future = list(session.scalars(select(Slot).where(Slot.rule_id == rule.id, Slot.starts_at > now,
                                                     Slot.status.in_(LIVE))))
    removed = _withdraw_free(session, [s for s in future if s.booked_count == 0])
    rule.active = False
    rule.updated_at = now
    _audit_if_delegated(session, actor, rule.practitioner, "rule.delete", rule.id, now, site_id=rule.site_id)
    session.flush()
    return RuleResult(rule, removed=removed, booked_outside=[s for s in future if s.booked_count > 0])


def extend_horizon(session: Session, now: datetime, horizon_days: int = DEFAULT_HORIZON_DAYS) -> int:
    """Create the slots of every active rule up to the horizon; safe to run any number of times."""
    created = pending = 0
    rules = list(session.scalars(select(AvailabilityRule).options(selectinload(AvailabilityRule.site))
                                 .where(AvailabilityRule.active).order_by(AvailabilityRule.id)))
    end = now + timedelta(days=horizon_days)
    for rule in rules:
        try:
            times = _times(rule, now, end)
        except InvalidInput:  # a rule stored before the rhythms were bounded
            log.warning("Horizon : règle %s ignorée, sa récurrence n’est plus permise.", rule.id)
            continue
        if not times:
            continue
        # Most nights only the last day is new: compare start times (one light query) before loading any slot.
        existing = set(session.scalars(select(Slot.starts_at).where(
            Slot.practitioner_id == rule.practitioner_id, Slot.status.in_(LIVE),
            Slot.starts_at >= times[0].starts_at, Slot.starts_at <= times[-1].starts_at)))
        missing = [slot_time for slot_time in times if slot_time.starts_at not in existing]
        if not missing:
            continue
        try:
            with session.begin_nested():  # a clash with a concurrent publication costs this rule, not the batch
                created += _materialize(session, rule, missing, skip_conflicts=True)
        except IntegrityError:
            log.warning("Horizon : règle %s ignorée cette nuit (publication concurrente).", rule.id)
        pending += 1
        if pending >= EXTEND_BATCH:  # one commit (one disk flush) per batch of rules, not per rule
            session.commit()
            pending = 0
    session.commit()
    withdrawn = withdraw_on_closed_days(session, now, end)
    if withdrawn:
        log.info("Horizon : %s créneaux libres retirés (jours fériés, fermetures).", withdrawn)
    session.commit()
    return created


def slots_on_closed_days(session: Session, site: Site, start: datetime, end: datetime) -> list[Slot]:
    """The live slots of a site that fall on a day it is closed (a holiday learnt since, a closure)."""
    zone = ZoneInfo(site.time_zone)
    calendar = site_calendar(session, site, start.astimezone(zone).date(), end.astimezone(zone).date())
    if not calendar.closed and not calendar.rooms_closed:
        return []
    days = set(calendar.closed) | {day for days in calendar.rooms_closed.values() for day in days}
    spans = [and_(Slot.starts_at >= rules.local_to_utc(day, time(), zone),
                  Slot.starts_at < rules.local_to_utc(day + timedelta(days=1), time(), zone)) for day in sorted(days)]
    found = session.scalars(select(Slot).options(selectinload(Slot.site)).where(
        Slot.site_id == site.id, Slot.status.in_(LIVE), Slot.starts_at >= start, Slot.starts_at < end, or_(*spans)))
    return [slot for slot in found
            if calendar.why_closed(slot.starts_at.astimezone(zone).date(), slot.room_id)]


def withdraw_on_closed_days(session: Session, now: datetime, end: datetime, site_ids: list[int] | None = None) -> int:
    """Withdraw the free slots that fall on closed days; booked ones stay, listed for the site's staff."""
    query = select(Site).where(Site.id.in_(select(Slot.site_id).where(
        Slot.status == "open", Slot.starts_at >= now, Slot.starts_at < end).distinct()))
    if site_ids is not None:
        query = query.where(Site.id.in_(site_ids))
    withdrawn = 0
    for site in session.scalars(query):
        free = [slot for slot in slots_on_closed_days(session, site, now, end) if slot.booked_count == 0]
        withdrawn += _withdraw_free(session, free)
    return withdrawn




def materialize_rule(session: Session, rule: AvailabilityRule, now: datetime,
                     horizon_days: int = DEFAULT_HORIZON_DAYS, since: datetime | None = None) -> int:
    """Create the missing slots of a rule from ``since`` (default now) up to the horizon (demo data)."""
    return _materialize(session, rule, _times(rule, since or now, now + timedelta(days=horizon_days)),
                        skip_conflicts=True)


@dataclass
class BlockResult:
    blocked: int
    booked_slot_ids: list[int]  # slots of the period someone is booked on: the caller lists who


def block_period(session: Session, actor: User, practitioner_id: int, first_day: date, last_day: date,
                 now: datetime, site_id: int | None = None) -> BlockResult:
    """Block a practitioner's free slots from first_day to last_day (local days) and list the booked ones.

    With ``site_id``, only at that site: that is how the mairie blocks a practitioner's days by delegation.
    """
    site = session.get(Site, site_id) if site_id is not None else None
    practitioner = fetch(session, Practitioner, practitioner_id, "Praticien introuvable.")
    if site is None or delegation(session, actor, practitioner, site) is None:
        require(actor, Action.PUBLISH, practitioner)
    if last_day < first_day:
        raise InvalidInput("La fin de la période précède son début.")
    if (last_day - first_day).days > 366:
        raise InvalidInput("Une période bloquée dure au plus un an.")
    slots = [slot for slot in _slots_in_local_days(session, practitioner.id, first_day, last_day, now)
             if site is None or slot.site_id == site.id]
    _audit_if_delegated(session, actor, practitioner, "slots.block", practitioner.id, now, site_id=site_id,
                        first_day=first_day.isoformat(), last_day=last_day.isoformat())
    blocked = 0
    for slot in slots:
        if slot.status == "open" and slot.booked_count == 0:
            slot.status = "blocked"
            blocked += 1
    session.flush()
    return BlockResult(blocked, sorted(slot.id for slot in slots if slot.booked_count))


def unblock_period(session: Session, actor: User, practitioner_id: int, first_day: date, last_day: date,
                   now: datetime) -> int:
    """Reopen the blocked slots of a period; return how many."""
    practitioner = get_practitioner_for(session, actor, practitioner_id, Action.PUBLISH)
    reopened = 0
    for slot in _slots_in_local_days(session, practitioner.id, first_day, last_day, now):
        if slot.status == "blocked":
            slot.status = "open"
            reopened += 1
    session.flush()
    return reopened


def reserve_for_sas(session: Session, actor: User, practitioner_id: int, day: date, start: time, end: time,
                    visibility: str, release_hours: int | None, now: datetime) -> int:
    """Give single free slots of one day (starting from ``start`` to before ``end``, local time) their audience:
    SNP (the SAS's until ``release_hours`` before), PRO, or public again; return how many changed."""
    practitioner = get_practitioner_for(session, actor, practitioner_id, Action.PUBLISH)
    _check_audience(visibility, release_hours)
    if end <= start:
        raise InvalidInput("L’heure de fin suit l’heure de début.", field="end_time")
    changed = 0
    for slot in _slots_in_local_days(session, practitioner.id, day, day, now):
        local = slot.starts_at.astimezone(ZoneInfo(slot.site.time_zone)).time()
        if slot.status != "open" or slot.booked_count or not start <= local < end:
            continue  # a booked slot keeps the audience it was taken under
        slot.visibility, slot.released_at = audience(visibility, release_hours, slot.starts_at).values()
        changed += 1
    session.flush()
    return changed


def _slots_in_local_days(session: Session, practitioner_id: int, first_day: date, last_day: date,
                         now: datetime) -> list[Slot]:
    # Sites may sit in different zones: widen the UTC window by a day and filter locally.
    start = datetime.combine(first_day, time(), tzinfo=ZoneInfo("UTC")) - timedelta(days=1)
    end = datetime.combine(last_day, time(), tzinfo=ZoneInfo("UTC")) + timedelta(days=2)
    candidates = session.scalars(select(Slot).options(selectinload(Slot.site)).where(
        Slot.practitioner_id == practitioner_id, Slot.starts_at >= max(start, now), Slot.starts_at < end,
        Slot.status.in_(LIVE)))
    return [slot for slot in candidates
            if first_day <= slot.starts_at.astimezone(ZoneInfo(slot.site.time_zone)).date() <= last_day]


@dataclass
class AgendaDay:
    day: date
    slots: list[Slot]


def practitioner_week(session: Session, practitioner: Practitioner, monday: date) -> dict[Site, list[AgendaDay]]:
    """Return a practitioner's slots of one week, by site then local day."""
    start = datetime.combine(monday, time(), tzinfo=ZoneInfo("UTC")) - timedelta(days=1)
    end = start + timedelta(days=9)
    slots = session.scalars(select(Slot).options(selectinload(Slot.site), selectinload(Slot.room))
                            .where(Slot.practitioner_id == practitioner.id, Slot.status.in_(LIVE),
                                   Slot.starts_at >= start, Slot.starts_at < end).order_by(Slot.starts_at))
    week: dict[Site, dict[date, list[Slot]]] = {}
    for slot in slots:
        day = slot.starts_at.astimezone(ZoneInfo(slot.site.time_zone)).date()
        if monday <= day < monday + timedelta(days=7):
            week.setdefault(slot.site, {}).setdefault(day, []).append(slot)
    return {site: [AgendaDay(day, slots) for day, slots in sorted(days.items())] for site, days in week.items()}


def last_video_url(session: Session, practitioner: Practitioner) -> str | None:
    """The video link of the practitioner's latest remote rule: a new remote rule starts with it."""
    return session.scalar(select(AvailabilityRule.video_url).where(
        AvailabilityRule.practitioner_id == practitioner.id, AvailabilityRule.video_url.is_not(None))
        .order_by(AvailabilityRule.id.desc()).limit(1))


def active_rules(session: Session, practitioner: Practitioner) -> list[AvailabilityRule]:
    """Return a practitioner's active rules."""
    return list(session.scalars(select(AvailabilityRule).where(
        AvailabilityRule.practitioner_id == practitioner.id, AvailabilityRule.active)
        .order_by(AvailabilityRule.site_id, AvailabilityRule.start_time)))




def next_free_slots(session: Session, site: Site, now: datetime, per_practitioner: int = 5,
                    days: int = 60, profession: str | None = None,
                    start: datetime | None = None) -> dict[Practitioner, list[Slot]]:
    """Return, for each practitioner of a site, their next bookable slots (from ``start``, by default now)."""
    start = start or now
    query = (select(Slot).options(selectinload(Slot.practitioner))
             .where(Slot.site_id == site.id, bookable(now), Slot.starts_at >= start,
                    Slot.starts_at < start + timedelta(days=days))
             .order_by(Slot.starts_at))
    if profession:
        query = query.join(Practitioner, Slot.practitioner_id == Practitioner.id).where(
            Practitioner.profession == profession)
    found: dict[Practitioner, list[Slot]] = {}
    for slot in session.scalars(query):
        bucket = found.setdefault(slot.practitioner, [])
        if len(bucket) < per_practitioner:
            bucket.append(slot)
    return found


def first_free_start(session: Session, site: Site, now: datetime, days: int = 60) -> datetime | None:
    """When the site's next bookable slot starts (one indexed MIN), or None within ``days``."""
    return session.scalar(select(func.min(Slot.starts_at)).where(
        Slot.site_id == site.id, bookable(now), Slot.starts_at >= now, Slot.starts_at < now + timedelta(days=days)))


def free_slots_between(session: Session, site: Site, start: datetime, end: datetime, now: datetime) -> list[Slot]:
    """Return a site's bookable slots between two instants, in time order."""
    return list(session.scalars(
        select(Slot).options(selectinload(Slot.practitioner))
        .where(Slot.site_id == site.id, bookable(now), Slot.starts_at >= start, Slot.starts_at < end)
        .order_by(Slot.starts_at, Slot.practitioner_id)))


def _staff_site_ids(session: Session, user: User | None):
    """The sites whose every slot (blocked, full, withdrawn) this user sees; None means every site."""
    from booking.sites.services import sites_visible_to

    if user is None or is_resident(user):
        return []
    if is_admin(user):
        return None
    return [site.id for site in sites_visible_to(session, user)]


def list_slots(session: Session, user: User | None, *, start: datetime, end: datetime, now: datetime,
               site_id: int | None = None, practitioner_id: int | None = None, profession: str | None = None,
               after: tuple[datetime, int] | None = None, limit: int = 50) -> list[Slot]:
    """Slots starting in [start, end): bookable ones for everyone, every status at the sites a staff user works at.

    Returns up to ``limit + 1`` slots in (start, id) order, resuming after ``after``.
    """
    visible = bookable(now)  # the site's own openness included
    staff_sites = _staff_site_ids(session, user)
    query = select(Slot).options(selectinload(Slot.site)).where(Slot.starts_at >= start, Slot.starts_at < end)
    if staff_sites is not None:
        query = query.where(or_(visible, Slot.site_id.in_(staff_sites)) if staff_sites else visible)
    if site_id is not None:
        query = query.where(Slot.site_id == site_id)
    if practitioner_id is not None:
        query = query.where(Slot.practitioner_id == practitioner_id)
    if profession:
        query = query.where(Slot.practitioner_id.in_(select(Practitioner.id).where(
            Practitioner.profession == profession)))
    if after is not None:
        query = query.where(or_(Slot.starts_at > after[0], and_(Slot.starts_at == after[0], Slot.id > after[1])))
    return list(session.scalars(query.order_by(Slot.starts_at, Slot.id).limit(limit + 1)))
