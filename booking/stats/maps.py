"""Maps drawn from our own data (no tile server): each commune a dot at its position, coloured by a class, the
sites marked, a legend. One picture, two renderings: SVG for the page, a reportlab drawing for the PDF."""

from dataclasses import dataclass, field
from html import escape
from math import cos, radians

from reportlab.graphics.shapes import Circle, Drawing, Polygon, Rect, String

from booking.geo.travel import Position

# Okabe–Ito colours, told apart by people who do not see red and green; each class also says its name in the
# legend and in every dot's tooltip, and the table under the map says everything the map shows.
NEAR, MIDDLE, FAR, NOT_REACHED, SECRET, NONE = "#0072B2", "#E69F00", "#D55E00", "#222222", "#999999", "#56B4E9"
WIDTH = 640
MARGIN = 12
LEGEND_LINE = 18


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    colour: str


@dataclass
class Dot:
    x: float
    y: float
    category: Category
    label: str
    radius: float = 4.5


@dataclass
class Picture:
    title: str
    description: str
    width: float
    height: float
    dots: list[Dot] = field(default_factory=list)
    sites: list[tuple[float, float, str]] = field(default_factory=list)
    legend: list[tuple[Category, int]] = field(default_factory=list)
    map_height: float = 0.0


class Projection:
    """Longitude and latitude to the page: equirectangular, shrunk by the cosine of the middle latitude (at a
    département's size, the distortion is below what a dot shows), fitted to the width, north up."""

    def __init__(self, points: list[Position], width: float = WIDTH):
        south, north = min(p[0] for p in points), max(p[0] for p in points)
        west, east = min(p[1] for p in points), max(p[1] for p in points)
        self.shrink = cos(radians((south + north) / 2))
        span_x = max((east - west) * self.shrink, 1e-6)
        span_y = max(north - south, 1e-6)
        self.scale = (width - 2 * MARGIN) / max(span_x, span_y * 0.75)
        self.west, self.north = west, north
        self.height = span_y * self.scale + 2 * MARGIN

    def __call__(self, point: Position) -> tuple[float, float]:
        return (MARGIN + (point[1] - self.west) * self.shrink * self.scale,
                MARGIN + (self.north - point[0]) * self.scale)

    def inside(self, x: float, y: float) -> bool:
        return 0 <= x <= WIDTH and 0 <= y <= self.height


def picture(title: str, description: str, placed: list[tuple[Position, Category, str]],
            sites: list[tuple[Position, str]], categories: list[Category]) -> Picture:
    """Lay out the dots (bigger ones under smaller ones would hide them: all one size) and the sites within the
    communes' extent, and count each category for the legend."""
    if not placed:
        return Picture(title, description, WIDTH, 0)
    project = Projection([point for point, _, _ in placed])
    drawn = Picture(title, description, WIDTH, 0, map_height=project.height)
    for point, category, label in placed:
        x, y = project(point)
        drawn.dots.append(Dot(x, y, category, label))
    for point, name in sites:
        x, y = project(point)
        if project.inside(x, y):
            drawn.sites.append((x, y, name))
    counts = {category.key: 0 for category in categories}
    for _, category, _ in placed:
        counts[category.key] += 1
    drawn.legend = [(category, counts[category.key]) for category in categories]
    drawn.height = project.height + LEGEND_LINE * (len(categories) + 1) + MARGIN
    return drawn


def _triangle(x: float, y: float, size: float = 7.0) -> list[float]:
    return [x, y - size, x - size, y + size * 0.8, x + size, y + size * 0.8]


def to_svg(drawn: Picture, element_id: str = "carte", legend: bool = True) -> str:
    """The picture as inline SVG, with its title and description read by screen readers (the table under it is
    the full text alternative). Without ``legend``, the page writes it in HTML (legible on a phone)."""
    height = drawn.height if legend else drawn.map_height
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="{element_id}" class="map" role="img" '
             f'viewBox="0 0 {drawn.width:.0f} {height:.0f}" aria-labelledby="{element_id}-title '
             f'{element_id}-desc"><title id="{element_id}-title">{escape(drawn.title)}</title>'
             f'<desc id="{element_id}-desc">{escape(drawn.description)}</desc>'
             f'<rect x="0" y="0" width="{drawn.width:.0f}" height="{drawn.map_height:.0f}" fill="#f7f7f4"/>']
    for dot in drawn.dots:
        parts.append(f'<circle cx="{dot.x:.1f}" cy="{dot.y:.1f}" r="{dot.radius}" fill="{dot.category.colour}" '
                     f'data-class="{dot.category.key}"><title>{escape(dot.label)}</title></circle>')
    for x, y, name in drawn.sites:
        points = " ".join(f"{value:.1f}" for value in _triangle(x, y))
        parts.append(f'<polygon points="{points}" fill="#fff" stroke="#111" stroke-width="1.5" class="site">'
                     f'<title>{escape(name)}</title></polygon>')
    if not legend:
        return "".join(parts) + "</svg>"
    y = drawn.map_height + MARGIN
    for category, count in drawn.legend:
        y += LEGEND_LINE
        parts.append(f'<circle cx="{MARGIN + 6}" cy="{y - 5}" r="6" fill="{category.colour}"/>'
                     f'<text x="{MARGIN + 18}" y="{y}" font-size="14">{escape(category.label)} : {count} '
                     f'commune{"s" if count > 1 else ""}</text>')
    y += LEGEND_LINE
    points = " ".join(f"{value:.1f}" for value in _triangle(MARGIN + 6, y - 5, 6))
    parts.append(f'<polygon points="{points}" fill="#fff" stroke="#111" stroke-width="1.5"/>'
                 f'<text x="{MARGIN + 18}" y="{y}" font-size="14">Lieu de soins</text></svg>')
    return "".join(parts)


def to_drawing(drawn: Picture, width: float, max_height: float) -> Drawing:
    """The same picture for the PDF, within ``width`` × ``max_height`` points (reportlab's y axis goes up)."""
    scale = min(width / drawn.width, max_height / drawn.height) if drawn.width and drawn.height else 1
    height = drawn.height * scale
    drawing = Drawing(width, height)
    drawing.add(Rect(0, height - drawn.map_height * scale, width, drawn.map_height * scale,
                     fillColor=_colour("#f7f7f4"), strokeColor=None))
    for dot in drawn.dots:
        drawing.add(Circle(dot.x * scale, height - dot.y * scale, max(1.2, dot.radius * scale),
                           fillColor=_colour(dot.category.colour), strokeColor=None))
    for x, y, _ in drawn.sites:
        corners = _triangle(x * scale, height - y * scale, 4)
        flipped = [value if index % 2 == 0 else 2 * (height - y * scale) - value for index, value in enumerate(corners)]
        drawing.add(Polygon(flipped, fillColor=_colour("#ffffff"), strokeColor=_colour("#111111"), strokeWidth=1))
    y = drawn.map_height + MARGIN
    for category, count in drawn.legend:
        y += LEGEND_LINE
        drawing.add(Circle(MARGIN * scale + 5, height - (y - 5) * scale, 4, fillColor=_colour(category.colour),
                           strokeColor=None))
        drawing.add(String(MARGIN * scale + 14, height - y * scale, f"{category.label} : {count} commune"
                           f"{'s' if count > 1 else ''}", fontSize=8))
    y += LEGEND_LINE
    corners = _triangle(MARGIN * scale + 5, height - (y - 5) * scale, 4)
    flipped = [value if index % 2 == 0 else 2 * (height - (y - 5) * scale) - value
               for index, value in enumerate(corners)]
    drawing.add(Polygon(flipped, fillColor=_colour("#ffffff"), strokeColor=_colour("#111111"), strokeWidth=1))
    drawing.add(String(MARGIN * scale + 14, height - y * scale, "Lieu de soins", fontSize=8))
    return drawing


def _colour(hex_colour: str):
    from reportlab.lib.colors import HexColor

    return HexColor(hex_colour)
