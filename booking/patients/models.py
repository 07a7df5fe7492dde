"""Patients: who the appointments are for."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.auth.models import User
from booking.extensions import db
from booking.geo.models import Commune
from notifications.sqltypes import UtcDateTime, utcnow

PHONE_KINDS = ("mobile", "landline")


class Patient(db.Model):
    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(f"phone_kind IN {PHONE_KINDS!r}", name="phone_kind"),
        Index("ix_patients_search", "search_last_name", "birth_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # Accent-free lower-case last name: the desk finds "Lefèvre" when typing "lefevre".
    search_last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None]
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    phone_kind: Mapped[str | None] = mapped_column(String(10))
    # Set when the SMS provider says the number cannot receive: the desk fixes it.
    phone_problem: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    # E-mail as well as SMS (asked on the account page or at the desk); without a mobile, e-mail is the way anyway.
    email_reminders: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Set when the mail server refuses the address for good: reminders fall back to the desk until it is changed.
    email_problem: Mapped[str | None] = mapped_column(String(200))
    # The one-click « no more reminders by e-mail » (RFC 8058): confirmations of what the person did still go.
    email_unsubscribed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    commune_insee: Mapped[str | None] = mapped_column(ForeignKey("communes.insee"), index=True)
    # A postal address, as the person gives it (optional): the desk posts convocations to those no phone reaches.
    street: Mapped[str | None] = mapped_column(String(200))
    street_complement: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(5))
    sms_consent: Mapped[bool] = mapped_column(default=False)
    sms_opted_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A relative's own mobile, typed by someone else: no SMS until that phone answers OUI.
    sms_confirmation_asked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The patient said at the desk they do not want reminder calls on their landline.
    calls_refused: Mapped[bool] = mapped_column(default=False, server_default="0")
    # A caregiver (aidant) who gets the reminders by SMS, with their consent recorded at the desk.
    caregiver_name: Mapped[str | None] = mapped_column(String(100))
    caregiver_phone: Mapped[str | None] = mapped_column(String(20))
    caregiver_consent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The resident account that manages this patient (the holder or a relative of theirs).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    relationship_label: Mapped[str | None] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    commune: Mapped[Commune | None] = relationship()
    account: Mapped[User | None] = relationship(foreign_keys=[account_id])

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def postal_address(self) -> list[str]:
        """The lines an envelope needs, or [] when the address is not complete enough to post a letter."""
        if not (self.street and self.postal_code and self.commune):
            return []
        lines = [self.full_name, self.street]
        if self.street_complement:
            lines.append(self.street_complement)
        return [*lines, f"{self.postal_code} {self.commune.name.upper()}"]
