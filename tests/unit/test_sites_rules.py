import pytest

from booking.errors import InvalidInput
from booking.sites.rules import clean_rpps, rpps_is_valid, valid_web_origins, web_origin


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


@pytest.mark.parametrize("text", [
    "https://a.fr;sandbox", "https:", "https://", "'unsafe-inline'", "https://user:pw@a.fr", "https://user@a.fr",
    "https://a.fr:99999", "https://a.fr:0", "https://a.fr:port", "http://a.fr", "https://*.a.fr", "https://a.fr/page",
    "https://a.fr?x=1", "https://a.fr#top", "https://a.fr 'self'", "https://a.fr,https://b.fr", "http://192.168.1.2",
    "https://-a.fr", "https://a..fr", "javascript:alert(1)", "https://[::1]", "https://a.fr\\@b.fr", "",
])
def test_only_a_scheme_host_and_port_may_frame_the_widget(text):
    with pytest.raises(InvalidInput) as refused:
        web_origin(text)
    assert refused.value.field == "embed_origins" and "n’est pas l’adresse d’un site web en https" in str(refused.value)


@pytest.mark.parametrize("text, origin", [
    ("https://www.saint-bonnet.fr", "https://www.saint-bonnet.fr"),
    ("  HTTPS://WWW.Saint-Bonnet.FR/ ", "https://www.saint-bonnet.fr"),
    ("https://mairie.fr:443", "https://mairie.fr"),
    ("https://mairie.fr:8443", "https://mairie.fr:8443"),
    ("https://saint-étienne.fr", "https://xn--saint-tienne-geb.fr"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),  # a developer's own machine only
    ("http://localhost", "http://localhost"),
])
def test_an_origin_is_written_the_way_a_browser_names_it(text, origin):
    assert web_origin(text) == origin


def test_origins_stored_before_the_rule_was_strict_never_reach_the_header():
    assert valid_web_origins(["https://a.fr;sandbox", "https://b.fr", "'unsafe-inline'"]) == ["https://b.fr"]
