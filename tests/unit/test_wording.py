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
