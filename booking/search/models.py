"""What residents looked for and did not find."""

from datetime import date

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.extensions import db


class UnmetDemand(db.Model):
    """A search that found no free slot within 30 days: anonymous by construction."""

    __tablename__ = "unmet_demands"

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_insee: Mapped[str] = mapped_column(ForeignKey("communes.insee"), index=True)
    profession: Mapped[str | None] = mapped_column(String(40))
    site_kind: Mapped[str | None] = mapped_column(String(30))
    searched_on: Mapped[date] = mapped_column(index=True)
