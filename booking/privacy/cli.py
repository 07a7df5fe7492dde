"""`flask privacy …`: the retention purge and erasure on request."""

import click
from flask import current_app
from flask.cli import AppGroup

from booking.clock import parse_now
from booking.database import unit_of_work
from booking.extensions import db
from booking.privacy.services import Retention, erase_patient, purge

privacy_cli = AppGroup("privacy", help="Données personnelles : durées de conservation, effacement.")


@privacy_cli.command("purge")
@click.option("--now", "now_text", help="Instant de référence (ISO 8601).")
def purge_command(now_text):
    """Delete or blank the personal data past its retention period (docs/privacy.md)."""
    with unit_of_work():
        report = purge(db.session, parse_now(now_text), Retention.from_config(current_app.config))
    for name, count in report.counts.items():
        click.echo(f"{name} : {count}")


@privacy_cli.command("erase")
@click.argument("patient_id", type=int)
@click.option("--now", "now_text", help="Instant de référence (ISO 8601).")
def erase_command(patient_id, now_text):
    """Erase a patient's identity and contact details (outcomes stay, anonymous)."""
    with unit_of_work():
        erase_patient(db.session, patient_id, parse_now(now_text))
    click.echo(f"Patient {patient_id} effacé.")
