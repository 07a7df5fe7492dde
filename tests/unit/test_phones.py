import pytest

from booking.errors import InvalidInput
from booking.phones import format_phone, parse_phone
from notifications.sms import mask


@pytest.mark.parametrize("typed", ["06 12 34 56 78", "+33612345678", "0033 6 12 34 56 78", "06.12.34.56.78"])
def test_the_same_mobile_number_however_typed(typed):
    parsed = parse_phone(typed)
    assert parsed.e164 == "+33612345678"
    assert parsed.kind == "mobile"


@pytest.mark.parametrize("departement, typed, e164", [
    ("971", "0690 12 34 56", "+590690123456"),
    ("972", "0696 12 34 56", "+596696123456"),
    ("973", "0694 12 34 56", "+594694123456"),
    ("974", "0692 12 34 56", "+262692123456"),
    ("976", "0639 01 23 45", "+262639012345"),
])
def test_overseas_numbers_are_read_in_the_patients_region(departement, typed, e164):
    assert parse_phone(typed, departement).e164 == e164


def test_a_landline_is_recognised():
    assert parse_phone("04 71 40 00 00").kind == "landline"


@pytest.mark.parametrize("typed", ["", "12", "06 12 34", "bonjour"])
def test_nonsense_is_refused_in_french(typed):
    with pytest.raises(InvalidInput, match="numéro"):
        parse_phone(typed)


def test_numbers_are_shown_the_french_way_and_masked_in_logs():
    assert format_phone("+33612345678") == "06 12 34 56 78"
    assert mask("+33612345678") == "+33•••••••78"
