"""Small words that people read every day: said once, and said right."""

from booking.formatting import signed_in_as


def test_the_header_names_the_role_only_when_the_name_does_not_already_say_it():
    assert signed_in_as("Référente santé", "commune_admin") == "Référente santé"
    assert signed_in_as("Accueil mairie de Saint-Bonnet", "agent") == "Accueil mairie de Saint-Bonnet · Agent d’accueil"
    assert signed_in_as("Hélène Vidal", "practitioner") == "Hélène Vidal · Praticien"
    assert signed_in_as("", "resident") == "Usager"
