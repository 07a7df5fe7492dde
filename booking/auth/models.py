"""Accounts, the communes they act for, and the audit log."""

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.extensions import db
from booking.geo.models import Commune
from notifications.sqltypes import UtcDateTime, utcnow

ROLES = ("resident", "agent", "practitioner", "commune_admin", "epci_admin", "departement_viewer", "admin")

user_communes = Table(
    "user_communes",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("commune_insee", ForeignKey("communes.insee"), primary_key=True, index=True),
)


def new_session_token() -> str:
    return secrets.token_urlsafe(16)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES!r}", name="role"),
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="identifier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    phone_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the session cookie's user id: changing it (logout, new password)
    # invalidates every copy of an older session.
    session_token: Mapped[str] = mapped_column(String(40), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    # An EPCI's administrator runs that EPCI's sites; a département's viewer reads its figures, nothing else.
    epci_siren: Mapped[str | None] = mapped_column(ForeignKey("epcis.siren"))
    departement_code: Mapped[str | None] = mapped_column(ForeignKey("departements.code"))

    communes: Mapped[list[Commune]] = relationship(secondary=user_communes, order_by=Commune.name)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_staff(self) -> bool:
        from booking.auth.permissions import is_staff  # the permission layer imports this module

        return is_staff(self)

    @property
    def commune_codes(self) -> set[str]:
        return {commune.insee for commune in self.communes}

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class AuditEvent(db.Model):
    """Who read or changed personal data, when, and acting as which role."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"), index=True)
    details: Mapped[dict | None] = mapped_column(JSON)

    user: Mapped[User | None] = relationship()


class PasswordReset(db.Model):
    """A single-use link that lets a person who forgot their password choose another, for 30 minutes."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship()
