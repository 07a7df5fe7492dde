"""The same tables, written as a French CSV and as an A4 PDF."""

import csv
import io
from datetime import datetime, timedelta
from html import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from booking.clock import now
from booking.formatting import format_day, format_moment
from booking.geo.rules import time_zone_for_departement
from booking.stats.rules import format_cell
from booking.stats.services import Statistics

STYLES = getSampleStyleSheet()
# Short cells (figures, « < 5 », a month) are drawn as plain text in the body font: a Paragraph per cell cost most
# of a report's PDF. Headers and longer labels stay Paragraphs, which wrap within their column.
PLAIN_CELL_LENGTH = 16


def period_label(stats: Statistics) -> str:
    return f"du {format_day(stats.start)} au {format_day(stats.end - timedelta(days=1))}"


def to_csv(stats: Statistics) -> bytes:
    """Write the tables as CSV the French way: ';' separator, decimal comma, UTF-8 with BOM."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([f"Statistiques — {stats.commune.name} ({stats.commune.insee})", period_label(stats)])
    writer.writerow([])
    writer.writerow(["Chiffres clés"])
    for key, value in stats.headline.items():
        writer.writerow([key, format_cell(value)])
    for table in stats.tables:
        writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow([format_cell(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _trend_chart(stats: Statistics) -> Drawing:
    trend = stats.table("trend")
    # A suppressed count (« < 5 ») is left out of the drawing, never drawn as a number.
    values = [[cell if isinstance(cell, int) else None for cell in (row[2] for row in trend.rows)],
              [cell if isinstance(cell, int) else None for cell in (row[3] for row in trend.rows)]]
    drawing = Drawing(170 * mm, 72 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 10 * mm, 22 * mm, 155 * mm, 45 * mm
    chart.data = values
    chart.categoryAxis.categoryNames = [row[0] for row in trend.rows]  # « septembre 2026 », in full
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 35
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#0b4f9c")
    chart.bars[1].fillColor = colors.HexColor("#7fb0e6")
    drawing.add(chart)
    return drawing


class _NumberedCanvas(Canvas):
    """Writes « page 2 sur 5 » and the generation date at the foot of every page, once the count is known."""

    generated = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages = []

    def showPage(self):  # noqa: N802 (ReportLab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont("Helvetica", 8)
            self.setFillColor(colors.HexColor("#4a4a4a"))
            self.drawString(15 * mm, 8 * mm, self.generated)
            self.drawRightString(A4[0] - 15 * mm, 8 * mm, f"Page {self._pageNumber} sur {len(self._pages)}")
            super().showPage()
        super().save()


def to_pdf(stats: Statistics, generated_at: datetime | None = None) -> bytes:
    """Write the report as an A4 PDF: a written summary, the key figures, the trend chart and every table."""
    buffer = io.BytesIO()
    styles = STYLES
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=f"Statistiques {stats.commune.name}",
                            leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=18 * mm)
    moment = format_moment(generated_at or now(), time_zone_for_departement(stats.commune.departement_code), True)
    canvas = type("ReportCanvas", (_NumberedCanvas,), {"generated": f"Rapport généré le {moment}"})
    story = [Paragraph(f"Consultations — {stats.commune.name}", styles["Title"]),
             Paragraph(f"Période {period_label(stats)}", styles["Normal"]), Spacer(1, 4 * mm),
             Paragraph("En bref", styles["Heading2"]),
             Paragraph(" ".join(stats.summary()), styles["BodyText"]), Spacer(1, 4 * mm),
             Paragraph("Chiffres clés", styles["Heading2"])]
    story.append(_pdf_table([["Indicateur", "Valeur"]] + [[k, format_cell(v) or "—"] for k,
                                                          v in stats.headline.items()]))
    story += [Paragraph("Rendez-vous et présences sur douze mois (bleu foncé : rendez-vous, clair : venus)",
                        styles["Heading2"]), _trend_chart(stats),
              Paragraph("Les mois dont un effectif est masqué (« < 5 ») n’ont pas de barre pour cet effectif.",
                        styles["Italic"])]
    for table in stats.tables:
        story += [Paragraph(table.title, styles["Heading2"]),
                  _pdf_table([table.columns] + [[format_cell(c) for c in row] for row in table.rows])]
        if table.note:
            story.append(Paragraph(escape(table.note), styles["Italic"]))
    story += [Spacer(1, 4 * mm), Paragraph("Les effectifs de 1 à 4 sont masqués (« < 5 ») pour protéger les "
                                           "personnes, ainsi que ceux qui permettraient de les retrouver par "
                                           "soustraction (« secret statistique ») ; aucune donnée nominative ne "
                                           "figure dans ce rapport.",
                                           styles["Italic"])]
    doc.build(story, canvasmaker=canvas)
    return buffer.getvalue()


def _pdf_cell(text: str, header: bool):
    return text if not header and len(text) <= PLAIN_CELL_LENGTH else Paragraph(escape(text), STYLES["BodyText"])


def _pdf_table(rows: list[list]) -> PdfTable:
    cells = [[_pdf_cell(str(cell), index == 0) for cell in row] for index, row in enumerate(rows)]
    table = PdfTable(cells, repeatRows=1)
    body = STYLES["BodyText"]
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dbe8f7")),
                               ("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("FONT", (0, 0), (-1, -1), body.fontName, body.fontSize, body.leading)]))
    return table


def territory_csv(drawn) -> bytes:
    """A territory's access figures and its communes, the French way (as ``to_csv``)."""
    from booking.stats.access import TERRITORY_COLUMNS, territory_figures, territory_rows

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([drawn.picture.title])
    writer.writerow([])
    for label, value in territory_figures(drawn):
        writer.writerow([label, format_cell(value)])
    writer.writerow([])
    writer.writerow(TERRITORY_COLUMNS)
    for row in territory_rows(drawn):
        writer.writerow([format_cell(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def territory_pdf(drawn, start, end, generated_at: datetime | None = None) -> bytes:
    """The map page as an A4 PDF: key figures, the same map, the table of communes."""
    from booking.stats.access import TERRITORY_COLUMNS, territory_figures, territory_rows
    from booking.stats.maps import to_drawing

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=drawn.picture.title, leftMargin=15 * mm,
                            rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=18 * mm)
    canvas = type("ReportCanvas", (_NumberedCanvas,), {"generated": f"Rapport généré le "
                                                       f"{format_moment(generated_at or now(), 'Europe/Paris', True)}"})
    story = [Paragraph(escape(drawn.picture.title), STYLES["Title"]),
             Paragraph(f"Période du {format_day(start)} au {format_day(end - timedelta(days=1))}", STYLES["Normal"]),
             Spacer(1, 4 * mm), _pdf_table([["Indicateur", "Valeur"]] + [[label, format_cell(value) or "—"]
                                                                         for label, value in territory_figures(drawn)]),
             Spacer(1, 4 * mm)]
    if drawn.picture.dots:
        story += [to_drawing(drawn.picture, 170 * mm, 200 * mm),
                  Paragraph(escape(drawn.picture.description), STYLES["Italic"])]
    story += [Paragraph("Communes", STYLES["Heading2"]),
              _pdf_table([TERRITORY_COLUMNS] + [[format_cell(c) for c in row] for row in territory_rows(drawn)]),
              Paragraph("Les effectifs de 1 à 4 sont masqués (« < 5 ») ; aucune donnée nominative ne figure dans ce "
                        "rapport.", STYLES["Italic"])]
    doc.build(story, canvasmaker=canvas)
    return buffer.getvalue()
