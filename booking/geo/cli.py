"""`flask geo …`: reference data commands."""

from pathlib import Path

import click
from flask.cli import AppGroup

from booking.errors import DomainError
from booking.extensions import db
from booking.geo.services import commune_label, count_communes, import_reference_data, search_communes

geo_cli = AppGroup("geo", help="Données de référence : communes, EPCI, départements.")


@geo_cli.command("import")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
def import_command(path: Path | None) -> None:
    """Import or update communes, EPCI and départements (PATH: data/ folder or .tgz; default: npm pack)."""
    try:
        report = import_reference_data(db.session, path)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Référentiel importé : {report.inserted} ajouts, {report.updated} mises à jour, "
               f"{report.deleted} suppressions.")


@geo_cli.command("search")
@click.argument("query")
def search_command(query: str) -> None:
    """Find communes by name or postal code."""
    for commune in search_communes(db.session, query):
        click.echo(f"{commune.insee}  {commune_label(commune)}")


@geo_cli.command("count")
def count_command() -> None:
    """Print how many communes are loaded."""
    click.echo(count_communes(db.session))


@geo_cli.command("import-positions")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_positions_command(path: Path | None) -> None:
    """Import the communes' positions, areas and 2015 populations (CSV: insee, latitude, longitude, area_km2,
    population_2015, population_2021; default: the file shipped in booking/geo/data); all or nothing."""
    from booking.database import unit_of_work
    from booking.geo.positions import SHIPPED_POSITIONS, import_positions

    path = path or SHIPPED_POSITIONS

    try:
        with unit_of_work():
            report = import_positions(db.session, path)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Positions importées : {report.updated} communes ; {report.without_position} sans position connue"
               + (f" ; {len(report.unknown)} codes inconnus du référentiel ignorés" if report.unknown else "") + ".")


@geo_cli.command("count-positions")
def count_positions_command() -> None:
    """Print how many communes have a position."""
    from booking.geo.positions import count_placed

    click.echo(count_placed(db.session))
