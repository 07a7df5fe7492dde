"""`flask reports …` and `flask stats …`."""

import click
from flask.cli import AppGroup

from booking.clock import parse_now
from booking.database import unit_of_work
from booking.extensions import db
from booking.stats.report import backfill_months, previous_month, send_monthly_reports
from booking.stats.services import sample_next_slot_delays

reports_cli = AppGroup("reports", help="Rapports mensuels des communes.")
stats_cli = AppGroup("stats", help="Statistiques.")


@reports_cli.command("send")
@click.option("--month", help="Mois AAAA-MM (par défaut : le mois précédent).")
@click.option("--commune", help="Code INSEE d’une seule commune.")
@click.option("--dry-run", is_flag=True, help="Afficher sans rien envoyer.")
@click.option("--now", "now_text", help="Instant de référence (ISO 8601).")
def send_command(month, commune, dry_run, now_text):
    """Queue the monthly report of each commune (at most once per commune and month)."""
    now = parse_now(now_text)
    if month:
        try:
            year, number = (int(part) for part in month.split("-"))
            if not 1 <= number <= 12:
                raise ValueError
        except ValueError:
            raise click.ClickException("Mois attendu au format AAAA-MM.") from None
    else:
        year, number = previous_month(now.date())
    done = send_monthly_reports(db.session, year, number, now, commune_insee=commune, dry_run=dry_run)
    verb = "à envoyer" if dry_run else "mis en file d’envoi"
    click.echo(f"{len(done)} rapport{'s' if len(done) > 1 else ''} {verb}.")
    for line in done:
        click.echo(f"  {line}")


@stats_cli.command("backfill")
@click.option("--months", default=12, show_default=True, help="Combien de mois terminés, en remontant.")
@click.option("--now", "now_text", help="Instant de référence (ISO 8601).")
def backfill_command(months, now_text):
    """Compute the key figures of past months that have none, so that the dashboard's comparisons exist."""
    filled = backfill_months(db.session, parse_now(now_text), months)
    click.echo(f"Mois calculés : {', '.join(filled) if filled else 'aucun (tous l’étaient déjà)'}.")


@stats_cli.command("sample")
@click.option("--now", "now_text", help="Instant de référence (ISO 8601).")
def sample_command(now_text):
    """Record today's delay to the next free slot for every site and profession."""
    with unit_of_work():
        recorded = sample_next_slot_delays(db.session, parse_now(now_text))
    click.echo(f"{recorded} relevés enregistrés.")


@stats_cli.command("import-practitioners")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", help="D’où vient le fichier (par exemple « ARS Auvergne-Rhône-Alpes, 2026 »).")
def import_practitioners_command(path, source):
    """Import the practitioners counted per commune, profession and year (see booking/stats/reference.py)."""
    from booking.errors import DomainError
    from booking.stats.reference import import_counts

    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        with unit_of_work():
            count = import_counts(db.session, text, source)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"{count} lignes importées.")
