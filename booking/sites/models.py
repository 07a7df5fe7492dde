"""Sites, rooms, practitioners and who is accepted where."""

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, String, Table, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import DEFAULT_TIME_ZONE
from booking.extensions import db
from booking.geo.models import Commune, Epci
from booking.geo.travel import Position, position
from notifications.sqltypes import UtcDateTime, utcnow

SMS_LABEL_LENGTH = 30

if TYPE_CHECKING:  # the account model imports the geo and site models: no import cycle at run time
    from booking.auth.models import User

SITE_KINDS = ("teleconsultation", "consultation_avancee", "permanence")
# "opening_hours": slots only within the site's opening hours (a reception or an assistant receives patients);
# "any_time": practitioners publish when they like (a consultation room with its own key).
SCHEDULE_MODES = ("opening_hours", "any_time")
CLOSURE_REASONS = {
    "elections": "élections",
    "staff_absence": "absence du personnel d’accueil",
    "works": "travaux",
    "weather": "intempéries",
    "event": "manifestation dans la salle",
    "other": "autre raison",
}
ACCEPTANCE_STATUSES = ("invited", "accepted", "revoked")

site_served_communes = Table(
    "site_served_communes",
    db.metadata,
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
    Column("commune_insee", ForeignKey("communes.insee"), primary_key=True, index=True),
)


class Site(db.Model):
    __tablename__ = "sites"
    __table_args__ = (
        CheckConstraint(f"kind IN {SITE_KINDS!r}", name="kind"),
        # Run by exactly one of: a commune, an EPCI.
        CheckConstraint(
            "(operator_commune_insee IS NULL) <> (operator_epci_siren IS NULL)", name="one_operator"
        ),
        CheckConstraint("max_future_bookings >= 1", name="max_future_bookings"),
        CheckConstraint("reminder_hours_before >= 1", name="reminder_hours"),
        CheckConstraint(f"schedule_mode IN {SCHEDULE_MODES!r}", name="schedule_mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    # How SMS name the place: short, so that every SMS stays one segment (the site's name by default).
    sms_label: Mapped[str] = mapped_column(String(30), default=lambda context: context.get_current_parameters()
                                           ["name"][:SMS_LABEL_LENGTH].strip())
    address: Mapped[str] = mapped_column(String(300))
    postal_code: Mapped[str] = mapped_column(String(5))
    commune_insee: Mapped[str] = mapped_column(ForeignKey("communes.insee"), index=True)
    operator_commune_insee: Mapped[str | None] = mapped_column(ForeignKey("communes.insee"), index=True)
    operator_epci_siren: Mapped[str | None] = mapped_column(ForeignKey("epcis.siren"), index=True)
    time_zone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIME_ZONE)
    phone: Mapped[str | None] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    opening_hours: Mapped[str | None] = mapped_column(Text)
    instructions: Mapped[str | None] = mapped_column(Text)
    equipment: Mapped[list] = mapped_column(JSON, default=list)
    accessibility: Mapped[list] = mapped_column(JSON, default=list)
    booking_open: Mapped[bool] = mapped_column(default=True)
    drop_in_only: Mapped[bool] = mapped_column(default=False)
    max_future_bookings: Mapped[int] = mapped_column(default=2)
    reminder_hours_before: Mapped[int] = mapped_column(default=24)
    # A second, short reminder (hours before); None turns it off.
    second_reminder_hours: Mapped[int | None] = mapped_column(default=2)
    schedule_mode: Mapped[str] = mapped_column(String(20), default="any_time", server_default="any_time")
    # The commune lets its reception agents close the site for a day (the referent always may).
    agents_may_close: Mapped[bool] = mapped_column(default=False, server_default="0")
    # For a site an EPCI runs: its member communes' referents may edit it too (the EPCI's administrators decide).
    members_may_edit: Mapped[bool] = mapped_column(default=False, server_default="0")
    # For a site an EPCI runs: the EPCI keeps the reception desk itself, so its administrators see who is booked
    # there (closures, calls to make). Off, the EPCI reads figures only; the member communes' desks see people.
    epci_runs_desk: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Téléconsultations here need an assistant beside the patient: bookable only on days someone is on duty.
    requires_assistant: Mapped[bool] = mapped_column(default=False, server_default="0")
    # The websites allowed to show this site's widget in an <iframe> (https origins), as the commune declares.
    embed_origins: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # The site's own position when the référente corrects it; None: its commune's.
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    commune: Mapped[Commune] = relationship(foreign_keys=[commune_insee])
    operator_commune: Mapped[Commune | None] = relationship(foreign_keys=[operator_commune_insee])
    operator_epci: Mapped[Epci | None] = relationship()
    served_communes: Mapped[list[Commune]] = relationship(secondary=site_served_communes)
    rooms: Mapped[list["Room"]] = relationship(back_populates="site", cascade="all, delete-orphan",
                                               order_by="Room.name")
    practitioner_links: Mapped[list["SitePractitioner"]] = relationship(back_populates="site",
                                                                        cascade="all, delete-orphan")
    # The practitioners' active remote rules here, whose video links the site's staff need (named, not imported:
    # the slots package sits above this one).
    remote_rules: Mapped[list["AvailabilityRule"]] = relationship(  # noqa: F821
        "AvailabilityRule", viewonly=True,
        primaryjoin="and_(Site.id == foreign(AvailabilityRule.site_id), AvailabilityRule.active, "
                    "AvailabilityRule.modality == 'remote')")
    hours: Mapped[list["OpeningHours"]] = relationship(cascade="all, delete-orphan",
                                                       order_by="(OpeningHours.weekday, OpeningHours.opens)")

    @property
    def operator_commune_codes(self) -> set[str]:
        """The communes whose staff run this site: its commune, or every member of its EPCI."""
        if self.operator_commune_insee:
            return {self.operator_commune_insee}
        return {member.insee for member in self.operator_epci.members} if self.operator_epci else set()

    @property
    def position(self) -> Position | None:
        """Where the site is: its own corrected position, else its commune's; None when neither is known."""
        own = position(self.latitude, self.longitude)
        if own is None and self.commune is not None:
            return position(self.commune.latitude, self.commune.longitude)
        return own



def site_position_columns(commune):
    """Where a site is, in SQL, as ``Site.position`` says it: its own position, else its commune's (``commune``: the
    alias of ``Commune`` the query joined on ``Site.commune_insee``)."""
    return func.coalesce(Site.latitude, commune.latitude), func.coalesce(Site.longitude, commune.longitude)


class Room(db.Model):
    """A room hosts one consultation at a time."""

    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))

    site: Mapped[Site] = relationship(back_populates="rooms")


class Profession(db.Model):
    """A profession practitioners declare (reference data: the administrator adds, never a migration)."""

    __tablename__ = "professions"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Practitioner(db.Model):
    __tablename__ = "practitioners"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    rpps: Mapped[str | None] = mapped_column(String(11), unique=True)
    profession: Mapped[str] = mapped_column(ForeignKey("professions.code"), index=True)
    specialty: Mapped[str | None] = mapped_column(String(80))
    consults_remotely: Mapped[bool] = mapped_column(default=False)
    email: Mapped[str | None] = mapped_column(String(254))
    # SHA-256 of the secret in the practitioner's iCalendar feed URL; None when no feed.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The equipment the practitioner needs at a site to consult remotely (codes of sites.rules.EQUIPMENT).
    needed_equipment: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    user: Mapped["User | None"] = relationship("User")
    site_links: Mapped[list["SitePractitioner"]] = relationship(back_populates="practitioner")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class SitePractitioner(db.Model):
    """A site's acceptance of a practitioner: only accepted practitioners publish there."""

    __tablename__ = "site_practitioners"
    __table_args__ = (CheckConstraint(f"status IN {ACCEPTANCE_STATUSES!r}", name="status"),)

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    status: Mapped[str] = mapped_column(String(10), default="accepted")
    invited_email: Mapped[str | None] = mapped_column(String(254))
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set by the practitioner: the site's referent and agents may then publish, edit and block their days there.
    delegated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    site: Mapped[Site] = relationship(back_populates="practitioner_links")
    practitioner: Mapped[Practitioner] = relationship(back_populates="site_links")


class SiteInvitation(db.Model):
    """An invitation, sent by email, for a practitioner to join a site."""

    __tablename__ = "site_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    # SHA-256 of the secret in the link: a database leak does not hand out invitations.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    site: Mapped[Site] = relationship()


class OpeningHours(db.Model):
    """One opening range of a site on a weekday (0 = Monday); a day may have several."""

    __tablename__ = "site_opening_hours"
    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
                      CheckConstraint("opens < closes", name="range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]
    opens: Mapped[time]
    closes: Mapped[time]


class SiteClosure(db.Model):
    """A site (or one of its rooms) closed for a day or a period, with the reason people are told."""

    __tablename__ = "site_closures"
    __table_args__ = (CheckConstraint("first_day <= last_day", name="period"),
                      CheckConstraint(f"reason IN {tuple(CLOSURE_REASONS)!r}", name="reason"))

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    first_day: Mapped[date]
    last_day: Mapped[date]
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    site: Mapped[Site] = relationship()
    room: Mapped[Room | None] = relationship()


class HolidayOpening(db.Model):
    """A public holiday on which a site opens all the same (otherwise no slot exists that day)."""

    __tablename__ = "site_holiday_openings"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)


class AssistantDuty(db.Model):
    """Who assists téléconsultation patients at a site on a given day (part of the site's calendar)."""

    __tablename__ = "assistant_duties"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    assistant: Mapped[str] = mapped_column(String(100))
