"""Pure rules about French places: search keys, postal codes, time zones."""

import re
import unicodedata

# Overseas départements keep their own clock; everything else is on Paris time.
DEPARTEMENT_TIME_ZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "976": "Indian/Mayotte",
}
DEFAULT_TIME_ZONE = "Europe/Paris"
# How people name these zones: « heure de Paris », not "Europe/Paris".
TIME_ZONE_LABELS = {
    "Europe/Paris": "heure de Paris (métropole et Corse)",
    "America/Guadeloupe": "heure de la Guadeloupe",
    "America/Martinique": "heure de la Martinique",
    "America/Cayenne": "heure de la Guyane",
    "Indian/Reunion": "heure de La Réunion",
    "Indian/Mayotte": "heure de Mayotte",
}

_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}
_POSTAL_CODE = re.compile(r"^\d{2,5}$")


def search_key(text: str) -> str:
    """Return the accent-free, lower-case, single-spaced form used to match names."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    words = re.split(r"[^0-9a-z]+", stripped.lower())
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words if word)


def looks_like_postal_code(text: str) -> bool:
    """Tell whether a query is (the start of) a postal code rather than a name."""
    return bool(_POSTAL_CODE.match(text.strip()))


def time_zone_for_departement(departement_code: str) -> str:
    """Return the IANA time zone of a département."""
    return DEPARTEMENT_TIME_ZONES.get(departement_code, DEFAULT_TIME_ZONE)

