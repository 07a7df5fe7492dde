"""A visit without appointment, recorded at the desk: when, for which profession, from which commune."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.extensions import db
from notifications.sqltypes import UtcDateTime, utcnow


class WalkInVisit(db.Model):
    """Anonymous by construction: no name, no birth date, nothing that points to a person."""

    __tablename__ = "walk_in_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    visited_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    profession: Mapped[str] = mapped_column(String(40))
    commune_insee: Mapped[str | None] = mapped_column(ForeignKey("communes.insee"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
