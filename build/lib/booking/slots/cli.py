"""`flask slots …`: slot horizon."""

import click
from flask.cli import AppGroup

from booking.clock import parse_now
from booking.extensions import db
from booking.slots.services import DEFAULT_HORIZON_DAYS, extend_horizon

slots_cli = AppGroup("slots", help="Créneaux.")


@slots_cli.command("extend")
@click.option("--now", "now_text", help="Instant de référence (ISO 8601), pour les tests et le rattrapage.")
@click.option("--days", default=DEFAULT_HORIZON_DAYS, show_default=True, help="Horizon, en jours.")
def extend_command(now_text: str | None, days: int) -> None:
    """Create the slots of every active rule up to the horizon (idempotent)."""
    created = extend_horizon(db.session, parse_now(now_text), days)
    click.echo(f"{created} créneau{'x' if created > 1 else ''} créé{'s' if created > 1 else ''}.")
