"""`flask users …`: account administration."""

import click
from flask.cli import AppGroup

from booking.auth.models import ROLES
from booking.auth.services import create_user
from booking.database import unit_of_work
from booking.errors import DomainError
from booking.extensions import db

users_cli = AppGroup("users", help="Comptes utilisateurs.")


@users_cli.command("create")
@click.option("--email", help="Adresse e-mail de connexion.")
@click.option("--phone", help="Numéro de mobile de connexion.")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--commune", "communes", multiple=True, help="Code INSEE d’une commune (répétable).")
@click.option("--epci", "epci_siren", help="SIREN de l’intercommunalité (rôle epci_admin).")
@click.option("--departement", "departement_code", help="Code du département (rôle departement_viewer).")
@click.option("--name", "display_name", default="", help="Nom affiché.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Demandé s’il n’est pas donné.")
def create_command(email, phone, role, communes, epci_siren, departement_code, display_name, password) -> None:
    """Create an account."""
    try:
        with unit_of_work():
            user = create_user(db.session, role=role, password=password, email=email, phone=phone,
                               display_name=display_name, commune_codes=list(communes), epci_siren=epci_siren,
                               departement_code=departement_code)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Compte créé : n° {user.id}, {user.email or user.phone}, rôle {role}.")
