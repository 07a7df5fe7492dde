"""One answer per attended appointment, kept without any link to the person."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.extensions import db
from notifications.sqltypes import UtcDateTime, utcnow

ALTERNATIVES = {
    "farther": "Aller consulter plus loin",
    "emergency": "Aller aux urgences",
    "without": "Renoncer à consulter",
    "other": "Autre chose",
}


class FeedbackAnswer(db.Model):
    """Anonymous: the site, the profession and the month are what the statistics need; no patient, no appointment.

    ``appointment_key`` is a keyed hash of the appointment's id (one answer per appointment), which nobody
    can turn back into the appointment without the platform's secret.
    """

    __tablename__ = "feedback_answers"
    __table_args__ = (CheckConstraint("useful BETWEEN 1 AND 5", name="useful"),
                      CheckConstraint(f"alternative IN {tuple(ALTERNATIVES)!r}", name="alternative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_key: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    profession: Mapped[str] = mapped_column(String(40))
    consulted_on: Mapped[date]
    useful: Mapped[int]
    alternative: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
