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


def to_long_csv(stats) -> bytes:
    """One figure a line — table, row, column, value — with keys and labels: easy to load anywhere."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=",", lineterminator="\r\n")
    writer.writerow(["commune_insee", "period_from", "period_to", "table_key", "row_key", "column_key", "value",
                     "table_label", "row_label", "column_label"])
    data = keyed(stats)
    period = data["period"]
    for figure in data["headline"]:
        writer.writerow([stats.commune.insee, period["from"], period["to"], "headline", figure["key"], "value",
                         _csv(figure["value"]), "Chiffres clés", figure["label"], ""])
    for table in data["tables"]:
        labels = {column["key"]: column["label"] for column in table["columns"]}
        for row in table["rows"]:
            for column_key, value in row["values"].items():
                writer.writerow([stats.commune.insee, period["from"], period["to"], table["key"], row["key"],
                                 column_key, _csv(value), table["title"], row["label"], labels[column_key]])
    return out.getvalue().encode("utf-8")


def _csv(value) -> str:
    """Machine-readable: a decimal point, « < 5 » kept as it is, empty for unknown."""
    if value is None:
        return ""
    return str(value) if not isinstance(value, float) else f"{value:.1f}"

