"""The monthly report sent to each commune: a short HTML summary, the PDF and the CSV."""

from datetime import date, datetime
from html import escape

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import notifications
from booking.database import unit_of_work
from booking.geo.models import Commune
from booking.outgoing import mail
from booking.sites.models import Site
from booking.stats.export import period_label, to_csv, to_pdf
from booking.stats.models import ReportDelivery
from booking.stats.rules import format_cell, month_label
from booking.stats.services import compute


def _month_start(year: int, month: int) -> date:
    return date(year, month, 1)


def _next_month(year: int, month: int) -> date:
    return date(year + (month == 12), month % 12 + 1, 1)


def previous_month(today: date) -> tuple[int, int]:
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


def report_recipients(session: Session, commune_insee: str | None = None) -> dict[str, str]:
    """Return, per commune running a site, the contact email of its sites."""
    query = select(Site.operator_commune_insee, Site.contact_email).where(
        Site.operator_commune_insee.is_not(None), Site.contact_email.is_not(None)).order_by(Site.id)
    if commune_insee:
        query = query.where(Site.operator_commune_insee == commune_insee)
    recipients: dict[str, str] = {}
    for insee, address in session.execute(query):
        recipients.setdefault(insee, address)
    return recipients


def summary_html(current, previous, last_year) -> str:
    """The five figures that matter, with last month and the same month last year."""
    rows = "".join(
        f"<tr><th scope='row'>{escape(key)}</th><td>{escape(format_cell(value) or '—')}</td>"
        f"<td>{escape(format_cell(previous.headline.get(key)) or '—')}</td>"
        f"<td>{escape(format_cell(last_year.headline.get(key)) or '—')}</td></tr>"
        for key, value in current.headline.items())
    return (f"<html lang='fr'><body><h1>Consultations — {escape(current.commune.name)}</h1>"
            f"<p>Période {escape(period_label(current))}.</p>"
            "<table><thead><tr><th></th><th>Ce mois</th><th>Mois précédent</th><th>Il y a un an</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            "<p>Le rapport complet (PDF) et les chiffres (CSV) sont joints.</p></body></html>")


def send_monthly_reports(session: Session, year: int, month: int, now: datetime, commune_insee: str | None = None,
                         dry_run: bool = False) -> list[str]:
    """Queue one report per commune and month (never twice); return the communes reported."""
    done = []
    start, end = _month_start(year, month), _next_month(year, month)
    key = f"{year:04d}-{month:02d}"
    for insee, recipient in report_recipients(session, commune_insee).items():
        if session.scalar(select(ReportDelivery.id).where(ReportDelivery.commune_insee == insee,
                                                          ReportDelivery.month == key)):
            continue
        commune = session.get(Commune, insee)
        if dry_run:
            done.append(f"{commune.name} → {recipient}")
            continue
        current = compute(session, insee, start, end, now)
        py, pm = (year - 1, 12) if month == 1 else (year, month - 1)
        previous = compute(session, insee, _month_start(py, pm), _next_month(py, pm), now, headline_only=True)
        last_year = compute(session, insee, _month_start(year - 1, month), _next_month(year - 1, month), now,
                            headline_only=True)
        text = mail.report_body(month_label(year, month), commune.name,
                                 [(label, format_cell(value) or "—") for label, value in current.headline.items()])
        try:
            with unit_of_work(session):
                session.add(ReportDelivery(commune_insee=insee, month=key, recipient=recipient, created_at=now))
                notifications.enqueue(
                    session, channel="email", recipient=recipient, due_at=now, dedupe_key=f"report:{insee}:{key}",
                    subject=mail.report_subject(month_label(year, month), commune.name), body=text,
                    html_body=summary_html(current, previous, last_year),
                    attachments=[(f"consultations-{insee}-{key}.pdf", "application/pdf", to_pdf(current, now)),
                                 (f"consultations-{insee}-{key}.csv", "text/csv", to_csv(current))])
        except IntegrityError:
            continue  # another run got there first: once per commune and month, whatever happens
        done.append(f"{commune.name} → {recipient}")
    return done
