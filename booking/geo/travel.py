"""How far a place is from a commune, and how long the drive: the one door through which every distance and
travel time of the application passes, so that a real router (OSRM, Valhalla) can replace the estimate here.

The estimate is the great-circle distance lengthened by a road factor, driven at an average speed
(``TRAVEL_ROAD_FACTOR``, ``TRAVEL_SPEED_KMH``; 1.3 and 60 km/h by default, rural roads). Either end without a
known position gives no trip at all: never a distance from 0,0.
"""

from dataclasses import dataclass
from math import cos, radians

from flask import current_app

from booking.geo.rules import describe_trip, estimated_drive_minutes, great_circle_km

DEFAULT_ROAD_FACTOR = 1.3
DEFAULT_SPEED_KMH = 60.0

Position = tuple[float, float]  # latitude, longitude (WGS 84, degrees)


@dataclass(frozen=True, order=True)
class Trip:
    minutes: float
    km: float

    def __str__(self) -> str:
        return describe_trip(self.km, self.minutes)

    @property
    def short(self) -> str:
        """« à 18 km, environ 22 min » (in a card, where « en voiture » is said once above)."""
        return str(self).removesuffix(" en voiture")


def position(latitude: float | None, longitude: float | None) -> Position | None:
    return None if latitude is None or longitude is None else (latitude, longitude)


def settings() -> tuple[float, float]:
    config = current_app.config
    return (float(config.get("TRAVEL_ROAD_FACTOR", DEFAULT_ROAD_FACTOR)),
            float(config.get("TRAVEL_SPEED_KMH", DEFAULT_SPEED_KMH)))


def trip(origin: Position | None, destination: Position | None,
         road_factor: float | None = None, speed_kmh: float | None = None) -> Trip | None:
    """The estimated drive from ``origin`` to ``destination``, or None when either is not placed."""
    if origin is None or destination is None:
        return None
    if road_factor is None or speed_kmh is None:
        road_factor, speed_kmh = settings()
    km = great_circle_km(origin, destination)
    return Trip(estimated_drive_minutes(km, road_factor, speed_kmh), km)


def reach_km(minutes: float, road_factor: float | None = None, speed_kmh: float | None = None) -> float:
    """How far, as the crow flies, a drive of ``minutes`` reaches (the radius of a search)."""
    if road_factor is None or speed_kmh is None:
        road_factor, speed_kmh = settings()
    return minutes / 60 * speed_kmh / road_factor


KM_PER_DEGREE_OF_LATITUDE = 111.2


def reach_box(points: list[Position], minutes: float) -> tuple[float, float, float, float]:
    """South, north, west and east bounds of what a drive of ``minutes`` may reach from any of ``points``: a
    rectangle around the circles (as the crow flies), for an index to narrow; the trip itself then decides."""
    km = reach_km(minutes)
    south, north = min(p[0] for p in points), max(p[0] for p in points)
    slack_lon = km / (KM_PER_DEGREE_OF_LATITUDE * max(0.05, cos(radians(max(abs(south), abs(north))))))
    return (south - km / KM_PER_DEGREE_OF_LATITUDE, north + km / KM_PER_DEGREE_OF_LATITUDE,
            min(p[1] for p in points) - slack_lon, max(p[1] for p in points) + slack_lon)
