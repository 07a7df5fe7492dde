"""Small words that people read every day: said once, and said right."""

from booking.formatting import signed_in_as
from booking.text import of_place


def test_the_header_names_the_role_only_when_the_name_does_not_already_say_it():
    assert signed_in_as("Référente santé", "commune_admin") == "Référente santé"
    assert signed_in_as("Accueil mairie de Saint-Bonnet", "agent") == "Accueil mairie de Saint-Bonnet · Agent d’accueil"
    assert signed_in_as("Hélène Vidal", "practitioner") == "Hélène Vidal · Praticien"
    assert signed_in_as("", "resident") == "Usager"


def test_de_before_a_place_name_elides_and_contracts():
    assert of_place("Salers") == "de Salers"
    assert of_place("Aurillac") == "d’Aurillac"
    assert of_place("Ydes") == "d’Ydes"
    assert of_place("Le Fau") == "du Fau"
    assert of_place("Les Ternes") == "des Ternes"
    assert of_place("La Chapelle-Laurent") == "de La Chapelle-Laurent"
    assert of_place("Égliseneuve-d’Entraigues") == "d’Égliseneuve-d’Entraigues"


def test_the_reminder_call_says_the_first_of_the_month_as_french_does():
    from datetime import UTC, datetime

    from booking.outgoing.voice import reminder_call

    said = reminder_call(datetime(2027, 3, 1, 8, 20, tzinfo=UTC), "Europe/Paris", "Cabine", "Place de la mairie",
                         "Salers", datetime(2027, 2, 25, 9, tzinfo=UTC), None)
    assert "le lundi 1er mars, à 9 heures 20" in said


def test_a_statistics_cell_on_a_page_has_its_thousands_space_and_the_rest_is_unchanged():
    from booking.main.templating import shown_cell

    assert shown_cell(8413) == "8\u202f413" and shown_cell(12_345_678) == "12\u202f345\u202f678"
    assert shown_cell(999) == "999" and shown_cell(40.7) == "40,7" and shown_cell("< 5") == "< 5"
    assert shown_cell(None) == ""
