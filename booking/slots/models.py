"""Availability rules and bookable slots (stored in UTC)."""

from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    exists,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship, validates

from booking.extensions import db
from booking.sites.models import Practitioner, Room, Site
from notifications.sqltypes import UtcDateTime, utcnow

MODALITIES = ("on_site", "remote")
# withdrawn: taken out of the offer by a rule change but kept, because cancelled
# appointments (history, statistics) still point at it.
SLOT_STATUSES = ("open", "blocked", "withdrawn")
# Who may take a slot (the SAS guide's slot types, TRE-R314): anyone; health professionals and regulators only;
# the SAS's regulators for unscheduled care (soins non programmés), until ``released_at`` makes it public.
VISIBILITIES = ("public", "pro", "snp")


class AvailabilityRule(db.Model):
    """A practitioner's recurring availability at a site, in the site's local time."""

    __tablename__ = "availability_rules"
    __table_args__ = (
        CheckConstraint(f"modality IN {MODALITIES!r}", name="modality"),
        CheckConstraint("end_time > start_time", name="hours"),
        CheckConstraint("slot_minutes > 0", name="slot_minutes"),
        CheckConstraint("buffer_minutes >= 0", name="buffer_minutes"),
        CheckConstraint("capacity >= 1", name="capacity"),
        CheckConstraint("opens_days_ahead >= 0 AND closes_hours_before >= 0", name="window"),
        CheckConstraint(f"visibility IN {VISIBILITIES!r}", name="visibility"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"))
    rrule: Mapped[str] = mapped_column(String(300))
    start_date: Mapped[date]
    until: Mapped[date | None]
    count: Mapped[int | None]
    start_time: Mapped[time]
    end_time: Mapped[time]
    slot_minutes: Mapped[int] = mapped_column(default=20)
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    capacity: Mapped[int] = mapped_column(default=1)
    modality: Mapped[str] = mapped_column(String(10), default="on_site")
    video_url: Mapped[str | None] = mapped_column(Text)
    opens_days_ahead: Mapped[int] = mapped_column(default=60)
    closes_hours_before: Mapped[int] = mapped_column(default=2)
    visibility: Mapped[str] = mapped_column(String(6), default="public", server_default="public")
    # SNP slots go public this many hours before they start, if no regulator took them.
    snp_release_hours: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    practitioner: Mapped[Practitioner] = relationship()
    site: Mapped[Site] = relationship()
    room: Mapped[Room | None] = relationship()

    @validates("rrule")
    def _bounded_rhythm(self, _key: str, value: str) -> str:
        from booking.slots.rules import validate_rrule

        return validate_rrule(value)


class Slot(db.Model):
    """One bookable time span. ``booked_count`` never exceeds ``capacity``: the database checks it.

    On PostgreSQL two exclusion constraints (migration a2ed94c7dd12) forbid
    overlapping slots in one room and for one practitioner.
    """

    __tablename__ = "slots"
    __table_args__ = (
        # One practitioner starts at most one live slot at a given instant:
        # re-running the materialization can never duplicate a slot.
        Index("uq_slots_practitioner_start", "practitioner_id", "starts_at", unique=True,
              sqlite_where=text("status <> 'withdrawn'"), postgresql_where=text("status <> 'withdrawn'")),
        CheckConstraint(f"status IN {SLOT_STATUSES!r}", name="status"),
        CheckConstraint(f"modality IN {MODALITIES!r}", name="modality"),
        CheckConstraint("ends_at > starts_at", name="span"),
        CheckConstraint("capacity >= 1", name="capacity"),
        CheckConstraint("booked_count >= 0 AND booked_count <= capacity", name="booked_count"),
        CheckConstraint(f"visibility IN {VISIBILITIES!r}", name="visibility"),
        Index("ix_slots_site_starts_at", "site_id", "starts_at"),
        # The search's first free slot of a practitioner at a site: one ordered probe that stops at the first.
        Index("ix_slots_open_site_practitioner_start", "site_id", "practitioner_id", "starts_at",
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
        # The open-data feed's version: the last SNP release (only SNP slots have one).
        Index("ix_slots_released_at", "released_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("availability_rules.id", ondelete="SET NULL"),
                                                index=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    modality: Mapped[str] = mapped_column(String(10), default="on_site")
    capacity: Mapped[int] = mapped_column(default=1)
    booked_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")
    # The booking window, copied from the rule so that searches filter in SQL (None: no limit).
    opens_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Held for a waiting-list offer until then: nobody else may book it meanwhile.
    held_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    held_for_id: Mapped[int | None] = mapped_column(ForeignKey("waitlist_entries.id", ondelete="SET NULL",
                                                               use_alter=True))
    # A téléconsultation at a site whose patients need an assistant, on a day nobody is on duty yet:
    # published, but not bookable until the rota names someone (kept up to date by the rota).
    awaiting_assistant: Mapped[bool] = mapped_column(default=False, server_default="0")
    visibility: Mapped[str] = mapped_column(String(6), default="public", server_default="public")
    # An SNP slot nobody from the SAS took is offered to everyone from then on (None: never, for PRO).
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Any change (a seat taken or freed, blocked, withdrawn); copied by the database into slot_changes, which the
    # open-data feed's _since and ETag read.
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    rule: Mapped[AvailabilityRule | None] = relationship()
    practitioner: Mapped[Practitioner] = relationship()
    site: Mapped[Site] = relationship()
    room: Mapped[Room | None] = relationship()


# When each slot last changed, kept by triggers on slots (migration b6c7d8e9f0a1) and indexed here rather than on
# slots: a seat taken then changes no indexed column of slots, and PostgreSQL updates the row in place (a HOT
# update) instead of adding an entry to each of its eight indexes and checking both exclusion constraints.
# No foreign key: a free slot withdrawn is deleted (slots.services._withdraw_free) and its row here is then never
# read again (ids are not reused), which costs less than a look-up in slots for every slot published.
slot_changes = Table(
    "slot_changes",
    db.metadata,
    Column("slot_id", Integer, primary_key=True, autoincrement=False),
    Column("changed_at", UtcDateTime, nullable=False, index=True),
)


# Its own name, so that a query that already joins sites (the open-data feed) still correlates on the slot alone.
_OPEN_SITE = aliased(Site, name="open_site")

# What makes a slot bookable, written once: each condition in SQL (for the queries that list free
# slots and for the conditional update that takes a seat) beside the same condition in Python with
# the reason a person is given when it fails. Both are functions of (now, hold_entry_id): checking a loaded
# slot builds no SQL. The site's own openness comes first: a site that takes no booking (closed to booking, or
# drop-in only) offers none of its slots anywhere, search, widget, feed, API, desk or waiting list alike.
_BOOKABILITY = [
    (lambda now, hold: exists().where(_OPEN_SITE.id == Slot.site_id, _OPEN_SITE.booking_open.is_(True),
                                      _OPEN_SITE.drop_in_only.is_(False)),
     lambda s, now, hold: s.site.booking_open and not s.site.drop_in_only,
     "Ce lieu de soins ne prend pas de réservation pour le moment."),
    (lambda now, hold: Slot.status == "open",
     lambda s, now, hold: s.status == "open",
     "Ce créneau n’est plus proposé."),
    (lambda now, hold: Slot.starts_at > now,
     lambda s, now, hold: s.starts_at > now,
     "Ce créneau est déjà passé."),
    (lambda now, hold: or_(Slot.closes_at.is_(None), Slot.closes_at > now),
     lambda s, now, hold: s.closes_at is None or now < s.closes_at,
     "La réservation de ce créneau est close : appelez la mairie."),
    (lambda now, hold: or_(Slot.opens_at.is_(None), Slot.opens_at <= now),
     lambda s, now, hold: s.opens_at is None or s.opens_at <= now,
     "Ce créneau n’est pas encore ouvert à la réservation."),
    (lambda now, hold: Slot.booked_count < Slot.capacity,
     lambda s, now, hold: s.booked_count < s.capacity,
     "Ce créneau vient d’être réservé par quelqu’un d’autre."),
    (lambda now, hold: Slot.awaiting_assistant.is_(False),
     lambda s, now, hold: not s.awaiting_assistant,
     "Personne n’est encore prévu pour vous accueillir ce jour-là : ce créneau ouvrira dès qu’une assistante "
     "sera de service."),
    (lambda now, hold: or_(Slot.held_until.is_(None), Slot.held_until <= now,
                           *([Slot.held_for_id == hold] if hold is not None else [])),
     lambda s, now, hold: s.held_until is None or s.held_until <= now or (hold is not None
                                                                          and s.held_for_id == hold),
     "Ce créneau est réservé quelques minutes pour une personne de la liste d’attente."),
]


def public(now: datetime):
    """SQL condition: a slot everyone may see and take at ``now`` (not reserved to professionals or, until its
    release, to the SAS's regulators). Every surface residents and the desk use goes through it."""
    return or_(Slot.visibility == "public", and_(Slot.visibility == "snp", Slot.released_at <= now))


def _is_public(slot: Slot, now: datetime) -> bool:
    return slot.visibility == "public" or (slot.visibility == "snp" and slot.released_at is not None
                                           and slot.released_at <= now)


_RESERVED = {"pro": "Ce créneau est réservé aux professionnels de santé.",
             "snp": "Ce créneau est réservé à la régulation médicale (SAS, le 15) pour les soins non programmés."}


def bookable(now: datetime, hold_entry_id: int | None = None, regulator: bool = False):
    """SQL condition: a slot that can be booked at ``now`` (by the holder of ``hold_entry_id``'s offer, if given);
    by everyone, or with ``regulator`` by the SAS's regulators, who may also take PRO and SNP slots."""
    conditions = [condition(now, hold_entry_id) for condition, _, _ in _BOOKABILITY]
    return and_(*conditions) if regulator else and_(public(now), *conditions)


def why_not_bookable(slot: Slot, now: datetime, hold_entry_id: int | None = None,
                     regulator: bool = False) -> str | None:
    """The same rule on a loaded slot: why it cannot be booked at ``now``, in French, or None when it can."""
    if not regulator and not _is_public(slot, now):
        return _RESERVED[slot.visibility]
    return next((reason for _, holds, reason in _BOOKABILITY if not holds(slot, now, hold_entry_id)), None)
