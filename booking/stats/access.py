"""How far care is across a territory: for each commune, the estimated drive to the nearest site offering a
profession (and to the nearest with a free slot within 7 days), the population beyond 20 and 30 minutes, the
drive of the people who actually came, and the population's trend 2015 → 2021.

Every drive is the estimate of ``booking.geo.travel`` from the commune's point to the site's. A site counts
wherever it is, in the territory or beyond its border (within ``REACH_MINUTES``; further is « plus de 60 min »).
A commune without a known position is counted apart, never placed.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from booking.appointments.models import Appointment
from booking.geo.models import Commune
from booking.geo.travel import Position, position, reach_box, settings, trip
from booking.patients.models import Patient
from booking.search.models import UnmetDemand
from booking.sites.models import Practitioner, Site, SitePractitioner, site_position_columns
from booking.sites.professions import PROFESSIONS
from booking.slots.models import Slot, bookable
from booking.stats.maps import FAR, MIDDLE, NEAR, NONE, NOT_REACHED, Category, Picture, picture
from booking.stats.maps import SECRET as SECRET_GREY
from booking.stats.rules import SUPPRESSED, Table

LIMITS = (20, 30)          # « à plus de 20 min », « à plus de 30 min »
FREE_SLOT_DAYS = 7
REACH_MINUTES = 60         # sites further than this from every commune of the territory are not looked at
DEFAULT_PROFESSION = "medecin_generaliste"
SMALL_COUNT = 5            # 1 to 4 people, or searches, are never published (« < 5 »)


@dataclass
class SitePoint:
    id: int
    name: str
    position: Position
    professions: set[str] = field(default_factory=set)
    free_soon: set[str] = field(default_factory=set)  # professions with a free slot within FREE_SLOT_DAYS


@dataclass
class CommuneAccess:
    insee: str
    name: str
    position: Position | None
    population: int | None        # 2021 (INSEE), else the reference data's
    population_2015: int | None
    to_site: float | None = None  # minutes to the nearest site offering the profession; None: none within reach
    to_free_slot: float | None = None

    def beyond(self, limit: int, free: bool = False) -> bool:
        minutes = self.to_free_slot if free else self.to_site
        return minutes is None or minutes > limit


@dataclass
class TerritoryAccess:
    profession: str
    communes: list[CommuneAccess]   # the placed ones
    unplaced: list[CommuneAccess]   # said apart: never counted as near or far
    sites: list[SitePoint]          # those offering the profession, in and around the territory

    @property
    def population(self) -> int:
        return sum(c.population or 0 for c in self.communes)

    def share_beyond(self, limit: int, free: bool = False) -> float | None:
        """The share (%) of the placed communes' population further than ``limit`` minutes."""
        total = self.population
        if not total:
            return None
        return round(100 * sum(c.population or 0 for c in self.communes if c.beyond(limit, free)) / total, 1)

    def median_minutes(self) -> float | None:
        """The drive half the population is within (each commune weighing its population); None beyond reach."""
        weighted = sorted(((c.to_site if c.to_site is not None else float("inf")), c.population or 0)
                          for c in self.communes)
        half, seen = self.population / 2, 0
        for minutes, people in weighted:
            seen += people
            if people and seen >= half:
                return None if minutes == float("inf") else round(minutes)
        return None


def sites_around(session: Session, points: list[Position], now: datetime) -> list[SitePoint]:
    """The bookable sites within reach of any of ``points``, with the professions they offer and those with a
    free slot within FREE_SLOT_DAYS (two statements)."""
    if not points:
        return []
    south, north, west, east = reach_box(points, REACH_MINUTES)
    place = aliased(Commune)
    latitude, longitude = site_position_columns(place)
    rows = session.execute(
        select(Site.id, Site.name, latitude, longitude, Practitioner.profession)
        .join(place, place.insee == Site.commune_insee)
        .join(SitePractitioner, and_(SitePractitioner.site_id == Site.id, SitePractitioner.status == "accepted"))
        .join(Practitioner, Practitioner.id == SitePractitioner.practitioner_id)
        .where(Site.booking_open, latitude.between(south, north), longitude.between(west, east))).all()
    sites: dict[int, SitePoint] = {}
    for site_id, name, lat, lon, profession in rows:
        sites.setdefault(site_id, SitePoint(site_id, name, (lat, lon))).professions.add(profession)
    if sites:
        soon = (select(Slot.site_id, Practitioner.profession)
                .join(Practitioner, Practitioner.id == Slot.practitioner_id)
                .where(Slot.site_id.in_(sorted(sites)), bookable(now), Slot.starts_at >= now,
                       Slot.starts_at < now + timedelta(days=FREE_SLOT_DAYS)).distinct())
        for site_id, profession in session.execute(soon):
            sites[site_id].free_soon.add(profession)
    return sorted(sites.values(), key=lambda site: site.name)


def territory_communes(session: Session, codes: set[str] | None = None,
                       departement: str | None = None) -> list[CommuneAccess]:
    query = select(Commune.insee, Commune.name, Commune.latitude, Commune.longitude, Commune.population_2021,
                   Commune.population, Commune.population_2015)
    query = query.where(Commune.departement_code == departement) if departement else query.where(
        Commune.insee.in_(sorted(codes or ())))
    return [CommuneAccess(insee, name, position(lat, lon), p2021 if p2021 is not None else population, p2015)
            for insee, name, lat, lon, p2021, population, p2015 in session.execute(query.order_by(Commune.name))]


def measure(communes: list[CommuneAccess], sites: list[SitePoint], profession: str,
            drives: dict[tuple[str, int], float] | None = None) -> TerritoryAccess:
    """Each placed commune's drive to the nearest site offering ``profession`` (and with a free slot soon).
    ``drives`` keeps the drives (commune, site) already counted, for the next profession measured on the same
    communes and sites."""
    road_factor, speed = settings()
    drives = {} if drives is None else drives
    offering = [site for site in sites if profession in site.professions]
    placed, unplaced = [], []
    for commune in communes:
        measured = CommuneAccess(commune.insee, commune.name, commune.position, commune.population,
                                 commune.population_2015)
        if commune.position is None:
            unplaced.append(measured)
            continue
        for site in offering:
            minutes = drives.get((commune.insee, site.id))
            if minutes is None:
                minutes = drives[commune.insee, site.id] = trip(commune.position, site.position, road_factor,
                                                                speed).minutes
            if minutes > REACH_MINUTES:
                continue
            if measured.to_site is None or minutes < measured.to_site:
                measured.to_site = minutes
            if profession in site.free_soon and (measured.to_free_slot is None or minutes < measured.to_free_slot):
                measured.to_free_slot = minutes
        placed.append(measured)
    return TerritoryAccess(profession, placed, unplaced, offering)


def territory_access(session: Session, profession: str, now: datetime, codes: set[str] | None = None,
                     departement: str | None = None) -> TerritoryAccess:
    communes = territory_communes(session, codes, departement)
    sites = sites_around(session, [c.position for c in communes if c.position], now)
    return measure(communes, sites, profession)


def travel_of_those_who_came(session: Session, codes: set[str], first: datetime, last: datetime,
                             profession: str | None) -> list[float]:
    """The estimated drives, from their commune to the site, of the area's residents who came in [first, last)."""
    home, place = aliased(Commune), aliased(Commune)
    query = (select(home.latitude, home.longitude, *site_position_columns(place))
             .select_from(Appointment).join(Patient, Patient.id == Appointment.patient_id)
             .join(home, home.insee == Patient.commune_insee).join(Slot, Slot.id == Appointment.slot_id)
             .join(Site, Site.id == Slot.site_id).join(place, place.insee == Site.commune_insee)
             .where(Appointment.status == "attended", Patient.commune_insee.in_(sorted(codes)),
                    Slot.starts_at >= first, Slot.starts_at < last))
    if profession:
        query = query.join(Practitioner, Practitioner.id == Slot.practitioner_id).where(
            Practitioner.profession == profession)
    road_factor, speed = settings()
    return [found.minutes for row in session.execute(query)
            if (found := trip(position(row[0], row[1]), position(row[2], row[3]), road_factor, speed))]


NOTE = ("Temps de trajet estimés en voiture : distance à vol d’oiseau du point de chaque commune au lieu de soins le "
        "plus proche qui propose la profession (dans le territoire ou au-delà), allongée par les détours de la route, "
        "à vitesse moyenne. « Créneau libre sous 7 jours » : à l’heure du calcul.")


def population_change(communes: list[CommuneAccess]) -> tuple[int, int, float | None]:
    """The 2015 and 2021 populations of the communes that know both, and the change in %."""
    known = [c for c in communes if c.population is not None and c.population_2015 is not None]
    before, after = sum(c.population_2015 for c in known), sum(c.population for c in known)
    return before, after, round(100 * (after - before) / before, 1) if before else None


def access_tables(session: Session, codes: set[str], profession: str | None, now: datetime, first: datetime,
                  last: datetime) -> list[Table]:
    """The access figures of an area's communes, as tables every view shows (dashboard, CSV, PDF, API, open
    data): access by profession, the drive of those who came, the population's trend."""
    communes = territory_communes(session, codes)
    sites = sites_around(session, [c.position for c in communes if c.position], now)
    offered = sorted({p for site in sites for p in site.professions}, key=lambda p: PROFESSIONS.get(p, p))
    rows, drives = [], {}
    unplaced = 0
    for code in ([profession] if profession else offered):
        access = measure(communes, sites, code, drives)
        unplaced = len(access.unplaced)
        rows.append([PROFESSIONS.get(code, code), access.median_minutes(),
                     *[access.share_beyond(limit) for limit in LIMITS],
                     *[access.share_beyond(limit, free=True) for limit in LIMITS]])
    note = NOTE + (f" {unplaced} commune{'s' if unplaced > 1 else ''} sans position connue, non "
                   f"comptée{'s' if unplaced > 1 else ''}." if unplaced else "")
    access_table = Table("access", "Accès aux soins : temps de trajet estimé depuis les communes",
                         ["Profession", "Temps de trajet médian des habitants (min)",
                          "Habitants à plus de 20 min (%)", "Habitants à plus de 30 min (%)",
                          "Habitants à plus de 20 min d’un créneau libre sous 7 jours (%)",
                          "Habitants à plus de 30 min d’un créneau libre sous 7 jours (%)"],
                         rows, sensitive=False, note=note)
    drives = travel_of_those_who_came(session, codes, first, last, profession)
    # The median only, not how many came: that count (residents at any site) can equal a count another table
    # hides by secondary suppression (a commune whose residents all go to the sites serving it).
    travel = Table("travel", "Trajet des habitants venus en consultation",
                   ["", "Temps de trajet médian estimé (min)"],
                   [["Habitants venus en consultation",
                     round(median(drives)) if len(drives) >= SMALL_COUNT else SUPPRESSED if drives else None]],
                   sensitive=False,
                   note="Du point de leur commune au lieu de soins, quel qu’il soit. « < 5 » : moins de 5 "
                        "consultations, médiane non publiée.")
    before, after, change = population_change(communes)
    population = Table("population", "Évolution de la population",
                       ["", "2015", "2021", "Évolution (%)"],
                       [["Habitants", before or None, after or None, change]],
                       sensitive=False, note="Populations légales (INSEE).")
    return [access_table, travel, population]


# --- The map page of a territory (a département, an EPCI) ------------------------------------------------------

ACCESS_CATEGORIES = (Category("near", "À 20 min ou moins", NEAR), Category("middle", "De 20 à 30 min", MIDDLE),
                     Category("far", "Plus de 30 min", FAR),
                     Category("beyond", f"Aucun lieu à moins de {REACH_MINUTES} min", NOT_REACHED))
DEMAND_CATEGORIES = (Category("none", "Aucune recherche restée sans créneau", NONE),
                     Category("secret", "1 à 4 recherches (secret statistique)", SECRET_GREY),
                     Category("low", "Moins de 5 pour 1 000 habitants", MIDDLE),
                     Category("high", "5 pour 1 000 habitants ou plus", FAR))


def access_category(minutes: float | None) -> Category:
    if minutes is None:
        return ACCESS_CATEGORIES[3]
    return ACCESS_CATEGORIES[0 if minutes <= LIMITS[0] else 1 if minutes <= LIMITS[1] else 2]


@dataclass
class MapRow:
    """One commune as the table under the map says it (its text alternative)."""

    commune: CommuneAccess
    category: Category
    unmet: int | str | None = None      # searches left without a free slot (« < 5 » when 1 to 4)
    unmet_per_thousand: float | None = None


@dataclass
class TerritoryMap:
    name: str
    access: TerritoryAccess
    rows: list[MapRow]
    picture: Picture
    came: int | str            # consultations of the territory's residents in the month (« < 5 »)
    came_median: float | None  # their median drive, hidden with a small count
    demand: bool               # the map shows unmet demand rather than access


def unmet_searches(session: Session, codes: list[str], profession: str, first_day, last_day) -> dict[str, int]:
    """Searches that found no free slot, by the searcher's commune, for ``profession`` (or any professional)."""
    return dict(session.execute(
        select(UnmetDemand.commune_insee, func.count()).where(
            UnmetDemand.commune_insee.in_(codes), UnmetDemand.searched_on >= first_day,
            UnmetDemand.searched_on < last_day,
            (UnmetDemand.profession == profession) | UnmetDemand.profession.is_(None))
        .group_by(UnmetDemand.commune_insee)).all())


def territory_map(session: Session, name: str, profession: str, now: datetime, first_day, last_day,
                  first: datetime, last: datetime, *, codes: set[str] | None = None, departement: str | None = None,
                  demand: bool = False) -> TerritoryMap:
    """Access (or unmet demand) of every commune of a territory, its picture and its table."""
    access = territory_access(session, profession, now, codes, departement)
    everyone = access.communes + access.unplaced
    unmet = unmet_searches(session, [c.insee for c in everyone], profession, first_day, last_day)
    rows = []
    for commune in access.communes:
        row = MapRow(commune, access_category(commune.to_site))
        count = unmet.get(commune.insee, 0)
        row.unmet = count if count == 0 or count >= SMALL_COUNT else SUPPRESSED
        if count >= SMALL_COUNT and commune.population:
            row.unmet_per_thousand = round(1000 * count / commune.population, 1)
        if demand:
            row.category = (DEMAND_CATEGORIES[0] if count == 0 else DEMAND_CATEGORIES[1] if count < SMALL_COUNT
                            else DEMAND_CATEGORIES[3] if (row.unmet_per_thousand or 0) >= 5
                            else DEMAND_CATEGORIES[2])
        rows.append(row)
    label = PROFESSIONS.get(profession, profession).lower()
    if demand:
        title = f"Recherches restées sans créneau ({label}), {name}"
        description = ("Chaque point est une commune, placée à sa position, coloré selon le nombre de recherches de "
                       "ses habitants restées sans créneau libre dans les 30 jours, pour 1 000 habitants ; les "
                       "triangles sont les lieux de soins. Le tableau qui suit donne chaque commune.")
    else:
        title = f"Temps de trajet estimé jusqu’au lieu de soins le plus proche ({label}), {name}"
        description = ("Chaque point est une commune, placée à sa position, coloré selon le temps de trajet estimé "
                       "en voiture jusqu’au lieu le plus proche qui propose la profession ; les triangles sont les "
                       "lieux de soins. Le tableau qui suit donne chaque commune.")
    drawn = picture(title, description,
                    [(row.commune.position, row.category, f"{row.commune.name} : {row.category.label.lower()}")
                     for row in rows],
                    [(site.position, site.name) for site in access.sites],
                    list(DEMAND_CATEGORIES if demand else ACCESS_CATEGORIES))
    drives = travel_of_those_who_came(session, {c.insee for c in everyone}, first, last, profession)
    came: int | str = len(drives) if not 0 < len(drives) < SMALL_COUNT else SUPPRESSED
    return TerritoryMap(name, access, rows, drawn, came,
                        round(median(drives)) if len(drives) >= SMALL_COUNT else None, demand)


def _minutes_cell(minutes: float | None) -> str:
    return f"plus de {REACH_MINUTES}" if minutes is None else str(round(minutes))


def territory_figures(drawn: TerritoryMap) -> list[tuple[str, object]]:
    """The key figures above the map, in the CSV and in the PDF."""
    access = drawn.access
    before, after, change = population_change(access.communes + access.unplaced)
    figures = [("Habitants (2021)", after or None), ("Habitants (2015)", before or None),
               ("Évolution de la population 2015 → 2021 (%)", change)]
    for limit in LIMITS:
        figures.append((f"Habitants à plus de {limit} min d’un lieu de soins (%)", access.share_beyond(limit)))
    for limit in LIMITS:
        figures.append((f"Habitants à plus de {limit} min d’un créneau libre sous {FREE_SLOT_DAYS} jours (%)",
                        access.share_beyond(limit, free=True)))
    figures += [("Temps de trajet médian des habitants jusqu’au lieu le plus proche (min)", access.median_minutes()),
                ("Consultations des habitants dans la période", drawn.came),
                ("Temps de trajet médian estimé des personnes venues (min)",
                 drawn.came_median if drawn.came_median is not None else
                 (SUPPRESSED if drawn.came == SUPPRESSED else None)),
                ("Communes sans position connue (non comptées)", len(access.unplaced))]
    return figures


TERRITORY_COLUMNS = ["Commune", "Code INSEE", "Habitants (2021)", "Habitants (2015)", "Évolution (%)",
                     "Trajet jusqu’au lieu le plus proche (min)",
                     f"Trajet jusqu’à un créneau libre sous {FREE_SLOT_DAYS} jours (min)",
                     "Recherches restées sans créneau", "Pour 1 000 habitants", "Classe sur la carte"]


def territory_rows(drawn: TerritoryMap) -> list[list]:
    """The table under the map: every commune, placed or not (the map's text alternative)."""
    def trend(commune: CommuneAccess):
        return population_change([commune])[2]

    rows = [[row.commune.name, row.commune.insee, row.commune.population, row.commune.population_2015,
             trend(row.commune), _minutes_cell(row.commune.to_site), _minutes_cell(row.commune.to_free_slot),
             row.unmet, row.unmet_per_thousand, row.category.label] for row in drawn.rows]
    rows += [[commune.name, commune.insee, commune.population, commune.population_2015, trend(commune),
              "position inconnue", "position inconnue", None, None, "non placée"]
             for commune in drawn.access.unplaced]
    return rows


def departement_figures(session: Session, code: str, now: datetime) -> dict[str, TerritoryAccess]:
    """A département's access for every profession offered in or around it: its communes and the sites within
    reach read once (what a monthly job computing every département's figures runs)."""
    communes = territory_communes(session, departement=code)
    sites = sites_around(session, [c.position for c in communes if c.position], now)
    drives: dict[tuple[str, int], float] = {}
    return {profession: measure(communes, sites, profession, drives)
            for profession in sorted({p for site in sites for p in site.professions})}
