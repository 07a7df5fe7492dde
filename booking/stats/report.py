"""The monthly report sent to each commune: a short HTML summary, the PDF and the CSV."""

import multiprocessing
from dataclasses import dataclass
from datetime import date, datetime
from html import escape

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import notifications
from booking.auth.models import User, user_communes
from booking.database import unit_of_work
from booking.formatting import month_label
from booking.outgoing import mail
from booking.sites.models import Site, site_served_communes
from booking.stats.comparisons import communes_running_sites, record_month
from booking.stats.export import period_label, to_csv, to_pdf
from booking.stats.models import MonthlyFigures, ReportDelivery
from booking.stats.rules import format_cell
from booking.stats.services import compute


def _month_start(year: int, month: int) -> date:
    return date(year, month, 1)


def _next_month(year: int, month: int) -> date:
    return date(year + (month == 12), month % 12 + 1, 1)


def previous_month(today: date) -> tuple[int, int]:
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


@dataclass
class ReportTarget:
    kind: str              # "commune" or "epci"
    code: str              # INSEE code or SIREN
    recipients: list[str]  # the referents' accounts and the sites' contact addresses


def report_targets(session: Session, code: str | None = None) -> list[ReportTarget]:
    """Who gets a monthly report: every commune and every EPCI that runs a site, at its referents' accounts
    and its sites' contact addresses (each once)."""
    targets: dict[tuple[str, str], list[str]] = {}
    for commune, epci, address in session.execute(
            select(Site.operator_commune_insee, Site.operator_epci_siren, Site.contact_email).order_by(Site.id)):
        key = ("commune", commune) if commune else ("epci", epci)
        targets.setdefault(key, [])
        if address:
            targets[key].append(address)
    # Every referent gets their commune's report: of its sites, or else of its residents' visits elsewhere.
    served = set(session.scalars(select(site_served_communes.c.commune_insee)))
    for insee, address in session.execute(
            select(user_communes.c.commune_insee, User.email).join(User, User.id == user_communes.c.user_id)
            .where(User.role == "commune_admin", User.active.is_(True), User.email.is_not(None)).order_by(User.id)):
        if ("commune", insee) in targets or insee in served:
            targets.setdefault(("commune", insee), []).append(address)
    for siren, address in session.execute(
            select(User.epci_siren, User.email).where(User.role == "epci_admin", User.active.is_(True),
                                                     User.email.is_not(None)).order_by(User.id)):
        if ("epci", siren) in targets:
            targets[("epci", siren)].append(address)
    found = [ReportTarget(kind, key, list(dict.fromkeys(a.strip().lower() for a in addresses)))
             for (kind, key), addresses in targets.items() if addresses and (code is None or key == code)]
    return sorted(found, key=lambda t: (t.kind, t.code))


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
                         dry_run: bool = False, processes: int = 1) -> list[str]:
    """Queue one report per commune or EPCI and month (never twice), to each recipient; return who got one.

    With ``processes`` > 1 the communes are shared out between as many forked processes (PostgreSQL: the
    figures and PDFs of 3,000 communes take minutes of CPU; each process holds its own connections).
    """
    key = f"{year:04d}-{month:02d}"
    if not dry_run and commune_insee is None:
        # First, every commune's figures: the reports' comparisons read them.
        _shared_out(session, processes, _record_figures, communes_running_sites(session), year, month, now)
    targets = [target for target in report_targets(session, commune_insee) if not _delivered(session, target, key)]
    if dry_run:
        return [f"{target.code} → {', '.join(target.recipients)}" for target in targets]
    return _shared_out(session, processes, _send_reports, targets, year, month, now)


def backfill_months(session: Session, now: datetime, months: int = 12, processes: int = 1) -> list[str]:
    """Keep the key figures of the past ``months`` finished months that have none yet (a platform's first
    start, or months the job missed), so that comparisons exist from the first day; return those filled."""
    year, month = previous_month(now.date())
    filled = []
    for _ in range(months):
        key = f"{year:04d}-{month:02d}"
        if session.scalar(select(MonthlyFigures.id).where(MonthlyFigures.month == key).limit(1)) is None:
            _shared_out(session, processes, _record_figures, communes_running_sites(session), year, month, now)
            filled.append(key)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return filled


def _delivered(session: Session, target: ReportTarget, key: str) -> bool:
    column = ReportDelivery.commune_insee if target.kind == "commune" else ReportDelivery.epci_siren
    delivery = select(ReportDelivery.id).where(column == target.code, ReportDelivery.month == key)
    return session.scalar(delivery) is not None


def _shared_out(session: Session, processes: int, work, items: list, *args) -> list:
    """``work(session, share, *args)`` for every n-th item in each of ``processes`` forked processes, or here."""
    if processes <= 1 or len(items) < 2:
        return work(session, items, *args)
    session.commit()
    # The children must not share the parent's connections: close them all, each child opens its own.
    session.get_bind().dispose()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        shares = pool.starmap(_in_child, [(work, items[i::processes], args) for i in range(processes)])
    return [line for share in shares for line in share]


def _in_child(work, items: list, args: tuple) -> list:
    from booking.extensions import db  # the fork keeps the app context; the session is the child's own

    # A fresh pool, the parent's left untouched: another thread of the parent (the scheduler's) may have held
    # a connection, or the pool's lock, at the instant of the fork.
    db.engine.dispose(close=False)
    try:
        return work(db.session, items, *args)
    finally:
        db.session.remove()
        db.engine.dispose()


def _record_figures(session: Session, communes: list[str], year: int, month: int, now: datetime) -> list:
    with unit_of_work(session):
        record_month(session, year, month, now, communes)
    return []


def _send_reports(session: Session, targets: list[ReportTarget], year: int, month: int, now: datetime) -> list[str]:
    done = []
    start, end = _month_start(year, month), _next_month(year, month)
    key = f"{year:04d}-{month:02d}"
    for target in targets:
        scope = {"epci_siren": target.code} if target.kind == "epci" else {}
        insee = target.code if target.kind == "commune" else None
        current = compute(session, insee, start, end, now, **scope)
        py, pm = (year - 1, 12) if month == 1 else (year, month - 1)
        previous = compute(session, insee, _month_start(py, pm), _next_month(py, pm), now, headline_only=True,
                           **scope)
        last_year = compute(session, insee, _month_start(year - 1, month), _next_month(year - 1, month), now,
                            headline_only=True, **scope)
        name = current.commune.name
        text = mail.report_body(month_label(year, month), name,
                                [(label, format_cell(value) or "—") for label, value in current.headline.items()])
        files = [(f"consultations-{target.code}-{key}.pdf", "application/pdf", to_pdf(current, now)),
                 (f"consultations-{target.code}-{key}.csv", "text/csv", to_csv(current))]
        try:
            with unit_of_work(session):
                session.add(ReportDelivery(commune_insee=insee, epci_siren=scope.get("epci_siren"), month=key,
                                           recipient=", ".join(target.recipients)[:254], created_at=now))
                for recipient in target.recipients:
                    notifications.enqueue(
                        session, channel="email", recipient=recipient, due_at=now,
                        dedupe_key=f"report:{target.code}:{key}:{recipient}"[:120],
                        subject=mail.report_subject(month_label(year, month), name), body=text,
                        html_body=summary_html(current, previous, last_year), attachments=files)
        except IntegrityError:
            continue  # another run got there first: once per commune and month, whatever happens
        done.append(f"{name} → {', '.join(target.recipients)}")
    return done
