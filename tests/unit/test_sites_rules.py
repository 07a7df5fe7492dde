import pytest

from booking.errors import InvalidInput
from booking.sites.rules import clean_rpps, rpps_is_valid


def _with_check_digit(body: str) -> str:
    for digit in "0123456789":
        if rpps_is_valid(body + digit):
            return body + digit
    raise AssertionError("no check digit")


def test_rpps_check_digit_is_verified():
    number = _with_check_digit("1000000000")
    assert number == "10000000009"
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not rpps_is_valid(wrong)


@pytest.mark.parametrize("text", ["1234", "1000000000A", "", "100000000089"])
def test_malformed_rpps_is_refused(text):
    with pytest.raises(InvalidInput, match="RPPS"):
        clean_rpps(text)


def test_rpps_spaces_are_removed():
    assert clean_rpps("100 000 000 09") == "10000000009"
