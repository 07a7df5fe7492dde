import pytest

from booking.geo.rules import (
    looks_like_postal_code,
    search_key,
    time_zone_for_departement,
)


@pytest.mark.parametrize("text, key", [
    ("Saint-Étienne", "saint etienne"),
    ("saint etienne", "saint etienne"),
    ("ST ÉTIENNE", "saint etienne"),
    ("L'Haÿ-les-Roses", "l hay les roses"),
    ("Œuilly", "oeuilly"),
    ("  Anglards-de-Salers ", "anglards de salers"),
])
def test_search_key_ignores_accents_case_and_punctuation(text, key):
    assert search_key(text) == key


def test_postal_code_queries_are_told_from_names():
    assert looks_like_postal_code("15140")
    assert looks_like_postal_code("151")
    assert not looks_like_postal_code("Salers")
    assert not looks_like_postal_code("2A004")



@pytest.mark.parametrize("departement, zone", [
    ("15", "Europe/Paris"), ("2A", "Europe/Paris"), ("971", "America/Guadeloupe"),
    ("972", "America/Martinique"), ("973", "America/Cayenne"), ("974", "Indian/Reunion"),
    ("976", "Indian/Mayotte"),
])
def test_overseas_departements_have_their_own_time_zone(departement, zone):
    assert time_zone_for_departement(departement) == zone


def test_names_equally_near_come_in_an_order_that_does_not_depend_on_the_rows_order():
    from booking.geo.rules import NameIndex

    names = [("salins", "15220"), ("salers", "15219"), ("anglards de salers", "15006")]
    for rows in (names, list(reversed(names))):
        assert NameIndex(rows).nearest("salres")[0] == "15219"  # a swap of two letters: one typo
