"""The daily series of delays to the next free slot, and the monthly reports already sent."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booking.extensions import db
from notifications.sqltypes import UtcDateTime, utcnow


class DelaySample(db.Model):
    __tablename__ = "delay_samples"
    __table_args__ = (UniqueConstraint("day", "site_id", "profession"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    profession: Mapped[str] = mapped_column(String(40))
    days: Mapped[float | None]  # None: no free slot at all


class ReportDelivery(db.Model):
    """One monthly report per commune (or EPCI) and month, ever."""

    __tablename__ = "report_deliveries"
    __table_args__ = (UniqueConstraint("commune_insee", "month"), UniqueConstraint("epci_siren", "month"))

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_insee: Mapped[str | None] = mapped_column(ForeignKey("communes.insee"))
    epci_siren: Mapped[str | None] = mapped_column(ForeignKey("epcis.siren"))
    month: Mapped[str] = mapped_column(String(7))
    recipient: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class MonthlyFigures(db.Model):
    """Each commune's key figures of a finished month, kept so that comparisons read medians, not recompute."""

    __tablename__ = "monthly_figures"
    __table_args__ = (UniqueConstraint("commune_insee", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_insee: Mapped[str] = mapped_column(ForeignKey("communes.insee"), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    appointments_booked: Mapped[int]
    occupancy_rate: Mapped[float | None]
    no_show_rate: Mapped[float | None]
    median_lead_days: Mapped[float | None]
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PractitionerCount(db.Model):
    """How many practitioners of a profession work in a commune, from a reference file the administrator imports
    (the platform's own offer is only part of it)."""

    __tablename__ = "practitioner_counts"
    __table_args__ = (UniqueConstraint("commune_insee", "profession", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_insee: Mapped[str] = mapped_column(ForeignKey("communes.insee"), index=True)
    profession: Mapped[str] = mapped_column(String(40))
    year: Mapped[int]
    count: Mapped[int]
    source: Mapped[str | None] = mapped_column(String(200))
