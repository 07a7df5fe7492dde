"""The figures with stable machine keys: what the API and the open-data export publish.

Keys never change with the French wording: the headline's are named here; a table's columns and
rows take the ASCII form of their first French label (``slug``), frozen by the tests.
"""

import csv
import io
import re
import unicodedata
from datetime import timedelta

HEADLINE_KEYS = {
    "Rendez-vous pris": "appointments_booked",
    "Taux d’occupation (%)": "occupancy_rate",
    "Taux d’absence (%)": "no_show_rate",
    "Délai médian (jours)": "median_lead_days",
    "Demandes non satisfaites": "unmet_searches",
}
SCHEMA_VERSION = "1"


def slug(label: str) -> str:
    """« Taux d’absence (%) » → ``taux_d_absence``: lower-case ASCII words joined by underscores."""
    text = unicodedata.normalize("NFKD", str(label))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("œ", "oe").replace("%", "").replace("’", "_")
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_") or "total"


def keyed(stats) -> dict:
    """The statistics as stable keys with their French labels beside them."""
    return {
        "schema_version": SCHEMA_VERSION,
        "commune": {"insee": stats.commune.insee, "name": stats.commune.name},
        "period": {"from": stats.start.isoformat(), "to": (stats.end - timedelta(days=1)).isoformat()},
        "site_id": stats.site_id,
        "profession": stats.profession,
        "headline": [{"key": HEADLINE_KEYS.get(label, slug(label)), "label": label, "value": value}
                     for label, value in stats.headline.items()],
        "tables": [{
            "key": table.key,
            "title": table.title,
            "columns": [{"key": slug(column) if column else "label", "label": column}
                        for column in table.columns[1:]],
            "rows": [{"key": slug(row[0]), "label": str(row[0]),
                      "values": {slug(column) if column else "label": cell
                                 for column, cell in zip(table.columns[1:], row[1:], strict=True)}}
                     for row in table.rows],
        } for table in stats.tables],
    }


CSV_SCHEMA_VERSION = "2"
SUPPRESSED = "< 5"
CSV_FIELDS = [
    ("commune_insee", "string", "Code commune (INSEE)",
     "Code officiel géographique de la commune qui gère le lieu de soins.",
     {"required": True, "pattern": "^([013-9][0-9]|2[AB0-9])[0-9]{3}$"}, "15174"),
    ("period_from", "date", "Début de la période", "Premier jour du mois publié.", {"required": True},
     "2027-03-01"),
    ("period_to", "date", "Fin de la période", "Dernier jour du mois publié (inclus).", {"required": True},
     "2027-03-31"),
    ("table_key", "string", "Tableau", "Clé stable du tableau (« headline » pour les chiffres clés).",
     {"required": True, "pattern": "^[a-z0-9_]+$"}, "outcome"),
    ("row_key", "string", "Ligne", "Clé stable de la ligne dans le tableau.",
     {"required": True, "pattern": "^[a-z0-9_]+$"}, "nombre"),
    ("column_key", "string", "Colonne", "Clé stable de la colonne (« value » pour un chiffre clé).",
     {"required": True, "pattern": "^[a-z0-9_]+$"}, "venus"),
    ("value", "number", "Valeur",
     "Le chiffre, avec un point décimal. Vide : sans objet ou inconnu. « < 5 » : compte de 1 à 4 personnes, "
     "masqué (secret statistique), ou case masquée avec lui pour qu’il ne se déduise pas d’un total.",
     {}, "8"),
    ("text", "string", "Texte", "Quand la case est un texte et non un chiffre (un type de lieu, un libellé).",
     {}, "Point de téléconsultation"),
    ("table_label", "string", "Libellé du tableau", "Titre français du tableau.", {"required": True},
     "Issue des rendez-vous"),
    ("row_label", "string", "Libellé de la ligne", "Libellé français de la ligne.", {"required": True}, "Nombre"),
    ("column_label", "string", "Libellé de la colonne", "Libellé français de la colonne.", {"required": True},
     "Venus"),
]


def table_schema(base_url: str) -> dict:
    """The Table Schema of the CSV (frictionless), in the conventions of schema.data.gouv.fr."""
    return {
        "$schema": "https://specs.frictionlessdata.io/schemas/table-schema.json",
        "name": "rendez-vous-sante-communes-chiffres-mensuels",
        "title": "Chiffres mensuels des lieux de soins d’une commune",
        "description": "Chiffres anonymes et agrégés d’une commune pour un mois terminé : rendez-vous pris, "
                       "présences, délais, demandes non satisfaites… Un chiffre par ligne.",
        "countryCode": "FR",
        "homepage": f"{base_url}/donnees-ouvertes",
        "path": f"{base_url}/donnees-ouvertes/schema.json",
        "version": f"{CSV_SCHEMA_VERSION}.0.0",
        "licenses": [{"title": "Licence Ouverte / Open Licence version 2.0",
                      "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence"}],
        "missingValues": ["", SUPPRESSED],
        "fields": [{"name": name, "type": kind, "title": title, "description": description, "example": example,
                    **({"constraints": constraints} if constraints else {})}
                   for name, kind, title, description, constraints, example in CSV_FIELDS],
    }


def to_long_csv(stats) -> bytes:
    """One figure a line — table, row, column, value (or text) — with keys and labels: easy to load anywhere."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=",", lineterminator="\r\n")
    writer.writerow([name for name, *_ in CSV_FIELDS])
    data = keyed(stats)
    period = data["period"]
    for figure in data["headline"]:
        writer.writerow([stats.commune.insee, period["from"], period["to"], "headline", figure["key"], "value",
                         *_cells(figure["value"]), "Chiffres clés", figure["label"], "Valeur"])
    for table in data["tables"]:
        labels = {column["key"]: column["label"] for column in table["columns"]}
        for row in table["rows"]:
            for column_key, value in row["values"].items():
                writer.writerow([stats.commune.insee, period["from"], period["to"], table["key"], row["key"],
                                 column_key, *_cells(value), table["title"], row["label"],
                                 labels[column_key] or "Libellé"])
    return out.getvalue().encode("utf-8")


def _cells(value) -> tuple[str, str]:
    """The value and text cells: a number with a decimal point, « < 5 » kept, a text in its own column."""
    if value is None:
        return "", ""
    if value == SUPPRESSED:
        return SUPPRESSED, ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "", str(value)
    return (f"{value:.1f}" if isinstance(value, float) else str(value)), ""
