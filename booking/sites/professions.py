"""The professions practitioners declare: reference data the administrator extends, kept a minute per process."""

import re
import time
from collections.abc import Iterator, Mapping
from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.auth.models import User
from booking.auth.permissions import is_admin
from booking.errors import Conflict, Forbidden, InvalidInput
from booking.sites.models import Profession
from booking.sites.rules import SEED_PROFESSIONS
from booking.text import french_order


class _Professions(Mapping):
    """code → French label of the active professions, as the database holds them.

    Kept by each application for ``KEPT_SECONDS`` (every search page and every API check reads it, and the
    administrator adds a profession a few times a year): the process that adds one sees it at once
    (``forget()``), the other workers within a minute. Outside an application (module import), the seed
    list stands in.
    """

    KEPT_SECONDS = 60

    def _table(self) -> dict[str, str]:
        if not has_app_context():
            return SEED_PROFESSIONS
        kept = current_app.extensions.get("professions")
        if kept is None or kept[0] < time.monotonic():
            from booking.extensions import db

            rows = db.session.execute(select(Profession.code, Profession.label).where(Profession.active)).all()
            ordered = sorted(rows or SEED_PROFESSIONS.items(), key=lambda row: french_order(row[1]))
            kept = (time.monotonic() + self.KEPT_SECONDS, dict(ordered))
            current_app.extensions["professions"] = kept
        return kept[1]

    def forget(self) -> None:
        if has_app_context():
            current_app.extensions.pop("professions", None)

    def __getitem__(self, code: str) -> str:
        return self._table()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


PROFESSIONS = _Professions()
_CODE = re.compile(r"[a-z][a-z0-9_]{1,38}")


def profession_choices(first: tuple[str, str] | None = None):
    """WTForms choices read when the form is drawn, so that a profession added today is offered."""
    from booking.forms import options

    return lambda: options(([first] if first else []) + list(PROFESSIONS.items()))


def add_profession(session: Session, actor: User, code: str, label: str, now: datetime) -> Profession:
    """The administrator adds a profession (a code for the data, a label for people)."""
    if not is_admin(actor):
        raise Forbidden("Seul l’administrateur de la plateforme ajoute une profession.")
    code, label = (code or "").strip().lower(), " ".join((label or "").split())
    if not _CODE.fullmatch(code):
        raise InvalidInput("Le code s’écrit en minuscules sans accent ni espace (par exemple « orthoptiste »).",
                           field="code")
    if not 2 <= len(label) <= 80:
        raise InvalidInput("Le libellé compte de 2 à 80 caractères.", field="label")
    if session.get(Profession, code) is not None:
        raise Conflict("Cette profession existe déjà.", field="code")
    profession = Profession(code=code, label=label, active=True, created_at=now)
    session.add(profession)
    session.flush()
    PROFESSIONS.forget()
    return profession


def all_professions(session: Session) -> list[Profession]:
    return sorted(session.scalars(select(Profession)), key=lambda profession: french_order(profession.label))
