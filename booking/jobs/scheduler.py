"""`flask scheduler`: the one process that runs every periodic job.

Several may be started (one per server, for resilience): only the holder of
the lease runs jobs; when it dies, another takes over within the lease time.
"""

import logging
import os
import secrets
import socket

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import current_app
from flask.cli import with_appcontext

from booking.clock import now
from booking.database import unit_of_work
from booking.extensions import db
from booking.jobs.services import LEASE_SECONDS, acquire_lease, release_lease

log = logging.getLogger(__name__)


def dispatch_job():
    from notifications.setup import run_dispatch

    report = run_dispatch(now())
    if report.sent or report.failed or report.recovered:
        log.info("Messages : %s envoyés, %s en échec, %s repris", report.sent, report.failed, report.recovered)


def extend_slots_job():
    from booking.slots.services import extend_horizon

    log.info("Horizon des créneaux : %s créés", extend_horizon(db.session, now()))


def waitlist_job():
    from booking.waitlist.services import expire_offers

    expired = expire_offers(now())
    if expired:
        log.info("Liste d’attente : %s propositions expirées", expired)


def monthly_report_job():
    from booking.stats.report import backfill_months, previous_month, send_monthly_reports

    year, month = previous_month(now().date())
    done = send_monthly_reports(db.session, year, month, now(), processes=current_app.config["REPORT_PROCESSES"])
    log.info("Rapports mensuels : %s", len(done))
    # The months before the platform started (or that a stopped scheduler missed): the comparisons need them.
    filled = backfill_months(db.session, now(), processes=current_app.config["REPORT_PROCESSES"])
    if filled:
        log.info("Chiffres mensuels rattrapés : %s", ", ".join(filled))


def delay_sample_job():
    from booking.stats.services import sample_next_slot_delays

    with unit_of_work():
        sample_next_slot_delays(db.session, now())


def retention_job():
    from booking.privacy.services import Retention, purge

    with unit_of_work():
        report = purge(db.session, now(), Retention.from_config(current_app.config))
    log.info("Purge des données : %s", report.counts)


# name -> (function, APScheduler trigger arguments)
JOBS = {
    "dispatch": (dispatch_job, {"trigger": "interval", "seconds": 60}),
    "waitlist": (waitlist_job, {"trigger": "interval", "seconds": 60}),
    "extend_slots": (extend_slots_job, {"trigger": "cron", "hour": 2, "minute": 30}),
    "retention": (retention_job, {"trigger": "cron", "hour": 3, "minute": 0}),
    "delay_samples": (delay_sample_job, {"trigger": "cron", "hour": 6, "minute": 0}),
    # Re-run safely each hour of the first day: a report is sent once per commune and month.
    "monthly_reports": (monthly_report_job, {"trigger": "cron", "day": 1, "hour": "7-20", "minute": 5}),
}


def _lease_seconds(app) -> int:
    return app.config.get("SCHEDULER_LEASE_SECONDS", LEASE_SECONDS)


def run_if_leader(app, holder: str, name: str) -> bool:
    """Run one job in an app context if this process holds the lease; return whether it ran."""
    with app.app_context():
        try:
            if not acquire_lease(db.session, holder, now(), seconds=_lease_seconds(app)):
                return False
            JOBS[name][0]()
            return True
        except Exception:
            log.exception("La tâche %s a échoué", name)
            db.session.rollback()
            return False
        finally:
            db.session.remove()


def heartbeat(app, holder: str) -> None:
    with app.app_context():
        try:
            acquire_lease(db.session, holder, now(), seconds=_lease_seconds(app))
        finally:
            db.session.remove()


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Lancer chaque tâche une fois (si ce processus a le bail) puis s’arrêter.")
@with_appcontext
def scheduler_command(once: bool) -> None:
    """Run the periodic jobs (dispatch, slot horizon…) in this process."""
    app = current_app._get_current_object()
    holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    if once:
        for name in JOBS:
            ran = run_if_leader(app, holder, name)
            click.echo(f"{name} : {'fait' if ran else 'non (un autre planificateur tient le bail)'}")
        with app.app_context():
            release_lease(db.session, holder)
        return
    from notifications.setup import prepare_dispatch

    prepare_dispatch()
    # One line a minute per job would drown the useful ones.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = BlockingScheduler(timezone="UTC")
    lease = _lease_seconds(app)
    for name, (_, trigger) in JOBS.items():
        if name == "dispatch":
            trigger = {**trigger, "seconds": app.config.get("SCHEDULER_DISPATCH_SECONDS", trigger["seconds"])}
        scheduler.add_job(run_if_leader, args=(app, holder, name), id=name, max_instances=1, coalesce=True,
                          misfire_grace_time=300, **trigger)
    scheduler.add_job(heartbeat, "interval", seconds=max(1, lease // 3), args=(app, holder), id="heartbeat")
    click.echo(f"Planificateur {holder} démarré (bail de {lease} s).")
    heartbeat(app, holder)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        with app.app_context():
            release_lease(db.session, holder)
