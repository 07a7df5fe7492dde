"""Where communes are: the import of their positions (all or nothing), and distances counted by hand."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from booking.database import unit_of_work
from booking.errors import InvalidInput
from booking.geo.models import Commune
from booking.geo.positions import import_positions
from booking.geo.rules import describe_trip, estimated_drive_minutes, great_circle_km

CENTROIDS = Path(__file__).resolve().parents[1] / "fixtures" / "geo" / "centroids.csv"


def test_the_positions_file_places_the_communes_it_names_and_says_which_it_does_not(session):
    with unit_of_work(session):
        report = import_positions(session, CENTROIDS)
    saint_bonnet = session.get(Commune, "15174")
    assert (saint_bonnet.latitude, saint_bonnet.longitude) == (45.15805, 2.49925)
    assert saint_bonnet.area_km2 == 32.67 and saint_bonnet.population_2015 == 289
    unplaced = session.scalar(select(func.count()).select_from(Commune).where(Commune.latitude.is_(None)))
    assert report.updated == 256 and report.without_position == unplaced > 0  # Marseille and others: no line
    assert session.get(Commune, "13055").latitude is None  # not known: said, never 0,0


def test_a_file_with_a_bad_line_changes_nothing_and_names_its_lines(session, tmp_path, runner):
    bad = tmp_path / "positions.csv"
    bad.write_text("insee,latitude,longitude,area_km2,population_2015,population_2021\n"
                   "15174,45.1,2.4,32.67,289,262\n15120,nord,2.3,27.61,3671,3519\n15219,145.1,2.5,4.85,335,316\n")
    before = session.get(Commune, "15174").latitude  # the geography is kept from one test to the next
    session.commit()
    with pytest.raises(InvalidInput) as refused, unit_of_work(session):
        import_positions(session, bad)
    assert "ligne 3" in refused.value.message and "ligne 4" in refused.value.message
    session.expire_all()
    assert session.get(Commune, "15174").latitude == before != 45.1  # the good line was not kept either
    answer = runner.invoke(args=["geo", "import-positions", str(bad)])
    assert answer.exit_code == 1 and "rien n’est importé" in answer.output
    answer = runner.invoke(args=["geo", "import-positions", str(CENTROIDS)])
    assert answer.exit_code == 0 and "Positions importées : 256 communes" in answer.output


def test_distances_and_times_counted_by_hand():
    # Saint-Bonnet-de-Salers (45.15805, 2.49925) to Mauriac (45.22088, 2.32087): Δlat 0.06283° = 0.0010966 rad,
    # Δlon 0.17838° × cos 45.19° = 0.0021941 rad; √(0.0010966² + 0.0021941²) = 0.0024529 rad × 6 371 km
    # = 15.63 km. By car: × 1.3 ÷ 60 km/h = 20.3 min.
    km = great_circle_km((45.15805, 2.49925), (45.22088, 2.32087))
    assert km == pytest.approx(15.63, abs=0.01)
    minutes = estimated_drive_minutes(km, 1.3, 60)
    assert minutes == pytest.approx(20.32, abs=0.02)
    assert describe_trip(km, minutes) == "à 16 km, environ 20 min en voiture"
    assert describe_trip(80, 65) == "à 80 km, environ 1 h 05 en voiture"
    assert great_circle_km((45.0, 2.0), (45.0, 2.0)) == 0
