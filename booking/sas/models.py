"""The SAS systems allowed to call us: registered by an administrator by their certificate's CN and OU."""

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booking.extensions import db
from notifications.sqltypes import UtcDateTime, utcnow


class SasConsumer(db.Model):
    __tablename__ = "sas_consumers"
    __table_args__ = (UniqueConstraint("common_name", "organizational_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    common_name: Mapped[str] = mapped_column(String(200))
    organizational_unit: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
