"""Pure rules about French places: search keys, postal codes, time zones, distances."""

import re
import unicodedata
from math import asin, cos, radians, sin, sqrt

from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from booking.clock import DEFAULT_TIME_ZONE

# Overseas départements keep their own clock; everything else is on Paris time.
DEPARTEMENT_TIME_ZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "976": "Indian/Mayotte",
}
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


def time_zone_for_insee(insee: str | None) -> str:
    """Return the time zone of a commune from its INSEE code (overseas codes start with 97 and a third digit)."""
    code = (insee or "").upper()
    return time_zone_for_departement(code[:3] if code.startswith("97") else code[:2])



def typos_allowed(key: str) -> int:
    """How many typing mistakes a search key of this length may hold and still mean a name."""
    return 1 if len(key) <= 5 else 2


class NameIndex:
    """Names to look up despite a typo or two, each with an id (a commune's INSEE code)."""

    def __init__(self, names: list[tuple[str, str]]):
        self.ids = [ident for _, ident in names]
        self.names = [name for name, _ in names]
        self.words = [word for name in self.names for word in name.split(" ") if len(word) >= 4]
        self.word_owner = [index for index, name in enumerate(self.names)
                           for word in name.split(" ") if len(word) >= 4]

    def nearest(self, key: str) -> list[str]:
        """Return the ids of the names within a typo or two of the key, best first.

        A name matches as a whole ("st bonet de salers"), by its beginning (the
        person stopped typing: "saint bonet") or, for a one-word key, by one of
        its words ("slers" → "saint bonnet de salers"); whole names rank first.
        """
        allowed = typos_allowed(key)
        best: dict[str, tuple[int, int]] = {}

        def keep(kind: int, matches, owner=lambda position: position) -> None:
            for _, distance, position in matches:
                ident = self.ids[owner(position)]
                best[ident] = min(best.get(ident, (9, 9)), (kind, distance))

        def near(choices, **options):
            return process.extract(key, choices, scorer=Levenshtein.distance, score_cutoff=allowed, limit=None,
                                   **options)

        keep(0, near(self.names))
        keep(1, near(self.names, processor=lambda name: name[:len(key)]))
        if " " not in key:
            keep(2, near(self.words), owner=self.word_owner.__getitem__)
        # Between equals, a swap of two letters counts as one typo (« salres » is nearer Salers than Salins), then
        # the name: the order never depends on the order the rows came in.
        name_of = dict(zip(self.ids, self.names, strict=True))
        return sorted(best, key=lambda ident: (*best[ident], OSA.distance(key, name_of[ident]), name_of[ident]))


EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The distance between two points (latitude, longitude in degrees) along the Earth's surface, in km."""
    lat1, lon1, lat2, lon2 = map(radians, (*a, *b))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))


def estimated_drive_minutes(km: float, road_factor: float, speed_kmh: float) -> float:
    """An estimate of the time by car: the distance as the crow flies, lengthened by the roads' detours, at an
    average speed. The one place a real router (OSRM, Valhalla) would replace."""
    return km * road_factor / speed_kmh * 60


def describe_trip(km: float, minutes: float) -> str:
    """« à 18 km, environ 22 min en voiture » (« environ 1 h 05 » past the hour)."""
    rounded = max(1, round(minutes))
    duration = f"{rounded} min" if rounded < 60 else f"{rounded // 60} h {rounded % 60:02d}"
    return f"à {round(km)} km, environ {duration} en voiture"
