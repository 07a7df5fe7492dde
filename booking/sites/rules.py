"""Pure rules about sites and practitioners: the first professions, RPPS numbers, equipment, web origins."""

import re
from urllib.parse import urlsplit

from booking.errors import InvalidInput

# The professions a new platform starts with (migration f-seeds them); the administrator adds others
# in the reference table ``professions`` (booking.sites.professions), without a code change.
SEED_PROFESSIONS = {
    "medecin_generaliste": "Médecin généraliste",
    "ophtalmologue": "Ophtalmologue",
    "dermatologue": "Dermatologue",
    "cardiologue": "Cardiologue",
    "psychiatre": "Psychiatre",
    "pediatre": "Pédiatre",
    "gynecologue": "Gynécologue",
    "orl": "Oto-rhino-laryngologiste (ORL)",
    "endocrinologue": "Endocrinologue",
    "pneumologue": "Pneumologue",
    "rhumatologue": "Rhumatologue",
    "geriatre": "Gériatre",
    "sage_femme": "Sage-femme",
    "infirmier": "Infirmier ou infirmière",
    "kinesitherapeute": "Masseur-kinésithérapeute",
    "psychologue": "Psychologue",
    "chirurgien_dentiste": "Chirurgien-dentiste",
    "dieteticien": "Diététicien ou diététicienne",
    "orthophoniste": "Orthophoniste",
    "pmi": "Protection maternelle et infantile (PMI)",
    "allergologue": "Allergologue",
    "orthoptiste": "Orthoptiste",
    "infirmier_pratique_avancee": "Infirmier ou infirmière en pratique avancée (IPA)",
}


def rpps_is_valid(number: str) -> bool:
    """Tell whether an RPPS number has 11 digits and a correct Luhn check digit."""
    if len(number) != 11 or not number.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def made_up_rpps(number: int) -> str:
    """An RPPS for demonstration and test data: 11 digits with a right check digit, starting with 9 (no real
    practitioner's begins so), different for each ``number``."""
    body = f"9{number:09d}"
    return next(body + str(digit) for digit in range(10) if rpps_is_valid(body + str(digit)))


def clean_rpps(text: str) -> str:
    """Return the RPPS number without spaces, or raise InvalidInput."""
    number = "".join((text or "").split())
    if not rpps_is_valid(number):
        raise InvalidInput("Le numéro RPPS doit compter 11 chiffres et sa clé de contrôle doit être juste.")
    return number


def profession_label(code: str) -> str:
    """Return the French label of a profession code."""
    from booking.sites.professions import PROFESSIONS

    return PROFESSIONS.get(code, code)


EQUIPMENT = {
    "tensiometre": "Tensiomètre",
    "otoscope": "Otoscope connecté",
    "stethoscope": "Stéthoscope connecté",
    "dermatoscope": "Dermatoscope",
    "ecg": "Électrocardiographe (ECG)",
    "oxymetre": "Oxymètre",
    "thermometre": "Thermomètre",
    "balance": "Balance",
    "retinographe": "Rétinographe",
}

ACCESSIBILITY = {
    "pmr": "Accès en fauteuil roulant (PMR)",
    "parking": "Parking à proximité",
    "boucle": "Boucle magnétique",
    "ascenseur": "Ascenseur",
    "transport": "Desservi par un transport à la demande",
}


def labels(codes: list[str], choices: dict[str, str]) -> list[str]:
    """Return the French labels of known codes, in the order given."""
    return [choices[code] for code in codes if code in choices]


def default_served_communes(operator_commune: str | None, epci_members: list[str]) -> list[str]:
    """Return the communes a site serves when none are given: its commune, or every member of its EPCI."""
    return [operator_commune] if operator_commune else list(epci_members)


_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})+$")
_LOOPBACK = ("localhost", "127.0.0.1")


def web_origin(text: str) -> str:
    """Return the https origin a commune's website is framed from (https://www.mairie.fr[:port]), or InvalidInput.

    It goes into the widget's Content-Security-Policy header, so nothing but a scheme, a host name and a port
    may pass: no path, query, credentials, wildcard, quote or separator that would add a directive.
    """
    raw = text.strip()
    refused = InvalidInput(f"« {raw[:80]} » n’est pas l’adresse d’un site web en https "
                           f"(par exemple https://www.saint-bonnet.fr).", field="embed_origins")
    if not raw or any(character.isspace() or character in ";,'\"*\\" for character in raw):
        raise refused
    try:
        parts = urlsplit(raw)
        port = parts.port  # ValueError when out of 0–65535 or not a number
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        raise refused from None
    scheme = parts.scheme.lower()
    # A developer's own machine (a test page, the demo) may frame it over http; any other site is https.
    loopback = host in _LOOPBACK and scheme in ("http", "https")
    if ((scheme != "https" or not _HOST.match(host)) and not loopback) or parts.username is not None \
            or parts.password is not None or parts.path not in ("", "/") or parts.query or parts.fragment \
            or "?" in raw or "#" in raw or port == 0:
        raise refused
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def valid_web_origins(stored: list[str] | None) -> list[str]:
    """The stored origins that still parse (rows saved before the rule was strict are left out)."""
    origins = []
    for text in stored or []:
        try:
            origins.append(web_origin(text))
        except InvalidInput:
            continue
    return origins
