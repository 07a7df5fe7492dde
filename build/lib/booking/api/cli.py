"""`flask tokens …`: API tokens."""

import click
from flask.cli import AppGroup

from booking.api.services import create_token, revoke_tokens
from booking.clock import now
from booking.database import unit_of_work
from booking.errors import DomainError
from booking.extensions import db

tokens_cli = AppGroup("tokens", help="Jetons de l’API.")


@tokens_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", default="", help="À quoi sert ce jeton.")
def create_command(email, name):
    """Create a token; it is printed once, alone on the last line."""
    try:
        with unit_of_work():
            token = create_token(db.session, email, name, now())
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo("Jeton créé. Conservez-le : il ne sera plus affiché.")
    click.echo(token)


@tokens_cli.command("revoke")
@click.option("--email", required=True)
def revoke_command(email):
    """Revoke every token of an account."""
    try:
        with unit_of_work():
            count = revoke_tokens(db.session, email, now())
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"{count} jeton(s) révoqué(s).")
