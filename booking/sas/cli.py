"""`flask sas allow|revoke`: the SAS systems allowed to call us, by their certificate's CN and OU."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from booking.database import unit_of_work
from booking.extensions import db
from booking.sas.models import SasConsumer

sas_cli = AppGroup("sas", help="Service d’accès aux soins : systèmes autorisés (certificats clients).")


def _consumer(common_name: str, unit: str) -> SasConsumer | None:
    return db.session.scalar(select(SasConsumer).where(SasConsumer.common_name == common_name,
                                                       SasConsumer.organizational_unit == unit))


@sas_cli.command("allow")
@click.option("--cn", "common_name", required=True, help="Common Name (CN) du certificat client IGC-Santé.")
@click.option("--ou", "unit", required=True, help="Organizational Unit (OU) du certificat client.")
@click.option("--label", required=True, help="Nom lisible, par exemple « Plateforme SAS (production) ».")
def allow_command(common_name, unit, label):
    """Admit a SAS system by its certificate's CN and OU (again: reactivate it)."""
    with unit_of_work():
        consumer = _consumer(common_name, unit)
        if consumer is None:
            consumer = SasConsumer(common_name=common_name, organizational_unit=unit, label=label)
            db.session.add(consumer)
        consumer.active, consumer.label = True, label
    click.echo(f"Autorisé : CN={common_name}, OU={unit} ({label}).")


@sas_cli.command("revoke")
@click.option("--cn", "common_name", required=True)
@click.option("--ou", "unit", required=True)
def revoke_command(common_name, unit):
    """Refuse a SAS system from now on."""
    with unit_of_work():
        consumer = _consumer(common_name, unit)
        if consumer is None:
            raise click.ClickException("Aucun système n’est autorisé avec ce CN et cet OU.")
        consumer.active = False
    click.echo(f"Révoqué : CN={common_name}, OU={unit}.")
