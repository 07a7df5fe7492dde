"""Import the official reference data and look communes up."""

import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import case, delete, func, insert, literal, or_, select, update
from sqlalchemy import text as text_clause
from sqlalchemy.orm import Session

from booking.errors import InvalidInput
from booking.geo.models import Commune, Departement, Epci, FormerCommune, PostalCode, Region, epci_members
from booking.geo.rules import NameIndex, looks_like_postal_code, search_key

NPM_PACKAGE = "@etalab/decoupage-administratif"
_FORMER_KINDS = {
    "commune-deleguee": "deleguee",
    "commune-associee": "associee",
    "arrondissement-municipal": "arrondissement",
}


@dataclass
class ImportReport:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    def add(self, other: "ImportReport") -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.deleted += other.deleted


def fetch_package(destination: Path) -> Path:
    """Download the npm package with ``npm pack`` and return the path of its .tgz."""
    npm = shutil.which("npm")
    if npm is None:
        raise InvalidInput("npm est introuvable : indiquez le chemin du dossier data/ ou du .tgz du paquet.")
    result = subprocess.run(
        [npm, "pack", NPM_PACKAGE, "--silent"], cwd=destination, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        raise InvalidInput(f"npm pack a échoué : {result.stderr.strip()[:300]}")
    return destination / result.stdout.strip().splitlines()[-1]


def _unpack_data_files(archive: tarfile.TarFile, workdir: Path) -> None:
    """Write the package's regular files under package/data/ into ``workdir``, nothing else.

    By hand rather than ``extractall(filter="data")``: Debian 12's Python 3.11.2 predates that argument.
    """
    for member in archive.getmembers():
        parts = PurePosixPath(member.name).parts
        if member.isfile() and parts[:2] == ("package", "data") and len(parts) > 2 and ".." not in parts:
            target = workdir.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.extractfile(member).read())


def read_data_folder(path: Path, workdir: Path) -> Path:
    """Return the folder holding communes.json, unpacking a .tgz if given one."""
    if path.is_file() and path.name.endswith((".tgz", ".tar.gz")):
        with tarfile.open(path) as archive:
            _unpack_data_files(archive, workdir)
        path = workdir / "package" / "data"
    elif (path / "data" / "communes.json").exists():
        path = path / "data"
    if not (path / "communes.json").exists():
        raise InvalidInput(f"{path} ne contient pas communes.json.")
    return path


def import_reference_data(session: Session, source: Path | None = None) -> ImportReport:
    """Load or update regions, départements, communes and EPCI from the Etalab data files."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if source is None:
            source = fetch_package(workdir)
        folder = read_data_folder(Path(source), workdir)
        data = {name: json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
                for name in ("regions", "departements", "communes", "epci")}
    report = ImportReport()
    report.add(_sync(session, Region, "code",
                     {r["code"]: {"code": r["code"], "name": r["nom"]} for r in data["regions"]}))
    report.add(_sync(session, Departement, "code", {
        d["code"]: {"code": d["code"], "name": d["nom"], "region_code": d["region"]}
        for d in data["departements"]
    }))
    actual = [c for c in data["communes"] if c["type"] == "commune-actuelle"]
    report.add(_sync(session, Commune, "insee", {
        c["code"]: {
            "insee": c["code"],
            "name": c["nom"],
            "search_name": search_key(c["nom"]),
            "departement_code": c["departement"],
            "region_code": c["region"],
            "population": c.get("population"),
        }
        for c in actual
    }))
    known = {c["code"] for c in actual}
    report.add(_sync_pairs(session, PostalCode.__table__, ("commune_insee", "code"), {
        (c["code"], postal) for c in actual for postal in c.get("codesPostaux", [])
    }))
    former = {}
    for c in data["communes"]:
        kind = _FORMER_KINDS.get(c["type"])
        parent = c.get("chefLieu") or c.get("commune")
        if kind and parent in known:
            former[(c["code"], kind)] = {
                "insee": c["code"], "kind": kind, "name": c["nom"],
                "search_name": search_key(c["nom"]), "commune_insee": parent,
            }
    report.add(_sync_former(session, former))
    report.add(_sync(session, Epci, "siren", {
        e["code"]: {"siren": e["code"], "name": e["nom"], "kind": e["type"]} for e in data["epci"]
    }))
    report.add(_sync_pairs(session, epci_members, ("epci_siren", "commune_insee"), {
        (e["code"], m["code"]) for e in data["epci"] for m in e["membres"] if m["code"] in known
    }))
    session.commit()
    return report


def _sync(session: Session, model, key: str, wanted: dict[str, dict]) -> ImportReport:
    """Insert missing rows and update changed ones; rows no longer listed are kept (sites may use them)."""
    columns = [getattr(model, name) for name in next(iter(wanted.values()), {})]
    if not columns:
        return ImportReport()
    existing = {row[0]: dict(zip([c.key for c in columns], row[1:], strict=True))
                for row in session.execute(select(getattr(model, key), *columns))}
    to_insert = [row for pk, row in wanted.items() if pk not in existing]
    to_update = [row for pk, row in wanted.items() if pk in existing and existing[pk] != row]
    if to_insert:
        session.execute(insert(model), to_insert)
    if to_update:
        session.execute(update(model), to_update)
    return ImportReport(inserted=len(to_insert), updated=len(to_update))


def _sync_pairs(session: Session, table, names: tuple[str, str], wanted: set[tuple[str, str]]) -> ImportReport:
    """Make a two-column link table hold exactly the wanted pairs."""
    first, second = (table.c[name] for name in names)
    existing = {tuple(row) for row in session.execute(select(first, second))}
    to_insert = wanted - existing
    to_delete = existing - wanted
    if to_insert:
        session.execute(insert(table), [dict(zip(names, pair, strict=True)) for pair in sorted(to_insert)])
    for pair in to_delete:
        session.execute(delete(table).where(first == pair[0], second == pair[1]))
    return ImportReport(inserted=len(to_insert), deleted=len(to_delete))


def _sync_former(session: Session, wanted: dict[tuple[str, str], dict]) -> ImportReport:
    existing = {
        (row.insee, row.kind): row
        for row in session.execute(select(FormerCommune.id, FormerCommune.insee, FormerCommune.kind,
                                          FormerCommune.name, FormerCommune.search_name,
                                          FormerCommune.commune_insee))
    }
    to_insert = [row for pk, row in wanted.items() if pk not in existing]
    to_update = []
    for pk, row in wanted.items():
        current = existing.get(pk)
        if current is not None and (current.name, current.commune_insee) != (row["name"], row["commune_insee"]):
            to_update.append({"id": current.id, **row})
    if to_insert:
        session.execute(insert(FormerCommune), to_insert)
    if to_update:
        session.execute(update(FormerCommune), to_update)
    return ImportReport(inserted=len(to_insert), updated=len(to_update))


def search_communes(session: Session, query: str, limit: int = 10) -> list[Commune]:
    """Find communes by name (accent- and case-insensitive, also former names, one or two typos) or postal code."""
    return find_communes(session, query, limit)[0]


def find_communes(session: Session, query: str, limit: int = 10,
                  departement_first: str | None = None) -> tuple[list[Commune], bool]:
    """Return the communes a query designates, and whether they were found only despite a typo.

    ``departement_first`` puts the person's own département's communes ahead of the homonyms elsewhere.
    """
    found = _communes_as_typed(session, (query or "").strip(), limit, departement_first)
    if found or looks_like_postal_code((query or "").strip()):
        return found, False
    key = search_key(query or "")
    return (close_spellings(session, key, limit), True) if key else ([], False)


def the_one_commune_named(matches: list[Commune], text: str) -> Commune | None:
    """The commune a name designates without asking: the only match, or the only exact one that no longer
    name continues (« Salers » goes through; « Saint-Bonnet » lists Saint-Bonnet-de-Salers and the others)."""
    key = search_key(text)
    exact = [commune for commune in matches if commune.search_name == key]
    if len(matches) == 1:
        return matches[0]
    if len(exact) == 1 and not any(commune.search_name.startswith(key + " ") for commune in matches):
        return exact[0]
    return None


def _communes_as_typed(session: Session, text: str, limit: int, departement_first: str | None = None
                       ) -> list[Commune]:
    own_first = (case((Commune.departement_code == departement_first, 0), else_=1),) if departement_first else ()
    if not text:
        return []
    if looks_like_postal_code(text):
        matching = select(PostalCode.commune_insee).where(
            PostalCode.code == text if len(text) == 5 else PostalCode.code.like(text + "%")
        )
        return list(session.scalars(
            select(Commune).where(Commune.insee.in_(matching))
            .order_by(*own_first, Commune.population.desc().nulls_last(), Commune.name).limit(limit)
        ))
    key = search_key(text)
    if not key:
        return []
    former = select(FormerCommune.commune_insee).where(FormerCommune.search_name.like(key + "%"))
    rank = case((Commune.search_name == key, 0), (Commune.search_name.like(key + "%"), 1), else_=2)
    return list(session.scalars(
        select(Commune)
        .where(or_(Commune.search_name.like(key + "%"), Commune.search_name.like("% " + key + "%"),
                   Commune.insee.in_(former)))
        .order_by(*own_first, rank, Commune.population.desc().nulls_last(), Commune.name)
        .limit(limit)
    ))


def close_spellings(session: Session, key: str, limit: int = 10) -> list[Commune]:
    """Communes whose name is one or two typos away from the key ("slers" → Salers), nearest first."""
    if len(key) < 4:
        return []
    if _has_trigram_index(session):
        # The index narrows 35,000 names to a few hundred; the edit distance then decides, as on SQLite.
        # Thresholds below pg_trgm's defaults, for the local part of this transaction only: a swap of two
        # letters in a short name ("salres") shares few trigrams with the right one.
        session.execute(text_clause("SELECT set_config('pg_trgm.similarity_threshold', '0.2', true), "
                                    "set_config('pg_trgm.word_similarity_threshold', '0.4', true)"))
        similar = or_(Commune.search_name.op("%")(key), literal(key).op("<%")(Commune.search_name))
        nearest_first = literal(key).op("<<->")(Commune.search_name)
        index = NameIndex(session.execute(select(Commune.search_name, Commune.insee).where(similar)
                                          .order_by(nearest_first).limit(300)).all())
    else:
        index = _all_names(session)
    ranked = index.nearest(key)
    if not ranked:
        return []
    communes = {c.insee: c for c in session.scalars(select(Commune).where(Commune.insee.in_(ranked[:50])))}
    ordered = sorted((communes[insee] for insee in ranked[:50] if insee in communes),
                     key=lambda c: (ranked.index(c.insee), -(c.population or 0)))
    return ordered[:limit]


def _has_trigram_index(session: Session) -> bool:
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        return False
    if engine.url not in _TRIGRAM_CHECKED:
        _TRIGRAM_CHECKED[engine.url] = bool(session.scalar(
            text_clause("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")))
    return _TRIGRAM_CHECKED[engine.url]


_TRIGRAM_CHECKED: dict = {}
# Every commune's search name, kept per database while the commune count stays the same
# (reference data changes once a year): SQLite has no trigram index to ask.
_NAMES_CACHE: dict = {}


def _all_names(session: Session) -> NameIndex:
    url = session.get_bind().url
    count = count_communes(session)
    cached = _NAMES_CACHE.get(url)
    if cached is None or cached[0] != count:
        cached = (count, NameIndex(session.execute(select(Commune.search_name, Commune.insee)).all()))
        _NAMES_CACHE[url] = cached
    return cached[1]


def commune_label(commune: Commune) -> str:
    """Return "Name (postal code)" as residents recognise a commune."""
    codes = [p.code for p in commune.postal_codes]
    return f"{commune.name} ({codes[0]})" if codes else commune.name


def count_communes(session: Session) -> int:
    """Return how many communes are loaded."""
    return session.scalar(select(func.count()).select_from(Commune)) or 0


def resolve_commune(session: Session, text: str, departement_first: str | None = None) -> Commune:
    """Return the one commune a typed name, postal code or INSEE code designates, or raise InvalidInput
    offering the candidates (those of ``departement_first``, the person's or the desk's own, first)."""
    text = (text or "").strip()
    labelled = re.fullmatch(r"(.+?)\s*\((\d{5})\)", text)  # « Saint-Bonnet-de-Salers (15140) », as labels say
    if labelled:
        key, code = search_key(labelled.group(1)), labelled.group(2)
        named = [c for c in search_communes(session, code, limit=50) if c.search_name == key]
        if len(named) == 1:
            return named[0]
        text = labelled.group(1)
    if len(text) == 5 and session.get(Commune, text.upper()) is not None and not text.isdigit():
        return session.get(Commune, text.upper())
    matches = find_communes(session, text, limit=12, departement_first=departement_first)[0]
    if not matches and session.get(Commune, text.upper()) is not None:
        return session.get(Commune, text.upper())
    if not matches:
        raise InvalidInput(f"Aucune commune ne correspond à « {text} ».", field="commune")
    the_one = the_one_commune_named(matches, text)
    if the_one is not None:
        return the_one
    if looks_like_postal_code(text):
        message = f"Le code postal {text} est celui de plusieurs communes : choisissez la vôtre."
    else:
        message = f"Plusieurs communes s’appellent ou commencent par « {text} » : choisissez la vôtre."
    raise InvalidInput(message, field="commune",
                       choices=[(commune_label(c), f"{commune_label(c)} — {c.departement.name}") for c in matches])
